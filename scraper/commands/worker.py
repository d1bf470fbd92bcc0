"""``govarchive worker``: run source crawls from the PostgreSQL job queue until stopped.

The work is :mod:`scraper.scheduling.worker`; this command checks the archive can hold
a queue (PostgreSQL at the current schema), sets up logging and runs it.
"""

from __future__ import annotations

from pathlib import Path

import click

from scraper.commands.common import (
    BadUsage,
    DatabaseUnusable,
    config_option,
    database_option,
    log_format_option,
    open_archive,
    read_config,
)
from scraper.logs import configure_logging


@click.command("worker")
@config_option
@database_option
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Sources crawled at once by this worker. Default: workers.concurrency (200).",
)
@click.option(
    "--burst",
    is_flag=True,
    help="Exit once the queue has no job this worker can take (for cron and tests).",
)
@click.option("--name", default=None, help="This worker's name in logs and `status`.")
@log_format_option
def worker_command(
    config_path: Path | None,
    database: str | None,
    concurrency: int | None,
    burst: bool,
    name: str | None,
    log_format: str,
) -> None:
    """Crawl sources from the archive's job queue (PostgreSQL archives only).

    Jobs are deferred by `govarchive schedule --workers` (each source on its cron) and
    `govarchive crawl --enqueue`. Run as many workers on as many machines as you like
    against one archive: each host is crawled by one worker at a time, a source has at
    most one waiting job, a failed run is retried with back-off, and the jobs of a
    worker that died are retried by the others. SIGTERM or SIGINT stops after the pages
    in hand (the interrupted jobs go back to the queue); a second signal exits at once.
    All workers should read the same config.yaml. See docs/operations.md.
    """
    # Imported here so that `govarchive --help` does not load procrastinate.
    from scraper.scheduling.tasks import QueueError
    from scraper.scheduling.worker import WorkerOptions, run

    config = read_config(config_path)
    engine = open_archive(database, config_path)
    try:
        if engine.dialect.name != "postgresql":
            raise BadUsage(
                "workers need a PostgreSQL archive (the job queue lives in it); "
                "with SQLite, `govarchive schedule` crawls every source itself"
            )
        configure_logging(log_format)
        options = WorkerOptions(
            concurrency=concurrency or config.workers.concurrency, burst=burst, name=name
        )
        try:
            run(config, engine, options)
        except QueueError as exc:  # the queue's database went away or is unusable
            raise DatabaseUnusable(f"the job queue cannot be used: {exc}") from exc
    finally:
        engine.dispose()
