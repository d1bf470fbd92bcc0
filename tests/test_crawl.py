"""End-to-end crawls of a local disclosure site into SQLite and PostgreSQL.

First crawl, unchanged recrawl (conditional requests), recrawl after changes, gone
pages, faults and blocks, all through :func:`scraper.crawling.pipeline.crawl` and the real
Fetcher against a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from scraper.config import Config, config_from_mapping
from scraper.crawling.pipeline import SourceRun, crawl, run_status
from storage.changes import changes_between
from storage.status import source_statuses
from tests.crawl_site import LIST_PATH, DisclosureSite, outcomes, rows, scalar
from tests.site.server import TestSite


def _crawl(config: Config, engine: Engine, **kwargs: object) -> SourceRun:
    runs = asyncio.run(crawl(config, engine, **kwargs))  # type: ignore[arg-type]
    assert len(runs) == 1
    return runs[0]


def test_first_crawl_archives_every_page(site: TestSite, engine: Engine, database_url: str) -> None:
    docs = DisclosureSite(site, count=12, per_page=5)
    run = _crawl(docs.config(database_url), engine)

    assert run.status == "completed"
    assert run.summary.new_pages == 12
    assert run.summary.new_versions == 12
    assert run.summary.errors == 0
    assert scalar(engine, "SELECT COUNT(*) FROM pages") == 12
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 12
    assert outcomes(engine, run.run_id) == {"new_version": 12, "list_page": 4}
    # three list pages of links, then page_4 answers 404 and paging stops
    assert site.hits("/OpennessContent/showList/1/2/page_4.html") == 1
    assert site.hits("/robots.txt") == 1
    # the seed page (corpus fixture 01) arrives with its seven task sections
    seed_sections = rows(
        engine,
        "SELECT s.number, s.status FROM task_sections s "
        "JOIN page_versions v ON v.id = s.version_id JOIN pages p ON p.id = v.page_id "
        "WHERE p.url = :url ORDER BY s.number",
        url=docs.doc_url(0),
    )
    assert [n for n, _ in seed_sections] == [1, 2, 3, 4, 5, 6, 7]
    assert {s for _, s in seed_sections} == {"持续推进"}
    title = scalar(engine, "SELECT title FROM latest_versions WHERE url = :u", u=docs.doc_url(0))
    assert title == "2021年度三季度政府工作报告任务进展情况"


def test_unchanged_recrawl_writes_no_version_and_uses_validators(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=8, per_page=4)
    config = docs.config(database_url)
    _crawl(config, engine)
    site.clear_log()

    again = _crawl(config, engine)

    assert again.summary.new_versions == 0
    assert outcomes(engine, again.run_id) == {"not_modified": 8, "list_page": 3}
    detail_requests = [r for r in site.requests if "/OpennessContent/show/" in r.path]
    assert len(detail_requests) == 8
    assert all(r.headers.get("if-none-match") for r in detail_requests)
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 8


def test_recrawl_without_validators_compares_content(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=6, per_page=6, etags=False)
    config = docs.config(database_url)
    _crawl(config, engine)
    # volatile-only changes: a view counter and a page-generation stamp
    for i, body in list(docs.bodies.items()):
        noisy = body.replace(b"</body>", b"<!-- HtmlGenerateTime 2026-11-28 12:00:00 --></body>")
        docs.serve(i, noisy)

    again = _crawl(config, engine)

    assert outcomes(engine, again.run_id) == {"unchanged": 6, "list_page": 2}
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 6


def test_changed_page_gets_exactly_one_new_version(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=6, per_page=6)
    config = docs.config(database_url)
    _crawl(config, engine)
    seed = docs.bodies[0]
    changed = seed.replace("完成状态：持续推进".encode(), "完成状态：已完成".encode(), 1)
    if changed == seed:  # the fixture may use an ASCII colon
        changed = seed.replace("完成状态:持续推进".encode(), "完成状态:已完成".encode(), 1)
    assert changed != seed
    docs.serve(0, changed)

    again = _crawl(config, engine)

    assert outcomes(engine, again.run_id) == {"new_version": 1, "not_modified": 5, "list_page": 2}
    versions = rows(
        engine,
        "SELECT v.version FROM page_versions v JOIN pages p ON p.id = v.page_id "
        "WHERE p.url = :u ORDER BY v.version",
        u=docs.doc_url(0),
    )
    assert versions == [(1,), (2,)]
    change = rows(
        engine,
        "SELECT number, old_status, new_status FROM section_changes WHERE url = :u",
        u=docs.doc_url(0),
    )
    assert change == [(1, "持续推进", "已完成")]


def test_gone_page_keeps_versions_and_comes_back(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    config = docs.config(database_url)
    _crawl(config, engine)
    site.remove(docs.doc_path(2))  # 404 from now on, and off the list
    docs.count = 4

    gone_run = _crawl(config, engine)

    assert outcomes(engine, gone_run.run_id)["gone"] == 1
    gone_at = scalar(engine, "SELECT gone_at FROM pages WHERE url = :u", u=docs.doc_url(2))
    assert gone_at is not None
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM page_versions v JOIN pages p ON p.id = v.page_id "
            "WHERE p.url = :u",
            u=docs.doc_url(2),
        )
        == 1
    )

    docs.serve(2, docs.bodies[2].replace(b"</body>", "<p>更正：补充说明。</p></body>".encode()))
    back = _crawl(config, engine)

    assert scalar(engine, "SELECT gone_at FROM pages WHERE url = :u", u=docs.doc_url(2)) is None
    assert back.summary.gone == 0


def test_known_pages_are_rechecked_even_when_off_the_list(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=6, per_page=6)
    config = docs.config(database_url)
    _crawl(config, engine)
    docs.count = 3  # the list now shows only three documents
    docs.site.remove("/OpennessContent/showList/1/2/page_1.html")
    docs.publish_lists()

    again = _crawl(config, engine)

    assert outcomes(engine, again.run_id)["not_modified"] == 6


def test_blocked_source_is_reported_and_archives_nothing(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    site.block("/OpennessContent/showList/1/2/page_1.html", "ruishu")

    run = _crawl(docs.config(database_url), engine)

    assert run.status == "blocked"
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 0
    # the blocked list page is a list page with the block as its error, not a page seen
    assert outcomes(engine, run.run_id) == {"list_page": 1}
    assert rows(engine, "SELECT http_status, error FROM fetches") == [
        (412, "block or challenge page (HTTP 412)")
    ]
    assert run.summary.pages_seen == 0


def test_faults_are_recorded_per_page_and_never_stop_the_crawl(
    site: TestSite, site_factory: object, engine: Engine, database_url: str
) -> None:
    other = site_factory()  # type: ignore[operator]
    other.add("/elsewhere.html", "<html><body><p>off-site</p></body></html>")
    docs = DisclosureSite(site, count=4, per_page=10)
    docs.publish_lists(
        extra_links=(
            '<li><a href="/OpennessContent/show/flaky.html">flaky</a></li>'
            '<li><a href="/OpennessContent/show/huge.html">huge</a></li>'
            '<li><a href="/OpennessContent/show/challenge.html">challenge</a></li>'
            '<li><a href="/private/secret.html">robots says no</a></li>'
            f'<li><a href="{other.url("/elsewhere.html")}">off-site</a></li>'
            '<li><a href="/OpennessContent/show/zipped.html">gzip</a></li>'
        )
    )
    site.flaky("/OpennessContent/show/flaky.html", docs.bodies[1], failures=1, retry_after="1")
    site.add("/OpennessContent/show/huge.html", b"<html>" + b"x" * 300_000)
    site.block("/OpennessContent/show/challenge.html", "jiasule")
    site.add("/private/secret.html", "<html><body>secret</body></html>")
    site.add("/OpennessContent/show/zipped.html", docs.bodies[3], gzip=True)

    run = _crawl(docs.config(database_url, max_page_bytes=200_000), engine)

    got = outcomes(engine, run.run_id)
    assert got["new_version"] == 6  # 4 documents + the flaky one after a retry + gzip
    assert got["too_large"] == 1
    assert got["blocked"] == 1
    assert got["skipped_robots"] == 1
    assert run.status == "completed"
    assert other.hits("/elsewhere.html") == 0  # off-site links are never fetched
    assert site.hits("/OpennessContent/show/flaky.html") == 2
    assert site.hits("/private/secret.html") == 0


def test_limit_caps_detail_pages(site: TestSite, engine: Engine, database_url: str) -> None:
    docs = DisclosureSite(site, count=8, per_page=8)
    run = _crawl(docs.config(database_url), engine, limit=3)
    assert run.summary.new_versions == 3


def test_stop_event_closes_the_run_as_interrupted(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)

    async def stopped() -> list[SourceRun]:
        stop = asyncio.Event()
        stop.set()
        return await crawl(docs.config(database_url), engine, stop=stop)

    (run,) = asyncio.run(stopped())
    assert run.status == "interrupted"
    assert scalar(engine, "SELECT status FROM crawl_runs WHERE id = :r", r=run.run_id) == (
        "interrupted"
    )


@pytest.mark.parametrize(
    ("seen", "interrupted", "expected"),
    [
        ([], False, "completed"),
        (["new_version", "error"], False, "completed"),
        (["error", "error"], False, "failed"),
        (["blocked", "error"], False, "blocked"),
        (["list_page", "blocked"], False, "completed"),
        (["suspect", "suspect"], False, "failed"),  # junk is no answer
        (["suspect", "not_modified"], False, "completed"),
        (["new_version"], True, "interrupted"),
    ],
)
def test_run_status(seen: list[str], interrupted: bool, expected: str) -> None:
    assert run_status(seen, interrupted=interrupted) == expected


def test_every_fetch_row_names_its_run_and_url(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    run = _crawl(docs.config(database_url), engine)
    fetched = rows(
        engine,
        "SELECT url, attachment, page_id FROM fetches WHERE crawl_run_id = :r",
        r=run.run_id,
    )
    pages = [url for url, attachment, _ in fetched if not attachment]
    assert all(re.match(r"http://127\.0\.0\.1:\d+/OpennessContent/", u) for u in pages)
    # the files the corpus pages link are fetched too, each under the page linking it
    files = [(url, page_id) for url, attachment, page_id in fetched if attachment]
    assert files and all(page_id is not None for _, page_id in files)


def test_stop_during_slow_discovery_ends_the_run_promptly(
    site: TestSite, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scraper.crawling.pipeline as pipeline

    monkeypatch.setattr(pipeline, "STOP_GRACE", 0.2)
    docs = DisclosureSite(site, count=2, per_page=2)
    site.add("/OpennessContent/showList/1/2/page_1.html", "<ul></ul>", delay=3.0)

    async def stop_soon() -> list[SourceRun]:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, stop.set)
        return await crawl(docs.config(database_url), engine, stop=stop)

    (run,) = asyncio.run(stop_soon())
    assert run.status == "interrupted"
    # the slow list page was cancelled, not waited for: no fetch of it was recorded
    assert outcomes(engine, run.run_id) == {}
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 0


def test_revisit_after_hours_skips_recently_checked_pages(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    _crawl(docs.config(database_url), engine)
    docs.count = 6  # two new documents appear on the list
    for i in (4, 5):
        docs.serve(i, docs.bodies[i % 4])
    docs.publish_lists()
    site.clear_log()

    again = _crawl(docs.config(database_url, revisit_after_hours=24), engine)

    # only the two new pages were fetched; the four checked minutes ago were left alone
    assert outcomes(engine, again.run_id) == {"new_version": 2, "list_page": 3}
    fetched = {r.path for r in site.requests if "/show/" in r.path}
    assert fetched == {docs.doc_path(4), docs.doc_path(5)}


def test_a_host_that_does_not_resolve_is_asked_once_then_paused(
    engine: Engine, database_url: str
) -> None:
    calls: list[str] = []

    def no_such_host(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc

    base = "http://nonexistent.invalid"
    config = config_from_mapping(
        {
            "database": database_url,
            "crawl": {"retries": 3, "backoff_base": 0.01, "requests_per_second": 1000},
            "sources": [{"name": "offline", "detail_links": "ul a",
                         "start_urls": [f"{base}/a/list.html", f"{base}/b/list.html"]}],
        }
    )  # fmt: skip
    run = _crawl(config, engine, transport=httpx.MockTransport(no_such_host))
    assert calls == ["/robots.txt", "/a/list.html"]  # no retry, nothing more of that host
    assert run.unresolved_hosts == ("nonexistent.invalid",)
    assert run.status == "failed"
    assert rows(engine, "SELECT url, outcome, error FROM fetches ORDER BY id") == [
        (f"{base}/a/list.html", "list_page",
         "host nonexistent.invalid does not resolve: [Errno -2] Name or service not known"),
        (f"{base}/b/list.html", "list_page", "nonexistent.invalid paused: it does not resolve"),
    ]  # fmt: skip
    assert run.summary.pages_seen == 0


def test_a_failed_list_page_is_a_list_page_not_a_page_seen(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=10, per_page=5)
    site.add(LIST_PATH.format(n=2), "<h1>503</h1>", status=503)  # a list page that fails
    run = _crawl(docs.config(database_url, retries=0), engine)

    assert run.status == "completed"
    assert run.summary.pages_seen == 5  # the documents of list page 1, no list page
    assert run.summary.errors == 0 and run.summary.gone == 0
    assert outcomes(engine, run.run_id) == {"new_version": 5, "list_page": 2}
    assert rows(
        engine,
        "SELECT http_status, error, page_id FROM fetches WHERE url = :url",
        url=site.url(LIST_PATH.format(n=2)),
    ) == [(503, "HTTP 503 after 1 attempts", None)]
    (status,) = source_statuses(engine, now=datetime.now(UTC))
    assert (status.requests, status.errors) == (8, 1)  # robots.txt is no fetches row
    now = datetime.now(UTC)
    report = changes_between(engine, now - timedelta(days=1), now + timedelta(minutes=1))
    failures = [(c.item, c.change, c.count) for c in report.changes if c.kind == "failures"]
    assert failures == [("list_page", "list page", 1)]
