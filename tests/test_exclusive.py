"""scraper.crawling.exclusive without the CLI: busy sources are skipped, the others crawled,
and the locks are released however the crawl ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

from scraper.config import Config, config_from_mapping
from scraper.crawling.exclusive import crawl_unless_busy
from storage import archive
from storage.engine import make_engine
from storage.errors import DatabaseUnavailableError
from storage.locks import try_lock_source
from tests.crawl_site import DisclosureSite, scalar
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)

SETTINGS = {"requests_per_second": 1000, "retries": 0, "timeout": 5}


def _config(docs: DisclosureSite, database: str, names: list[str]) -> Config:
    document = docs.document(database, SETTINGS)
    template = document["sources"][0]
    document["sources"] = [{**template, "name": name} for name in names]
    return config_from_mapping(document, origin="test config")


@contextmanager
def _held_elsewhere(database_url: str, *names: str) -> Iterator[None]:
    """Hold the crawl locks of ``names`` on a connection of their own (another process's)."""
    other = make_engine(database_url)
    locks = [try_lock_source(other, name) for name in names]
    try:
        assert all(lock is not None for lock in locks)
        yield
    finally:
        for lock in locks:
            if lock is not None:
                lock.release()
        other.dispose()


def _all_free(engine: Engine, *names: str) -> bool:
    locks = [try_lock_source(engine, name) for name in names]
    for lock in locks:
        if lock is not None:
            lock.release()
    return all(lock is not None for lock in locks)


def test_a_busy_source_is_skipped_and_the_others_crawled(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(docs, database_url, ["local", "mirror"])

    with _held_elsewhere(database_url, "mirror"):
        outcome = crawl_unless_busy(config, engine, config.sources)

    assert [(r.source, r.status) for r in outcome.runs] == [("local", "completed")]
    assert list(outcome.busy) == ["mirror"]
    assert outcome.busy["mirror"]  # who holds it, for the message
    assert outcome.failed == ()
    assert not outcome.nothing_crawled
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 2
    assert scalar(engine, "SELECT COUNT(*) FROM crawl_runs") == 1
    assert _all_free(engine, "local", "mirror")


def test_every_source_busy_crawls_nothing(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(docs, database_url, ["local", "mirror"])
    site.clear_log()

    with _held_elsewhere(database_url, "local", "mirror"):
        outcome = crawl_unless_busy(config, engine, config.sources)

    assert outcome.runs == ()
    assert sorted(outcome.busy) == ["local", "mirror"]
    assert outcome.nothing_crawled
    assert site.requests == []
    assert scalar(engine, "SELECT COUNT(*) FROM crawl_runs") == 0


def test_a_source_whose_every_request_failed_is_reported_failed(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    site.add("/OpennessContent/showList/1/2/page_1.html", "<h1>down</h1>", status=500)
    config = _config(docs, database_url, ["local"])

    outcome = crawl_unless_busy(config, engine, config.sources)

    (run,) = outcome.runs
    assert run.status == "failed"
    assert outcome.failed == (run,)
    assert not outcome.nothing_crawled and outcome.busy == {}


def test_stop_when_and_the_reporter_reach_the_crawl(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(docs, database_url, ["local"])
    started: list[str] = []

    class Reporter:
        def source_started(self, source: str) -> None:
            started.append(source)

        def pages_found(self, source: str, total: int) -> None:
            pass

        def page_done(self, source: str, outcome: str) -> None:
            pass

        def source_finished(self, run: Any) -> None:
            pass

    outcome = crawl_unless_busy(
        config, engine, config.sources, reporter=Reporter(), stop_when=lambda: True
    )

    assert started == ["local"]
    assert [r.status for r in outcome.runs] == ["interrupted"]


def test_the_locks_are_released_when_the_database_fails_mid_crawl(
    site: TestSite, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(docs, database_url, ["local", "mirror"])

    def down(*_args: object, **_kwargs: object) -> None:
        raise DatabaseUnavailableError("disk I/O error", database="test")

    monkeypatch.setattr(archive, "record_fetch", down)
    monkeypatch.setattr(archive, "archive_page", down)

    with pytest.raises(DatabaseUnavailableError, match="disk I/O error"):
        crawl_unless_busy(config, engine, config.sources)

    assert _all_free(engine, "local", "mirror")
