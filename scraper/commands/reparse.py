"""``govarchive reparse``: run the current parser over every stored version's raw bytes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from scraper.commands.common import (
    WorkFailed,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.commands.dates import SINCE
from scraper.crawling.batchparse import BatchParser
from scraper.crawling.pipeline import reparse_raw
from scraper.extract.files import read_file_to_dict
from scraper.parse import PARSER_VERSION
from storage.reparse import DEFAULT_BATCH_SIZE, ParseFn, ReparseReport, VersionChange, reparse

#: Characters of a value ``--list`` shows in text (JSON gives the whole value).
LIST_WIDTH = 60


def current_parser() -> tuple[ParseFn, str]:
    """Return this installation's parser as reparse takes it, and its PARSER_VERSION."""
    return reparse_raw, PARSER_VERSION


def render_report(report: ReparseReport) -> list[str]:
    """Return the text lines summarising a reparse run."""
    verb = "would change" if report.dry_run else "changed"
    lines = [
        f"parser version {report.parser_version}: {report.examined} version(s) re-parsed "
        f"in {report.batches} batch(es), {report.changed} {verb}, "
        f"{report.already_current} already at this parser version"
        + (" (dry run: nothing written)" if report.dry_run else ""),
    ]
    if report.fields:
        lines.append(f"versions {verb}, per column:")
        lines.extend(f"  {name:<16} {count}" for name, count in sorted(report.fields.items()))
    if report.section_values:
        lines.append(f"sections {verb}, per value:")
        lines.extend(
            f"  {name:<16} {count}" for name, count in sorted(report.section_values.items())
        )
    if report.identical:
        lines.append(
            f"{len(report.identical)} pair(s) of consecutive versions now have the same "
            "content (kept as they are; see `govarchive history URL --diff A B`):"
        )
        lines.extend(f"  {p.url}: versions {p.older} and {p.newer}" for p in report.identical)
    if report.failed:
        lines.append(
            f"{report.failed} version(s) could not be re-parsed and were left unchanged "
            "(a later run retries them):"
        )
        lines.extend(
            f"  version id {f.version_id} (page {f.page_id}): {f.error}" for f in report.failures
        )
    if report.changes is not None:
        lines.append(f"versions {verb}, with their values old → new:")
        lines.extend(line for change in report.changes for line in render_change(change))
    return lines


def render_change(change: VersionChange) -> list[str]:
    """Return the text lines of one changed version: URL, version, each value old → new."""
    lines = [f"  {change.url} version {change.version} (version id {change.version_id})"]
    lines.extend(
        f"    {name}: {_shown(old)} → {_shown(new)}" for name, (old, new) in change.values.items()
    )
    return lines


def _shown(value: object) -> str:
    """A value on one line, cut to LIST_WIDTH characters; strings quoted, None as null."""
    if value is None:
        return "null"
    text = value.isoformat() if isinstance(value, date) else value
    shown = json.dumps(text, ensure_ascii=False, default=str)
    return shown if len(shown) <= LIST_WIDTH else shown[: LIST_WIDTH - 1] + "…"


@click.command("reparse")
@config_option
@database_option
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Only versions of this source (repeatable). Default: every source.",
)
@click.option(
    "--since",
    type=SINCE,
    default=None,
    help="Only versions fetched on or after this UTC date (YYYY-MM-DD) or ISO datetime.",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--list",
    "list_changes",
    is_flag=True,
    help="List each version that changes (URL, version) with its values old → new "
    "(held in memory: narrow a large archive with --source/--since).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Versions per transaction (a killed run loses at most one batch).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that parse each batch. Default: one per CPU.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reparse_command(
    config_path: Path | None,
    database: str | None,
    sources: tuple[str, ...],
    since: datetime | None,
    dry_run: bool,
    batch_size: int,
    list_changes: bool,
    workers: int | None,
    as_json: bool,
) -> None:
    """Re-parse stored pages with this version's parser and fix their parsed columns.

    Runs the parser over the raw bytes stored with every version not yet parsed by
    this parser version, rewrites the columns and task sections that differ, and
    sets parser_version. The text of their attachments is read again from the stored
    files, and rewritten where it differs. It never fetches and never creates, deletes
    or merges a version; consecutive versions that become identical are reported. Each batch is
    one transaction and finished versions are skipped, so an interrupted run simply
    continues when started again. Each batch is parsed in --workers processes.
    Exit status 1 if some versions could not be parsed.
    With --list (best with --dry-run), each changed version is listed with its values
    old → new.
    """
    parse, version = current_parser()
    engine = open_archive(database, config_path, create=False)
    console = Console(stderr=True)
    try:
        with translated_errors(), ExitStack() as stack:
            parse_many = stack.enter_context(BatchParser(workers or os.cpu_count() or 1, parse))
            on_batch = None
            if console.is_terminal and not as_json:
                on_batch = stack.enter_context(_progress_bar(console))
            report = reparse(
                engine,
                parse,
                version,
                sources=sources,
                since=since,
                dry_run=dry_run,
                batch_size=batch_size,
                on_batch=on_batch,
                extract=read_file_to_dict,
                list_changes=list_changes,
                parse_many=parse_many,
            )
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(render_report(report)))
    if report.failed:
        raise WorkFailed(f"{report.failed} version(s) could not be re-parsed")


@contextmanager
def _progress_bar(console: Console) -> Iterator[Callable[[ReparseReport], None]]:
    """Show a progress bar on ``console``; yield the callback that moves it per batch."""
    with Progress(
        TextColumn("re-parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[changed]} changed"),
        console=console,
    ) as progress:
        task = progress.add_task("reparse", total=None, changed=0)

        def show(report: ReparseReport) -> None:
            progress.update(
                task, total=report.candidates, completed=report.examined, changed=report.changed
            )

        yield show
