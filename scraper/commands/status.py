"""``govarchive status`` (the archive's health per source, and the job queue on
PostgreSQL) and ``govarchive sources``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from scraper.commands.common import (
    config_option,
    database_option,
    open_archive,
    read_config,
    translated_errors,
)
from scraper.config import Config, default_config_path
from scraper.scheduling.schedule import next_fire_time
from scraper.settings import SchedulerSettings
from storage.jobqueue import FailedJob, Job, JobQueue, QueueCounts, Worker, read_job_queue
from storage.locks import lock_holder
from storage.models import RunStatus
from storage.runs import utcnow
from storage.status import ERROR_WINDOW, SourceStatus, source_statuses

#: What ``status`` says where there is no job queue.
NO_QUEUE_SQLITE = "no job queue (SQLite archive: the in-process daemon runs crawls)"
NO_QUEUE_POSTGRESQL = "no job queue (this PostgreSQL database has no procrastinate tables)"


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One line of ``govarchive status``: archive figures plus the schedule."""

    name: str
    configured: bool
    schedule: str | None
    next_run: datetime | None
    status: SourceStatus | None
    holder: str | None
    """Who holds the source's crawl lock while its last run says ``running``."""

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready values (times in UTC ISO 8601, seconds as numbers)."""
        st = self.status
        run = st.last_run if st else None
        duration = run.duration if run else None
        return {
            "source": self.name,
            "configured": self.configured,
            "schedule": self.schedule,
            "next_run": _iso(self.next_run),
            "last_run": None
            if run is None
            else {
                "run_id": run.run_id,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "duration_s": duration.total_seconds() if duration is not None else None,
                "outcome": run.status,
                "new_versions": run.new_versions,
                "errors": run.errors,
                "pages_seen": run.pages_seen,
                "held_by": self.holder,
            },
            "pages_archived": st.pages_archived if st else 0,
            "pages_gone": st.pages_gone if st else 0,
            "versions": st.versions if st else 0,
            "requests_7d": st.requests if st else 0,
            "errors_7d": st.errors if st else 0,
            "error_rate_7d": st.error_rate if st else None,
        }


def build_reports(
    config: Config | None,
    statuses: Sequence[SourceStatus],
    now: datetime,
    holders: Mapping[str, str | None] | None = None,
) -> list[SourceReport]:
    """Return one report per configured source (config order), then the archive's
    sources no longer configured (by name). Pure."""
    by_name = {s.name: s for s in statuses}
    held = holders or {}
    reports: list[SourceReport] = []
    tz = display_zone(config)
    for source in config.sources if config else ():
        reports.append(
            SourceReport(
                name=source.name,
                configured=True,
                schedule=source.schedule,
                next_run=next_fire_time(source.schedule, tz, now),
                status=by_name.get(source.name),
                holder=held.get(source.name),
            )
        )
    configured = {r.name for r in reports}
    for status in statuses:
        if status.name not in configured:
            reports.append(
                SourceReport(status.name, False, None, None, status, held.get(status.name))
            )
    return reports


def format_duration(value: timedelta | None) -> str:
    """Return ``1h02m``, ``3m05s`` or ``12s`` (``-`` for None). Pure."""
    if value is None:
        return "-"
    seconds = max(0, round(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_rate(status: SourceStatus | None) -> str:
    """Return the window's error rate as ``2.3% (5/214)``, or ``-`` without requests. Pure."""
    if status is None or status.error_rate is None:
        return "-"
    return f"{status.error_rate:.1%} ({status.errors}/{status.requests})"


def format_outcome(report: SourceReport) -> str:
    """Return the last run's outcome; a ``running`` run says whether a process holds it. Pure."""
    run = report.status.last_run if report.status else None
    if run is None:
        return "never run"
    if run.status != RunStatus.RUNNING:
        return run.status
    if report.holder:
        return f"running ({report.holder})"
    return "running? no process holds its lock (it died; the next crawl closes it)"


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return "-" if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def status_table(reports: Sequence[SourceReport], tz: str) -> Table:
    """Return the rich table ``govarchive status`` prints, times in ``tz``. Pure."""
    zone = ZoneInfo(tz)
    table = Table(title=f"govarchive status (times in {tz}; errors over the last 7 days)")
    for name in ("source", "last run", "took", "outcome", "new versions", "errors",
                 "next run", "pages", "gone", "error rate 7d"):  # fmt: skip
        right = name in ("new versions", "errors", "pages", "gone", "error rate 7d")
        table.add_column(name, justify="right" if right else "left")
    for r in reports:
        run = r.status.last_run if r.status else None
        table.add_row(
            r.name if r.configured else f"{r.name} (not in config)",
            _local(run.started_at if run else None, zone),
            format_duration(run.duration if run else None),
            format_outcome(r),
            str(run.new_versions) if run else "-",
            str(run.errors) if run else "-",
            _local(r.next_run, zone) if r.configured else "-",
            str(r.status.pages_archived if r.status else 0),
            str(r.status.pages_gone if r.status else 0),
            format_rate(r.status),
        )
    return table


