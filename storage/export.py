"""Export the archive to files a researcher can cite: CSV, JSON Lines or Parquet,
plus ``manifest.json``.

- :func:`export` — write one file per dataset (``latest``, ``versions``, ``sections``,
  ``fetches``, ``attachments``) into a directory, then ``manifest.json``: the command
  line, the database's schema revision, the parser versions present, row counts, time
  ranges and the SHA-256 of every file, so a dataset can be cited and checked later.
  With ``attachment_files``, also the bytes of every file the ``attachments`` rows name,
  once each (:mod:`storage.exportattachments`), listed with their SHA-256 in the
  manifest's ``attachment_files``.
- :data:`DATASETS` — what each dataset holds and which column ``since``/``until`` filter.
  ``published_since``/``published_until`` filter every dataset but ``fetches`` on the
  version's ``published_date`` (``latest``: the newest version's).

Rows are streamed from a server-side cursor (``yield_per``) and written batch by batch,
so memory stays flat however large the archive is. All files of one export are read in
one transaction with one snapshot, so they agree with each other even while a crawl
writes. Each file is written under a ``.partial`` name; when every file and the manifest
are complete they are renamed into place, the manifest last, so a killed export never
leaves a file that looks finished. An export that fails (a full disk, a read-only folder,
a database error) removes its ``.partial`` files and any folder it created, and leaves
the files of an earlier export in ``--out`` as they were; ExportWriteError names the file
and the problem. Reads only; never writes the database.

The columns are read from the models (storage/models.py), never listed again here:
``versions``, ``sections``, ``fetches`` and ``attachments`` hold every column of their
table (``id`` named ``version_id``, ``section_id``, ``fetch_id``, ``attachment_id``) with
their page's and source's names beside them (``attachments`` also the version's number,
date, title, publisher and published date; ``sections`` the report's title as
``report_title``, its publisher and published date); ``latest`` holds the columns of the
``latest_versions`` view, which leaves out what :data:`LATEST_LEAVES_OUT` names, and
last a ``citation`` of each version (:mod:`storage.citation`, as `govarchive cite` writes
it). Each
column's kind (int, bool, text, date, timestamp, json) follows its SQL type. The columns
a dataset had when this rule was introduced keep their order (:data:`FIRST_COLUMNS`); a
column a model gains later comes after them, in model order, so a script that reads a
file by column position keeps working (``fetches`` gained ``final_url``,
``content_hash`` and ``attachment`` so). Timestamps are ISO 8601 in UTC unless a
:class:`TimeStyle` asks for another zone or the spreadsheet form (Parquet: UTC), dates
``YYYY-MM-DD``, booleans ``true``/``false`` in CSV and booleans elsewhere, JSON columns
JSON text in CSV and Parquet and nested objects in JSON Lines; NULL is an empty CSV field.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Engine,
    Integer,
    Select,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement, Label

from storage.citation import latest_row_citation
from storage.engine import database_errors, describe
from storage.exportattachments import (
    FOLDER,
    FileCollector,
    WantedFile,
    WrittenFile,
    write_attachment_file,
)
from storage.exportfiles import (
    FORMATS,
    PATH_ERRORS,
    UTC_ISO,
    Format,
    Kind,
    TimeStyle,
    file_sha256,
    iso_utc,
    open_writer,
    os_error_number,
    os_problem,
    partial_path,
)
from storage.migrate import current_revision
from storage.models import (
    ATTACHMENTS,
    FETCHES,
    PAGE_VERSIONS,
    PAGES,
    SOURCES,
    TASK_SECTIONS,
    Attachment,
    CrawlRun,
    Fetch,
    Page,
    PageVersion,
    Source,
    TaskSection,
)
from storage.selection import resolve_sources
from storage.types import UTCDateTime

__all__ = [
    "DATASETS",
    "FIRST_COLUMNS",
    "FORMATS",
    "LATEST_LEAVES_OUT",
    "Dataset",
    "ExportError",
    "ExportFilters",
    "ExportResult",
    "ExportWriteError",
    "FileSummary",
    "Format",
    "TimeStyle",
    "export",
    "file_sha256",
    "parquet_available",
    "verify_manifest",
]

#: File name extension of each format.
EXTENSIONS: dict[str, str] = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
#: Rows fetched from the database and written per batch.
DEFAULT_BATCH_SIZE = 2000
MANIFEST_NAME = "manifest.json"

#: A SELECT of any columns.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


class ExportError(Exception):
    """An export that cannot be done as asked (bad format, missing pyarrow, files in the way)."""


class ExportWriteError(ExportError):
    """A file or folder of the export could not be written: ``path`` and the problem are
    in the message. ``bad_path`` is True when the path cannot be what was asked (a file
    where a folder must be, a missing folder) rather than writing having failed (a full
    disk, a read-only file system, no permission)."""

    def __init__(self, path: Path, exc: OSError, *, doing: str = "write") -> None:
        self.path = path
        self.bad_path = os_error_number(exc) in PATH_ERRORS
        super().__init__(f"cannot {doing} {path}: {os_problem(exc)}")


@dataclass(frozen=True, slots=True)
class Dataset:
    """One exportable dataset: its columns (name, kind) and the SQL expressions that
    give them (``selected``, labelled, in the same order; columns computed per row,
    :data:`COMPUTED_COLUMNS`, follow them), and the column the time filters and the
    manifest's time range use."""

    name: str
    description: str
    columns: tuple[tuple[str, Kind], ...]
    time_column: str
    has_parser_version: bool
    selected: tuple[Label[Any], ...] = field(repr=False, compare=False)


