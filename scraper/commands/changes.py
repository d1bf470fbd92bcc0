"""``govarchive changes``: what changed in the archive in a period, for cron and e-mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from scraper.commands.common import (
    BadUsage,
    config_option,
    database_option,
    open_archive,
    read_config,
    translated_errors,
)
from scraper.commands.dates import RECENT, UNTIL
from scraper.config import default_config_path
from scraper.settings import SchedulerSettings
from storage.changereport import report_csv, report_json, report_markdown
from storage.changes import changes_between

FORMATS = ("md", "csv", "json")


def display_zone(config_path: Path | None) -> str:
    """The zone times are shown in: the config's ``scheduler.timezone`` when there is a
    config (``--config`` or ./config.yaml), else the scheduler's default (Asia/Shanghai)."""
    if default_config_path(config_path) is None:
        return SchedulerSettings().timezone
    return read_config(config_path).scheduler.timezone


@click.command("changes")
@config_option
@database_option
@click.option(
    "--since",
    "since",
    type=RECENT,
    default="1d",
    show_default=True,
    help="Start of the period: a span back from now (36h, 7d, 2w) or a date (a whole "
    "UTC day) or ISO 8601 datetime.",
)
@click.option(
    "--until",
    "until",
    type=UNTIL,
    default=None,
    help="End of the period (a date counts whole; default now).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Only this source (repeat for several; default all).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="md: a summary line, then a heading per source (for e-mail); csv: one row per "
    "change with a kind column; json: the summary and every change.",
)
def changes_command(
    config_path: Path | None,
    database: str | None,
    since: datetime | timedelta,
    until: datetime | None,
    sources: tuple[str, ...],
    fmt: str,
) -> None:
    """Report what changed in the archive in a period: new pages, pages changed (which
    fields, old → new), task status changes (持续推进 → 已完成), attachments new,
    replaced or removed, pages gone, and per source the fetches that failed (blocked,
    error, too_large, suspect; attachment requests apart).

    Times are shown in the config's scheduler timezone (Asia/Shanghai without a config).
    Exit status 0 also when nothing changed (the summary line then says "no changes").
    Reads the archive only.
    """
    zone_name = display_zone(config_path)
    zone = ZoneInfo(zone_name)
    now = datetime.now(UTC)
    start = now - since if isinstance(since, timedelta) else since
    end = until if until is not None else now
    if start >= end:
        raise BadUsage(f"--since ({start.isoformat()}) is not before --until ({end.isoformat()})")
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            report = changes_between(engine, start, end, sources)
    finally:
        engine.dispose()
    if fmt == "csv":
        click.echo(report_csv(report, zone), nl=False)
    elif fmt == "json":
        click.echo(report_json(report, zone, zone_name), nl=False)
    else:
        click.echo(report_markdown(report, zone, zone_name), nl=False)
