"""``govarchive status`` (the archive's health per source) and ``govarchive sources``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from storage.locks import lock_holder
from storage.models import RunStatus
from storage.runs import utcnow
from storage.status import ERROR_WINDOW, SourceStatus, source_statuses


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
    tz = config.scheduler.timezone if config else "UTC"
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


def _optional_config(config_path: Path | None) -> Config | None:
    return read_config(config_path) if default_config_path(config_path) is not None else None


@click.command("status")
@config_option
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status_command(config_path: Path | None, database: str | None, as_json: bool) -> None:
    """Show each source's last run, next scheduled run, pages and recent error rate.

    Per source: when the last run started, how long it took, its outcome, new versions
    and errors; the next run its cron schedules; pages archived and gone; and the share
    of requests that failed in the last 7 days. Reads the archive; writes nothing.
    """
    config = _optional_config(config_path)
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            now = utcnow()
            statuses = source_statuses(engine, now=now, window=ERROR_WINDOW)
            holders = {
                s.name: lock_holder(engine, s.name)
                for s in statuses
                if s.last_run is not None and s.last_run.status == RunStatus.RUNNING
            }
    finally:
        engine.dispose()
    reports = build_reports(config, statuses, now, holders)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
        return
    if not reports:
        click.echo("no sources: none configured and none in the archive")
        return
    Console(width=200).print(status_table(reports, config.scheduler.timezone if config else "UTC"))


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


@click.command("sources")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sources_command(config_path: Path | None, as_json: bool) -> None:
    """List the configured sources, their cron schedules and next run times.

    Reads only the config file (scheduler.timezone says how the schedules are read;
    the daemon adds up to scheduler.jitter_seconds of random delay).
    """
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
