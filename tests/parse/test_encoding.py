"""decode_html: HTTP charset, BOM, <meta>, detection, fallback; never raises."""

from __future__ import annotations

import codecs

import pytest

from scraper.parse.encoding import decode_html, http_charset, meta_charset, normalize_encoding

TEXT = "索引号：11341700744889543Y/202110-00006 发布机构：市数据资源局(市政务服务局)"


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>进展情况</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("GBK ", "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("gb18030", "gb18030"),
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ('"utf-8"', "utf-8"),
        ("big5", "big5"),
        ("iso-8859-1", "cp1252"),
        ("windows-1252", "cp1252"),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_encoding(label: str | None, expected: str | None) -> None:
    assert normalize_encoding(label) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=GBK", "GBK"),
        ('text/html;charset="utf-8"', "utf-8"),
        ("text/html; Charset = gb2312", "gb2312"),
        ("text/html", None),
        (None, None),
    ],
)
def test_http_charset(content_type: str | None, expected: str | None) -> None:
    assert http_charset(content_type) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta charset="gb2312">', "gb2312"),
        ("<META CHARSET=utf-8>", "utf-8"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=GBK" />', "GBK"),
        ('<meta name="keywords" content="charset">', None),
        ("", None),
    ],
)
def test_meta_charset(head: str, expected: str | None) -> None:
    assert meta_charset(_page("x", head).encode("ascii", "replace")) == expected


def test_meta_charset_only_in_first_4kb() -> None:
    data = b"<html><head>" + b" " * 5000 + b'<meta charset="gbk"></head></html>'
    assert meta_charset(data) is None


@pytest.mark.parametrize("declared", ["gb2312", "gbk", "GB18030"])
def test_gbk_family_from_http_decodes_as_gb18030(declared: str) -> None:
    # 镕 and 堃 are GBK-only characters that gb2312-declared sites nevertheless use.
    page = _page(TEXT + "朱镕基 王堃")
    result = decode_html(page.encode("gbk"), f"text/html; charset={declared}")
    assert (result.text, result.encoding, result.source) == (page, "gb18030", "http")
    assert result.warnings == ()


def test_http_charset_wins_over_meta() -> None:
    page = _page(TEXT, '<meta charset="utf-8">')
    result = decode_html(page.encode("gbk"), "text/html; charset=gbk")
    assert (result.text, result.source) == (page, "http")


def test_unknown_http_charset_falls_through_with_warning() -> None:
    page = _page(TEXT, '<meta charset="gbk">')
    result = decode_html(page.encode("gbk"), "text/html; charset=klingon")
    assert (result.text, result.encoding, result.source) == (page, "gb18030", "meta")
    assert any("klingon" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_bom(bom: bytes, codec: str, expected: str) -> None:
    page = _page(TEXT, '<meta charset="gbk">')
    result = decode_html(bom + page.encode(codec))
    assert (result.text, result.encoding, result.source) == (page, expected, "bom")


def test_http_utf8_with_bom_strips_bom() -> None:
    result = decode_html(codecs.BOM_UTF8 + b"<p>x</p>", "text/html; charset=utf-8")
    assert result.text == "<p>x</p>"


@pytest.mark.parametrize(
    "head",
    [
        '<meta charset="gb2312">',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    ],
)
def test_meta_declaration(head: str) -> None:
    page = _page(TEXT + "朱镕基", head)
    result = decode_html(page.encode("gbk"))
    assert (result.text, result.encoding, result.source) == (page, "gb18030", "meta")


def test_meta_utf16_means_utf8() -> None:
    page = _page(TEXT, '<meta charset="utf-16">')
    result = decode_html(page.encode("utf-8"))
    assert (result.text, result.encoding) == (page, "utf-8")


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8", "utf-8"), ("gbk", "gb18030"), ("gb2312", "gb18030"), ("gb18030", "gb18030")],
)
def test_detected_without_declaration(codec: str, expected: str) -> None:
    page = _page(TEXT)
    result = decode_html(page.encode(codec))
    assert (result.text, result.encoding, result.source) == (page, expected, "detected")


def test_short_gbk_page_is_not_big5() -> None:
    # charset-normalizer alone reads these bytes as Big5.
    result = decode_html("<p>宣城</p>".encode("gbk"))
    assert (result.text, result.encoding) == ("<p>宣城</p>", "gb18030")


def test_detection_looks_past_long_ascii_head() -> None:
    page = "<html><head><script>" + "var a = 1;\n" * 20000 + "</script></head><body>"
    page += "<p>" + TEXT * 3 + "</p></body></html>"
    result = decode_html(page.encode("gbk"))
    assert (result.text, result.encoding) == (page, "gb18030")


def test_big5_text_detected() -> None:
    text = "香港特別行政區政府新聞公報。本局今日宣佈，為進一步提升公共服務質素。" * 4
    result = decode_html(text.encode("big5"))
    assert result.encoding in ("big5", "big5hkscs", "cp950")
    assert result.text == text


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", ""), (b"<p>plain ascii</p>", "<p>plain ascii</p>")],
)
def test_empty_and_ascii(data: bytes, expected: str) -> None:
    result = decode_html(data)
    assert result.text == expected
    assert result.encoding == "utf-8"


def test_empty_is_fallback() -> None:
    assert decode_html(b"").source == "fallback"


@pytest.mark.parametrize("codec", ["utf-8", "gbk"])
def test_truncated_multibyte_character_is_replaced(codec: str) -> None:
    data = "<p>宣城市</p>宣".encode(codec)[:-1]
    result = decode_html(data)
    assert result.text == "<p>宣城市</p>\ufffd"
    assert result.warnings


def test_bad_bytes_under_declared_charset_never_raise() -> None:
    result = decode_html(b"<p>\xff\xfe\x80ok</p>", "text/html; charset=utf-8")
    assert result.text.endswith("ok</p>")
    assert "\ufffd" in result.text
    assert result.warnings == ("undecodable bytes replaced while decoding as utf-8",)


def test_random_bytes_fall_back_to_something_decodable() -> None:
    data = bytes(range(256)) * 4
    result = decode_html(data)
    assert isinstance(result.text, str)
    assert result.source in ("detected", "fallback")


@pytest.mark.parametrize("content_type", [None, "text/html; charset=gbk"])
def test_stale_declaration_gives_way_to_valid_utf8(content_type: str | None) -> None:
    page = _page(TEXT, '<meta charset="gb2312">')
    result = decode_html(page.encode("utf-8"), content_type)
    assert (result.text, result.encoding, result.source) == (page, "utf-8", "detected")
    assert result.warnings[-1].startswith("declared charset gb18030")