#: The columns of each dataset when its columns began to be read from the models, in
#: the order files have had them since (schema revision 0003). Frozen: researchers'
#: scripts read the files by position as well as by name. Never edit it to add a
#: column: a column a model gains is exported after these by itself (:func:`_ordered`).
#: (``info_source`` was named ``source`` before revision 0007: renamed in place, so it
#: keeps its position.)
_FIELDS_0003 = (
    "title",
    "index_no",
    "category",
    "publisher",
    "topic",
    "doc_number",
    "published_date",
    "published_at",
    "written_date",
    "effective_date",
    "expiry_date",
    "validity",
    "info_source",
    "keywords",
    "summary",
)
FIRST_COLUMNS: dict[str, tuple[str, ...]] = {
    "latest": (
        "page_id",
        "source_id",
        "source_name",
        "url",
        "first_seen_at",
        "last_fetched_at",
        "last_changed_at",
        "gone_at",
        "version_id",
        "version",
        "fetched_at",
        "content_hash",
        "raw_hash",
        *_FIELDS_0003,
        "metadata_extra",
        "body_text",
        "encoding",
        "parser_version",
        "warnings",
    ),
    "versions": (
        "version_id",
        "page_id",
        "source_name",
        "url",
        "version",
        "fetched_at",
        "content_hash",
        "raw_hash",
        "content_type",
        *_FIELDS_0003,
        "metadata_extra",
        "body_text",
        "encoding",
        "encoding_source",
        "parser_version",
        "warnings",
    ),
    "sections": (
        "section_id",
        "version_id",
        "page_id",
        "source_name",
        "url",
        "version",
        "fetched_at",
        "number",
        "title",
        "status",
        "progress",
        "problems",
        "next_steps",
        "extra",
        "parser_version",
    ),
    "fetches": (
        "fetch_id",
        "crawl_run_id",
        "source_name",
        "page_id",
        "url",
        "requested_at",
        "http_status",
        "outcome",
        "error",
        "elapsed_ms",
        "bytes",
        "raw_hash",
        "version_id",
    ),
    # Since revision 0005 (attachments): the attachment's key and what identifies its
    # version, then every column of the table in model order.
    "attachments": (
        "attachment_id",
        "version_id",
        "page_id",
        "source_name",
        "page_url",
        "version",
        "version_fetched_at",
        "title",
        "publisher",
        "published_date",
        "position",
        "url",
        "link_text",
        "filename",
        "kind",
        "content_type",
        "size",
        "sha256",
        "text",
        "extractor",
        "extract_error",
        "download_error",
        "fetched_at",
        "etag",
        "last_modified",
        "parser_version",
    ),
}

#: Columns the ``latest`` dataset leaves out, by table: those the ``latest_versions``
#: view leaves out, so that the file and the view agree (a test holds them equal).
#: ``etag`` and ``last_modified`` are the crawler's cache validators, not what the page
#: said; ``page_id`` repeats ``pages.id``; ``content_type`` and ``encoding_source`` say
#: how a version was read and are in ``versions``, as are ``http_status`` and
#: ``response_headers`` (how it was served). Every other column of ``pages`` and
#: ``page_versions`` is in ``latest``, so a new metadata field is too.
LATEST_LEAVES_OUT: dict[str, tuple[str, ...]] = {
    "pages": ("etag", "last_modified"),
    "page_versions": (
        "page_id",
        "content_type",
        "encoding_source",
        "http_status",
        "response_headers",
    ),
}

