"""Property tests: parse_page never raises and always returns a well-formed record,
for random bytes, random text and mutated versions of real-looking pages."""

from __future__ import annotations

import codecs
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.parse import CANONICAL_FIELDS, PageRecord, parse_page
from scraper.parse.labels import DATE_FIELDS

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")
_MARKERS = re.compile("[\ufdd0-\ufddf]")

PAGE = """<!DOCTYPE html><html><head><meta charset="{charset}">
<title>2021年度三季度政府工作报告任务进展情况_宣城市数据资源局</title>
<meta name="ArticleTitle" content="2021年度三季度政府工作报告任务进展情况">
<script>var nav = "<p>一、不是标题</p>";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="nav"><ul><li><a href="/">首页</a></li>
<li><a href="/x">信息公开</a></li></ul></div>
<div class="position">当前位置：<a>首页</a> &gt; <a>决策部署落实情况</a></div>
<table class="table_suoyin"><tr><th>索 引 号：</th><td>11341700744889543Y/202110-00006</td>
<th>组配分类：</th><td>决策部署落实情况</td></tr><tr><th>发布机构：</th><td>市数据资源局</td>
<th>发布日期：</th><td>2021年10月11日</td></tr><tr><th>文号：</th><td>无</td></tr></table>
<ul class="m"><li><span>索引号：</span><span>11341700744889543Y/202110-00006</span></li>
<li><span>发布机构：</span><span>市数据资源局</span></li>
<li><span>体裁分类：</span><span>报告</span></li></ul>
<h1>2021年度三季度政府工作报告任务进展情况</h1>
<div class="info">发布时间：2021-10-11 09:25 来源：市数据资源局
浏览次数：<span>12</span> 字体：[大 中 小]</div>
<div class="j-fontContent">
<p><strong>一、深化服务共享，扩大“一网通办”覆盖面。</strong></p>
<p>完成状态：持续推进</p><p>进展情况：一是印发方案。二是确认63个事项。</p>
<p>存在的问题：无。</p><p>下一步工作安排：上线更多事项。</p>
<p>任务二、建设城市大脑<br>完成状态: 已完成。 进展情况: 场馆建成。 下一步工作安排: 运营。</p>
<table><tr><th>序号</th><th>任务</th><th>完成状态</th><th>进展情况</th></tr>
<tr><td>3</td><td>推进改革</td><td>序时推进</td><td>（一）梳理清单；<br>（二）上线系统。</td></tr></table>
<p>附件：1.任务分解表</p></div>
<div class="footer">主办单位：宣城市人民政府办公室 邮政编码：242000</div></body></html>"""

_TAG = re.compile(rb"<[^>]*>")


def check(record: PageRecord) -> None:
    """Assert the invariants every record holds."""
    assert isinstance(record, PageRecord)
    assert not any(w.startswith("parser error") for w in record.warnings), record.warnings
    codecs.lookup(record.encoding)
    assert record.encoding_source in {"http", "bom", "meta", "detected", "fallback"}
    metadata = record.metadata
    for name in CANONICAL_FIELDS:
        value = getattr(metadata, name)
        assert value is None or (isinstance(value, str) and value == value.strip() and value)
        assert value is None or not _MARKERS.search(value)
    for name in DATE_FIELDS:
        value = getattr(metadata, name)
        assert value is None or _ISO_DATE.fullmatch(value)
    assert metadata.published_at is None or _ISO_STAMP.fullmatch(metadata.published_at)
    for label, value in metadata.metadata_extra.items():
        assert label and value and not _MARKERS.search(label + value)
    numbers = [section.number for section in record.sections]
    assert numbers == sorted(set(numbers))
    assert all(number >= 1 for number in numbers)
    for section in record.sections:
        for value in (section.status, section.progress, section.problems, section.next_steps):
            assert value is None or (value.strip() and not _MARKERS.search(value))
    assert not _MARKERS.search(record.body_text)
    assert all(line and line == line.strip() for line in record.body_text.split("\n")) or (
        record.body_text == ""
    )
    json.dumps(record.to_dict(), ensure_ascii=False)


