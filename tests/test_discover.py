"""Tests for scraper.crawling.discover: paging styles, stop rules and link hygiene.

The site is an in-memory dict served by a fake ``fetch``; no server, no network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.config import SourceConfig
from scraper.crawling.discover import Discovery, PageOrigin, StopReason, discover_detail_urls
from scraper.fetching.response import FetchKind, FetchResult
from scraper.settings import CrawlSettings

HANDAN = Path(__file__).parent / "fixtures" / "lists" / "handan_trs_list.html"
XC = "https://sjzy.xuancheng.gov.cn"
XC_LIST = f"{XC}/OpennessContent/showList/2/17"
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


class Site:
    """An in-memory site: URL → (status or kind, body). Records every fetch."""

    def __init__(self, pages: dict[str, bytes | str | FetchKind]) -> None:
        self.pages = pages
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []

    async def fetch(self, url: str) -> FetchResult:
        self.requests.append(url)
        final = self.redirects.get(url, url)
        page = self.pages.get(final)
        if page is None:
            return FetchResult(url, final, FetchKind.GONE, WHEN, status=404)
        if isinstance(page, FetchKind):
            status = {FetchKind.BLOCKED: 412, FetchKind.ERROR: 503}.get(page)
            return FetchResult(url, final, page, WHEN, status=status, error=f"{page} at {final}")
        body = page.encode("utf-8") if isinstance(page, str) else page
        headers = {"content-type": "text/html"}
        return FetchResult(url, final, FetchKind.OK, WHEN, status=200, headers=headers, body=body)


def list_page(*hrefs: str, extra: str = "") -> str:
    """A list page: the hrefs in ul.doc_list, then ``extra`` (paging links or scripts)."""
    items = "".join(f'<li><a href="{h}">文件</a><span>2024-01-01</span></li>' for h in hrefs)
    return f"""<html><head><meta charset="utf-8"><title>列表</title></head><body>
    <div class="nav"><a href="/index.html">首页</a></div>
    <ul class="doc_list">{items}</ul>{extra}</body></html>"""


def doc(n: int) -> str:
    return f"/OpennessContent/show/{n}.html"


def xc_doc(n: int) -> str:
    return f"{XC}{doc(n)}"


def source(
    start_urls: tuple[str, ...] = (f"{XC_LIST}/page_1.html",),
    *,
    detail_links: str = "ul.doc_list a",
    list_links: str | None = None,
    list_url_template: str | None = None,
    **settings: object,
) -> SourceConfig:
    return SourceConfig(
        name="test",
        start_urls=start_urls,
        detail_links=detail_links,
        list_links=list_links,
        list_url_template=list_url_template,
        schedule="0 6 * * *",
        settings=replace(CrawlSettings(), **settings),  # type: ignore[arg-type]
    )


def run(src: SourceConfig, site: Site, **kwargs: object) -> Discovery:
    return asyncio.run(discover_detail_urls(src, site.fetch, **kwargs))  # type: ignore[arg-type]


class TestStartUrls:
    def test_single_page_links_normalised_and_deduplicated(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(
                    doc(3),
                    "../../../show/1.html",
                    f"{doc(3)}#top",
                    "HTTPS://SJZY.xuancheng.gov.cn" + doc(2),
                    "javascript:void(0)",
                    "#",
                    doc(1),
                )
            }
        )
        result = run(source(), site)
        assert result.detail_urls == (xc_doc(3), xc_doc(1), xc_doc(2))
        assert result.stop_reason is StopReason.EXHAUSTED
        (page,) = result.list_pages
        assert (page.origin, page.kind, page.status) == (PageOrigin.START, FetchKind.OK, 200)
        assert (page.links_found, page.new_links, page.offsite_links) == (3, 3, 0)
        assert page.encoding == "utf-8"
        assert site.requests == [f"{XC_LIST}/page_1.html"]

    def test_links_resolve_against_the_final_url_after_a_redirect(self) -> None:
        site = Site({f"{XC}/list/new/index.html": list_page("t1.html")})
        site.redirects[f"{XC}/list/index.html"] = f"{XC}/list/new/index.html"
        result = run(source((f"{XC}/list/index.html",)), site)
        assert result.detail_urls == (f"{XC}/list/new/t1.html",)
        assert result.list_pages[0].final_url == f"{XC}/list/new/index.html"

    def test_every_start_url_is_walked_even_after_a_stop(self) -> None:
        a, b, c = (f"{XC}/col/{x}/page_1.html" for x in "abc")
        site = Site({a: list_page(doc(1)), b: list_page(doc(1)), c: list_page(doc(2))})
        result = run(source((a, b, c)), site)
        assert site.requests == [a, b, c]
        assert result.detail_urls == (xc_doc(1), xc_doc(2))
        assert [p.stop for p in result.list_pages] == [None, StopReason.NO_NEW_LINKS, None]

    def test_a_missing_start_url_does_not_stop_the_others(self) -> None:
        a, b = f"{XC}/gone/page_1.html", f"{XC}/col/page_1.html"
        site = Site({b: list_page(doc(5))})
        result = run(source((a, b)), site)
        assert result.detail_urls == (xc_doc(5),)
        assert [p.kind for p in result.list_pages] == [FetchKind.GONE, FetchKind.OK]
        assert result.list_pages[0].status == 404
        assert result.stop_reason is StopReason.EXHAUSTED


class TestTemplate:
    def test_xuancheng_pages_until_404_start_url_not_fetched_twice(self) -> None:
        site = Site(
            {f"{XC_LIST}/page_{n}.html": list_page(doc(10 * n), doc(10 * n + 1)) for n in (1, 2, 3)}
        )
        result = run(source(list_url_template="page_{n}.html"), site)
        assert site.requests == [f"{XC_LIST}/page_{n}.html" for n in (1, 2, 3, 4)]
        assert result.detail_urls == tuple(xc_doc(x) for x in (10, 11, 20, 21, 30, 31))
        assert result.stop_reason is StopReason.NOT_FOUND
        assert [p.origin for p in result.list_pages] == [PageOrigin.START] + [
            PageOrigin.TEMPLATE
        ] * 3
        assert result.list_pages[-1].stop is StopReason.NOT_FOUND

    def test_site_repeating_the_last_page_past_the_end(self) -> None:
        last = list_page(doc(30))
        pages: dict[str, bytes | str | FetchKind] = {
            f"{XC_LIST}/page_{n}.html": list_page(doc(10 * n)) for n in (1, 2)
        }
        pages.update({f"{XC_LIST}/page_{n}.html": last for n in range(3, 50)})
        site = Site(pages)
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.detail_urls == (xc_doc(10), xc_doc(20), xc_doc(30))
        assert len(site.requests) == 4  # pages 1-3, then page 4 = page 3 again
        assert result.stop_reason is StopReason.NO_NEW_LINKS
        assert (result.list_pages[-1].links_found, result.list_pages[-1].new_links) == (1, 0)

    def test_empty_page_past_the_end(self) -> None:
        site = Site(
            {f"{XC_LIST}/page_1.html": list_page(doc(1)), f"{XC_LIST}/page_2.html": list_page()}
        )
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.stop_reason is StopReason.NO_NEW_LINKS
        assert len(site.requests) == 2

    def test_404_in_the_middle_ends_generated_pages(self) -> None:
        site = Site({f"{XC_LIST}/page_{n}.html": list_page(doc(n)) for n in (1, 2, 4, 5)})
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.detail_urls == (xc_doc(1), xc_doc(2))
        assert f"{XC_LIST}/page_4.html" not in site.requests
        assert result.stop_reason is StopReason.NOT_FOUND

    def test_server_error_ends_generated_pages(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(doc(1)),
                f"{XC_LIST}/page_2.html": FetchKind.ERROR,
                f"{XC_LIST}/page_3.html": list_page(doc(3)),
            }
        )
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.detail_urls == (xc_doc(1),)
        assert result.stop_reason is StopReason.ERROR
        assert result.list_pages[-1].error == f"error at {XC_LIST}/page_2.html"

    def test_max_list_pages(self) -> None:
        site = Site({f"{XC_LIST}/page_{n}.html": list_page(doc(n)) for n in range(1, 100)})
        result = run(source(list_url_template="page_{n}.html", max_list_pages=3), site)
        assert len(site.requests) == 3
        assert result.detail_urls == (xc_doc(1), xc_doc(2), xc_doc(3))
        assert result.stop_reason is StopReason.MAX_LIST_PAGES

    def test_max_list_pages_not_reported_when_the_column_ends_first(self) -> None:
        site = Site({f"{XC_LIST}/page_{n}.html": list_page(doc(n)) for n in (1, 2)})
        result = run(source(list_url_template="page_{n}.html", max_list_pages=3), site)
        assert result.stop_reason is StopReason.NOT_FOUND
        assert len(site.requests) == 3

    def test_trs_template_first_page_is_the_start_url(self) -> None:
        base = "http://h.gov.cn/zfwj/"
        site = Site(
            {
                f"{base}index.html": list_page("./202401/t1.html"),
                f"{base}index_1.html": list_page("./202312/t2.html"),
            }
        )
        result = run(source((f"{base}index.html",), list_url_template="index_{n}.html"), site)
        assert site.requests == [f"{base}index.html", f"{base}index_1.html", f"{base}index_2.html"]
        assert result.detail_urls == (f"{base}202401/t1.html", f"{base}202312/t2.html")

    def test_lonsun_query_template(self) -> None:
        col = "https://czj.hefei.gov.cn/public/column/4381?type=4&catId=7&action=list"
        site = Site({f"{col}&pageIndex={n}": list_page(f"/public/4381/{n}.html") for n in (1, 2)})
        site.pages[f"{col}&pageIndex=3"] = site.pages[f"{col}&pageIndex=2"]
        src = source(
            (f"{col}&pageIndex=1",), list_url_template="?type=4&catId=7&action=list&pageIndex={n}"
        )
        result = run(src, site)
        assert result.detail_urls == tuple(
            f"https://czj.hefei.gov.cn/public/4381/{n}.html" for n in (1, 2)
        )
        assert site.requests == [f"{col}&pageIndex={n}" for n in (1, 2, 3)]
        assert result.stop_reason is StopReason.NO_NEW_LINKS


class TestTrsScript:
    def test_create_page_html_without_template(self) -> None:
        base = "http://h.gov.cn/xxgk/"
        script = '<div class="page"><script>createPageHTML(3, 0, "index", "shtml");</script></div>'
        site = Site(
            {
                f"{base}index.shtml": list_page("t1.html", extra=script),
                f"{base}index_1.shtml": list_page("t2.html", extra=script),
                f"{base}index_2.shtml": list_page("t3.html", extra=script),
                f"{base}index_3.shtml": list_page("t4.html"),
            }
        )
        result = run(source((f"{base}index.shtml",)), site)
        assert site.requests == [
            f"{base}index.shtml",
            f"{base}index_1.shtml",
            f"{base}index_2.shtml",
        ]
        assert result.detail_urls == tuple(f"{base}t{n}.html" for n in (1, 2, 3))
        assert [p.origin for p in result.list_pages] == [
            PageOrigin.START,
            PageOrigin.SCRIPT,
            PageOrigin.SCRIPT,
        ]
        assert result.stop_reason is StopReason.EXHAUSTED

    def test_handan_count_page_script_from_a_directory_url(self) -> None:
        base = "http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/"
        first = HANDAN.read_bytes()  # countPage=56, one document
        site = Site({base: first})
        for n in (1, 2, 3):
            site.pages[f"{base}index_{n}.html"] = list_page(f"./2020{n:02}/t{n}.html")
        result = run(source((base,), detail_links="div.szbmtclb td a, ul.doc_list a"), site)
        assert result.detail_urls == (
            "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200805_1353179.html",
            *(f"{base}2020{n:02}/t{n}.html" for n in (1, 2, 3)),
        )
        assert site.requests[-1] == f"{base}index_4.html"  # 404: the column ends early
        assert result.stop_reason is StopReason.NOT_FOUND

    def test_script_pages_are_not_generated_from_a_later_page(self) -> None:
        base = "http://h.gov.cn/a/"
        script = "<script>var countPage = 9</script>"
        nxt = '<a class="n" href="p2.html">下一页</a>'
        site = Site(
            {
                f"{base}index.html": list_page("t1.html", extra=nxt),
                f"{base}p2.html": list_page("t2.html", extra=script),
            }
        )
        result = run(source((f"{base}index.html",), list_links="a.n"), site)
        assert site.requests == [f"{base}index.html", f"{base}p2.html"]
        assert result.stop_reason is StopReason.EXHAUSTED

    def test_lonsun_page_count_alone_generates_nothing(self) -> None:
        url = "https://czj.hefei.gov.cn/public/column/4381?type=4&catId=7&action=list"
        script = "<script>Ls.pageList({pageCount:5})</script>"
        site = Site({url: list_page("/public/4381/1.html", extra=script)})
        result = run(source((url,)), site)
        assert site.requests == [url]
        assert result.detail_urls == ("https://czj.hefei.gov.cn/public/4381/1.html",)


class TestListLinks:
    def test_next_links_breadth_first(self) -> None:
        def page(n: int, nxt: int | None) -> str:
            link = f'<div class="page"><a href="page_{nxt}.html">下一页</a></div>' if nxt else ""
            return list_page(doc(n), extra=link)

        site = Site(
            {f"{XC_LIST}/page_{n}.html": page(n, n + 1 if n < 3 else None) for n in (1, 2, 3)}
        )
        result = run(source(list_links="div.page a"), site)
        assert result.detail_urls == (xc_doc(1), xc_doc(2), xc_doc(3))
        assert [p.origin for p in result.list_pages] == [PageOrigin.START] + [PageOrigin.LINK] * 2
        assert result.stop_reason is StopReason.EXHAUSTED

    def test_numbered_links_off_site_and_missing_pages(self) -> None:
        paging = """<div class="page"><a href="page_1.html">1</a><a href="page_2.html">2</a>
          <a href="page_3.html">3</a><a href="http://evil.example.com/page_4.html">4</a>
          <a href="page_3.html">尾页</a></div>"""
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(doc(1), extra=paging),
                f"{XC_LIST}/page_3.html": list_page(doc(3), extra=paging),
            }
        )
        result = run(source(list_links="div.page a"), site)
        # page 2 answers 404, and the walk still goes on to page 3
        assert site.requests == [f"{XC_LIST}/page_{n}.html" for n in (1, 2, 3)]
        assert result.detail_urls == (xc_doc(1), xc_doc(3))
        assert [p.kind for p in result.list_pages] == [FetchKind.OK, FetchKind.GONE, FetchKind.OK]
        assert result.list_pages[1].stop is None
        assert result.list_pages[0].offsite_links == 1
        assert result.offsite_links == 2  # the evil link, once on each page that had it
        assert all("evil" not in url for url in site.requests)

    def test_a_stopped_chain_follows_no_more_list_links(self) -> None:
        nav = '<div class="page"><a href="page_2.html">2</a></div>'
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(doc(1), extra=nav),
                f"{XC_LIST}/page_2.html": list_page(doc(1), extra=nav.replace("2", "3")),
                f"{XC_LIST}/page_3.html": list_page(doc(3)),
            }
        )
        result = run(source(list_links="div.page a"), site)
        assert site.requests == [f"{XC_LIST}/page_1.html", f"{XC_LIST}/page_2.html"]
        assert result.stop_reason is StopReason.NO_NEW_LINKS


class TestHostsAndDuplicates:
    def test_off_site_detail_links_are_dropped_and_counted(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(
                    doc(1),
                    "https://www.xuancheng.gov.cn/OpennessContent/show/2.html",
                    "http://xuancheng.gov.cn/x.html",
                    "https://evil.example.com/a.html",
                    doc(3),
                )
            }
        )
        result = run(source(), site)
        assert result.detail_urls == (xc_doc(1), xc_doc(3))
        assert result.offsite_links == 3
        assert result.list_pages[0].offsite_links == 3
        assert result.list_pages[0].links_found == 2

    def test_allowed_hosts_admits_a_second_host(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(
                    doc(1),
                    "https://www.xuancheng.gov.cn/OpennessContent/show/2.html",
                    "https://evil.example.com/a.html",
                )
            }
        )
        src = source(allowed_hosts=("sjzy.xuancheng.gov.cn", "www.xuancheng.gov.cn"))
        result = run(src, site)
        assert result.detail_urls == (
            xc_doc(1),
            "https://www.xuancheng.gov.cn/OpennessContent/show/2.html",
        )
        assert result.offsite_links == 1

    def test_duplicates_across_pages_are_kept_once(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(doc(1), doc(2)),
                f"{XC_LIST}/page_2.html": list_page(doc(2), doc(3), doc(1)),
                f"{XC_LIST}/page_3.html": list_page(doc(4)),
            }
        )
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.detail_urls == tuple(xc_doc(n) for n in (1, 2, 3, 4))
        assert [(p.links_found, p.new_links) for p in result.list_pages[:3]] == [
            (2, 2),
            (3, 1),
            (1, 1),
        ]


class TestIncremental:
    PAGES: dict[str, bytes | str | FetchKind] = {  # noqa: RUF012 - read-only test data
        f"{XC_LIST}/page_{n}.html": list_page(doc(2 * n), doc(2 * n + 1)) for n in range(1, 6)
    }
    ARCHIVED = frozenset(xc_doc(n) for n in range(4, 12))  # everything from page 2 on

    def test_stops_at_a_page_whose_links_are_all_archived(self) -> None:
        site = Site(dict(self.PAGES))
        asked: list[str] = []

        def is_archived(url: str) -> bool:
            asked.append(url)
            return url in self.ARCHIVED

        src = source(list_url_template="page_{n}.html", incremental=True)
        result = run(src, site, is_archived=is_archived)
        assert site.requests == [f"{XC_LIST}/page_1.html", f"{XC_LIST}/page_2.html"]
        assert result.detail_urls == tuple(xc_doc(n) for n in (2, 3, 4, 5))
        assert result.stop_reason is StopReason.ALL_ARCHIVED
        assert result.list_pages[-1].stop is StopReason.ALL_ARCHIVED
        assert asked == [xc_doc(2), xc_doc(4), xc_doc(5)]  # page 1 stops asking at the first miss

    def test_partly_archived_page_goes_on(self) -> None:
        site = Site(dict(self.PAGES))
        src = source(list_url_template="page_{n}.html", incremental=True)
        result = run(src, site, is_archived=lambda url: url == xc_doc(5))
        assert len(result.detail_urls) == 10
        assert result.stop_reason is StopReason.NOT_FOUND

    def test_without_incremental_archived_pages_do_not_stop(self) -> None:
        site = Site(dict(self.PAGES))
        result = run(source(list_url_template="page_{n}.html"), site, is_archived=lambda url: True)
        assert len(result.detail_urls) == 10
        assert result.stop_reason is StopReason.NOT_FOUND


class TestEncodingAndBlocks:
    def test_gbk_list_pages(self) -> None:
        html = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
        </head><body><table class="list">
        <tr><td><a href="/xxgk/202401/t1.html" title="关于印发《办法》的通知">通知</a></td></tr>
        <tr><td><a href="/xxgk/202401/t2.html" title="年度报告">报告</a></td></tr>
        </table></body></html>"""
        site = Site({f"{XC}/xxgk/index.html": html.encode("gbk")})
        # A selector on Chinese attribute text only matches if the page was decoded right.
        src = source((f"{XC}/xxgk/index.html",), detail_links='a[title*="通知"]')
        result = run(src, site)
        assert result.detail_urls == (f"{XC}/xxgk/202401/t1.html",)
        assert result.list_pages[0].encoding == "gb18030"

    def test_blocked_start_page_stops_the_source(self) -> None:
        a, b = f"{XC}/a/page_1.html", f"{XC}/b/page_1.html"
        site = Site({a: FetchKind.BLOCKED, b: list_page(doc(1))})
        result = run(source((a, b), list_url_template="page_{n}.html"), site)
        assert site.requests == [a]
        assert result.stop_reason is StopReason.BLOCKED
        assert result.detail_urls == ()
        assert result.list_pages[0].status == 412

    def test_blocked_generated_page(self) -> None:
        site = Site(
            {
                f"{XC_LIST}/page_1.html": list_page(doc(1)),
                f"{XC_LIST}/page_2.html": FetchKind.BLOCKED,
            }
        )
        result = run(source(list_url_template="page_{n}.html"), site)
        assert result.detail_urls == (xc_doc(1),)
        assert result.stop_reason is StopReason.BLOCKED

    def test_hanweb_datastore_column(self) -> None:
        records = "".join(
            f'<record><![CDATA[<li><a href="/art/2024/1/{n}/art_1229678763_{n}.html">公告</a>'
            f"</li>]]></record>"
            for n in (5, 4, 3)
        )
        html = f"""<html><body><div id="237220"><script type="text/xml"><datastore>
            <recordset>{records}</recordset></datastore></script></div></body></html>"""
        url = "https://ct.zj.gov.cn/col/col1229678763/index.html"
        result = run(
            source((url,), detail_links='a[href*="/art/"]', max_list_pages=1), Site({url: html})
        )
        assert result.detail_urls == tuple(
            f"https://ct.zj.gov.cn/art/2024/1/{n}/art_1229678763_{n}.html" for n in (5, 4, 3)
        )