# Tables with no dataset of their own: ``blobs`` and ``blob_dicts`` (the raw bytes,
# compressed; `govarchive raw` gives a version's bytes exactly as served), ``sources``
# (its name is in every dataset; its config is the user's config.yaml) and
# ``crawl_runs`` (bookkeeping that `govarchive status` reports; ``fetches`` has the
# requests themselves).


def column_kind(column: ColumnElement[Any]) -> Kind:
    """Return how a column is written to a file (see storage.exportfiles), by its SQL type.

    Raises TypeError for a type no file format here can hold (e.g. a binary column):
    give it a kind in storage/exportfiles.py, or leave its column out of the dataset."""
    sql_type = column.type
    if isinstance(sql_type, UTCDateTime):
        return "timestamp"
    if isinstance(sql_type, Date):
        return "date"
    if isinstance(sql_type, Integer):
        return "int"
    if isinstance(sql_type, Boolean):
        return "bool"
    if isinstance(sql_type, JSON):
        return "json"
    if isinstance(sql_type, String):
        return "text"
    raise TypeError(f"no export kind for column {column} of type {sql_type!r}")


def _table_columns(table: Table, *, key: str, leave_out: tuple[str, ...] = ()) -> list[Label[Any]]:
    """Every column of ``table`` in model order, ``id`` labelled ``key``, minus ``leave_out``."""
    return [
        column.label(key if column.name == "id" else column.name)
        for column in table.columns
        if column.name not in leave_out
    ]


def _ordered(name: str, columns: list[Label[Any]]) -> tuple[Label[Any], ...]:
    """Return ``columns`` in the dataset's :data:`FIRST_COLUMNS` order, then the others in
    the order given (model order). A first column no model has any longer is skipped."""
    by_name = {column.name: column for column in columns}
    first = FIRST_COLUMNS.get(name, ())
    return (
        *(by_name[n] for n in first if n in by_name),
        *(column for column in columns if column.name not in first),
    )


def _dataset(name: str, description: str, time_column: str, columns: list[Label[Any]]) -> Dataset:
    selected = _ordered(name, columns)
    names = [column.name for column in selected]
    return Dataset(
        name,
        description,
        tuple((column.name, column_kind(column)) for column in selected),
        time_column,
        "parser_version" in names,
        selected,
    )


DATASETS: dict[str, Dataset] = {
    "latest": _dataset(
        "latest",
        "one row per page: its newest version (as of --until) with the page's dates",
        "fetched_at",
        [
            *_table_columns(PAGES, key="page_id", leave_out=LATEST_LEAVES_OUT["pages"]),
            SOURCES.c.name.label("source_name"),
            *_table_columns(
                PAGE_VERSIONS, key="version_id", leave_out=LATEST_LEAVES_OUT["page_versions"]
            ),
        ],
    ),
    "versions": _dataset(
        "versions",
        "one row per page version (page_versions with its page's URL and source)",
        "fetched_at",
        [
            *_table_columns(PAGE_VERSIONS, key="version_id"),
            SOURCES.c.name.label("source_name"),
            PAGES.c.url.label("url"),
        ],
    ),
    "sections": _dataset(
        "sections",
        "one row per task section of every version, with the version's page, date, and "
        "the report's title, publisher and published date",
        "fetched_at",
        [
            # Added after FIRST_COLUMNS: the report's own title, publisher and date, so a
            # section can be read without joining latest or versions. Listed first so that
            # a column task_sections gains later comes after them and they keep their places.
            PAGE_VERSIONS.c.title.label("report_title"),
            PAGE_VERSIONS.c.publisher.label("publisher"),
            PAGE_VERSIONS.c.published_date.label("published_date"),
            *_table_columns(TASK_SECTIONS, key="section_id"),
            PAGE_VERSIONS.c.page_id.label("page_id"),
            SOURCES.c.name.label("source_name"),
            PAGES.c.url.label("url"),
            PAGE_VERSIONS.c.version.label("version"),
            PAGE_VERSIONS.c.fetched_at.label("fetched_at"),
            PAGE_VERSIONS.c.parser_version.label("parser_version"),
        ],
    ),
    "fetches": _dataset(
        "fetches",
        "one row per fetch attempt, whatever its outcome",
        "requested_at",
        [
            *_table_columns(FETCHES, key="fetch_id"),
            SOURCES.c.name.label("source_name"),
        ],
    ),
    "attachments": _dataset(
        "attachments",
        "one row per attachment (a file a version's page linked) of every version, with "
        "the version's page, number, date, title, publisher and published date; the bytes "
        "are not in it (--attachment-files writes them)",
        "version_fetched_at",
        [
            *_table_columns(ATTACHMENTS, key="attachment_id"),
            PAGE_VERSIONS.c.page_id.label("page_id"),
            SOURCES.c.name.label("source_name"),
            PAGES.c.url.label("page_url"),
            PAGE_VERSIONS.c.version.label("version"),
            PAGE_VERSIONS.c.fetched_at.label("version_fetched_at"),
            PAGE_VERSIONS.c.title.label("title"),
            PAGE_VERSIONS.c.publisher.label("publisher"),
            PAGE_VERSIONS.c.published_date.label("published_date"),
            PAGE_VERSIONS.c.parser_version.label("parser_version"),
        ],
    ),
}


