"""The PostgreSQL job queue as it stands, from procrastinate's tables, for ``govarchive status``.

- ``read_job_queue(engine, *, failed_within=7 days, stale_after=30.0, failed_limit=20)
  -> JobQueue | None`` — counts per queue and status, the jobs queued, running and
  waiting for a retry, recent failures, and the registered workers. None on SQLite (an
  SQLite archive has no queue: the in-process daemon runs its crawls) and on a PostgreSQL
  database without procrastinate's tables.

Reads only, in one snapshot (REPEATABLE READ), with plain SQL on the tables revision 0004
installs (procrastinate 3.10.0's): storage never imports procrastinate, so the archive
stays readable without it. Times are the database's (``checked_at`` is its clock), as
procrastinate's own are. What the rows mean, from procrastinate 3.10.0's ``schema.sql``:

- a crawl is a job of task ``govarchive.crawl_source`` on queue ``crawl``; its only
  argument is the source's name, ``args->>'source'``;
- ``todo`` with ``attempts = 0``: queued, to run once ``scheduled_at`` (null: at once)
  has passed and its lock is free;
- ``todo`` with ``attempts > 0``: waiting for a retry — ``procrastinate_retry_job_v2``,
  which the worker calls when an attempt fails and the task's retry strategy allows
  another, puts the job back to ``todo`` with ``attempts + 1`` and ``scheduled_at`` = the
  time of the next try (a failed job retried by hand goes the same way);
- ``doing``: running on ``worker_id`` (null once procrastinate pruned that worker: the
  job is stalled); it started at its latest ``started`` event;
- ``failed``: ``procrastinate_finish_job_v1`` counted the last attempt; when, is its
  ``failed`` event. procrastinate keeps no error message (the worker logs it);
- ``procrastinate_workers``: a worker updates ``last_heartbeat`` every 10 s by default,
  and one starting deletes those silent for 30 s (its ``stalled_worker_timeout``), hence
  ``stale_after``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, text

from storage.engine import database_errors

#: The job statuses counted per queue (procrastinate's ``aborting`` is unused since 3.0).
JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")

#: Seconds without a heartbeat after which a worker is shown as stale (procrastinate's
#: default ``stalled_worker_timeout``: a worker starting deletes it then).
STALE_AFTER = 30.0

#: How far back ``govarchive status`` lists failed jobs, and at most how many.
FAILED_WITHIN = timedelta(days=7)
FAILED_LIMIT = 20


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """How many jobs of one queue are in each status."""

    queue: str
    todo: int = 0
    doing: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    aborted: int = 0


@dataclass(frozen=True, slots=True)
class Job:
    """A job waiting or running now."""

    job_id: int
    queue: str
    task: str
    source: str | None
    """``args->>'source'``: the source a crawl job crawls (None for another task)."""
    attempts: int
    """Attempts finished so far (0 for a job that never ran)."""
    scheduled_at: datetime | None
    """Not to run before this (the next try, for a retry); None: as soon as possible."""
    since: datetime | None
    """Running: when it started; waiting: when it was queued or put back for a retry."""
    worker_id: int | None
    """The worker running it (a waiting job may still name the worker of its last try)."""


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job whose last attempt failed and that will not be retried."""

    job_id: int
    queue: str
    task: str
    source: str | None
    attempts: int
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Worker:
    """A worker registered in ``procrastinate_workers``."""

    worker_id: int
    last_heartbeat: datetime
    stale: bool
    """No heartbeat for longer than ``stale_after`` seconds: probably dead."""


@dataclass(frozen=True, slots=True)
class JobQueue:
    """The job queue at ``checked_at`` (the database's clock)."""

    checked_at: datetime
    counts: tuple[QueueCounts, ...]
    """Per queue, by name."""
    queued: tuple[Job, ...]
    """``todo`` jobs never tried, in the order a worker takes them (priority, then id)."""
    running: tuple[Job, ...]
    """``doing`` jobs, longest running first."""
    retrying: tuple[Job, ...]
    """``todo`` jobs with attempts behind them, next try first."""
    failed: tuple[FailedJob, ...]
    """Jobs failed within ``failed_within``, newest first, at most ``failed_limit``."""
    workers: tuple[Worker, ...]
    """By id."""


