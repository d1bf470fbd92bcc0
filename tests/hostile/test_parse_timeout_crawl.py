"""A page that would hold the parser for ever is stopped; the crawl archives the others.

The page is parsed in a worker process within ``parse_timeout``; past it the worker is
stopped, the page's fetch is an ``error`` saying so, and the other pages of the crawl
(and of other sources) go on. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine

from scraper.config import config_from_mapping
from scraper.crawling.parsepool import ParserPool
from scraper.crawling.pipeline import crawl
from tests.crawl_site import outcomes, rows
from tests.hostile.test_parse_pool import slow_on_marker
from tests.site import pages
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)


def test_a_runaway_page_is_stopped_and_recorded(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    for n in range(4):
        site.add(f"/doc/{n}.html", pages.document(f"文件{n}", text_bytes=800))
    site.add("/doc/slow.html", "<html><body><p>SLOW</p></body></html>")
    links = "".join(
        f'<li><a href="/doc/{n}.html">{n}</a></li>' for n in ("0", "1", "slow", "2", "3")
    )
    site.add("/list.html", f"<html><body><ul class='docs'>{links}</ul></body></html>")
    document = {
        "database": database_url,
        "crawl": {
            "requests_per_second": 1000,
            "max_concurrency": 2,
            "respect_robots_txt": False,
            "retries": 0,
            "parse_timeout": 2,
        },
        "sources": [
            {
                "name": "runaway",
                "start_urls": [site.url("/list.html")],
                "detail_links": "ul.docs a",
                "schedule": "0 6 * * *",
            }
        ],
    }
    config = config_from_mapping(document, origin="test config")

    async def run() -> int:
        with ParserPool(1, 2.0, parse=slow_on_marker) as pool:
            (result,) = await crawl(config, engine, parser=pool)
            return result.run_id

    run_id = asyncio.run(run())
    assert outcomes(engine, run_id) == {"new_version": 4, "error": 1, "list_page": 1}
    ((url, error),) = rows(
        engine,
        "SELECT url, error FROM fetches WHERE crawl_run_id = :r AND outcome = 'error'",
        r=run_id,
    )
    assert url.endswith("/doc/slow.html")
    assert "parsing took longer than 2 s" in error