def _shipped(name: str) -> SourceConfig:
    from scraper.config import load_config

    return load_config(Path(__file__).resolve().parents[1] / "config.yaml").source(name)


def _paged_site(start: str, page_url: Callable[[int], str], doc_url: Callable[[int], str]) -> Site:
    """Three list pages (page 1 at ``start``), each linking two documents; page 4 is missing."""
    site = Site({})
    for n in (1, 2, 3):
        links = "".join(f'<li><a href="{doc_url(2 * n + i)}">文件</a></li>' for i in (0, 1))
        site.pages[start if n == 1 else page_url(n)] = f"<ul class='list'>{links}</ul>"
    return site


@pytest.mark.parametrize(
    ("name", "page_url", "doc_url"),
    [
        pytest.param(
            "xuancheng-sjzy-jcbs",
            lambda n: f"https://sjzy.xuancheng.gov.cn/OpennessContent/showList/2/1/page_{n}.html",
            lambda k: f"/OpennessContent/show/{2000 + k}.html",
            id="xuancheng-openness",
        ),
        pytest.param(
            "hefei-czj-czyjs",
            lambda n: (
                "https://czj.hefei.gov.cn/public/column/4381?type=4&catId=7036479"
                f"&action=list&pageIndex={n}"
            ),
            lambda k: f"https://czj.hefei.gov.cn/public/4381/{9000 + k}.html",
            id="lonsun",
        ),
    ],
)
def test_shipped_templated_sources_page_through_a_fake_site(
    name: str, page_url: Callable[[int], str], doc_url: Callable[[int], str]
) -> None:
    """The shipped selectors and templates fit pages shaped like their CMS."""
    src = _shipped(name)
    site = _paged_site(src.start_urls[0], page_url, doc_url)
    result = run(src, site)
    assert len(result.detail_urls) == 6
    assert site.requests == [src.start_urls[0], page_url(2), page_url(3), page_url(4)]
    assert result.stop_reason is StopReason.NOT_FOUND


