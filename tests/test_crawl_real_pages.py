"""A recrawl of unchanged real pages never makes a version, even when every answer differs.

The whole real corpus (tests/fixtures/real/) is served by a local site that, like real
government servers, sends no validators and changes the volatile parts of every answer
(a view counter, a page-generation stamp in the footer and in <meta>, a date widget, a
hidden token). Two crawls into SQLite and PostgreSQL: the second must file every page as
``unchanged`` and write no version; a real edit then makes exactly one.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from sqlalchemy import Engine

from scraper.config import config_from_mapping
from scraper.crawling.pipeline import crawl
from scraper.parse.encoding import decode_html
from tests.crawl_site import outcomes, scalar
from tests.realcorpus import load_pages
from tests.site.server import Request, Response, TestSite

PAGES = load_pages()


class NoisySite:
    """Serves every corpus page at /doc/<n>.html with fresh volatile parts per answer."""

    def __init__(self, site: TestSite) -> None:
        self.site = site
        self.counter = itertools.count(1000)
        self.texts: dict[str, tuple[str, str]] = {}
        for n, page in enumerate(PAGES):
            decoded = decode_html(page.data)
            self.texts[self.path(n)] = (decoded.text, decoded.encoding)
            site.add_handler(self.path(n), self.answer)
        links = "".join(f'<li><a href="{self.path(n)}">{n}</a></li>' for n in range(len(PAGES)))
        site.add("/list.html", f"<html><body><ul class='docs'>{links}</ul></body></html>")
        site.robots("User-agent: *\nAllow: /\n")

    @staticmethod
    def path(n: int) -> str:
        return f"/doc/{n}.html"

    def edit(self, n: int, old: str, new: str) -> None:
        text, encoding = self.texts[self.path(n)]
        assert old in text
        self.texts[self.path(n)] = (text.replace(old, new), encoding)

    def answer(self, request: Request) -> Response:
        text, encoding = self.texts[request.path]
        tick = next(self.counter)
        stamp = f"2026-12-{tick % 28 + 1:02d} {tick % 24:02d}:{tick % 60:02d}:07"
        head = (
            f'<meta name="HtmlGenerateTime" content="{stamp}">'
            f'<meta name="Maketime" content="{stamp}">'
        )
        weekday = "一二三四五六日"[tick % 7]
        top = (
            f"<div class='today'>今天是2026年12月{tick % 28 + 1}日 星期{weekday}</div>"
            f"<div class='hits'>浏览次数：{tick}</div>"
            f'<input type="hidden" name="token" value="{tick:x}{tick * 7919:x}">'
        )
        bottom = f"<div class='foot'>页面生成时间：{stamp}</div><script>var r={tick};</script>"
        noisy = _insert_after(text, "<body", top)
        noisy = _insert_before(noisy, "</body>", bottom)
        noisy = _insert_before(noisy, "</head>", head)
        return Response(
            noisy.encode(encoding, "xmlcharrefreplace"),
            headers={"Content-Type": "text/html"},
        )


def _insert_before(text: str, tag: str, snippet: str) -> str:
    at = text.lower().rfind(tag)
    return text if at < 0 else text[:at] + snippet + text[at:]


def _insert_after(text: str, tag: str, snippet: str) -> str:
    at = text.lower().find(tag)
    if at < 0:
        return snippet + text
    end = text.find(">", at)
    return text[: end + 1] + snippet + text[end + 1 :]


def _config(site: TestSite, database: str) -> Any:
    document = {
        "database": database,
        "crawl": {
            "requests_per_second": 1000,
            "per_host_concurrency": 4,
            "max_concurrency": 4,
            "timeout": 10,
            "retries": 0,
        },
        "sources": [
            {
                "name": "real",
                "start_urls": [site.url("/list.html")],
                "detail_links": "ul.docs a",
                "schedule": "0 6 * * *",
            }
        ],
    }
    return config_from_mapping(document, origin="test config")


def test_recrawling_unchanged_real_pages_makes_no_version(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    noisy = NoisySite(site)
    config = _config(site, database_url)
    (first,) = asyncio.run(crawl(config, engine))
    assert first.summary.new_versions == len(PAGES)

    (second,) = asyncio.run(crawl(config, engine))

    assert outcomes(engine, second.run_id) == {"unchanged": len(PAGES), "list_page": 1}
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == len(PAGES)

    # A real edit still makes exactly one version.
    target, snippet = next(
        (n, snippet)
        for n, page in enumerate(PAGES)
        for snippet in page.body.get("contains", [])
        if snippet in noisy.texts[noisy.path(n)][0]
    )
    noisy.edit(target, snippet, snippet[:-1] + "（修订）" + snippet[-1])
    (third,) = asyncio.run(crawl(config, engine))
    assert outcomes(engine, third.run_id) == {
        "unchanged": len(PAGES) - 1,
        "new_version": 1,
        "list_page": 1,
    }
