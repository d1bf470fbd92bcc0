"""``govarchive export``: write a citable dataset (CSV, JSON Lines or Parquet + manifest),
or with ``--format warc`` the archived pages as WARC/1.1 files (storage.warcexport)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from click.core import ParameterSource

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
from storage.warcexport import DEFAULT_MAX_BYTES, export_warc

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
    if fmt != "warc":  # a WARC has no local times
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
    type=click.Choice([*FORMATS, "warc"]),
    default="csv",
    show_default=True,
    help="File format. parquet needs the optional extra: pip install 'govarchive[parquet]'. "
    "warc: every stored version's page as served (and its attachments) as WARC/1.1 "
    "files for replay (pywb, ReplayWeb.page); no --what.",
)
@click.option(
    "--what",
    "what",
    type=click.Choice(list(DATASETS)),
    multiple=True,
    help="Dataset to export (repeatable; required but with --format warc): latest (newest "
    "version of each page), versions, "
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
@click.option(
    "--warc-max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    metavar="BYTES",
    help="With --format warc: begin the next .warc.gz file once one passes this size.",
)
@click.pass_context
def export_command(
    ctx: click.Context,
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
    warc_max_bytes: int,
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

    --format warc writes govarchive-<UTC time>-00000.warc.gz (the next -00001 … once one
    passes --warc-max-bytes, 1 GB) instead: a warcinfo record, a response record per
    stored version (its HTTP status and headers as served; headers made up and marked
    WARC-Govarchive-Headers: synthesized for versions archived before they were kept),
    and one per attachment file; manifest.json lists the files' SHA-256. --source,
    --since, --until and the published-date options select versions; --what, --tz,
    --excel, --bom and --attachment-files do not apply and are refused.

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
    if fmt == "warc":
        _refuse_with_warc(ctx)
    elif not what:
        raise BadUsage("Missing option '--what': choose the datasets to export")
    elif ctx.get_parameter_source("warc_max_bytes") is not ParameterSource.DEFAULT:
        raise BadUsage("--warc-max-bytes applies to --format warc only")
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
    if fmt == "warc":
        if warc_max_bytes != DEFAULT_MAX_BYTES:
            command += f" --warc-max-bytes {warc_max_bytes}"
        _export_warc(database, config_path, out, filters, command, overwrite, warc_max_bytes)
        return
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
    _echo_manifest(out, result.removed, result.kept)
    for summary in result.files:
        if summary.rows == 0:
            click.echo(_empty_warning(summary, filters), err=True)


#: Options of the dataset formats that a WARC export has no use for, by parameter name.
_NOT_WITH_WARC = {
    "what": "--what",
    "zone": "--tz",
    "excel": "--excel",
    "bom": "--bom",
    "attachment_files": "--attachment-files",
}


def _refuse_with_warc(ctx: click.Context) -> None:
    """BadUsage (exit 2) naming every option given on the command line that --format
    warc does not use (a WARC holds pages as served, not datasets or local times)."""
    given = [
        option
        for name, option in _NOT_WITH_WARC.items()
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    ]
    if given:
        raise BadUsage(
            f"{', '.join(given)} cannot be used with --format warc: a WARC export writes "
            "every selected version as served (and its attachment files), without datasets "
            "or time zones; leave them out"
        )


def _export_warc(
    database: str | None,
    config_path: Path | None,
    out: Path,
    filters: ExportFilters,
    command: str,
    overwrite: bool,
    max_bytes: int,
) -> None:
    """Run a WARC export and report its files, as the dataset export does."""
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            try:
                result = export_warc(
                    engine,
                    out,
                    filters=filters,
                    overwrite=overwrite,
                    max_bytes=max_bytes,
                    command=command,
                    generator=f"govarchive {__version__}",
                )
            except ExportWriteError as exc:
                raise (BadUsage if exc.bad_path else WorkFailed)(str(exc)) from exc
            except ExportError as exc:
                raise BadUsage(str(exc)) from exc
    finally:
        engine.dispose()
    for warc in result.files:
        click.echo(
            f"{out / warc.name}: {warc.records} records, {warc.bytes:,} bytes, sha256 {warc.sha256}"
        )
    click.echo(
        f"{result.versions} versions and {result.attachments} attachment files as response records"
    )
    _echo_manifest(out, result.removed, result.kept)
    if result.versions == 0:
        click.echo(
            "warning: no versions were exported: the archive or the filters selected none",
            err=True,
        )


def _echo_manifest(out: Path, removed: Sequence[str], kept: Sequence[str]) -> None:
    """Name the manifest, and what --overwrite removed of the earlier export and left."""
    click.echo(f"{out / 'manifest.json'}: what was exported, from where, and the files' hashes")
    if removed:
        click.echo(
            f"removed {len(removed)} files of the earlier export that this one does "
            f"not have: {', '.join(removed)}"
        )
    for name in kept:
        click.echo(
            f"note: kept {out / name}: neither this export nor the earlier one lists it", err=True
        )


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