def test_shipped_hanweb_source_reads_the_datastore() -> None:
    src = _shipped("zj-ct-zygg")
    record = (
        '<record><![CDATA[<li><a href="/art/2024/3/1/art_1229678763_{0}.html">公告</a></li>]]>'
        "</record>"
    )
    html = f"""<div class="nav"><a href="/col/col1229678745/index.html">法定主动公开内容</a></div>
    <div id="4915"><script type="text/xml"><datastore><recordset>
    {record.format(7)}{record.format(6)}</recordset></datastore></script></div>"""
    site = Site({src.start_urls[0]: html})
    result = run(src, site)
    assert result.detail_urls == tuple(
        f"https://ct.zj.gov.cn/art/2024/3/1/art_1229678763_{n}.html" for n in (7, 6)
    )
    assert site.requests == [src.start_urls[0]]


@pytest.mark.parametrize("incremental", [False, True])
def test_shipped_trs_source_walks_the_handan_page(incremental: bool) -> None:
    handan = _shipped("handan-jqxxgk")
    handan = replace(handan, settings=replace(handan.settings, incremental=incremental))
    site = Site({"http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index.html": HANDAN.read_bytes()})
    result = run(handan, site, is_archived=lambda url: False)
    assert result.detail_urls == (
        "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200805_1353179.html",
    )
    # the countPage script names index_1.html next; it is missing here, so paging ends
    assert site.requests[1:] == ["http://hdzfxxgk.hd.gov.cn/zfwj/jinqixxgk/index_1.html"]
    assert result.stop_reason is StopReason.NOT_FOUND