def test_the_base_page_reads_fully() -> None:
    record = parse_page(PAGE.format(charset="utf-8").encode())
    check(record)
    assert [s.number for s in record.sections] == [1, 2, 3]
    assert record.metadata.published_at == "2021-10-11T09:25:00+08:00"
    assert record.metadata.metadata_extra == {"体裁分类": "报告"}
    assert record.sections[2].progress == "（一）梳理清单；\n（二）上线系统。"


@_SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    check(parse_page(data))


@_SETTINGS
@given(st.text(max_size=2000), st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_random_text(text: str, codec: str) -> None:
    check(parse_page(text.encode(codec, "replace")))


@_SETTINGS
@given(
    st.text(
        alphabet=st.sampled_from(list("<>/=\"' pdivtrablespnoge一二、：:完成状态索引号\n&;#")),
        max_size=600,
    )
)
def test_random_markup(text: str) -> None:
    check(parse_page(text.encode()))


def _mutate(data: bytes, operation: str, position: float, extra: bytes) -> bytes:
    at = int(position * len(data))
    if operation == "truncate":
        return data[:at]
    if operation == "cut-char":
        # Cut inside a multi-byte character: drop one byte after a lead byte.
        lead = next((i for i in range(at, len(data)) if data[i] >= 0xC0), None)
        return data if lead is None else data[: lead + 1] + data[lead + 2 :]
    if operation == "delete-tag":
        tags = list(_TAG.finditer(data))
        if not tags:
            return data
        tag = tags[int(position * (len(tags) - 1))]
        return data[: tag.start()] + data[tag.end() :]
    if operation == "insert":
        return data[:at] + extra + data[at:]
    if operation == "duplicate":
        return data[:at] + data[at // 2 : at] + data[at:]
    raise AssertionError(operation)


@_SETTINGS
@given(
    st.sampled_from(["utf-8", "gbk", "gb18030"]),
    st.sampled_from(["utf-8", "gbk", "gb2312", "big5", "x-unknown"]),
    st.lists(
        st.tuples(
            st.sampled_from(["truncate", "cut-char", "delete-tag", "insert", "duplicate"]),
            st.floats(min_value=0, max_value=1),
            st.sampled_from(
                [
                    b"<table>",
                    b"</td>",
                    b"<tr><td>",
                    b"</div>",
                    b"<p>",
                    b"<b>",
                    b"</b>",
                    b"<script>",
                    b"<!--",
                    b"\xe4\xb8",
                    b"\xff",
                    "一、".encode(),
                    "完成状态：".encode(),
                    b"\xef\xb7\x90",
                    b"<br>",
                    b"</table></table>",
                ]
            ),
        ),
        max_size=4,
    ),
    st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/html; charset=utf-8"]),
)
def test_mutated_pages(
    codec: str, declared: str, mutations: list[tuple[str, float, bytes]], content_type: str | None
) -> None:
    data = PAGE.format(charset=declared).encode(codec)
    for operation, position, extra in mutations:
        data = _mutate(data, operation, position, extra)
    headers = {"Content-Type": content_type} if content_type else None
    check(parse_page(data, headers=headers))


# Adversarial markup (issue 16): deep nesting, repeated unclosed tags, huge attributes,
# spliced into the real-looking page. The parser returns a well-formed record; the
# timeout is the guard against anything superlinear (150 examples take about 2 s).
_OPENING = st.sampled_from(
    ["<div>", "<b>", "<table><tr><td>", "<font color=red>", "<span>", "<title>", "<script>",
     "<!--", "<style>", "<", "<p>", "<ul><li>", "<a href='x'>", "<textarea>", "<select>"]
)  # fmt: skip


@pytest.mark.timeout(120)
@_SETTINGS
@given(
    opening=_OPENING,
    count=st.integers(min_value=1, max_value=5000),
    at=st.floats(min_value=0, max_value=1),
    attribute=st.integers(min_value=0, max_value=200_000),
)
def test_adversarial_markup_spliced_into_a_page(
    opening: str, count: int, at: float, attribute: int
) -> None:
    page = PAGE.format(charset="utf-8")
    cut = int(len(page) * at)
    junk = opening * count + (f"<div title='{'x' * attribute}'>" if attribute else "")
    check(parse_page((page[:cut] + junk + page[cut:]).encode()))
