"""Source crawls as procrastinate jobs on a PostgreSQL archive: what a job is, how it is deferred.

This is the only module that defines what a crawl job looks like; ``govarchive worker``
(:mod:`scraper.scheduling.worker`) runs them, and ``govarchive schedule --workers`` and
``govarchive crawl --enqueue`` defer them. procrastinate keeps its jobs in the archive's
own PostgreSQL database (its schema is installed by our migration 0004).

A job is one run of one source: task :data:`CRAWL_TASK` with the argument ``source``
(the configured name) and, when a cron fire deferred it, ``fire`` (ISO time), in queue
:data:`QUEUE`, with

- the **queueing lock** ``source:<name>`` — at most one job per source waits at a time,
  so sources do not pile up while workers fall behind (a second defer is refused and
  reported as already queued);
- the **lock** ``host:<host>`` — jobs with the same lock never run at once anywhere in
  the cluster, so a host sees one crawl at a time and its politeness holds across
  workers. The host is that of the source's *host group*: sources that share any host,
  directly or through others, share one lock (:func:`host_groups`), so two sources
  on overlapping host sets never crawl a common host at once.

A run whose every request failed, or that was blocked, raises :class:`SourceRunFailed`
and is retried with back-off (``workers.retry_wait_seconds`` × 2^attempt, up to
``workers.max_attempts`` attempts); a run interrupted by a stopping worker is retried at
once. A job whose worker died (kill -9, lost machine) is found by the surviving workers
from its missing heartbeats and retried. Page writes are idempotent (a page's content
makes a new version only when it changed), so a retried crawl never duplicates a version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import BaseRetryStrategy, JobContext, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from sqlalchemy.engine import URL, make_url

from scraper.config import Config, SourceConfig
from scraper.crawling.pipeline import SourceRun
from scraper.crawling.service import CrawlMeans
from scraper.errors import ConfigError, GovarchiveError
from scraper.fetching.urls import host_of
from scraper.logs import RunLogReporter, log_run_finished, run_fields
from scraper.scheduling.schedule import fire_served
from scraper.settings import WorkerSettings
from storage.locks import lock_holder
from storage.models import RunStatus
from storage.runs import utcnow
from storage.status import runs_since

log = logging.getLogger("govarchive.worker")

#: The task's name in ``procrastinate_jobs.task_name``.
CRAWL_TASK = "govarchive.crawl_source"
#: The queue crawl jobs go to.
QUEUE = "crawl"
#: Key of the worker's state in procrastinate's ``additional_context``.
STATE_KEY = "govarchive"

#: Run statuses retried with back-off (every request failed, or was blocked).
RETRIED_STATUSES = frozenset({RunStatus.FAILED, RunStatus.BLOCKED})


#: What procrastinate raises when the queue's database cannot be used (commands catch it).
QueueError = procrastinate.exceptions.ProcrastinateException


class SourceRunFailed(GovarchiveError):
    """A source's run ended ``failed`` or ``blocked``: the job fails and is retried."""


class CrawlInterrupted(GovarchiveError):
    """The worker stopped mid-run (SIGTERM): the job goes back to the queue at once."""


class UnknownSource(GovarchiveError):
    """The job names a source this worker's config does not have: never retried."""


# --- pure decisions ------------------------------------------------------------------


def host_groups(sources: Iterable[SourceConfig]) -> dict[str, str]:
    """Return ``{source name: its host group's lock host}``. Pure.

    Sources that share a host, directly or through other sources, are one group; the
    group is named by its smallest host, so every process reading the same config
    computes the same name.
    """
    parent: dict[str, str] = {}

    def find(host: str) -> str:
        while parent.setdefault(host, host) != host:
            parent[host] = parent[parent[host]]
            host = parent[host]
        return host

    hosts_of: dict[str, list[str]] = {}
    for source in sources:
        hosts = sorted(set(source.settings.allowed_hosts)) or sorted(
            {host_of(url) for url in source.start_urls}
        )
        hosts_of[source.name] = hosts
        for host in hosts[1:]:
            a, b = find(hosts[0]), find(host)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {name: find(hosts[0]) if hosts else name for name, hosts in hosts_of.items()}


def queueing_lock(source: str) -> str:
    """Return the queueing lock of ``source``'s jobs (one waiting job per source). Pure."""
    return f"source:{source}"


def host_lock(host: str) -> str:
    """Return the lock of jobs crawling the host group named ``host``. Pure."""
    return f"host:{host}"


def retry_wait(attempts: int, settings: WorkerSettings) -> float | None:
    """Return the seconds before retrying a failed run after ``attempts`` earlier
    retries, or None when the job has used its ``max_attempts``. Pure."""
    if attempts + 1 >= settings.max_attempts:
        return None
    return float(settings.retry_wait_seconds * 2**attempts)


def conninfo(url: str | URL) -> str:
    """Return the libpq connection string of an SQLAlchemy PostgreSQL URL. Pure."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class CrawlRetry(BaseRetryStrategy):
    """procrastinate's retry decision for crawl jobs (see the module docstring)."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, CrawlInterrupted):
            return RetryDecision(retry_at=utcnow())
        if isinstance(exception, UnknownSource):
            return None
        wait = retry_wait(job.attempts, self.settings)
        if wait is None:
            return None
        return RetryDecision(retry_at=utcnow() + timedelta(seconds=wait))