_PAGE = st.one_of(
    st.none(),  # 404
    st.sampled_from([FetchKind.ERROR, FetchKind.BLOCKED]),
    st.tuples(
        st.lists(st.integers(0, 12), max_size=6),  # documents linked
        st.lists(st.integers(1, 8), max_size=3),  # list pages linked
        st.booleans(),  # plus an off-site document and list link
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    pages=st.lists(_PAGE, min_size=8, max_size=8),
    use_template=st.booleans(),
    use_links=st.booleans(),
    max_list_pages=st.integers(1, 10),
    incremental=st.booleans(),
    archived=st.sets(st.integers(0, 12)),
)
def test_walk_invariants(
    pages: list[FetchKind | tuple[list[int], list[int], bool] | None],
    use_template: bool,
    use_links: bool,
    max_list_pages: int,
    incremental: bool,
    archived: set[int],
) -> None:
    """Whatever the site: no URL fetched twice, nothing off-site, the limits hold."""
    site = Site({})
    for n, page in enumerate(pages, start=1):
        if page is None:
            continue
        if isinstance(page, FetchKind):
            site.pages[f"{XC_LIST}/page_{n}.html"] = page
            continue
        docs, lists, offsite = page
        hrefs = [doc(d) for d in docs] + (["https://evil.example.com/d.html"] if offsite else [])
        nav = "".join(f'<a href="page_{p}.html">{p}</a>' for p in lists)
        if offsite:
            nav += '<a href="https://evil.example.com/page_2.html">x</a>'
        site.pages[f"{XC_LIST}/page_{n}.html"] = list_page(
            *hrefs, extra=f'<div class="page">{nav}</div>'
        )
    src = source(
        list_links="div.page a" if use_links else None,
        list_url_template="page_{n}.html" if use_template else None,
        max_list_pages=max_list_pages,
        incremental=incremental,
    )
    result = run(src, site, is_archived=lambda url: url in {xc_doc(a) for a in archived})

    assert len(site.requests) == len(set(site.requests)) == len(result.list_pages)
    assert len(site.requests) <= max_list_pages
    assert all(url.startswith(f"{XC}/") for url in site.requests)
    assert len(result.detail_urls) == len(set(result.detail_urls))
    assert all(url.startswith(f"{XC}/OpennessContent/show/") for url in result.detail_urls)
    assert sum(p.new_links for p in result.list_pages) == len(result.detail_urls)
    if result.stop_reason is StopReason.MAX_LIST_PAGES:
        assert len(site.requests) == max_list_pages
    if result.stop_reason is StopReason.BLOCKED:
        assert result.list_pages[-1].kind is FetchKind.BLOCKED
