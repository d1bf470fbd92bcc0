"""``govarchive export``: write a citable dataset (CSV, JSON Lines or Parquet + manifest)."""

from __future__ import annotations

import shlex
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from scraper import __version__
from scraper.commands.common import (
    BadUsage,
    WorkFailed,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.commands.dates import SINCE, UNTIL
from storage.engine import redact_url
from storage.export import (
    DATASETS,
    FORMATS,
    ExportError,
    ExportFilters,
    ExportWriteError,
    FileSummary,
    TimeStyle,
    export,
)

#: The display zone of timestamps in CSV and JSON Lines unless --tz says otherwise: the
#: sites' own, so a time reads as the page and its publisher give it.
DEFAULT_ZONE = "Asia/Shanghai"

#: A calendar date (YYYY-MM-DD), for the published-date filters.
_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _command_line(
    fmt: str,
    what: tuple[str, ...],
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    published: tuple[date | None, date | None],
    out: Path,
    times: TimeStyle,
    bom: bool,
    attachment_files: bool,
    database: str | None,
    config_path: Path | None,
) -> str:
    """The command as it can be re-run (database password redacted), for the manifest.
    ``until`` is the exclusive bound, so a date given as --until appears as the next
    day's midnight, which selects the same rows."""
    words = ["govarchive", "export", "--format", fmt]
    for name in what:
        words += ["--what", name]
    for name in sources:
        words += ["--source", name]
    if since:
        words += ["--since", since]
    if until:
        words += ["--until", until]
    for option, day in zip(("--published-since", "--published-until"), published, strict=True):
        if day is not None:
            words += [option, day.isoformat()]
    words += ["--tz", times.zone_name]
    if times.excel:
        words.append("--excel")
    elif bom:
        words.append("--bom")
    if attachment_files:
        words.append("--attachment-files")
    if database:
        words += ["--database", redact_url(database)]
    if config_path:
        words += ["--config", str(config_path)]
    words += ["--out", str(out)]
    return shlex.join(words)


@click.command("export")
@config_option
@database_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="File format. parquet needs the optional extra: pip install 'govarchive[parquet]'.",
)
@click.option(
    "--what",
    "what",
    type=click.Choice(list(DATASETS)),
    multiple=True,
    required=True,
    help="Dataset to export (repeatable): latest (newest version of each page), versions, "
    "sections (task sections of every version), fetches (every fetch attempt) or "
    "attachments (the files each version's page linked, with the version's page, title, "
    "publisher and published date).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Only rows of this source (repeatable). Default: every source.",
)
@click.option(
    "--since",
    type=SINCE,
    default=None,
    help="Only versions fetched (fetches requested) on or after this UTC date or ISO datetime.",
)
@click.option(
    "--until",
    type=UNTIL,
    default=None,
    help="Only rows up to this UTC date (inclusive) or before this ISO datetime; for "
    "`latest`, each page as it stood then.",
)
@click.option(
    "--published-since",
    type=_DAY,
    default=None,
    metavar="DATE",
    help="Only versions published (the page's 发布日期) on or after this date; "
    "not with --what fetches.",
)
@click.option(
    "--published-until",
    type=_DAY,
    default=None,
    metavar="DATE",
    help="Only versions published on or before this date (inclusive).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory to write the files and manifest.json to (created if missing).",
)
@click.option("--bom", is_flag=True, help="Start CSV files with a UTF-8 BOM (for Excel).")
@click.option(
    "--tz",
    "zone",
    default=DEFAULT_ZONE,
    show_default=True,
    metavar="ZONE",
    help="Time zone (IANA name, e.g. UTC) timestamps are written in, in CSV and JSON Lines, "
    "with their offset. The archive stores UTC; Parquet keeps UTC-aware timestamps.",
)
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for Excel: a UTF-8 BOM and timestamps as YYYY-MM-DD HH:MM:SS in the --tz zone, "
    "without an offset.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an earlier export in --out: every file its manifest.json lists is replaced "
    "or removed; other files are kept (with a note).",
)
@click.option(
    "--attachment-files",
    is_flag=True,
    help="With --what attachments: also write the bytes of every file its rows name, once "
    "each, to --out/attachments/<sha256>.<ext> (SHA-256 and size in manifest.json). Rows "
    "whose file was never downloaded (sha256 empty) have none.",
)
def export_command(
    config_path: Path | None,
    database: str | None,
    fmt: str,
    what: tuple[str, ...],
    sources: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    published_since: datetime | None,
    published_until: datetime | None,
    out: Path,
    bom: bool,
    zone: str,
    excel: bool,
    overwrite: bool,
    attachment_files: bool,
) -> None:
    """Export archive data to files, with a manifest.json for citing the dataset.

    Writes one file per --what into --out, then manifest.json: the command line, the
    database's schema revision, the parser versions present, row counts, the time
    range and the SHA-256 of every file. Rows are streamed, so the archive's size
    does not matter. Timestamps in CSV and JSON Lines are ISO 8601 in --tz (default
    Asia/Shanghai, with the offset: the database stays UTC); Parquet keeps UTC-aware
    timestamps, which readers show in any zone. --excel: CSV with a BOM and local times
    as YYYY-MM-DD HH:MM:SS. The manifest records the zone. Reads the archive only.

    --published-since and --published-until select versions by the date the page says
    it was published (latest: each page's newest version), whenever it was fetched.

    A dataset with no rows is a warning on stderr naming the filters that excluded
    everything; its file (a CSV header only) and manifest.json are still written.

    --what attachments has one row per file a selected version's page linked (selected
    by --source, --since, --until and the published-date options on the version), with
    its page URL, version number, title, publisher and published date; --attachment-files
    adds the files themselves, each once, checked against their SHA-256.

    Files appear only when the whole export succeeded; one that fails (a full disk, a
    read-only folder) names the file and the problem, exits 1 (2 when --out cannot be
    a folder; 3 when a file's stored bytes are missing or damaged, naming its SHA-256
    and version) and leaves --out as it was.
    """
    published = (
        published_since.date() if published_since else None,
        published_until.date() if published_until else None,
    )
    filters = ExportFilters(
        sources=sources,
        since=since,
        until=until,
        published_since=published[0],
        published_until=published[1],
    )
    if excel and fmt != "csv":
        raise BadUsage(f"--excel writes CSV; it cannot be combined with --format {fmt}")
    times = TimeStyle(_zone(zone), zone, excel)
    bom = bom or excel
    command = _command_line(
        fmt,
        what,
        sources,
        since.isoformat() if since else None,
        until.isoformat() if until else None,
        published,
        out,
        times,
        bom,
        attachment_files,
        database,
        config_path,
    )
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            try:
                result = export(
                    engine,
                    out,
                    datasets=what,
                    fmt=fmt,  # type: ignore[arg-type]
                    filters=filters,
                    bom=bom,
                    times=times,
                    overwrite=overwrite,
                    attachment_files=attachment_files,
                    command=command,
                    generator=f"govarchive {__version__}",
                )
            except ExportWriteError as exc:  # a full disk, a read-only folder, a bad path
                raise (BadUsage if exc.bad_path else WorkFailed)(str(exc)) from exc
            except ExportError as exc:
                raise BadUsage(str(exc)) from exc
    finally:
        engine.dispose()
    for summary in result.files:
        click.echo(
            f"{out / summary.name}: {summary.rows} rows, {summary.bytes:,} bytes, "
            f"sha256 {summary.sha256}"
        )
    if attachment_files:
        size = sum(f.bytes for f in result.attachment_files)
        click.echo(
            f"{out / 'attachments'}: {len(result.attachment_files)} files, {size:,} bytes, "
            "each named by its sha256"
        )
    click.echo(f"{out / 'manifest.json'}: what was exported, from where, and the files' hashes")
    if result.removed:
        click.echo(
            f"removed {len(result.removed)} files of the earlier export that this one does "
            f"not have: {', '.join(result.removed)}"
        )
    for name in result.kept:
        click.echo(
            f"note: kept {out / name}: neither this export nor the earlier one lists it", err=True
        )
    for summary in result.files:
        if summary.rows == 0:
            click.echo(_empty_warning(summary, filters), err=True)


def _zone(name: str) -> ZoneInfo:
    """The zone ``name`` names; BadUsage (exit 2) naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadUsage(
            f"--tz {name!r} is not a time zone; give an IANA name such as Asia/Shanghai or UTC"
        ) from exc


def _empty_warning(summary: FileSummary, filters: ExportFilters) -> str:
    """The warning for a dataset the filters left empty, naming the filters."""
    given = [f"--source {name}" for name in filters.sources]
    bounds = {
        "--since": filters.since,
        "--until (exclusive)": filters.until,
        "--published-since": filters.published_since,
        "--published-until": filters.published_until,
    }
    given += [f"{option} {value.isoformat()}" for option, value in bounds.items() if value]
    why = (
        f"the filters {', '.join(given)} excluded every row"
        if given
        else "the archive holds none (no filter was given)"
    )
    return f"warning: {summary.name} has no rows: {why}"