#: Columns computed per row rather than selected, last in their dataset: ``latest``'s
#: ``citation`` (storage.citation's text style, the same as `govarchive cite`'s).
COMPUTED_COLUMNS: dict[str, tuple[tuple[str, Kind], ...]] = {"latest": (("citation", "text"),)}
for _name, _computed in COMPUTED_COLUMNS.items():
    DATASETS[_name] = replace(DATASETS[_name], columns=DATASETS[_name].columns + _computed)


def _with_citations(
    batches: Iterable[Sequence[Any]], dataset: Dataset, generator: str
) -> Iterator[Sequence[Any]]:
    """Yield each batch of ``latest`` rows with its citation appended to every row."""
    names = [name for name, _ in dataset.columns[: len(dataset.selected)]]
    for batch in batches:
        yield [
            (*row, latest_row_citation(dict(zip(names, row, strict=True)), generator))
            for row in batch
        ]


@dataclass(frozen=True, slots=True)
class ExportFilters:
    """Which rows to export: sources by name (empty: all), ``since <= time < until`` on
    the dataset's time column (aware datetimes; None: unbounded), and
    ``published_since <= published_date <= published_until`` on the version's
    published date (both ends inclusive; a version without one is left out as soon as
    either is given). The ``fetches`` dataset has no published date: :func:`export`
    refuses the published filters with it."""

    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    published_since: date | None = None
    published_until: date | None = None

    @property
    def by_published_date(self) -> bool:
        """Whether either published-date bound is given."""
        return self.published_since is not None or self.published_until is not None


