"""``govarchive schedule``: the daemon that crawls each source on its cron."""

from __future__ import annotations

from pathlib import Path

import click

from scraper.commands.common import (
    BadUsage,
    config_option,
    database_option,
    log_format_option,
    open_archive,
    read_config,
)
from scraper.config import default_config_path
from scraper.logs import configure_logging
from scraper.shutdown import exit_now

#: Exit status when crawls did not stop within the deadline after SIGTERM.
EXIT_FORCED = 1


@click.command("schedule")
@config_option
@database_option
@log_format_option
@click.option(
    "--workers",
    is_flag=True,
    help="Queue each due source as a job for `govarchive worker` instead of crawling it "
    "here (PostgreSQL archives only; same as workers.enabled: true).",
)
def schedule_command(
    config_path: Path | None, database: str | None, log_format: str, workers: bool
) -> None:
    """Run every source's crawl on its `schedule` (cron) until stopped.

    Cron expressions are read in `scheduler.timezone` (default Asia/Shanghai); a run
    missed while the daemon was down runs once when it starts again within
    `scheduler.misfire_grace_seconds`. Only one crawl per source runs at a time, also
    across daemons on other machines sharing a PostgreSQL archive. SIGTERM or SIGINT
    stops after the pages in hand (runs are closed as interrupted); SIGHUP reloads the
    config file, keeping the old one if the new one is invalid. See docs/operations.md.

    With --workers (or `workers.enabled: true`), the daemon only decides when: each due
    source is queued as a job, at most one waiting per source, and `govarchive worker`
    processes on any machine crawl them.
    """
    # Imported here so that `govarchive --help` does not load the whole crawl stack.
    from scraper.scheduling.daemon import Daemon

    configure_logging(log_format)
    config = read_config(config_path)
    engine = open_archive(database, config_path)
    use_workers = workers or config.workers.enabled
    if use_workers and engine.dialect.name != "postgresql":
        engine.dispose()
        raise BadUsage(
            "--workers (workers.enabled) needs a PostgreSQL archive (the job queue lives in "
            "it); with SQLite, run `govarchive schedule` without it"
        )
    daemon = Daemon(
        config,
        engine,
        config_path=default_config_path(config_path),
        database_flag=database,
        workers=use_workers,
    )
    try:
        result = daemon.serve()
    finally:
        engine.dispose()
    if result.forced:
        # Crawl threads still hold pages in hand; a normal exit would wait for them.
        exit_now(EXIT_FORCED)