def no_queue_reason(dialect: str) -> str:
    """Return why a database of ``dialect`` has no job queue. Pure."""
    return NO_QUEUE_SQLITE if dialect == "sqlite" else NO_QUEUE_POSTGRESQL


def _row_json(row: Job | FailedJob | Worker) -> dict[str, Any]:
    """Return a job-queue row's fields as JSON-ready values (times in ISO 8601). Pure."""
    return {
        f.name: _iso(value) if isinstance(value, datetime) else value
        for f in fields(row)
        for value in (getattr(row, f.name),)
    }


def source_jobs_json(queue: JobQueue | None, source: str) -> dict[str, Any] | None:
    """Return the jobs of one source (queued, running, waiting for a retry, failed
    recently) as JSON-ready values; None without a job queue. Pure."""
    if queue is None:
        return None
    return {
        "queued": [_row_json(j) for j in queue.queued if j.source == source],
        "running": [_row_json(j) for j in queue.running if j.source == source],
        "waiting_for_retry": [_row_json(j) for j in queue.retrying if j.source == source],
        "failed_recently": [_row_json(j) for j in queue.failed if j.source == source],
    }


def job_queue_json(queue: JobQueue | None, dialect: str) -> dict[str, Any]:
    """Return the whole job queue as JSON-ready values (``status --jobs --json``). Pure."""
    if queue is None:
        return {"job_queue": False, "reason": no_queue_reason(dialect)}
    return {
        "job_queue": True,
        "checked_at": _iso(queue.checked_at),
        "counts": {c.queue: _by_status(c) for c in queue.counts},
        "queued": [_row_json(j) for j in queue.queued],
        "running": [_row_json(j) for j in queue.running],
        "waiting_for_retry": [_row_json(j) for j in queue.retrying],
        "failed_recently": [_row_json(j) for j in queue.failed],
        "workers": [_row_json(w) for w in queue.workers],
    }


def _by_status(counts: QueueCounts) -> dict[str, int]:
    return {
        "todo": counts.todo,
        "doing": counts.doing,
        "succeeded": counts.succeeded,
        "failed": counts.failed,
        "cancelled": counts.cancelled,
        "aborted": counts.aborted,
    }


def format_counts(queue: JobQueue) -> list[str]:
    """Return one line per queue, ``queue crawl: 2 queued, 1 running, 1 waiting for retry,
    …`` (its ``todo`` jobs split into queued and waiting for a retry). Pure."""
    lines = []
    for c in queue.counts:
        retrying = sum(1 for job in queue.retrying if job.queue == c.queue)
        lines.append(
            f"queue {c.queue}: {c.todo - retrying} queued, {c.doing} running, {retrying} "
            f"waiting for retry, {c.succeeded} succeeded, {c.failed} failed, "
            f"{c.cancelled} cancelled, {c.aborted} aborted"
        )
    return lines


def _what(job: Job | FailedJob) -> str:
    return job.source if job.source is not None else f"({job.task})"


def _worker_of(job: Job, workers: Mapping[int, Worker]) -> str:
    if job.worker_id is None:
        return "none (its worker was pruned: stalled)"
    worker = workers.get(job.worker_id)
    return f"{job.worker_id} (stale)" if worker is not None and worker.stale else str(job.worker_id)


