"""Procrastinate apps on a test database, for the job-queue tests (schema and reading).

The task here stands in for the real ``govarchive.crawl_source`` (the worker's, in
scraper/scheduling/): same name, queue and argument, and it fails for a source whose
name starts with ``fail`` so that retries and failures can be made by a real worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import make_engine

TASK = "govarchive.crawl_source"
QUEUE = "crawl"


def conninfo(url: str) -> str:
    """Return the libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(url: str, *, retries: int = 0, retry_wait: int = 3600) -> procrastinate.App:
    """Return an App on ``url`` with the crawl task: ``retries`` retries, ``retry_wait``
    seconds apart (long by default, so a retried job stays waiting during the test)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))
    retry = procrastinate.RetryStrategy(max_attempts=retries, wait=retry_wait) if retries else None

    @app.task(name=TASK, queue=QUEUE, retry=retry or False)
    def crawl_source(source: str) -> None:
        if source.startswith("fail"):
            raise RuntimeError(f"crawl of {source} failed")

    return app


@asynccontextmanager
async def opened(url: str, **options: int) -> AsyncIterator[procrastinate.App]:
    """Yield an opened App (see make_app) and close it afterwards."""
    app = make_app(url, **options)
    async with app.open_async():
        yield app


async def defer(app: procrastinate.App, source: str, host: str = "a.gov.cn") -> int:
    """Queue a crawl of ``source`` as the scheduler does; return the job id."""
    job_id: int = await app.configure_task(
        TASK, queueing_lock=f"source:{source}", lock=f"host:{host}"
    ).defer_async(source=source)
    return job_id


async def work(app: procrastinate.App) -> None:
    """Run a worker on the crawl queue until no job is due, then stop."""
    await app.run_worker_async(queues=[QUEUE], wait=False, install_signal_handlers=False)


@dataclass(frozen=True)
class Queue:
    """The job and worker ids :func:`build_queue` made."""

    succeeded: int
    retrying: int
    failed: int
    running: int
    queued: int
    cancelled: int
    worker: int
    stale_worker: int


def build_queue(url: str) -> Queue:
    """Fill the queue of the (empty) database at ``url`` through procrastinate itself:

    - ``alpha`` ran and succeeded;
    - ``fail-beta`` (host b.gov.cn) failed once and waits an hour for its retry (a real
      worker's retry);
    - ``fail-gamma`` (host c.gov.cn) failed with no retry left;
    - ``delta`` runs on a live worker (fetched by it, as a worker does);
    - ``epsilon`` is queued (behind delta's host lock);
    - ``zeta`` was cancelled;
    - a second worker last sent a heartbeat 5 minutes ago (stale).
    """

    async def scenario() -> Queue:
        async with opened(url, retries=1) as app:
            succeeded = await defer(app, "alpha")
            # another host: a job waiting for a retry holds its lock against every later
            # job with that lock (procrastinate_fetch_job_v2 skips them), due or not
            retrying = await defer(app, "fail-beta", host="b.gov.cn")
            await work(app)
        async with opened(url) as app:
            failed = await defer(app, "fail-gamma", host="c.gov.cn")
            await work(app)
            running = await defer(app, "delta")
            queued = await defer(app, "epsilon")
            cancelled = await defer(app, "zeta", host="z.gov.cn")
            await app.job_manager.cancel_job_by_id_async(cancelled)
            worker = await app.job_manager.register_worker()
            fetched = await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker)
            assert fetched is not None and fetched.id == running
            stale = await app.job_manager.register_worker()
        return Queue(succeeded, retrying, failed, running, queued, cancelled, worker, stale)

    made = asyncio.run(scenario())
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE procrastinate_workers "
                    "SET last_heartbeat = now() - interval '5 minutes' WHERE id = :id"
                ),
                {"id": made.stale_worker},
            )
    finally:
        engine.dispose()
    return made