def read_job_queue(
    engine: Engine,
    *,
    failed_within: timedelta = FAILED_WITHIN,
    stale_after: float = STALE_AFTER,
    failed_limit: int = FAILED_LIMIT,
) -> JobQueue | None:
    """Return the job queue's state, or None when the database has none (SQLite, or
    PostgreSQL without procrastinate's tables). Reads only."""
    if engine.dialect.name != "postgresql":
        return None
    with database_errors(engine, "reading the job queue"), engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if not conn.execute(text(_TABLES_EXIST)).scalar_one():
                return None
            checked_at = conn.execute(text("SELECT now()")).scalar_one()
            jobs = [(_job(row), row.status) for row in conn.execute(text(_ACTIVE_JOBS))]
            return JobQueue(
                checked_at=checked_at,
                counts=_counts(conn),
                queued=tuple(job for job, status in jobs if status == "todo" and not job.attempts),
                running=_by_time(
                    (job for job, status in jobs if status == "doing"), lambda job: job.since
                ),
                retrying=_by_time(
                    (job for job, status in jobs if status == "todo" and job.attempts),
                    lambda job: job.scheduled_at,
                ),
                failed=_failed(conn, failed_within, failed_limit),
                workers=tuple(
                    Worker(worker_id=r.id, last_heartbeat=r.last_heartbeat, stale=bool(r.stale))
                    for r in conn.execute(text(_WORKERS), {"stale": stale_after})
                ),
            )


def _job(r: Row[Any]) -> Job:
    return Job(
        job_id=r.id,
        queue=r.queue_name,
        task=r.task_name,
        source=r.source,
        attempts=r.attempts,
        scheduled_at=r.scheduled_at,
        since=r.since,
        worker_id=r.worker_id,
    )


def _by_time(jobs: Iterable[Job], when: Callable[[Job], datetime | None]) -> tuple[Job, ...]:
    """Return ``jobs`` ordered by ``when`` (unknown times last), then by id."""
    return tuple(sorted(jobs, key=lambda job: (when(job) is None, when(job), job.job_id)))


def _counts(conn: Connection) -> tuple[QueueCounts, ...]:
    found: dict[str, dict[str, int]] = {}
    for queue, status, n in conn.execute(text(_COUNTS)):
        if status in JOB_STATUSES:
            found.setdefault(queue, {})[status] = int(n)
    return tuple(QueueCounts(queue, **by_status) for queue, by_status in sorted(found.items()))


def _failed(conn: Connection, within: timedelta, limit: int) -> tuple[FailedJob, ...]:
    rows = conn.execute(text(_FAILED), {"within": within.total_seconds(), "limit": limit})
    return tuple(
        FailedJob(
            job_id=r.id,
            queue=r.queue_name,
            task=r.task_name,
            source=r.source,
            attempts=r.attempts,
            failed_at=r.failed_at,
        )
        for r in rows
    )


_TABLES_EXIST = """
SELECT to_regclass('procrastinate_jobs') IS NOT NULL
   AND to_regclass('procrastinate_events') IS NOT NULL
   AND to_regclass('procrastinate_workers') IS NOT NULL
"""

_COUNTS = """
SELECT queue_name, CAST(status AS text), count(*)
FROM procrastinate_jobs
GROUP BY queue_name, status
"""

# In the order a worker takes waiting jobs (procrastinate_fetch_job_v2: priority, then
# id, once scheduled_at has passed and the lock is free).
_ACTIVE_JOBS = """
SELECT j.id, j.queue_name, j.task_name, j.args->>'source' AS source,
       CAST(j.status AS text) AS status, j.attempts, j.scheduled_at, j.worker_id,
       (SELECT max(e.at) FROM procrastinate_events e
        WHERE e.job_id = j.id
          AND e.type IN ('deferred', 'deferred_for_retry', 'retried', 'started')) AS since
FROM procrastinate_jobs j
WHERE j.status IN ('todo', 'doing')
ORDER BY j.priority DESC, j.id
"""

_FAILED = """
SELECT j.id, j.queue_name, j.task_name, j.args->>'source' AS source, j.attempts, f.failed_at
FROM procrastinate_jobs j
CROSS JOIN LATERAL (
    SELECT max(e.at) AS failed_at FROM procrastinate_events e
    WHERE e.job_id = j.id AND e.type = 'failed'
) f
WHERE j.status = 'failed' AND f.failed_at >= now() - make_interval(secs => :within)
ORDER BY f.failed_at DESC, j.id DESC
LIMIT :limit
"""

_WORKERS = """
SELECT id, last_heartbeat, last_heartbeat < now() - make_interval(secs => :stale) AS stale
FROM procrastinate_workers
ORDER BY id
"""