def jobs_table(queue: JobQueue, tz: str) -> Table:
    """Return the table of jobs running, queued, waiting for a retry and failed recently,
    times in ``tz``. Pure."""
    zone = ZoneInfo(tz)
    workers = {w.worker_id: w for w in queue.workers}
    table = Table(title=f"Jobs (times in {tz})")
    for name in ("job", "source", "state", "attempt", "worker", "when"):
        table.add_column(name, justify="right" if name in ("job", "attempt") else "left")
    for job in queue.running:
        since = f"since {_local(job.since, zone)}"
        row = ("running", str(job.attempts + 1), _worker_of(job, workers), since)
        table.add_row(str(job.job_id), _what(job), *row)
    for job in queue.queued:
        later = job.scheduled_at is not None and job.scheduled_at > queue.checked_at
        when = (
            f"not before {_local(job.scheduled_at, zone)}"
            if later
            else (f"queued {_local(job.since, zone)}")
        )
        table.add_row(str(job.job_id), _what(job), "queued", "1", "-", when)
    for job in queue.retrying:
        when = f"next try {_local(job.scheduled_at, zone)}"
        row = ("waiting for retry", str(job.attempts + 1), "-", when)
        table.add_row(str(job.job_id), _what(job), *row)
    for failed in queue.failed:
        when = f"failed {_local(failed.failed_at, zone)}"
        table.add_row(str(failed.job_id), _what(failed), "failed", str(failed.attempts), "-", when)
    return table


def workers_table(queue: JobQueue, tz: str) -> Table:
    """Return the table of registered workers: last heartbeat (in ``tz``), live or stale."""
    zone = ZoneInfo(tz)
    table = Table(title="Workers")
    for name in ("worker", "last heartbeat", "state"):
        table.add_column(name, justify="right" if name == "worker" else "left")
    for w in queue.workers:
        age = format_duration(queue.checked_at - w.last_heartbeat)
        state = f"stale: no heartbeat for {age}" if w.stale else f"live ({age} ago)"
        heartbeat = w.last_heartbeat.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(w.worker_id), heartbeat, state)
    return table


def print_job_queue(console: Console, queue: JobQueue | None, dialect: str, tz: str) -> None:
    """Print the job queue (or why there is none): jobs, failures, workers."""
    if queue is None:
        console.print(f"Jobs: {no_queue_reason(dialect)}")
        return
    if queue.running or queue.queued or queue.retrying or queue.failed:
        console.print(jobs_table(queue, tz))
    else:
        console.print("Jobs: none queued or running, none failed in the last 7 days")
    if queue.failed:
        console.print("A failed job's error is in its worker's log: procrastinate keeps none.")
    for line in format_counts(queue):
        console.print(line)
    if queue.workers:
        console.print(workers_table(queue, tz))
    else:
        console.print("Workers: none registered (`govarchive worker` runs one)")


def display_zone(config: Config | None) -> str:
    """Return the zone ``status`` shows times in: ``scheduler.timezone`` of the config, or
    its default (Asia/Shanghai, as export's --tz) when there is no config file. Pure."""
    return config.scheduler.timezone if config else SchedulerSettings().timezone


def _optional_config(config_path: Path | None) -> Config | None:
    return read_config(config_path) if default_config_path(config_path) is not None else None


@click.command("status")
@config_option
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--jobs",
    "jobs_only",
    is_flag=True,
    help="Show only the job queue (PostgreSQL): counts, jobs, failures and workers.",
)
def status_command(
    config_path: Path | None, database: str | None, as_json: bool, jobs_only: bool
) -> None:
    """Show each source's last run, next scheduled run, pages and recent error rate,
    then the job queue.

    Per source: when the last run started, how long it took, its outcome, new versions
    and errors; the next run its cron schedules; pages archived and gone; and the share
    of requests that failed in the last 7 days. On PostgreSQL, the job queue: jobs
    running (source, worker, since), queued, waiting for a retry (attempt, next try) and
    failed in the last 7 days, with the registered workers and their heartbeats; an
    SQLite archive has no queue (its crawls run in the in-process daemon). With --json,
    each source's jobs are under its "jobs" key; --jobs --json prints the whole queue.
    Reads the archive; writes nothing.
    """
    config = _optional_config(config_path)
    engine = open_archive(database, config_path, create=False)
    dialect = engine.dialect.name
    try:
        with translated_errors():
            now = utcnow()
            queue = read_job_queue(engine)
            if not jobs_only:
                statuses = source_statuses(engine, now=now, window=ERROR_WINDOW)
                holders = {
                    s.name: lock_holder(engine, s.name)
                    for s in statuses
                    if s.last_run is not None and s.last_run.status == RunStatus.RUNNING
                }
    finally:
        engine.dispose()
    tz = display_zone(config)
    console = Console(width=200)
    if jobs_only:
        if as_json:
            click.echo(json.dumps(job_queue_json(queue, dialect), ensure_ascii=False, indent=2))
        else:
            print_job_queue(console, queue, dialect, tz)
        return
    reports = build_reports(config, statuses, now, holders)
    if as_json:
        rows = [{**r.to_json(), "jobs": source_jobs_json(queue, r.name)} for r in reports]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not reports:
        click.echo("no sources: none configured and none in the archive")
    else:
        console.print(status_table(reports, tz))
    print_job_queue(console, queue, dialect, tz)


