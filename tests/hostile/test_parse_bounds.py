"""Hostile pages cost the parser and the block classifier time linear in their size.

Each page here froze a crawl before (issue 16): a few hundred KB of repeated unclosed
<title>, <script> or comments made the classifier's lazy regexes rescan the rest of the
body from every opening (48 s for 280 KB, hours at the 10 MB cap); nested tables or <b>
made the walk climb the ancestors once per element (74 s for 20,000 tables); deep
nesting made Lexbor's tree builder superlinear (minutes for 900,000 <div>). pytest-timeout
is the guard: no test asserts on wall-clock time.
"""

from __future__ import annotations

import pytest

from scraper.fetching.challenge import classify, visible_text_size
from scraper.fetching.response import FetchKind
from scraper.parse import parse_page
from scraper.parse.bounds import MAX_DEPTH
from scraper.parse.links import list_paging

pytestmark = pytest.mark.timeout(30)

MB = 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<title>" * (2 * MB // 7), id="unclosed-title"),
        pytest.param(b"$_ts" + b"<script>" * (2 * MB // 8), id="ruishu-marker-unclosed-script"),
        pytest.param("页面不存在".encode() + b"<!--" * (2 * MB // 4), id="gone-marker-comment"),
        pytest.param(b"<style>" * (2 * MB // 7), id="unclosed-style"),
        pytest.param(b"<" * (2 * MB), id="lone-angle-brackets"),
    ],
)
def test_the_classifier_is_linear_on_unclosed_markup(body: bytes) -> None:
    classify(200, {"content-type": "text/html"}, body)
    assert visible_text_size(body) >= 0


def test_the_classifier_still_reads_a_challenge_and_a_soft_404() -> None:
    challenge = b"<html><head><script>$_ts=window['$_ts'];</script></head><body></body></html>"
    assert classify(200, {}, challenge) is FetchKind.BLOCKED
    gone = "<html><title>页面不存在</title><body><p>页面不存在</p></body></html>".encode()
    assert classify(200, {"content-type": "text/html"}, gone) is FetchKind.GONE
    # an unclosed script runs to the end, as in a browser: no visible text after it
    assert visible_text_size(b"<p>abc</p><script>var x = '<p>lots of text</p>';") == 3


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("tables", "<table><tr><td>" * 20_000 + "x" + "</td></tr></table>" * 20_000),
        ("bold", "<b>x" * 300_000),
        ("divs", "<div>" * 900_000 + "正文。"),
        ("fonts", "<font color=red>" * 200_000 + "正文。"),
    ],
)
def test_deep_nesting_is_bounded_and_said(name: str, page: str) -> None:
    record = parse_page(f"<html><body>{page}</body></html>".encode())
    if name == "tables":  # 20,000 tables nest 20,000 deep: cut, with a warning
        assert any(w.startswith("page nested deeper than") for w in record.warnings)
    else:
        assert any(f"{MAX_DEPTH:,}" in w for w in record.warnings), record.warnings


def test_a_page_just_under_the_depth_bound_is_read_whole() -> None:
    depth = MAX_DEPTH - 10
    text = "根据工作安排，现将有关情况通报如下，请各单位认真落实。" * 3
    page = "<div>" * depth + f"<div id='zoom'><p>{text}</p></div>" + "</div>" * depth
    record = parse_page(f"<html><body>{page}</body></html>".encode())
    assert not any("nested deeper" in w for w in record.warnings)
    assert record.body_text == text


def test_huge_attributes_and_unclosed_scripts_in_list_pages() -> None:
    html = "<script>" * 200_000 + '<a href="' + "x" * MB + '">'
    assert list_paging(html) is None
    huge = "x" * (4 * MB)
    record = parse_page(f"<html><body><div title='{huge}'>正文。</div></body></html>".encode())
    assert isinstance(record.body_text, str)
