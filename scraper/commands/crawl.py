"""``govarchive crawl``: run every configured source (or some) once, now.

The work is :func:`scraper.crawling.exclusive.crawl_unless_busy` (locks, busy sources,
the crawl); this command parses the options, draws progress, takes Ctrl-C through
:mod:`scraper.shutdown`, and turns the outcome into a summary and an exit status.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import Engine

from scraper.commands.common import (
    BadUsage,
    Busy,
    DatabaseUnusable,
    WorkFailed,
    config_option,
    database_option,
    open_archive,
    read_config,
    translated_errors,
)
from scraper.config import Config
from scraper.crawling.exclusive import crawl_unless_busy
from scraper.crawling.pipeline import Reporter, SourceRun
from scraper.logs import configure_logging
from scraper.shutdown import shutdown_handlers
from storage.models import FetchOutcome

log = logging.getLogger("govarchive.crawl")

# What the progress bar counts as an error: the page was not archived this time.
_COUNTED_AS_ERRORS = (FetchOutcome.ERROR, FetchOutcome.BLOCKED, FetchOutcome.SKIPPED_HOST_PAUSED)


class _BarReporter:
    """A rich progress bar per source: pages found, fetched, new versions, errors."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.lock = threading.Lock()

    def source_started(self, source: str) -> None:
        with self.lock:
            self.counts[source] = {"new": 0, "errors": 0}
            self.tasks[source] = self.progress.add_task(source, total=None, stats="listing…")

    def pages_found(self, source: str, total: int) -> None:
        self.progress.update(self.tasks[source], total=total, stats="")

    def page_done(self, source: str, outcome: FetchOutcome) -> None:
        counts = self.counts[source]
        if outcome is FetchOutcome.NEW_VERSION:
            counts["new"] += 1
        elif outcome in _COUNTED_AS_ERRORS:
            counts["errors"] += 1
        self.progress.update(
            self.tasks[source],
            advance=1,
            stats=f"new versions {counts['new']}  errors {counts['errors']}",
        )

    def source_finished(self, run: SourceRun) -> None:
        self.progress.update(self.tasks[run.source], stats=run.status)


