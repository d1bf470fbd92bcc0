"""scraper.fetching.urls: normal forms, hosts and the allowed-host rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.fetching.urls import host_of, is_allowed, normalize_url

BASE = "https://www.xuancheng.gov.cn/OpennessContent/showList/3/1/page_1.html"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        # relative links on a xuancheng list page
        (
            "/OpennessContent/show/2149331.html",
            BASE,
            "https://www.xuancheng.gov.cn/OpennessContent/show/2149331.html",
        ),
        (
            "page_2.html",
            BASE,
            "https://www.xuancheng.gov.cn/OpennessContent/showList/3/1/page_2.html",
        ),
        (
            "../2/page_1.html",
            BASE,
            "https://www.xuancheng.gov.cn/OpennessContent/showList/3/2/page_1.html",
        ),
        ("//sjzy.xuancheng.gov.cn/a.html", BASE, "https://sjzy.xuancheng.gov.cn/a.html"),
        (
            "?pageIndex=2",
            "http://x.gov.cn/content/column/6?pageIndex=1",
            "http://x.gov.cn/content/column/6?pageIndex=2",
        ),
        ("#top", BASE, BASE),
        ("", BASE, BASE),
        # case, default ports, fragments, empty path
        ("HTTP://WWW.Example.GOV.cn:80/A/B.html#x", None, "http://www.example.gov.cn/A/B.html"),
        ("https://example.gov.cn:443", None, "https://example.gov.cn/"),
        ("https://example.gov.cn:8443/", None, "https://example.gov.cn:8443/"),
        ("http://127.0.0.1:5000", None, "http://127.0.0.1:5000/"),
        ("http://example.gov.cn?b=2&a=1", None, "http://example.gov.cn/?b=2&a=1"),
        # query kept exactly, including its order and encoding
        (
            "http://a.gov.cn/public/column/6?type=4&catId=%E5%85%AC&action=list&pageIndex=3",
            None,
            "http://a.gov.cn/public/column/6?type=4&catId=%E5%85%AC&action=list&pageIndex=3",
        ),
        # dot segments, spaces and non-ASCII in the path
        ("http://a.gov.cn/x/./y/../z.html", None, "http://a.gov.cn/x/z.html"),
        ("http://a.gov.cn/../z.html", None, "http://a.gov.cn/z.html"),
        ("http://a.gov.cn/公开/a b.html", None, "http://a.gov.cn/%E5%85%AC%E5%BC%80/a%20b.html"),
        ("http://a.gov.cn/%E5%85%AC.html", None, "http://a.gov.cn/%E5%85%AC.html"),
        ("  http://a.gov.cn/x.html \n", None, "http://a.gov.cn/x.html"),
        ("http://宣城.中国/", None, "http://xn--uisz2g.xn--fiqs8s/"),  # IDNA of 宣城.中国
        ("http://[::1]:8080/a", None, "http://[::1]:8080/a"),
        ("http://user:pw@a.gov.cn/x", None, "http://a.gov.cn/x"),
    ],
)
def test_normalize_url(url: str, base: str | None, expected: str) -> None:
    assert normalize_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:void(0)",
        "javascript:;",
        "mailto:office@xuancheng.gov.cn",
        "tel:0563-1234567",
        "data:text/html,hi",
        "ftp://a.gov.cn/x",
        "http://",
        "http:///path",
        "http://a.gov.cn:99999/",
        "http://a.gov.cn:port/",
        "http://a b.gov.cn/",
        "not a url",
        "",
    ],
)
def test_normalize_url_refuses(url: str) -> None:
    assert normalize_url(url) is None


def test_relative_link_on_javascript_base_is_refused() -> None:
    assert normalize_url("a.html", "javascript:void(0)") is None


@given(st.text(max_size=60), st.sampled_from([None, BASE, "http://127.0.0.1:8000/a/b?x=1"]))
def test_normalize_url_is_idempotent(text: str, base: str | None) -> None:
    once = normalize_url(text, base)
    if once is not None:
        assert normalize_url(once) == once
        assert normalize_url(once, base) == once


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.from_regex(r"[a-zA-Z0-9]{1,10}(\.[a-zA-Z0-9]{1,10}){0,3}", fullmatch=True),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="#?"), max_size=30
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="#"), max_size=20
    ),
)
def test_normalize_url_structured(scheme: str, host: str, path: str, query: str) -> None:
    url = f"{scheme}://{host}/{path}" + (f"?{query}" if query else "")
    normal = normalize_url(url)
    assert normal is not None
    assert normal.startswith(scheme.lower() + "://" + host.lower() + "/")
    assert "#" not in normal
    assert normalize_url(normal) == normal
    assert is_allowed(normal, [host.upper()])


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Xuancheng.gov.cn/a", "www.xuancheng.gov.cn"),
        ("http://127.0.0.1:8123/x", "127.0.0.1:8123"),
        ("https://a.gov.cn:443/x", "a.gov.cn"),
        ("http://a.gov.cn:443/x", "a.gov.cn:443"),
        ("mailto:x@y", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("url", "allowed", "expected"),
    [
        ("https://www.xuancheng.gov.cn/a", ["www.xuancheng.gov.cn"], True),
        ("https://WWW.XUANCHENG.gov.cn/a", ["www.xuancheng.gov.cn"], True),
        ("https://www.xuancheng.gov.cn/a", ["WWW.xuancheng.gov.cn"], True),
        ("https://sjzy.xuancheng.gov.cn/a", ["www.xuancheng.gov.cn"], False),
        ("https://sjzy.xuancheng.gov.cn/a", ["xuancheng.gov.cn"], False),
        ("https://evilxuancheng.gov.cn/a", ["xuancheng.gov.cn"], False),
        ("http://127.0.0.1:8000/a", ["127.0.0.1:8000"], True),
        ("http://127.0.0.1:8001/a", ["127.0.0.1:8000"], False),
        # scope is host and port: a bare host means its default ports only (issue 16)
        ("http://127.0.0.1:8001/a", ["127.0.0.1"], False),
        ("http://gov.cn:81/a", ["gov.cn"], False),
        ("http://gov.cn/a", ["gov.cn"], True),
        ("http://gov.cn:80/a", ["gov.cn"], True),
        ("https://gov.cn/a", ["gov.cn"], True),
        ("https://gov.cn:443/a", ["gov.cn"], True),
        ("https://gov.cn:80/a", ["gov.cn"], False),
        ("http://gov.cn:443/a", ["gov.cn"], False),
        ("http://gov.cn:81/a", ["gov.cn", "gov.cn:81"], True),
        ("https://gov.cn:81/a", ["gov.cn:81"], True),
        ("http://gov.cn/a", ["gov.cn:80"], True),
        ("https://gov.cn/a", ["gov.cn:80"], False),
        ("http://GOV.cn:81/a", [" Gov.CN:81 "], True),
        ("http://gov.cn/a", ["gov.cn:99999", ":80", ""], False),
        ("http://[::1]:8080/a", ["[::1]:8080"], True),
        ("http://[::1]:8081/a", ["[::1]:8080"], False),
        ("http://中文.gov.cn/a", ["中文.gov.cn"], True),
        ("http://xn--fiq228c.gov.cn/a", ["中文.gov.cn"], True),
        ("javascript:void(0)", ["127.0.0.1"], False),
        ("http://a.gov.cn/", [], False),
    ],
)
def test_is_allowed(url: str, allowed: list[str], expected: bool) -> None:
    assert is_allowed(url, allowed) is expected
