"""govarchive worker in this process, and the scheduler's --workers mode, on real PostgreSQL.

Retries, a source the worker does not know, a worker stopping mid-crawl, and the
scheduler queueing fires.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from scraper.config import Config, load_config
from scraper.scheduling.daemon import Daemon
from scraper.scheduling.tasks import CrawlQueue
from scraper.scheduling.worker import WorkerOptions, serve
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.plugins.db import PostgresServer
from tests.schedule.helpers import far_schedule, populate, recent_schedule, write_config
from tests.site.server import TestSite

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def queue_engine(postgres_server: PostgresServer) -> Iterator[Engine]:
    """An engine on a fresh archive at head (job queue included)."""
    url = postgres_server.create_database(f"worker_{os.urandom(3).hex()}")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    postgres_server.drop_database(url)


def _config(tmp: Path, sources: list[dict[str, Any]], **workers: Any) -> Config:
    path = write_config(tmp / "config.yaml", sources)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["workers"] = {"heartbeat_seconds": 0.5, "stalled_after_seconds": 2, **workers}
    path.write_text(json.dumps(document), encoding="utf-8")
    return load_config(path)


def _jobs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT args->>'source', status, attempts FROM procrastinate_jobs ORDER BY id")
            ).all()
        )


def _runs(engine: Engine, source: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT r.status FROM crawl_runs r JOIN sources s ON s.id = r.source_id "
                    "WHERE s.name = :n ORDER BY r.id"
                ),
                {"n": source},
            ).scalars()
        )


def _drain(config: Config, engine: Engine, stop: asyncio.Event | None = None) -> None:
    asyncio.run(serve(config, engine, WorkerOptions(concurrency=4, burst=True), stop=stop))


def test_a_failing_source_is_retried_then_left_failed(
    queue_engine: Engine, site: TestSite, tmp_path: Path
) -> None:
    # the list page itself fails: every request of the run fails (one 503 would not)
    site.add("/list.html", "<h1>503 Service Unavailable</h1>", status=503)
    source = {"name": "down", "start_urls": [site.url("/list.html")], "schedule": far_schedule()}
    config = _config(tmp_path, [source], max_attempts=2, retry_wait_seconds=0)
    with CrawlQueue(queue_engine.url, config) as queue:
        queue.defer(["down"])
    _drain(config, queue_engine)
    # two attempts, each a run whose every request failed; then the job stays failed
    assert _runs(queue_engine, "down") == ["failed", "failed"]
    assert _jobs(queue_engine) == [("down", "failed", 2)]  # attempts made


def test_a_source_the_worker_does_not_know_fails_without_retries(
    queue_engine: Engine, site: TestSite, tmp_path: Path
) -> None:
    populate(site, 1)
    known = {"name": "known", "start_urls": [site.url("/list.html")], "schedule": far_schedule()}
    other = {"name": "other", "start_urls": [site.url("/list.html")], "schedule": far_schedule()}
    with CrawlQueue(queue_engine.url, _config(tmp_path, [known, other])) as queue:
        queue.defer(["other"])
    (tmp_path / "w").mkdir()
    _drain(_config(tmp_path / "w", [known], max_attempts=5, retry_wait_seconds=0), queue_engine)
    assert _jobs(queue_engine) == [("other", "failed", 1)]
    assert site.requests == []


def test_a_stopping_worker_closes_its_run_as_interrupted_and_requeues_the_job(
    queue_engine: Engine, site: TestSite, tmp_path: Path
) -> None:
    populate(site, 20, delay=0.2)
    source = {"name": "slow", "start_urls": [site.url("/list.html")], "schedule": far_schedule()}
    config = _config(tmp_path, [source])
    with CrawlQueue(queue_engine.url, config) as queue:
        queue.defer(["slow"])

    async def stop_midway() -> None:
        stop = asyncio.Event()

        async def stopper() -> None:
            while len([r for r in site.requests if "/doc/" in r.path]) < 3:
                await asyncio.sleep(0.05)
            stop.set()

        helper = asyncio.create_task(stopper())
        await serve(config, queue_engine, WorkerOptions(concurrency=2), stop=stop)
        await helper

    asyncio.run(stop_midway())
    assert _runs(queue_engine, "slow") == ["interrupted"]
    # back in the queue at once, for the next worker
    ((name, status, attempts),) = _jobs(queue_engine)
    assert (name, status, attempts) == ("slow", "todo", 1)

    _drain(config, queue_engine)  # the next worker finishes it; nothing is archived twice
    assert _runs(queue_engine, "slow") == ["interrupted", "completed"]
    assert _jobs(queue_engine) == [("slow", "succeeded", 2)]
    with queue_engine.connect() as conn:
        per_page = conn.execute(
            text("SELECT count(*) FROM page_versions GROUP BY page_id")
        ).scalars()
        assert set(per_page) == {1}


def test_the_scheduler_with_workers_queues_fires_and_never_piles_them_up(
    queue_engine: Engine, site: TestSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="govarchive.schedule")
    populate(site, 2)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": recent_schedule()}
    config = _config(tmp_path, [source])
    with Daemon(config, queue_engine, workers=True) as daemon:
        assert daemon.dispatch("s1") is None  # queued, not crawled here
        daemon.dispatch("s1")  # a second fire while the first job waits
    assert _jobs(queue_engine) == [("s1", "todo", 0)]
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events.count("job_queued") == 1
    reasons = [getattr(r, "reason", None) for r in caplog.records]
    assert "queued" in reasons
    assert site.requests == []

    _drain(config, queue_engine)
    assert _runs(queue_engine, "s1") == ["completed"]
    # the job carried its cron fire: a scheduler firing again for it finds it served
    with Daemon(config, queue_engine, workers=True) as daemon:
        daemon.dispatch("s1")
    assert len(_jobs(queue_engine)) == 1
    assert "served" in [getattr(r, "reason", None) for r in caplog.records]
