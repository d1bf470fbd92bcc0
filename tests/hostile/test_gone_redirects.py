"""Gone through redirects: fetch rows belong to the page asked for, wherever it answered.

Issue 16, finding 3: a known page that redirected to an error page answering 404 was not
marked gone, and its fetch row was filed under the error page's URL with no page. Now
every fetch row carries the requested URL (and its page), ``final_url`` keeps where the
answer came from, and a redirect chain ending in a 404, a 410 or a soft-404 marks the
page gone like a direct 404. Crawled end to end into SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine

from scraper.config import Config
from scraper.crawling.pipeline import SourceRun, crawl
from tests.crawl_site import DisclosureSite, rows, scalar
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)

SOFT_404 = (
    "<html><head><title>提示信息</title></head><body><div class='box'>"
    "<p>对不起，您访问的页面不存在或已被删除！</p><a href='/'>返回首页</a></div></body></html>"
).encode()


def _crawl(config: Config, engine: Engine) -> SourceRun:
    (run,) = asyncio.run(crawl(config, engine))
    return run


def _fetches(engine: Engine, run_id: int) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT f.url, f.final_url, f.outcome, f.http_status, p.url FROM fetches f "
        "LEFT JOIN pages p ON p.id = f.page_id "
        "WHERE f.crawl_run_id = :r AND f.outcome <> 'list_page'",
        r=run_id,
    )


@pytest.mark.parametrize(
    ("chain", "status"),
    [
        pytest.param([("/error/404.html", None)], 404, id="to a 404 page"),
        pytest.param([("/error/gone.html", 410)], 410, id="to a 410 page"),
        pytest.param([("/hop.html", "redirect"), ("/error/404.html", None)], 404, id="two hops"),
        pytest.param([("/error/notfound.html", "soft")], 200, id="to a soft-404 page"),
    ],
)
def test_a_known_page_redirected_to_an_error_page_is_gone(
    site: TestSite, engine: Engine, database_url: str, chain: list[tuple[str, Any]], status: int
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = docs.config(database_url)
    _crawl(config, engine)
    url = docs.doc_url(1)
    site.redirect(docs.doc_path(1), chain[0][0], status=302)
    for (path, kind), following in zip(chain, [*chain[1:], None], strict=True):
        if kind == "redirect":
            assert following is not None
            site.redirect(path, following[0])
        elif kind == "soft":
            site.add(path, SOFT_404)
        elif kind == 410:
            site.add(path, "<html><body>410 Gone</body></html>", status=410)
        # None: no route, the site answers 404
    final = site.url(chain[-1][0])

    run = _crawl(config, engine)

    assert (url, final, "gone", status, url) in _fetches(engine, run.run_id)
    assert scalar(engine, "SELECT gone_at FROM pages WHERE url = :u", u=url) is not None
    assert scalar(engine, "SELECT COUNT(*) FROM pages") == 2  # the error page is no page
    assert run.summary.gone == 1
    orphans = "SELECT COUNT(*) FROM fetches WHERE page_id IS NULL AND outcome <> 'list_page'"
    assert scalar(engine, orphans) == 0


def test_a_page_that_moved_stays_one_page_with_its_history(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    """A page that redirects to its new address is still the page the list links to:
    its fetches and versions stay under the requested URL, final_url says where it
    answered, and no second page appears for the new address."""
    docs = DisclosureSite(site, count=1, per_page=1, etags=False)
    url = docs.doc_url(0)
    moved = "/OpennessContent/show/moved-1000.html"
    site.add(moved, docs.bodies[0])
    site.redirect(docs.doc_path(0), moved)
    config = docs.config(database_url)

    first = _crawl(config, engine)
    site.add(moved, docs.bodies[0].replace("持续推进".encode(), "已完成".encode(), 1))
    second = _crawl(config, engine)

    assert _fetches(engine, first.run_id) == [(url, site.url(moved), "new_version", 200, url)]
    assert _fetches(engine, second.run_id) == [(url, site.url(moved), "new_version", 200, url)]
    assert rows(engine, "SELECT url FROM pages") == [(url,)]
    assert scalar(engine, "SELECT MAX(version) FROM page_versions") == 2


def test_a_direct_answer_leaves_final_url_empty(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    run = _crawl(docs.config(database_url), engine)
    assert _fetches(engine, run.run_id) == [
        (docs.doc_url(0), None, "new_version", 200, docs.doc_url(0))
    ]