def _print_archived_sources(database: str, config_path: Path | None, as_json: bool) -> None:
    tz = display_zone(_optional_config(config_path))
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            statuses = source_statuses(engine, now=utcnow(), window=ERROR_WINDOW)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(archived_sources_json(statuses), ensure_ascii=False, indent=2))
    elif not statuses:
        click.echo("no sources in the archive: crawl into it first (`govarchive crawl`)")
    else:
        Console(width=200).print(archived_sources_table(statuses, tz))


def sources_json(config: Config, now: datetime) -> list[dict[str, Any]]:
    """Return the configured sources with their schedules, as JSON-ready values. Pure."""
    tz = config.scheduler.timezone
    return [
        {
            "source": s.name,
            "schedule": s.schedule,
            "timezone": tz,
            "next_run": _iso(next_fire_time(s.schedule, tz, now)),
            "start_urls": list(s.start_urls),
        }
        for s in config.sources
    ]


def archived_sources_json(statuses: Sequence[SourceStatus]) -> list[dict[str, Any]]:
    """Return the archive's sources with their page counts and last run, as JSON-ready
    values (times in UTC ISO 8601). Pure."""
    return [
        {
            "source": st.name,
            "pages_archived": st.pages_archived,
            "pages_gone": st.pages_gone,
            "versions": st.versions,
            "last_run": None
            if st.last_run is None
            else {
                "run_id": st.last_run.run_id,
                "started_at": _iso(st.last_run.started_at),
                "finished_at": _iso(st.last_run.finished_at),
                "outcome": st.last_run.status,
            },
        }
        for st in statuses
    ]


def archived_sources_table(statuses: Sequence[SourceStatus], tz: str) -> Table:
    """Return the table of ``govarchive sources --database``, times in ``tz``. Pure."""
    zone = ZoneInfo(tz)
    table = Table(title=f"sources in the archive (times in {tz})")
    for name in ("source", "pages", "gone", "versions", "last run", "outcome"):
        table.add_column(name, justify="right" if name in ("pages", "gone", "versions") else "left")
    for st in statuses:
        run = st.last_run
        table.add_row(
            st.name,
            str(st.pages_archived),
            str(st.pages_gone),
            str(st.versions),
            _local(run.started_at if run else None, zone),
            str(run.status) if run else "-",
        )
    return table


@click.command("sources")
@config_option
@click.option(
    "--database",
    "database",
    metavar="URL",
    default=None,
    help="List the sources recorded in this archive (SQLAlchemy URL) instead of the config's: "
    "their pages, versions and last run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sources_command(config_path: Path | None, database: str | None, as_json: bool) -> None:
    """List the configured sources, their cron schedules and next run times.

    Reads only the config file (scheduler.timezone says how the schedules are read;
    the daemon adds up to scheduler.jitter_seconds of random delay). With --database,
    lists the sources an archive holds instead, without needing a config: pages
    archived and gone, versions, and the last run (its start in scheduler.timezone,
    Asia/Shanghai without a config); reads the archive, writes nothing.
    """
    if database is not None:
        _print_archived_sources(database, config_path, as_json)
        return
    config = read_config(config_path)
    rows = sources_json(config, utcnow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    zone = ZoneInfo(config.scheduler.timezone)
    table = Table(title=f"govarchive sources (schedules in {config.scheduler.timezone})")
    for name in ("source", "schedule", "next run", "start URLs"):
        table.add_column(name)
    for row in rows:
        nxt = datetime.fromisoformat(row["next_run"]) if row["next_run"] else None
        urls = "\n".join(row["start_urls"])
        table.add_row(row["source"], row["schedule"], _local(nxt, zone), urls)
    Console(width=200).print(table)
