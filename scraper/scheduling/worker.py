"""``govarchive worker``: run crawl jobs from the archive's PostgreSQL queue until stopped.

A worker is a procrastinate worker (:mod:`scraper.scheduling.tasks` defines the job)
whose jobs all share one set of crawl means (:func:`scraper.crawling.service.shared_means`):
one event loop, one Fetcher, one parser pool, one archive writer and one lock session,
so ``--concurrency`` sources crawl at once and each host's rate holds across them. Any
number of workers on any number of machines can serve one archive: each job's lock
keeps one crawl per host group at a time across all of them.

Beside procrastinate's own work, each worker looks for jobs of dead workers: a job
still ``doing`` whose worker's heartbeat is older than ``workers.stalled_after_seconds``
(the process was killed or its machine lost) is put back in the queue and the dead
worker's row pruned, so another worker crawls the source again.

Signals: SIGTERM / SIGINT stop taking jobs; the running crawls finish the page in hand
and close their runs as ``interrupted``, and their jobs go back to the queue at once; a
second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import procrastinate
from sqlalchemy import Engine

from scraper.config import Config
from scraper.crawling.service import shared_means
from scraper.scheduling.tasks import CRAWL_TASK, QUEUE, STATE_KEY, WorkerState, make_app
from scraper.settings import WorkerSettings
from scraper.shutdown import exit_at_once, shutdown_handlers
from storage.runs import utcnow

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("govarchive.worker")

#: Seconds between two looks at the queue by a ``--burst`` worker.
DRAIN_POLL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How to run one worker: ``concurrency`` sources at once; ``burst`` ends the worker
    when the queue has no job it can take; ``name`` shows in logs and ``status``."""

    concurrency: int
    burst: bool = False
    name: str | None = None


async def serve(
    config: Config,
    engine: Engine,
    options: WorkerOptions,
    *,
    stop: asyncio.Event | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Run crawl jobs until ``stop`` is set (or, with ``burst``, the queue is empty).

    Setting ``stop`` stops taking jobs and makes running crawls close their runs as
    interrupted; their jobs are requeued. Raises procrastinate's ConnectorException
    when the database cannot be reached. ``transport`` replaces the network (tests).
    """
    stop = stop or asyncio.Event()
    settings = config.workers
    app = make_app(engine.url, settings)
    async with (
        app.open_async(),
        shared_means(config.crawl, engine, role="worker", transport=transport) as means,
    ):
        state = WorkerState(config=config, means=means, stop=stop)
        rescuer = asyncio.create_task(_requeue_stalled(app, settings), name="requeue stalled")
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                name=options.name or f"{socket.gethostname()}-{os.getpid()}",
                concurrency=options.concurrency,
                # --burst is not procrastinate's wait=False, which ends the worker at the
                # first fetch that finds nothing, though jobs wait behind a host's lock
                wait=True,
                install_signal_handlers=False,
                additional_context={STATE_KEY: state},
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_after_seconds,
                # delete nothing: the jobs table is the queue's history for `status`
                delete_jobs="never",
            ),
            name="procrastinate worker",
        )
        ending = _first(stop.wait(), _until_drained(app)) if options.burst else stop.wait()
        stopped = asyncio.create_task(ending, name="stop requested")
        try:
            await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not worker.done():
                # procrastinate stops taking jobs and waits for the running ones, which
                # end within the pipeline's STOP_GRACE now that `stop` is set
                worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
        finally:
            for task in (rescuer, stopped):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task


async def _first(*aws: Awaitable[Any]) -> None:
    """Return when the first of ``aws`` is done (the others are cancelled)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _until_drained(app: procrastinate.App) -> None:
    """Return once the crawl queue has no job running and none ready to run (a retry
    waiting for its back-off does not count): what ``--burst`` waits for."""
    manager = app.job_manager
    while True:
        await asyncio.sleep(DRAIN_POLL_SECONDS)
        if list(await manager.list_jobs_async(queue=QUEUE, status="doing")):
            continue
        now = utcnow()
        waiting = await manager.list_jobs_async(queue=QUEUE, status="todo")
        if not any(job.scheduled_at is None or job.scheduled_at <= now for job in waiting):
            return


async def _requeue_stalled(app: procrastinate.App, settings: WorkerSettings) -> None:
    """Every heartbeat interval, put back in the queue the crawl jobs of workers that
    stopped sending heartbeats, then prune those workers."""
    manager = app.job_manager
    while True:
        await asyncio.sleep(settings.heartbeat_seconds)
        try:
            jobs = await manager.get_stalled_jobs(
                seconds_since_heartbeat=settings.stalled_after_seconds,
                queue=QUEUE,
                task_name=CRAWL_TASK,
            )
            for job in jobs:
                try:
                    await manager.retry_job(job)
                except procrastinate.exceptions.ConnectorException:
                    continue  # another worker requeued it first
                log.warning(
                    "job %s (%s): its worker stopped sending heartbeats; queued again",
                    job.id, job.task_kwargs.get("source"),
                    extra={"event": "job_requeued", "job_id": job.id,
                           "source": job.task_kwargs.get("source")},
                )  # fmt: skip
            await manager.prune_stalled_workers(settings.stalled_after_seconds)
        except procrastinate.exceptions.ConnectorException as exc:
            log.error("could not look for stalled jobs: %s", exc)


def run(config: Config, engine: Engine, options: WorkerOptions) -> None:
    """Run :func:`serve` until SIGTERM/SIGINT (a second one exits at once). Main thread only."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def graceful(sig: signal.Signals) -> None:
            log.info(
                "received %s: stopping after the pages in hand", sig.name,
                extra={"event": "signal", "signal": sig.name},
            )  # fmt: skip
            loop.call_soon_threadsafe(stop.set)

        def immediate(sig: signal.Signals) -> None:
            log.warning("received %s again: exiting now", sig.name)
            exit_at_once(sig)

        with shutdown_handlers(graceful, immediate):
            await serve(config, engine, options, stop=stop)

    asyncio.run(main())
