"""parse_page as a whole: encodings, headers, bad input, a 20 MB page."""

from __future__ import annotations

import pytest

from scraper.parse import PARSER_VERSION, PageRecord, parse_page

PAGE = """<!DOCTYPE html><html><head>{meta}
<title>2021年度三季度政府工作报告任务进展情况_宣城市数据资源局</title></head>
<body><div class="nav"><a href="/">首页</a></div>
<table class="table_suoyin"><tr><th>索 引 号：</th><td>11341700744889543Y/202110-00006</td>
<th>发布机构：</th><td>市数据资源局（市政务服务局）</td></tr>
<tr><th>发布日期：</th><td>2021-10-11</td><th>文号：</th><td>无</td></tr></table>
<div class="j-fontContent"><p><strong>一、深化服务共享，扩大“一网通办”覆盖面。</strong></p>
<p>完成状态：持续推进</p><p>进展情况：一是印发实施方案。二是确认63个事项。</p>
<p>下一步工作安排：上线更多事项。</p></div></body></html>"""


def _page(meta: str = "") -> str:
    return PAGE.format(meta=meta)


def _check_seedlike(record: PageRecord) -> None:
    assert record.metadata.index_no == "11341700744889543Y/202110-00006"
    assert record.metadata.publisher == "市数据资源局（市政务服务局）"
    assert record.metadata.doc_number is None
    assert record.metadata.title == "2021年度三季度政府工作报告任务进展情况"
    (section,) = record.sections
    assert section.title == "深化服务共享，扩大“一网通办”覆盖面"
    assert section.progress == "一是印发实施方案。二是确认63个事项。"
    assert record.body_text.splitlines()[0] == "一、深化服务共享，扩大“一网通办”覆盖面。"


@pytest.mark.parametrize(
    ("codec", "meta", "headers", "encoding", "source"),
    [
        ("utf-8", '<meta charset="utf-8">', None, "utf-8", "meta"),
        (
            "gbk",
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
            None,
            "gb18030",
            "meta",
        ),
        ("gb18030", "", {"Content-Type": "text/html; charset=GB18030"}, "gb18030", "http"),
        (
            "gbk",
            '<meta charset="utf-8">',
            {"content-type": "text/html;charset=gbk"},
            "gb18030",
            "http",
        ),
        ("gbk", "", None, "gb18030", "detected"),
        ("utf-8-sig", "", None, "utf-8", "bom"),
    ],
)
def test_encodings(
    codec: str, meta: str, headers: dict[str, str] | None, encoding: str, source: str
) -> None:
    record = parse_page(
        _page(meta).encode(codec), url="https://example.gov.cn/a.html", headers=headers
    )
    assert (record.encoding, record.encoding_source) == (encoding, source)
    _check_seedlike(record)
    # The page has no block title, meta or headline: the title is a guess, and says so.
    assert record.warnings == ("title taken from <title>: no headline on the page matched it",)


def test_bytes_that_are_markers_in_the_page_do_not_confuse_the_layout() -> None:
    page = _page('<meta charset="utf-8">').replace("二是确认", "\ufdd0\ufdd3二是确认")
    record = parse_page(page.encode())
    assert record.sections[0].progress == "一是印发实施方案。\ufffd\ufffd二是确认63个事项。"


def test_record_to_dict_shape() -> None:
    result = parse_page(_page('<meta charset="utf-8">').encode()).to_dict()
    assert list(result) == [
        "encoding",
        "encoding_source",
        "metadata",
        "sections",
        "body_text",
        "warnings",
        "attachments",
    ]
    assert result["sections"][0]["number"] == 1
    assert PARSER_VERSION


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\xff\xfe",
        bytes(range(256)) * 50,
        "<p>宣城市".encode()[:-1],
        "<p>宣城市".encode("gbk")[:-1],
        b"<html><body><div id=zoom><p>unclosed <b>bold <table><tr><td>cell<p>para",
        b"<p><b><i>misnested</b></i></p></div></span></table>",
        b"<table><table><table><tr><td>" * 200,
        b"<div>" * 5000 + b"deep" + b"</div>" * 10,
        b"<!-- never closed comment <p>x</p>",
        b"<script>var s = '<p>\xe4\xb8\x80\xe3\x80\x81</p>';",
        b"\xef\xbb\xbf",
        b"\xff\xfe<\x00p\x00>\x00",
    ],
)
def test_bad_input_never_raises(data: bytes) -> None:
    record = parse_page(data)
    assert isinstance(record, PageRecord)
    assert not any(w.startswith("parser error") for w in record.warnings)


def test_undecodable_bytes_are_replaced_with_a_warning() -> None:
    data = _page('<meta charset="utf-8">').encode().replace("二是".encode(), b"\xff\xfe")
    record = parse_page(data)
    assert "undecodable bytes replaced while decoding as utf-8" in record.warnings
    assert "\ufffd\ufffd确认63个事项" in record.body_text


def test_twenty_megabyte_page() -> None:
    paragraph = "<p>宣城市数据资源局推进政务服务“一网通办”，扩大覆盖面。</p>\n"
    head = (
        "<html><head><meta charset='utf-8'></head><body><div id='zoom'>"
        "<p>一、深化服务共享</p><p>完成状态：持续推进</p><p>进展情况：</p>"
    )
    count = 20_000_000 // len(paragraph.encode())
    data = (head + paragraph * count + "</div></body></html>").encode()
    assert len(data) >= 20_000_000
    record = parse_page(data)
    assert record.body_text.count("\n") == count + 2
    (section,) = record.sections
    assert section.progress is not None
    assert section.progress.count("\n") == count - 1


def test_url_is_accepted_and_does_not_change_the_result() -> None:
    data = _page('<meta charset="utf-8">').encode()
    assert parse_page(data, url="https://www.xuancheng.gov.cn/x.html") == parse_page(data)
