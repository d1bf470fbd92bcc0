"""scraper.fetching.challenge: block/challenge pages and gone pages, in UTF-8 and GBK."""

from __future__ import annotations

import pytest

from scraper.fetching.challenge import (
    SEARCH_WINDOW,
    SOFT_404_MAX_TEXT,
    classify,
    visible_text_size,
)
from scraper.fetching.response import FetchKind
from tests.site import pages

HTML = {"content-type": "text/html"}
ENCODINGS = ["utf-8", "gbk", "gb18030"]


def test_ruishu_412_page_is_blocked() -> None:
    body = pages.ruishu_challenge()
    assert b"r='m'" in body  # the real excerpt, not a made-up marker
    assert classify(412, HTML, body) is FetchKind.BLOCKED


def test_ruishu_markers_block_even_with_200() -> None:
    # the excerpt has a real document title and meta tags but no text at all
    assert classify(200, HTML, pages.ruishu_challenge()) is FetchKind.BLOCKED


def test_plain_412_without_script_is_not_a_block() -> None:
    assert classify(412, HTML, b"<html><body>Precondition Failed</body></html>") is None


def test_real_page_with_ruishu_script_tag_is_content() -> None:
    # pages behind 瑞数 keep its <script r='m'> after the challenge; text decides
    body = pages.document(extra="<script r='m' src='/a.js'></script>")
    assert classify(200, HTML, body) is None


def test_jiasule_521_is_blocked_by_script() -> None:
    body = pages.jiasule_challenge()
    assert b"__jsl_clearance" not in body  # the name is assembled from fragments
    assert classify(521, HTML, body) is FetchKind.BLOCKED


def test_jiasule_521_is_blocked_by_cookie() -> None:
    headers = {"Content-Type": "text/html", "Set-Cookie": "__jsluid_h=8c1b2; max-age=31536000"}
    assert classify(521, headers, b"") is FetchKind.BLOCKED


def test_jsl_clearance_cookie_blocks_any_status() -> None:
    headers = {"set-cookie": "__jsl_clearance=1712345678.9|0|abc; path=/"}
    assert classify(200, headers, b"<html></html>") is FetchKind.BLOCKED
    body = b"<script>document.cookie='__jsl_clearance_s=1712345678|0|x';</script>"
    assert classify(200, HTML, body) is FetchKind.BLOCKED


def test_bare_521_is_a_down_origin_not_a_block() -> None:
    assert classify(521, HTML, b"<html><body>Web server is down</body></html>") is None


def test_yunsuo_page_is_blocked() -> None:
    assert classify(200, HTML, pages.yunsuo_challenge()) is FetchKind.BLOCKED
    cookie = {"set-cookie": "security_session_verify=6f1c4e; path=/; HttpOnly"}
    assert classify(200, cookie, b"<html></html>") is FetchKind.BLOCKED


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_403_waf_page_is_blocked(encoding: str) -> None:
    assert classify(403, HTML, pages.waf_403(encoding)) is FetchKind.BLOCKED


def test_any_403_is_blocked() -> None:
    assert classify(403, {}, b"") is FetchKind.BLOCKED


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_waf_phrase_on_other_error_status_is_blocked(encoding: str) -> None:
    assert classify(405, HTML, pages.waf_403(encoding)) is FetchKind.BLOCKED


def test_waf_phrase_on_200_document_is_content() -> None:
    # a procurement notice may well talk about buying a 网站防火墙
    body = pages.document("网站防火墙采购公告", text_bytes=2000)
    assert classify(200, HTML, body) is None


@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410_are_gone(status: int) -> None:
    assert classify(status, HTML, b"") is FetchKind.GONE
    assert classify(status, HTML, pages.document()) is FetchKind.GONE


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    "message",
    [
        "对不起，您访问的页面不存在或已被删除！",
        "您访问的页面不存在",
        "该信息已删除",
        "抱歉，找不到您要访问的页面",
        "页面未找到",
    ],
)
def test_soft_404_in_each_encoding(encoding: str, message: str) -> None:
    body = pages.soft_404(encoding, message=message)
    assert classify(200, HTML, body) is FetchKind.GONE


