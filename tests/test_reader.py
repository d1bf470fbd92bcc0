"""scraper.reader: every detail response becomes a record that can tell its editions apart."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.crawling.pipeline import parsed_doc
from scraper.parse import Metadata, PageRecord, Section, parse_page
from scraper.reader import WHOLE_PAGE_WARNING, carries_little, read_page
from storage.content import carries_content, content_hash
from tests.documents import DOCX_TYPE, docx_bytes, ole_bytes, pdf_bytes

pytestmark = pytest.mark.timeout(120)

PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
HTML = {"content-type": "text/html; charset=utf-8"}


def unknown_layout(
    rows: str = "<tr><td>道路养护</td><td>100万元</td></tr>", noise: str = ""
) -> str:
    """A page in no layout the parser knows: chrome, a bare table and a footer."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>公告</title></head><body>"
        f"<div class='top'>某县人民政府</div><div class='nav'>首页 | 政务公开</div>{noise}"
        f"<table><tr><td>项目</td><td>金额</td></tr>{rows}</table>"
        "<div class='footer'>主办：某县人民政府办公室</div></body></html>"
    )


def _hash(page: str | bytes, headers: dict[str, str] = HTML) -> str:
    raw = page.encode() if isinstance(page, str) else page
    return content_hash(parsed_doc(read_page(raw, headers=headers)), raw)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_pages_the_parser_reads_are_read_by_it_alone(path: Path) -> None:
    raw = path.read_bytes()
    assert read_page(raw, headers=HTML) == parse_page(raw, headers=HTML)


def test_a_page_the_parser_reads_nothing_from_is_its_visible_text() -> None:
    record = read_page(unknown_layout().encode(), headers=HTML)
    assert record.body_text.splitlines() == [
        "某县人民政府",
        "首页 | 政务公开",
        "项目 | 金额",
        "道路养护 | 100万元",
        "主办：某县人民政府办公室",
    ]
    assert record.warnings[-1] == WHOLE_PAGE_WARNING
    assert record.metadata.title == "公告"


def test_a_page_without_visible_text_keeps_its_empty_record() -> None:
    raw = b"<html><head><script>var content = 'x';</script></head><body></body></html>"
    assert read_page(raw, headers=HTML) == parse_page(raw, headers=HTML)


_NOISE = st.one_of(
    st.integers(0, 10**7).map(lambda n: f"<div><span>浏览次数：{n}</span></div>"),
    st.integers(0, 10**7).map(lambda n: f"<p>访问量：{n} 次</p>"),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda d: f"<div>页面生成时间：{d:%Y-%m-%d %H:%M:%S}</div>"
    ),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(
        lambda d: f"<div class='date'>今天是{d:%Y年%-m月%-d日} 星期四</div>"
    ),
    st.text("0123456789abcdef", min_size=8, max_size=40).map(
        lambda t: f'<input type="hidden" value="{t}"><!-- {t} --><script>var t="{t}";</script>'
    ),
    st.text("0123456789", min_size=1, max_size=12).map(
        lambda t: f'<div style="display:none">{t}</div>'
    ),
    st.just("<div class='tools'>【打印本页】【关闭窗口】</div>"),
)


@settings(max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.lists(_NOISE, min_size=1, max_size=4))
def test_volatile_parts_of_an_unknown_layout_make_no_new_content(noise: list[str]) -> None:
    assert _hash(unknown_layout(noise="".join(noise))) == _hash(unknown_layout())


@pytest.mark.parametrize(
    "rows",
    [
        "<tr><td>道路养护</td><td>120万元</td></tr>",
        "<tr><td>道路养护</td><td>100万元</td></tr><tr><td>桥梁</td><td>5万元</td></tr>",
        "",
    ],
)
def test_an_edit_of_an_unknown_layout_is_new_content(rows: str) -> None:
    assert _hash(unknown_layout(rows)) != _hash(unknown_layout())


@pytest.mark.parametrize(
    ("data", "content_type", "text", "encoding"),
    [
        (pdf_bytes(["Budget: 100"]), "application/pdf", "Budget: 100", "pdf"),
        (docx_bytes(["预算说明"]), DOCX_TYPE, "预算说明", "docx"),
        ("通知\r\n内容".encode("gbk"), "text/plain; charset=gbk", "通知\n内容", "gb18030"),
        (ole_bytes(b"x"), "application/msword", "", "binary"),
    ],
)
def test_documents_are_read_as_documents(
    data: bytes, content_type: str, text: str, encoding: str
) -> None:
    record = read_page(data, headers={"Content-Type": content_type})
    assert (record.body_text, record.encoding) == (text, encoding)
    assert record.metadata == Metadata() and record.sections == ()
    assert (
        record.warnings[0].startswith("read as a") and "not as an HTML page" in record.warnings[0]
    )


def test_two_editions_of_an_unreadable_document_differ_by_their_bytes() -> None:
    ct = {"content-type": "application/msword"}
    assert _hash(ole_bytes(b"one"), ct) != _hash(ole_bytes(b"two"), ct)
    assert _hash(ole_bytes(b"one"), ct) == _hash(ole_bytes(b"one"), ct)


SECTION = Section(number=1, title="任务")
RECORDS = [
    PageRecord(Metadata(), (), "", "utf-8", "meta"),
    PageRecord(Metadata(title="只有标题"), (), "", "utf-8", "meta"),
    PageRecord(Metadata(title="t", publisher="某局"), (), "", "utf-8", "meta"),
    PageRecord(Metadata(metadata_extra={"体裁分类": "通知"}), (), "", "utf-8", "meta"),
    PageRecord(Metadata(), (SECTION,), "", "utf-8", "meta"),
    PageRecord(Metadata(), (), "正文", "utf-8", "meta"),
    PageRecord(Metadata(published_date="2021-10-11"), (), "", "utf-8", "meta"),
]


@pytest.mark.parametrize("record", RECORDS)
def test_the_reader_and_storage_agree_on_what_carries_content(record: PageRecord) -> None:
    assert carries_little(record) is not carries_content(parsed_doc(record))
