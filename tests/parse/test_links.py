"""Tests for scraper.parse.links: detail links and paging scripts on list pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.parse.links import (
    ScriptPaging,
    extract_links,
    list_paging,
    selector_error,
)

HANDAN = Path(__file__).parents[1] / "fixtures" / "lists" / "handan_trs_list.html"
BASE = "https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/17/page_1.html"


class TestExtractLinks:
    def test_anchor_matches_resolved_in_document_order(self) -> None:
        html = """
        <ul class="doc_list">
          <li><a href="/OpennessContent/show/3.html">c</a></li>
          <li><a href="../../../show/1.html">a</a></li>
          <li><a href="https://sjzy.xuancheng.gov.cn/OpennessContent/show/2.html">b</a></li>
        </ul>"""
        assert extract_links(html, BASE, "ul.doc_list a") == [
            "https://sjzy.xuancheng.gov.cn/OpennessContent/show/3.html",
            "https://sjzy.xuancheng.gov.cn/OpennessContent/show/1.html",
            "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2.html",
        ]

    def test_container_match_gives_its_anchors(self) -> None:
        html = """<div class="list"><p><a href="a.html">a</a></p><span><a href="b.html">b</a></span>
        <a>no href</a></div><a href="outside.html">x</a>"""
        assert extract_links(html, "http://h.gov.cn/col/", "div.list") == [
            "http://h.gov.cn/col/a.html",
            "http://h.gov.cn/col/b.html",
        ]

    def test_skips_script_mail_fragment_and_empty_hrefs(self) -> None:
        html = """<div class="l">
          <a href="javascript:void(0)">js</a><a href=" JavaScript:go(1)">js2</a>
          <a href="mailto:x@h.gov.cn">mail</a><a href="tel:0563">tel</a>
          <a href="#top">top</a><a href="#">hash</a><a href="">empty</a><a href="   ">blank</a>
          <a href="ftp://h.gov.cn/f">ftp</a>
          <a href="ok.html#frag">ok</a></div>"""
        assert extract_links(html, "http://h.gov.cn/", "div.l a") == ["http://h.gov.cn/ok.html"]

    def test_duplicates_and_fragments_collapse(self) -> None:
        html = """<div class="l"><a href="a.html">1</a><a href="a.html#x">2</a>
        <a href="HTTP://H.GOV.CN/a.html">3</a><a href="b.html">4</a></div>"""
        assert extract_links(html, "http://h.gov.cn/", "div.l a, div.l") == [
            "http://h.gov.cn/a.html",
            "http://h.gov.cn/b.html",
        ]

    def test_base_href_wins_over_page_url(self) -> None:
        html = """<html><head><base href="/static/list/"></head>
        <body><a class="d" href="t1.html">1</a></body></html>"""
        assert extract_links(html, "http://h.gov.cn/col/index.html", "a.d") == [
            "http://h.gov.cn/static/list/t1.html"
        ]

    def test_hrefs_with_whitespace_and_chinese_are_normalised(self) -> None:
        html = '<a class="d" href="\n   ./202008/附件 1.html  ">x</a>'
        assert extract_links(html, "http://h.gov.cn/zfwj/", "a.d") == [
            "http://h.gov.cn/zfwj/202008/%E9%99%84%E4%BB%B6%201.html"
        ]

    def test_no_match_is_empty(self) -> None:
        assert extract_links("<p>nothing</p>", "http://h.gov.cn/", "ul.doc_list a") == []

    def test_handan_trs_list_page(self) -> None:
        html = HANDAN.read_text(encoding="utf-8")
        base = "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html"
        assert extract_links(html, base, "div.szbmtclb td a") == [
            "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200805_1353179.html"
        ]
        pages = extract_links(html, base, "div.page a")
        assert pages[0] == "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html"
        assert pages[-1] == "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index_55.html"
        assert len(pages) == 7  # 首页, 2…6, 尾页 (下一页 repeats index_1)

    def test_hanweb_datastore_records_are_searched_in_place(self) -> None:
        # Hanweb keeps a column's records as HTML in CDATA inside a text/xml script.
        html = """<div id="237220"><script type="text/xml"><datastore>
          <nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup>
          <recordset>
            <record><![CDATA[<li><a href="/art/2024/1/5/art_1229678763_59001.html">甲</a>
              </li>]]></record>
            <record><![CDATA[
              <li><a href="/art/2023/12/29/art_1229678763_58990.html">乙</a></li>]]></record>
          </recordset></datastore></script></div>
          <div class="side"><a href="/art/2020/1/1/art_1_1.html">side</a></div>"""
        base = "https://ct.zj.gov.cn/col/col1229678763/index.html"
        assert extract_links(html, base, "div[id='237220'] a") == [
            "https://ct.zj.gov.cn/art/2024/1/5/art_1229678763_59001.html",
            "https://ct.zj.gov.cn/art/2023/12/29/art_1229678763_58990.html",
        ]
        assert len(extract_links(html, "https://ct.zj.gov.cn/", 'a[href*="/art/"]')) == 3

    @given(st.text(max_size=300))
    def test_never_raises_on_any_text(self, html: str) -> None:
        for url in extract_links(html, "http://h.gov.cn/a/", "a"):
            assert url.startswith("http")


class TestSelectorError:
    @pytest.mark.parametrize(
        "css", ["ul.doc_list a", 'a[href*="/art/"]', "div.page a, .next", "td:nth-child(1) a"]
    )
    def test_valid(self, css: str) -> None:
        assert selector_error(css) is None

    @pytest.mark.parametrize("css", ["a[", "div >", "a,", "a:contains(x)", "!!", "a::before"])
    def test_invalid(self, css: str) -> None:
        error = selector_error(css)
        assert error is not None and "CSS selector" in error

    @pytest.mark.parametrize("css", ["", "   "])
    def test_empty(self, css: str) -> None:
        assert selector_error(css) == "empty selector"


class TestListPaging:
    def test_handan_count_page_script(self) -> None:
        html = HANDAN.read_text(encoding="utf-8")
        assert list_paging(html) == ScriptPaging(56, "trs")

    @pytest.mark.parametrize(
        ("script", "expected"),
        [
            ('createPageHTML(12, 0, "index", "html");', ScriptPaging(12, "trs", "index", "html")),
            ("createPageHTML( 7 ,3,'list','shtml' )", ScriptPaging(7, "trs", "list", "shtml")),
            (
                'createPageHTML("page_div", 20, 1, "index", "htm", 390);',
                ScriptPaging(20, "trs", "index", "htm"),
            ),
            ("var countPage = 3//共多少页", ScriptPaging(3, "trs")),
            (
                "$('#page').pagination({pageIndex:1, pageCount:9, pageSize:15});",
                ScriptPaging(9, "lonsun"),
            ),
            ('Ls.pageList({"pageCount": "4", "pageIndex": 1})', ScriptPaging(4, "lonsun")),
        ],
    )
    def test_scripts(self, script: str, expected: ScriptPaging) -> None:
        html = f"<html><body><div class='page'><script>{script}</script></div></body></html>"
        assert list_paging(html) == expected

    @pytest.mark.parametrize(
        "html",
        [
            "<p>no paging here</p>",
            "<p>var countPage = 5 is in the text, not a script</p>",
            "<script>createPageHTML(0, 0, 'index', 'html')</script>",
            "<script>var countPage = 0</script>",
            "<script>createPageHTML(countPage, currentPage, 'index', 'html')</script>",
        ],
    )
    def test_no_usable_count(self, html: str) -> None:
        assert list_paging(html) is None

    def test_variable_call_falls_back_to_count_page(self) -> None:
        html = "<script>var countPage = 4; createPageHTML(countPage, 0, 'index', 'html');</script>"
        assert list_paging(html) == ScriptPaging(4, "trs")
