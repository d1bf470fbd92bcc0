"""``govarchive demo`` as a library: two crawls of the replica site, then SQL.

:func:`run_demo` serves :class:`~scraper.demo.site.DemoSite` on 127.0.0.1, crawls it
with the real pipeline (robots.txt respected, conditional requests, parser, archive),
lets the site change, crawls again, and runs :data:`QUERIES` against the archive. It
makes no request beyond 127.0.0.1, so it works offline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from scraper.config import Config, config_from_mapping
from scraper.crawling.pipeline import SourceRun, run_crawl
from scraper.demo.site import LIST_PATH, DemoSite, serve

#: The demo's one source.
DEMO_SOURCE = "demo-xuancheng-sjzy"


@dataclass(frozen=True, slots=True)
class Query:
    """A question, the SQL that answers it (runs unchanged on SQLite and PostgreSQL)."""

    question: str
    sql: str


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A query with its column names and rows."""

    query: Query
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The two crawls and the queries' answers."""

    base_url: str
    crawls: tuple[tuple[SourceRun, ...], ...]
    results: tuple[QueryResult, ...]


QUERIES: tuple[Query, ...] = (
    Query(
        "What did each crawl do? (one fetches row per request)",
        "SELECT crawl_run_id, outcome, COUNT(*) AS fetches\n"
        "FROM fetches\nGROUP BY crawl_run_id, outcome\nORDER BY crawl_run_id, outcome",
    ),
    Query(
        "Which pages have more than one version?",
        "SELECT p.url, COUNT(*) AS versions, MAX(v.fetched_at) AS last_changed\n"
        "FROM pages p JOIN page_versions v ON v.page_id = p.id\n"
        "GROUP BY p.url\nHAVING COUNT(*) > 1",
    ),
    Query(
        "Which task changed status between versions?",
        "SELECT url, number, old_version, new_version, old_status, new_status\n"
        "FROM section_changes\nWHERE change = 'changed' AND old_status <> new_status",
    ),
    Query(
        "Which tasks are still 持续推进 or 滞后 in the latest version of each report?",
        "SELECT l.title, t.number, t.status\n"
        "FROM latest_versions l JOIN task_sections t ON t.version_id = l.version_id\n"
        "WHERE t.status IN ('持续推进', '滞后')\nORDER BY l.title, t.number",
    ),
    Query(
        "Which pages disappeared, and when?",
        "SELECT url, gone_at FROM pages WHERE gone_at IS NOT NULL",
    ),
)


def demo_config(base_url: str, database: str) -> Config:
    """Return a validated config with one source pointing at the replica at ``base_url``.

    The same keys would crawl a real column: only the start URL, the selector and
    the politeness settings differ (see docs/config.md).
    """
    return config_from_mapping(
        {
            "database": database,
            # The replica is local, so the demo need not wait between requests; real
            # sites get the defaults (1 request/s per host, robots.txt obeyed).
            "crawl": {
                "requests_per_second": 100,
                "per_host_concurrency": 4,
                "timeout": 10,
                "retries": 1,
                "backoff_base": 0.05,
                "respect_robots_txt": True,
            },
            "sources": [
                {
                    "name": DEMO_SOURCE,
                    "start_urls": [base_url + LIST_PATH.format(n=1)],
                    "detail_links": 'a[href*="/OpennessContent/show/"]',
                    "list_url_template": "page_{n}.html",
                    "schedule": "30 6 * * *",
                }
            ],
        },
        origin="govarchive demo",
    )


def run_queries(engine: Engine, queries: Sequence[Query] = QUERIES) -> tuple[QueryResult, ...]:
    """Run each query and return its columns and rows. Reads only."""
    results = []
    with engine.connect() as conn:
        for query in queries:
            result = conn.execute(text(query.sql))
            rows = tuple(tuple(row) for row in result)
            results.append(QueryResult(query, tuple(result.keys()), rows))
    return tuple(results)


def run_demo(
    engine: Engine, *, database: str, on_crawl: Callable[[int, list[SourceRun]], None] | None = None
) -> DemoResult:
    """Serve the replica, crawl it, change it, crawl it again, and query the archive.

    ``engine`` must be an archive at head holding no other source's pages (the demo
    writes one source, two crawl runs and their versions and fetches). ``on_crawl(n,
    runs)`` is called after crawl n (1 and 2). ``database`` is the URL recorded in the
    demo's config. Returns the crawls and the query results.
    """
    site = DemoSite()
    crawls: list[tuple[SourceRun, ...]] = []
    with serve(site) as base_url:
        config = demo_config(base_url, database)
        for n in (1, 2):
            if n == 2:
                site.advance()
            runs = run_crawl(config, engine)
            crawls.append(tuple(runs))
            if on_crawl is not None:
                on_crawl(n, runs)
    return DemoResult(base_url, tuple(crawls), run_queries(engine))