@pytest.mark.parametrize(
    "title", ["404", "404 Not Found", "页面已删除", "出错了 - 404", "找不到网页"]
)
def test_soft_404_by_title(title: str) -> None:
    body = f"<html><head><title>{title}</title></head><body><p>返回首页</p></body></html>"
    assert classify(200, HTML, body.encode("gbk")) is FetchKind.GONE
    assert classify(200, HTML, body.encode("utf-8")) is FetchKind.GONE


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_large_document_mentioning_deletion_is_content(encoding: str) -> None:
    body = pages.document(
        extra="第五条已删除，页面不存在的链接已修复，找不到的附件已补充。", encoding=encoding
    )
    assert len(body) > 40_000
    assert classify(200, HTML, body) is None


def test_small_document_numbered_404_is_content() -> None:
    body = pages.document("宣政秘〔2021〕404号 关于印发工作要点的通知", text_bytes=1500)
    assert classify(200, HTML, body) is None


def test_small_document_with_404_in_text_is_content() -> None:
    body = pages.document(extra="索引号：11341700744889543Y/202104-00404", text_bytes=1500)
    assert classify(200, HTML, body) is None


def test_soft_404_needs_html() -> None:
    body = "页面不存在".encode()
    assert classify(200, {"content-type": "application/pdf"}, body) is None
    assert classify(200, {"content-type": "text/plain; charset=utf-8"}, body) is FetchKind.GONE
    assert classify(200, {}, body) is FetchKind.GONE


def test_soft_404_only_for_2xx() -> None:
    assert classify(500, HTML, pages.soft_404()) is None


def test_soft_404_threshold_counts_text_not_markup() -> None:
    message = "您访问的页面不存在"
    markup_heavy = pages.soft_404(message=message) + b"<!--" + b"x" * 50_000 + b"-->"
    assert classify(200, HTML, markup_heavy) is FetchKind.GONE
    text_heavy = pages.document(extra=message, text_bytes=SOFT_404_MAX_TEXT + 100)
    assert classify(200, HTML, text_heavy) is None


def test_visible_text_size_ignores_scripts_styles_tags_and_entities() -> None:
    body = (
        b"<html><head><style>p{color:red}</style><script>var a='<p>';</script></head>"
        b"<body><p>ab&nbsp;cd</p>\n\n  <!-- hidden --><b>ef</b></body></html>"
    )
    assert visible_text_size(body) == len(b"ab cd ef")


def test_ordinary_pages_are_none() -> None:
    assert classify(200, HTML, pages.document()) is None
    assert classify(500, HTML, b"Internal Server Error") is None
    assert classify(503, HTML, b"") is None
    assert classify(301, HTML, b"") is None


def _straddling(marker: bytes, edge: int, size: int) -> bytes:
    """Return a page of ``size`` bytes, invisible padding but for ``marker``, which
    starts a few bytes before offset ``edge``."""
    head = b"<html><body><!--"
    start = edge - len(marker) // 2
    body = head + b" " * (start - len(head) - 3) + b"-->" + marker + b"<!--"
    return body + b" " * (size - len(body) - 17) + b"--></body></html>"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_markers_are_found_across_the_search_windows(encoding: str) -> None:
    # Bodies are searched in windows; a marker straddling a window edge still counts.
    for edge in (SEARCH_WINDOW, 2 * SEARCH_WINDOW):
        phrase = "页面不存在".encode(encoding)
        body = _straddling(phrase, edge, 3 * SEARCH_WINDOW)
        assert body.index(phrase) < edge < body.index(phrase) + len(phrase)
        assert classify(200, HTML, body) is FetchKind.GONE
        assert classify(200, HTML, _straddling(b"__jsl_clearance", edge, 3 * SEARCH_WINDOW)) is (
            FetchKind.BLOCKED
        )
