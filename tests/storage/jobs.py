"""Procrastinate apps on a test database, for the job-queue tests (schema and reading).

The task here stands in for the real ``govarchive.crawl_source`` (the worker's, in
scraper/scheduling/): same name, queue and argument, and it fails for a source whose
name starts with ``fail`` so that retries and failures can be made by a real worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import procrastinate
from sqlalchemy.engine import make_url

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