# --- the app and the task ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What the task needs of its worker process: the config, the shared crawl means
    and the stop event set by the worker's first stop signal."""

    config: Config
    means: CrawlMeans
    stop: asyncio.Event


def make_app(database_url: str | URL, settings: WorkerSettings) -> procrastinate.App:
    """Return a procrastinate App on the archive's PostgreSQL database with the crawl
    task registered (not opened: ``async with app.open_async()`` or ``with app.open()``)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), kwargs={"application_name": "govarchive worker"}
    )
    app = procrastinate.App(connector=connector)
    app.task(
        name=CRAWL_TASK,
        queue=QUEUE,
        pass_context=True,
        retry=CrawlRetry(settings),
    )(crawl_source_job)
    return app


async def crawl_source_job(
    context: JobContext, source: str, fire: str | None = None
) -> dict[str, Any]:
    """Crawl ``source`` once (the body of :data:`CRAWL_TASK`); return the run's counts.

    Skips (and succeeds) when another process holds the source's crawl lock or, for a
    job deferred by a cron fire, when the source was already crawled since that fire.
    Raises :class:`SourceRunFailed` (retried with back-off), :class:`CrawlInterrupted`
    (retried at once) or :class:`UnknownSource` (not retried).
    """
    state = context.additional_context[STATE_KEY]
    assert isinstance(state, WorkerState)
    means = state.means
    job_id = context.job.id
    try:
        config_source = state.config.source(source)
    except ConfigError as exc:
        raise UnknownSource(
            f"job {job_id}: source {source!r} is not in this worker's config ({exc})"
        ) from None
    lock = await means.writer.call(means.locks.try_lock, source)
    if lock is None:
        holder = await means.writer.call(lock_holder, means.engine, source)
        log.info(
            "%s: job %s skipped: already being crawled by %s", source, job_id, holder,
            extra={"event": "run_skipped", "source": source, "job_id": job_id,
                   "reason": "locked", "holder": holder},
        )  # fmt: skip
        return {"skipped": "locked"}
    try:
        if fire is not None:
            when = datetime.fromisoformat(fire)
            runs = await means.writer.call(runs_since, means.engine, source, when)
            if fire_served(when, runs):
                log.info(
                    "%s: job %s skipped: already crawled for the %s run", source, job_id, fire,
                    extra={"event": "run_skipped", "source": source, "job_id": job_id,
                           "reason": "served", "fire": fire},
                )  # fmt: skip
                return {"skipped": "served"}
        loop = asyncio.get_running_loop()
        began = loop.time()
        run = await means.crawl(config_source, stop=state.stop, reporter=RunLogReporter(log))
        # The host lock passes to whichever worker takes the host's next job, and its
        # Fetcher cannot know when this one last asked: keep the lock until the host's
        # rate would allow a request anyway.
        await asyncio.sleep(means.fetcher.rate_wait(config_source.settings.allowed_hosts))
    finally:
        await means.writer.call(lock.release)
    fields = _run_fields(run, loop.time() - began, job_id, context.job.attempts)
    log_run_finished(log, source, fields)
    if run.status is RunStatus.INTERRUPTED:
        raise CrawlInterrupted(f"{source}: run {run.run_id} interrupted by the worker stopping")
    if run.status in RETRIED_STATUSES:
        blocked = run.status is RunStatus.BLOCKED
        reason = run.error or f"every request {'was blocked' if blocked else 'failed'}"
        raise SourceRunFailed(f"{source}: run {run.run_id} {run.status}: {reason}")
    # procrastinate logs the result: plain values, the run's status as its text
    return {
        k: str(v) if isinstance(v, str) else v
        for k, v in fields.items()
        if isinstance(v, int | str)
    }


def _run_fields(
    run: SourceRun, duration_s: float, job_id: int | None, attempts: int
) -> dict[str, Any]:
    fields = run_fields(run, duration_s)
    fields.update(job_id=job_id, attempt=attempts + 1)
    return fields


# --- deferring -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deferred:
    """What deferring one source did: its job id, or why none was made."""

    source: str
    job_id: int | None
    already_queued: bool = False


class CrawlQueue:
    """Defers crawl jobs synchronously (the scheduler's threads, ``crawl --enqueue``).

    Opens a small connection pool of its own on the archive's database; :meth:`close`
    (or ``with``) closes it. Writes procrastinate's job rows only.
    """

    def __init__(self, database_url: str | URL, config: Config) -> None:
        self.config = config
        self._app = make_app(database_url, config.workers)
        self._app.open()

    def defer(self, names: Iterable[str], *, fire: datetime | None = None) -> list[Deferred]:
        """Defer one crawl job per source in ``names``; a source that already has a
        waiting job keeps it (``already_queued``). Raises ConfigError for a name not in
        the config, before anything is queued."""
        chosen = [self.config.source(name).name for name in names]
        groups = host_groups(self.config.sources)
        done: list[Deferred] = []
        for name in chosen:
            args: dict[str, Any] = {"source": name}
            if fire is not None:
                args["fire"] = fire.isoformat()
            deferrer = self._app.configure_task(
                CRAWL_TASK,
                queue=QUEUE,
                queueing_lock=queueing_lock(name),
                lock=host_lock(groups[name]),
            )
            try:
                done.append(Deferred(name, deferrer.defer(**args)))
            except AlreadyEnqueued:
                done.append(Deferred(name, None, already_queued=True))
        return done

    def close(self) -> None:
        """Close the connection pool."""
        self._app.close()

    def __enter__(self) -> CrawlQueue:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
