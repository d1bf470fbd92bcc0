"""``govarchive import-warc``: backfill a source's history from WARC and ARC files."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from scraper.commands.common import (
    BadUsage,
    Busy,
    WorkFailed,
    config_option,
    database_option,
    open_archive,
    read_config,
    translated_errors,
)
from scraper.crawling.parsepool import ParserPool
from scraper.errors import InputError
from scraper.warc.importer import ImportReport, import_warc
from storage.locks import lock_holder, try_lock_source
from storage.models import CaptureOutcome


def render_report(report: ImportReport, *, url_pattern: str | None = None) -> list[str]:
    """Return the text lines summarising an import (``url_pattern``: the one given, for
    the hint when no page was found)."""
    lines = [
        f"{len(report.files)} file(s): {report.records} response/revisit record(s), "
        f"{report.other_records} other record(s)",
        f"{report.page_urls} page URL(s) of the source captured; {report.captures} capture(s) "
        f"imported, {report.already} read by an earlier import",
    ]
    archived = [CaptureOutcome.NEW_VERSION, CaptureOutcome.EARLIER, CaptureOutcome.UNCHANGED]
    lines.append(
        "  "
        + ", ".join(f"{report.outcomes[o]} {o}" for o in archived)
        + f"; {report.new_pages} new page(s), {report.renumbered} later version(s) renumbered"
    )
    skipped = [(o, report.outcomes[o]) for o in CaptureOutcome if o not in archived]
    shown = [f"{count} {outcome}" for outcome, count in skipped if count]
    if shown:
        lines.append("  skipped: " + ", ".join(shown) + " (warc_captures.error says why)")
    if report.records and not report.page_urls:
        lines.append(
            f"no page of the source matched --url-pattern {url_pattern!r}"
            if url_pattern is not None
            else "no page of the source found: the files hold none of its list pages "
            "(start_urls, list_links, list_url_template) linking to captured pages; name the "
            "pages with --url-pattern REGEX"
        )
    for problem in report.problems:
        lines.append(
            f"{problem.path}: unreadable from byte {problem.offset} ({problem.message}); "
            "the records before it were imported"
        )
    return lines


@click.command("import-warc")
@config_option
@database_option
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
)
@click.option(
    "--source", "source_name", required=True, help="The configured source to import into."
)
@click.option(
    "--url-pattern",
    metavar="REGEX",
    default=None,
    help="Import the captures of URLs this regular expression matches (searched in the "
    "normalised URL) instead of the pages found by walking the source's list pages in the files.",
)
def import_warc_command(
    files: tuple[Path, ...],
    source_name: str,
    url_pattern: str | None,
    database: str | None,
    config_path: Path | None,
) -> None:
    """Backfill a source's history from WARC or ARC files (gzipped or not).

    Every capture of the source's pages in FILES is archived at its capture time
    (WARC-Date), oldest first, merged with what is archived already: a capture older
    than the first crawl goes before it, identical content is one version, and block
    pages, redirects, 404s and soft-404s are skipped and counted. Each record read is
    listed in the warc_captures table (provenance), so importing a file again changes
    nothing. Without --url-pattern the source's pages are found as a crawl finds them,
    by walking the list pages the files hold. A truncated or corrupt file keeps the
    records before the bad point and exits 1 naming the file and offset.
    """
    config = read_config(config_path)
    with translated_errors():
        source = config.source(source_name)
    pattern = None
    if url_pattern is not None:
        try:
            pattern = re.compile(url_pattern)
        except re.error as exc:
            raise BadUsage(
                f"--url-pattern {url_pattern!r} is not a regular expression: {exc}"
            ) from exc
    engine = open_archive(database, config_path)
    try:
        with translated_errors():
            lock = try_lock_source(engine, source.name)
            if lock is None:
                holder = lock_holder(engine, source.name) or "another process"
                raise Busy(f"{source.name}: a crawl or import is running ({holder}); try later")
            settings = source.settings
            with (
                lock,
                ParserPool(settings.parse_workers, settings.parse_timeout) as pool,
                _progress(Console(stderr=True)) as progress,
            ):
                try:
                    report = asyncio.run(
                        import_warc(
                            engine,
                            source,
                            list(files),
                            pool,
                            url_pattern=pattern,
                            progress=progress,
                        )
                    )
                except InputError as exc:  # not a WARC file, or unreadable: a wrong argument
                    raise BadUsage(str(exc)) from exc
    finally:
        engine.dispose()
    for line in render_report(report, url_pattern=url_pattern):
        click.echo(line)
    if report.problems:
        raise WorkFailed(
            f"{len(report.problems)} file(s) could not be read to the end (named above)"
        )


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[int, int], None] | None]:
    """Show a progress bar of the captures on ``console`` when it is a terminal; yield
    the callback that moves it (None when there is no terminal to show it on)."""
    if not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("import", total=None)

        def show(done: int, total: int) -> None:
            progress.update(task, total=total, completed=done)

        yield show