@dataclass(slots=True)
class FileSummary:
    """What :func:`export` wrote for one dataset."""

    dataset: str
    name: str
    rows: int = 0
    bytes: int = 0
    sha256: str = ""
    first: datetime | None = None
    last: datetime | None = None
    parser_versions: set[str] = field(default_factory=set)

    def to_dict(self, dataset: Dataset) -> dict[str, Any]:
        """Return this file's manifest entry."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "description": dataset.description,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "columns": [name for name, _ in dataset.columns],
            "time_column": dataset.time_column,
            "time_range": _range(self.first, self.last),
            "parser_versions": sorted(self.parser_versions),
        }


@dataclass(frozen=True, slots=True)
class ExportResult:
    """The files written and the manifest (as written to ``manifest.json``);
    ``attachment_files`` the attachments' bytes written (with ``attachment_files``).
    With ``overwrite``: ``removed``, the files of the earlier export (as its manifest
    listed them) this one did not write again and so removed, and ``kept``, the files in
    ``out_dir`` neither manifest lists, left where they were; both relative to
    ``out_dir``, sorted."""

    files: tuple[FileSummary, ...]
    manifest: dict[str, Any]
    attachment_files: tuple[WrittenFile, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


def parquet_available() -> bool:
    """Return True when pyarrow (the ``govarchive[parquet]`` extra) can be imported."""
    return importlib.util.find_spec("pyarrow") is not None


def export(
    engine: Engine,
    out_dir: Path,
    *,
    datasets: Sequence[str],
    fmt: Format,
    filters: ExportFilters | None = None,
    bom: bool = False,
    times: TimeStyle = UTC_ISO,
    overwrite: bool = False,
    attachment_files: bool = False,
    command: str = "",
    generator: str = "govarchive",
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_rows: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write each of ``datasets`` to ``out_dir/<dataset>.<ext>`` and then
    ``out_dir/manifest.json``; return what was written.

    ``times`` says how CSV and JSON Lines write timestamps (zone, ISO or spreadsheet
    style; Parquet keeps UTC); the manifest records it.
    ``bom`` starts CSV files with a UTF-8 byte order mark (for spreadsheet programs
    that otherwise guess a legacy encoding). ``attachment_files`` (with the
    ``attachments`` dataset) also writes the bytes of each distinct file its rows name
    to ``out_dir/attachments/<sha256>.<ext>``, checked against their SHA-256 once
    written. ``command`` and ``generator`` are recorded in the manifest.
    ``on_rows(dataset, n)`` is called after every batch.
    Raises ExportError for an unknown dataset or format, a missing pyarrow, the
    published-date filters with the ``fetches`` dataset,
    ``attachment_files`` without the ``attachments`` dataset, or files already in
    ``out_dir`` (unless ``overwrite``: then, once the new export is complete, every file
    the earlier export's manifest listed that this one did not write again is removed,
    and nothing else); ExportWriteError for a file or folder that cannot
    be written (nothing is left half-written); UnknownRecordError for a source name the
    archive does not hold; BlobError (naming the file's SHA-256 and a version linking it)
    for an attachment file whose stored bytes are missing or corrupt. Reads the database
    only.
    """
    filters = filters or ExportFilters()
    chosen = _check_request(
        datasets, fmt, out_dir, overwrite=overwrite, attachment_files=attachment_files
    )
    if filters.by_published_date and "fetches" in datasets:
        raise ExportError(
            "fetches have no published date: --published-since/--published-until select "
            "versions (latest, versions, sections, attachments); export fetches separately "
            "with --since/--until on the time they were requested"
        )
    files: list[WrittenFile] = []
    with Staging(out_dir, overwrite=overwrite) as staged:
        written = staged.written  # complete files still under their .partial names
        revision = current_revision(engine)
        with database_errors(engine, "exporting"), read_snapshot(engine) as conn:
            source_ids = resolve_sources(conn, filters.sources)
            summaries: list[FileSummary] = []
            collector: FileCollector | None = None
            for dataset in chosen:
                summary = FileSummary(dataset.name, f"{dataset.name}.{EXTENSIONS[fmt]}")
                stmt = _statement(dataset, source_ids, filters)
                rows = _stream(conn, stmt, batch_size)
                if dataset.name == "latest":
                    rows = _with_citations(rows, dataset, generator)
                if attachment_files and dataset.name == "attachments":
                    collector = FileCollector([name for name, _ in dataset.columns])
                    rows = collector.watch(rows)
                path = out_dir / summary.name
                written.append(path)
                _write_file(path, fmt, dataset, rows, summary, (bom, times), on_rows)
                summaries.append(summary)
            if collector is not None:
                folder = out_dir / FOLDER
                staged.make_folder(folder)
                files = _write_attachment_files(conn, folder, collector.files.values(), written)
        manifest = _manifest(
            engine,
            chosen,
            summaries,
            fmt=fmt,
            filters=filters,
            bom=bom,
            times=times,
            revision=revision,
            command=command,
            generator=generator,
            attachment_files=files if attachment_files else None,
        )
        staged.publish(manifest)
    removed, kept = staged.settle()
    return ExportResult(tuple(summaries), manifest, tuple(files), tuple(removed), tuple(kept))