class _LogReporter:
    """Plain log lines, for cron jobs and pipes."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def source_started(self, source: str) -> None:
        log.info("%s: crawl started", source)

    def pages_found(self, source: str, total: int) -> None:
        log.info("%s: %d detail pages to check", source, total)

    def page_done(self, source: str, outcome: FetchOutcome) -> None:
        if self.verbose:
            log.info("%s: page %s", source, outcome)

    def source_finished(self, run: SourceRun) -> None:
        s = run.summary
        log.info(
            "%s: run %d %s: %d pages seen, %d new pages, %d new versions, %d unchanged, "
            "%d not modified, %d gone, %d errors",
            run.source,
            run.run_id,
            run.status,
            s.pages_seen,
            s.new_pages,
            s.new_versions,
            s.unchanged,
            s.not_modified,
            s.gone,
            s.errors,
        )


#: The summary's count columns: header (two words on two lines, to fit 80 columns).
_COUNT_COLUMNS = (
    "run", "seen", "new\npages", "new\nversions", "unchanged", "not\nmodified", "gone", "errors",
)  # fmt: skip


def _summary_table(runs: Sequence[SourceRun]) -> Table:
    """Return the per-source summary; it fits an 80-column terminal with counts up to
    4 digits: no borders but the header rule, one space between columns, and a long
    source name folded over several lines rather than cut short."""
    table = Table(title="govarchive crawl", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))
    table.add_column("source", overflow="fold", min_width=10)
    for name in _COUNT_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True)
        if name == "run":
            table.add_column("status", no_wrap=True)
    for run in runs:
        s = run.summary
        table.add_row(
            run.source, str(run.run_id), run.status, str(s.pages_seen), str(s.new_pages),
            str(s.new_versions), str(s.unchanged), str(s.not_modified), str(s.gone), str(s.errors),
        )  # fmt: skip
    return table


def _finish_pages_in_hand(sig: signal.Signals) -> None:
    log.warning("signal %d: finishing the pages in hand, then stopping", sig)


def _stop_now(sig: signal.Signals) -> None:
    # A second Ctrl-C: the pages in hand are cancelled (each is one transaction, so
    # nothing half-written stays) and click ends the command with "Aborted!".
    raise KeyboardInterrupt


@contextmanager
def _reporter(*, quiet: bool, verbose: bool) -> Iterator[Reporter]:
    """Progress bars on a terminal; log lines for cron jobs, pipes, --quiet and --verbose."""
    console = Console(stderr=True)
    if not (console.is_terminal and not quiet and not verbose):
        yield _LogReporter(verbose)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        console=console,
    ) as progress:
        yield _BarReporter(progress)


@click.command("crawl")
@config_option
@database_option
@click.option(
    "--source",
    "source_names",
    multiple=True,
    metavar="NAME",
    help="Crawl only this source (repeatable). Default: every source in the config.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Fetch at most N detail pages per source.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary and errors.")
@click.option("--verbose", "-v", is_flag=True, help="Log every page fetched.")
@click.option(
    "--enqueue",
    is_flag=True,
    help="Queue one job per source for `govarchive worker` and return at once "
    "(PostgreSQL archives only).",
)
def crawl_command(
    config_path: Path | None,
    database: str | None,
    source_names: tuple[str, ...],
    limit: int | None,
    quiet: bool,
    verbose: bool,
    enqueue: bool,
) -> None:
    """Crawl the configured sources once and archive what changed.

    Walks each source's list pages, re-checks every known page (conditional
    requests keep that cheap), and writes a new version only for pages whose content
    changed. Exit status 0 when the crawl ran, even if some pages failed (see the
    fetches table); 1 when every request of a source failed or was blocked; 2 for a
    bad config; 3 when the database cannot be used; 4 when every source was skipped
    because another process (a crawl or `govarchive schedule`) is crawling it.

    With --enqueue, nothing is crawled here: one job per source goes to the archive's
    job queue for `govarchive worker` processes (a source that already has a waiting job
    keeps it), and the job ids are printed.
    """
    config = read_config(config_path)
    with translated_errors():
        sources = [config.source(n) for n in source_names] if source_names else list(config.sources)
    if enqueue and limit is not None:
        raise BadUsage("--limit cannot be used with --enqueue (a worker crawls whole sources)")
    engine = open_archive(database, config_path)
    if enqueue:
        _enqueue(config, engine, [s.name for s in sources])
        return
    configure_logging("text", level=logging.WARNING if quiet else logging.INFO)
    try:
        # A database that fails mid-crawl ends it with a message, not a traceback
        # (what was committed before stays committed).
        with (
            shutdown_handlers(_finish_pages_in_hand, _stop_now) as shutdown,
            _reporter(quiet=quiet, verbose=verbose) as reporter,
            translated_errors(),
        ):
            outcome = crawl_unless_busy(
                config, engine, sources, limit=limit, reporter=reporter,
                stop_when=lambda: shutdown.requested,
            )  # fmt: skip
    finally:
        engine.dispose()
    if outcome.runs:
        out = Console()
        if not out.is_terminal:  # a log file or pipe: do not squeeze the table to 80 columns
            out = Console(width=160)
        out.print(_summary_table(outcome.runs))
    for run in outcome.failed:
        click.echo(
            f"error: {run.source}: every request failed ({run.status})"
            + (f": {run.error}" if run.error else "")
            + f"; see: SELECT * FROM fetches WHERE crawl_run_id = {run.run_id}",
            err=True,
        )
    for name, holder in outcome.busy.items():
        click.echo(f"skipped: {name}: another process is crawling it ({holder})", err=True)
    unresolved = sorted({h for run in outcome.runs for h in run.unresolved_hosts})
    if unresolved:
        click.echo(
            f"error: {', '.join(unresolved)} did not resolve (offline, or no such host), so "
            "nothing more was asked of it; to try govarchive offline: govarchive demo",
            err=True,
        )
    if outcome.failed:
        raise WorkFailed(f"{len(outcome.failed)} of {len(outcome.runs)} sources failed")
    if outcome.nothing_crawled:  # not a failure, but cron and scripts must see nothing was done
        busy = outcome.busy
        which = "its only source is" if len(busy) == 1 else f"all {len(busy)} sources are"
        raise Busy(f"nothing crawled: {which} being crawled by another process")
    if shutdown.requested:
        sys.exit(130)


def _enqueue(config: Config, engine: Engine, names: list[str]) -> None:
    """Queue a crawl job per source and print what was queued."""
    try:
        if engine.dialect.name != "postgresql":
            raise BadUsage(
                "--enqueue needs a PostgreSQL archive (the job queue lives in it); "
                "with SQLite, crawl without --enqueue"
            )
        # Imported here so that a plain crawl does not load procrastinate.
        from scraper.scheduling.tasks import CrawlQueue, QueueError

        try:
            with CrawlQueue(engine.url, config) as queue:
                deferred = queue.defer(names)
        except QueueError as exc:
            raise DatabaseUnusable(f"the job queue cannot be used: {exc}") from exc
    finally:
        engine.dispose()
    for job in deferred:
        if job.already_queued:
            click.echo(f"{job.source}: already queued (a job is waiting for a worker)")
        else:
            click.echo(f"{job.source}: queued as job {job.job_id}")