class Staging:
    """One export's files, written under ``.partial`` names and put in place together
    once every one is complete, the manifest last, so that a killed export never leaves a
    file that looks finished. Around the writing as a context manager: on any failure the
    partial files, and the folders the export created, are removed (files of an earlier
    export are never touched). Then :meth:`settle` does what ``--overwrite`` asks."""

    def __init__(self, out_dir: Path, *, overwrite: bool) -> None:
        self.out_dir = out_dir
        self.overwrite = overwrite
        self.earlier = _earlier_export(out_dir) if overwrite else set()
        self.created = _make_folder(out_dir)
        #: every file of the export, in the order written, for renaming or removal
        self.written: list[Path] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            for path in self.written:
                _remove(partial_path(path))
            for folder in reversed(self.created):
                _remove(folder)

    def make_folder(self, folder: Path) -> None:
        """Create ``folder`` (and parents) for the export's files; removed on failure."""
        self.created += _make_folder(folder)

    def publish(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json``, then rename every file into place, the manifest last:
        the export is finished when it is there."""
        path = self.out_dir / MANIFEST_NAME
        self.written.append(path)
        _write_bytes(path, _json_bytes(manifest))
        for path in self.written:
            _put_in_place(path)

    def settle(self) -> tuple[list[str], list[str]]:
        """After :meth:`publish`, with ``overwrite``: remove the earlier export's files
        this one did not write again. Return those removed and the files in the folder
        that neither export lists (left where they are), relative to it."""
        if not self.overwrite:
            return [], []
        now = {path.relative_to(self.out_dir).as_posix() for path in self.written}
        removed = _remove_earlier(self.out_dir, self.earlier - now)
        return removed, sorted(_files_in(self.out_dir) - now - self.earlier)


def _earlier_export(out_dir: Path) -> set[str]:
    """The files (relative to ``out_dir``) the manifest of an earlier export in
    ``out_dir`` lists, datasets and attachment files; an empty set when there is no
    manifest or it cannot be read as one. A name that would lead outside ``out_dir`` is
    ignored: --overwrite never removes anything but an earlier export's own files."""
    try:
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text("utf-8"))
        entries = [*manifest["files"], *(manifest.get("attachment_files") or [])]
        names = {str(entry["name"]) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    root = out_dir.resolve()
    return {n for n in names if (out_dir / n).resolve().parent in (root, root / FOLDER)}


def _remove_earlier(out_dir: Path, names: set[str]) -> list[str]:
    """Remove the earlier export's files named (relative to ``out_dir``), then its
    attachment folder if that left it empty; return the names removed. A file that is
    already gone or cannot be removed is skipped: the new export is complete either way."""
    removed = []
    for name in sorted(names):
        try:
            (out_dir / name).unlink()
        except OSError:
            continue
        removed.append(name)
    folder = out_dir / FOLDER
    if removed and folder.is_dir() and not any(folder.iterdir()):
        _remove(folder)
    return removed


def _files_in(out_dir: Path) -> set[str]:
    """The files at the top of ``out_dir`` and in its attachment folder, relative to it."""
    found = {p.name for p in out_dir.iterdir() if p.is_file()}
    folder = out_dir / FOLDER
    if folder.is_dir():
        found |= {f"{FOLDER}/{p.name}" for p in folder.iterdir() if p.is_file()}
    return found


def _write_attachment_files(
    conn: Connection, folder: Path, files: Iterable[WantedFile], written: list[Path]
) -> list[WrittenFile]:
    """Write each file from its blob under its ``.partial`` name, one at a time (each
    path appended to ``written`` first, for the caller to rename or remove).
    ExportWriteError names a file that cannot be written."""
    done: list[WrittenFile] = []
    for wanted in files:
        path = folder / wanted.name
        written.append(path)
        try:
            done.append(write_attachment_file(conn, path, wanted))
        except OSError as exc:
            raise ExportWriteError(path, exc) from exc
    return done


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first.
    ExportWriteError names the folder when it cannot be created."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportWriteError(folder, exc, doing="create the folder") from exc
    return missing


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        partial_path(path).write_bytes(data)
    except OSError as exc:
        raise ExportWriteError(path, exc) from exc


def _put_in_place(path: Path) -> None:
    try:
        os.replace(partial_path(path), path)
    except OSError as exc:
        raise ExportWriteError(path, exc) from exc


def _remove(path: Path) -> None:
    """Remove a partial file or an empty folder this export created; never raises."""
    try:
        if path.is_dir():
            path.rmdir()  # only when empty: an error leaves someone else's files alone
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in one read transaction that sees one snapshot of the archive,
    so the files of an export agree with each other while a crawl keeps writing.

    SQLite (WAL) gives a read transaction a snapshot by itself; PostgreSQL needs
    REPEATABLE READ for one snapshot across statements (READ COMMITTED, its default,
    takes a new one per statement)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def verify_manifest(out_dir: Path) -> list[str]:
    """Return a problem per file of ``out_dir/manifest.json`` (datasets and attachment
    files) that is missing or whose SHA-256 differs; an empty list when every file
    matches. Reads files only."""
    manifest = json.loads((out_dir / MANIFEST_NAME).read_text("utf-8"))
    problems: list[str] = []
    for entry in [*manifest["files"], *(manifest.get("attachment_files") or [])]:
        path = out_dir / entry["name"]
        if not path.is_file():
            problems.append(f"{entry['name']}: missing")
        elif file_sha256(path) != entry["sha256"]:
            problems.append(f"{entry['name']}: SHA-256 differs from the manifest")
    return problems


def _check_request(
    datasets: Sequence[str], fmt: str, out_dir: Path, *, overwrite: bool, attachment_files: bool
) -> list[Dataset]:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not datasets:
        raise ExportError(f"nothing to export; choose from {', '.join(DATASETS)}")
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        raise ExportError(f"unknown dataset {unknown[0]!r}; choose from {', '.join(DATASETS)}")
    if fmt == "parquet" and not parquet_available():
        raise ExportError(
            "Parquet export needs pyarrow, which is not installed; install it with "
            "`pip install 'govarchive[parquet]'` (or choose --format csv or jsonl)"
        )
    chosen = [DATASETS[d] for d in dict.fromkeys(datasets)]
    if attachment_files and "attachments" not in datasets:
        raise ExportError(
            "--attachment-files writes the files the attachments dataset names; "
            "add --what attachments"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory")
    if not overwrite:
        names = [f"{d.name}.{EXTENSIONS[fmt]}" for d in chosen] + [MANIFEST_NAME]
        if attachment_files:
            names.append(f"{FOLDER}/")
        present = [n for n in names if (out_dir / n.rstrip("/")).exists()]
        if present:
            raise ExportError(
                f"{out_dir} already holds {', '.join(present)}; choose another --out "
                "directory or pass --overwrite"
            )
    return chosen


def _statement(dataset: Dataset, source_ids: list[int] | None, f: ExportFilters) -> AnySelect:
    """Return the SELECT of one dataset, its columns in ``dataset.columns`` order."""
    stmt: AnySelect
    if dataset.name == "fetches":
        time_col: Any = Fetch.requested_at
        stmt = (
            select(*dataset.selected)
            .select_from(Fetch)
            .join(CrawlRun, CrawlRun.id == Fetch.crawl_run_id)
            .join(Source, Source.id == CrawlRun.source_id)
            .order_by(Fetch.id)
        )
        source_col: Any = Source.id
    else:
        time_col = PageVersion.fetched_at
        source_col = Page.source_id
        if dataset.name == "attachments":
            stmt = (
                select(*dataset.selected)
                .select_from(Attachment)
                .join(PageVersion, PageVersion.id == Attachment.version_id)
                .join(Page, Page.id == PageVersion.page_id)
                .join(Source, Source.id == Page.source_id)
                .order_by(Attachment.version_id, Attachment.position)
            )
        elif dataset.name == "latest":
            stmt = _latest(dataset, f.until)
        elif dataset.name == "versions":
            stmt = (
                select(*dataset.selected)
                .select_from(PageVersion)
                .join(Page, Page.id == PageVersion.page_id)
                .join(Source, Source.id == Page.source_id)
                .order_by(PageVersion.id)
            )
        else:
            stmt = (
                select(*dataset.selected)
                .select_from(TaskSection)
                .join(PageVersion, PageVersion.id == TaskSection.version_id)
                .join(Page, Page.id == PageVersion.page_id)
                .join(Source, Source.id == Page.source_id)
                .order_by(TaskSection.version_id, TaskSection.number)
            )
    if source_ids is not None:
        stmt = stmt.where(source_col.in_(source_ids))
    if f.since is not None:
        stmt = stmt.where(time_col >= f.since)
    if f.until is not None and dataset.name != "latest":
        stmt = stmt.where(time_col < f.until)
    if f.published_since is not None:
        stmt = stmt.where(PageVersion.published_date >= f.published_since)
    if f.published_until is not None:
        stmt = stmt.where(PageVersion.published_date <= f.published_until)
    return stmt


def _latest(dataset: Dataset, until: datetime | None) -> AnySelect:
    """The newest version of every page, as of ``until`` (exclusive) when given."""
    newest = select(PageVersion.page_id, func.max(PageVersion.version).label("version"))
    if until is not None:
        newest = newest.where(PageVersion.fetched_at < until)
    sub = newest.group_by(PageVersion.page_id).subquery()
    return (
        select(*dataset.selected)
        .select_from(PageVersion)
        .join(sub, (sub.c.page_id == PageVersion.page_id) & (sub.c.version == PageVersion.version))
        .join(Page, Page.id == PageVersion.page_id)
        .join(Source, Source.id == Page.source_id)
        .order_by(Page.id)
    )


def _stream(conn: Connection, stmt: AnySelect, batch_size: int) -> Iterator[Sequence[Any]]:
    """Yield batches of rows from a server-side cursor (PostgreSQL) or an incrementally
    read SQLite cursor, never the whole result."""
    result = conn.execute(stmt.execution_options(yield_per=batch_size))
    yield from result.partitions()


def _write_file(
    path: Path,
    fmt: Format,
    dataset: Dataset,
    batches: Iterable[Sequence[Any]],
    summary: FileSummary,
    style: tuple[bool, TimeStyle],
    on_rows: Callable[[str, int], None] | None,
) -> None:
    """Write every batch to ``path.partial`` (the caller renames it when the whole
    export is complete) and fill in ``summary``: rows, time range, parser versions,
    size and SHA-256. ExportWriteError names ``path`` when the file cannot be written."""
    partial = partial_path(path)
    try:
        _write_batches(partial, fmt, dataset, batches, summary, style, on_rows)
        summary.bytes = partial.stat().st_size
        summary.sha256 = file_sha256(partial)
    except OSError as exc:
        raise ExportWriteError(path, exc) from exc


def _write_batches(
    partial: Path,
    fmt: Format,
    dataset: Dataset,
    batches: Iterable[Sequence[Any]],
    summary: FileSummary,
    style: tuple[bool, TimeStyle],
    on_rows: Callable[[str, int], None] | None,
) -> None:
    time_index = [n for n, _ in dataset.columns].index(dataset.time_column)
    names = [n for n, _ in dataset.columns]
    pv_index = names.index("parser_version") if dataset.has_parser_version else None
    bom, time_style = style
    writer = open_writer(partial, fmt, dataset.columns, bom=bom, times=time_style)
    try:
        for batch in batches:
            writer.write(batch)
            summary.rows += len(batch)
            times = [row[time_index] for row in batch if row[time_index] is not None]
            if times:
                low, high = min(times), max(times)
                summary.first = low if summary.first is None else min(summary.first, low)
                summary.last = high if summary.last is None else max(summary.last, high)
            if pv_index is not None:
                summary.parser_versions.update(row[pv_index] for row in batch)
            if on_rows is not None:
                on_rows(dataset.name, len(batch))
    finally:
        writer.close()


# -- manifest --------------------------------------------------------------------------


def _range(first: datetime | None, last: datetime | None) -> dict[str, str | None]:
    return {
        "min": iso_utc(first) if first is not None else None,
        "max": iso_utc(last) if last is not None else None,
    }


def _manifest(
    engine: Engine,
    chosen: Sequence[Dataset],
    summaries: Sequence[FileSummary],
    *,
    fmt: str,
    filters: ExportFilters,
    bom: bool,
    times: TimeStyle,
    revision: str | None,
    command: str,
    generator: str,
    attachment_files: Sequence[WrittenFile] | None,
) -> dict[str, Any]:
    firsts = [s.first for s in summaries if s.first is not None]
    lasts = [s.last for s in summaries if s.last is not None]
    return {
        "generator": generator,
        "created_at": iso_utc(datetime.now(UTC)),
        "command": command,
        "database": describe(engine),
        "schema_revision": revision,
        "format": fmt,
        "csv_bom": bom if fmt == "csv" else None,
        # How the files' timestamps read; the manifest's own are UTC. Parquet keeps UTC.
        "time_zone": "UTC" if fmt == "parquet" else times.zone_name,
        "time_format": "iso8601" if fmt == "parquet" or not times.excel else "excel",
        "filters": {
            "sources": list(filters.sources),
            "since": iso_utc(filters.since) if filters.since else None,
            "until_exclusive": iso_utc(filters.until) if filters.until else None,
            "published_since": _iso_date(filters.published_since),
            "published_until": _iso_date(filters.published_until),
        },
        "parser_versions": sorted(set().union(*(s.parser_versions for s in summaries))),
        "rows": {s.dataset: s.rows for s in summaries},
        "time_range": _range(min(firsts, default=None), max(lasts, default=None)),
        "files": [s.to_dict(d) for s, d in zip(summaries, chosen, strict=True)],
        # Only when asked for: manifests of exports without them are as they were.
        **(
            {"attachment_files": [f.to_dict() for f in attachment_files]}
            if attachment_files is not None
            else {}
        ),
    }


def _iso_date(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
