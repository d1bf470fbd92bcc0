"""Export the archive as WARC/1.1 files (``govarchive export --format warc``), for replay
in pywb or ReplayWeb.page and for deposit with web archives.

- :func:`export_warc` — write ``govarchive-<UTC time>-00000.warc.gz`` (the next file
  ``-00001`` … once one passes ``max_bytes``, 1 GB unless asked) into a directory, then
  ``manifest.json`` listing every file with its size and SHA-256 and the record counts.

What each file holds, in order:

- a ``warcinfo`` record (application/warc-fields): the generator (govarchive and its
  version), the format (``WARC File Format 1.1``), the database and its schema revision,
  the command, and one ``source-config`` field per exported source (its
  ``sources.config_json`` as JSON);
- one ``response`` record per stored version (``page_versions``), ordered by
  ``fetched_at``, then page, then version: target URI the page's URL, WARC-Date the
  version's ``fetched_at`` (UTC, microseconds kept), the HTTP status line and headers as
  served (``http_status``, ``response_headers``) and the body from its blob. The stored
  body is already decoded, so the headers are rewritten to match it (:func:`http_headers`):
  ``Content-Encoding`` and ``Transfer-Encoding`` are dropped and kept as
  ``X-Archive-Orig-Content-Encoding`` / ``X-Archive-Orig-Transfer-Encoding`` (pywb's
  convention), ``Content-Length`` is the body's length (an original one kept as
  ``X-Archive-Orig-Content-Length``). A version archived before revision 0008 has no
  stored headers: it gets ``HTTP/1.1 200 OK`` with its ``content_type`` and the length,
  and the WARC field ``WARC-Govarchive-Headers: synthesized``;
- after the versions, one ``response`` record per distinct (URL, SHA-256) of the
  exported versions' downloaded attachments (``attachments.sha256`` set), WARC-Date its
  first ``fetched_at``, headers synthesized (Content-Type, ETag, Last-Modified as stored)
  and marked so, so that a replayed page's links to its PDFs work.

Every response record carries ``WARC-Govarchive-Content-Hash`` (the blob's SHA-256,
``raw_hash`` / ``attachments.sha256``), and a version's record
``WARC-Govarchive-Version-Id`` (``page_versions.id``), to trace it back to the archive,
and ``WARC-Govarchive-Source`` (its source's name), by which ``import-warc`` knows a
source's pages in an export without walking list pages (an export holds none).

Files and the manifest are written under ``.partial`` names and renamed into place when
the whole export is complete, the manifest last; an export that fails removes its
partial files (storage.export's rule). Rows are streamed and blobs read one at a time:
memory holds one body, never a whole file. Reads the database only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.blobs import read_blob
from storage.engine import database_errors, describe
from storage.errors import BlobError

# storage.export's file rules (.partial names, renaming, clean-up, --overwrite, one
# snapshot), shared rather than copied so that both exports keep the same promises.
from storage.export import (
    MANIFEST_NAME,
    AnySelect,
    ExportError,
    ExportFilters,
    ExportWriteError,
    Staging,
    read_snapshot,
)
from storage.exportfiles import file_sha256, iso_utc, partial_path
from storage.migrate import current_revision
from storage.models import Attachment, Page, PageVersion, Source
from storage.selection import resolve_sources

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SYNTHESIZED",
    "WarcExportResult",
    "WarcFile",
    "export_warc",
    "http_headers",
    "warc_date",
]

#: A WARC file is closed and the next one begun once it passes this size (the common
#: 1 GB convention of Heritrix and wget, which tools that ingest WARCs expect).
DEFAULT_MAX_BYTES = 1_000_000_000
#: Versions read from the database per batch (their bodies are read one at a time).
BATCH_SIZE = 500
#: The value of ``WARC-Govarchive-Headers`` on records whose HTTP headers were made up
#: from what the archive stores rather than served.
SYNTHESIZED = "synthesized"
FORMAT = "WARC File Format 1.1"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
#: Header names (lower case) rewritten because the stored body is decoded and its length
#: is known: each original value is kept under ``X-Archive-Orig-<Name>``.
#: Headers that describe the body as transferred, not as stored (decoded): renamed
#: ``X-Archive-Orig-<name as served>`` in place (import-warc renames them back).
_REWRITTEN = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(slots=True)
class WarcFile:
    """One WARC file written: its name, size, SHA-256, records and their date range."""

    name: str
    bytes: int = 0
    sha256: str = ""
    records: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return this file's manifest entry."""
        return {
            "name": self.name,
            "format": "warc",
            "bytes": self.bytes,
            "sha256": self.sha256,
            "records": self.records,
            "time_range": {
                "min": iso_utc(self.first) if self.first else None,
                "max": iso_utc(self.last) if self.last else None,
            },
        }


@dataclass(frozen=True, slots=True)
class WarcExportResult:
    """What :func:`export_warc` wrote: the files, counts of response records (versions
    and attachments), the manifest as written, and with ``overwrite`` the earlier
    export's files removed and other files kept (relative to ``out_dir``, sorted)."""

    files: tuple[WarcFile, ...]
    versions: int
    attachments: int
    manifest: dict[str, Any]
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


def warc_date(value: datetime) -> str:
    """Return an aware datetime as a WARC/1.1 WARC-Date: UTC, ``Z``, microseconds when
    it has any (``2024-03-01T02:01:00.250000Z``). Pure."""
    return str(datetime_to_iso_date(value.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def http_headers(
    status: int | None,
    headers: Sequence[Sequence[str]] | None,
    *,
    content_type: str | None,
    length: int,
) -> tuple[StatusAndHeaders, bool]:
    """Return the HTTP status line and headers of a response record whose body is
    ``length`` decoded bytes, and whether they were synthesized (no stored headers).
    Pure.

    Stored headers keep their order and case; Content-Encoding and Transfer-Encoding
    are dropped (the body is stored decoded: a replay tool would decode it again) and
    kept as ``X-Archive-Orig-…``, and Content-Length is set to ``length`` (an original
    kept likewise), so that the record is consistent. Without stored headers: ``200 OK``
    with ``content_type`` (when known) and Content-Length."""
    code = status if status is not None else 200
    statusline = f"{code} {_reason(code)}".rstrip()
    if headers is None:
        made = [("Content-Type", content_type)] if content_type else []
        made.append(("Content-Length", str(length)))
        return StatusAndHeaders(statusline, made, protocol="HTTP/1.1"), True
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in _REWRITTEN:
            kept.append((f"X-Archive-Orig-{name}", value))
        else:
            kept.append((name, value))
    kept.append(("Content-Length", str(length)))
    return StatusAndHeaders(statusline, kept, protocol="HTTP/1.1"), False


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:  # a status the standard does not name: the line without a phrase
        return ""


def export_warc(
    engine: Engine,
    out_dir: Path,
    *,
    filters: ExportFilters | None = None,
    overwrite: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    command: str = "",
    generator: str = "govarchive",
    now: datetime | None = None,
    on_record: Callable[[int], None] | None = None,
) -> WarcExportResult:
    """Write the selected versions (and their attachments) as WARC/1.1 files into
    ``out_dir``, then ``out_dir/manifest.json``; return what was written.

    ``filters``: sources by name, ``since <= fetched_at < until`` on the version, and the
    published-date bounds, as :func:`storage.export.export` reads them; an attachment is
    exported when a selected version names it. A file is closed, and the next begun, once
    it passes ``max_bytes``. ``now`` (default: the clock) names the files and dates their
    warcinfo records. ``command`` and ``generator`` go into warcinfo and the manifest.
    ``on_record(n)`` is called with the number of response records written so far.

    Raises ExportError for files already in ``out_dir`` (unless ``overwrite``: then,
    once the new export is complete, the files the earlier manifest lists that this one
    did not write again are removed); ExportWriteError for a file or folder that cannot
    be written (nothing is left half-written); UnknownRecordError for a source name the
    archive does not hold; BlobError naming the version or attachment whose stored
    bytes are missing or corrupt. Reads the database only.
    """
    filters = filters or ExportFilters()
    if max_bytes < 1:
        raise ExportError("the WARC file size limit must be at least one byte")
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    _check_out_dir(out_dir, overwrite=overwrite)
    with Staging(out_dir, overwrite=overwrite) as staged:
        revision = current_revision(engine)
        with database_errors(engine, "exporting"), read_snapshot(engine) as conn:
            source_ids = resolve_sources(conn, filters.sources)
            info = _warcinfo_fields(
                conn, source_ids, generator=generator, revision=revision, command=command
            )
            rotator = _Rotator(out_dir, stamp, max_bytes, info, staged.written)
            try:
                rotator.begin()  # an export with no records is still one file: its warcinfo
                versions = 0
                for record in _version_records(conn, source_ids, filters):
                    rotator.write(record)
                    versions += 1
                    if on_record is not None:
                        on_record(versions)
                attachments = 0
                for record in _attachment_records(conn, source_ids, filters):
                    rotator.write(record)
                    attachments += 1
                    if on_record is not None:
                        on_record(versions + attachments)
            finally:
                rotator.close()
        manifest = _manifest(
            engine,
            rotator.files,
            filters=filters,
            revision=revision,
            command=command,
            generator=generator,
            created=stamp,
            counts=(versions, attachments),
        )
        staged.publish(manifest)
    removed, kept = staged.settle()
    return WarcExportResult(
        tuple(rotator.files), versions, attachments, manifest, tuple(removed), tuple(kept)
    )


def _check_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory")
    if overwrite or not out_dir.is_dir():
        return
    present = sorted(
        p.name
        for p in out_dir.iterdir()
        if p.name == MANIFEST_NAME or (p.name.startswith("govarchive-") and ".warc" in p.name)
    )
    if present:
        raise ExportError(
            f"{out_dir} already holds {', '.join(present)}; choose another --out directory "
            "or pass --overwrite"
        )


# -- records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    """One response record to write: where, when, its HTTP head, body and WARC fields."""

    url: str
    date: datetime
    head: StatusAndHeaders
    body: bytes
    fields: dict[str, str]


def _version_records(
    conn: Connection, source_ids: list[int] | None, f: ExportFilters
) -> Iterator[_Record]:
    """Yield a response record per selected version, in (fetched_at, page, version)
    order, reading each body from its blob as it is needed.

    A version whose bytes an earlier version already had (A → B → A) is a full response
    record too, not a ``revisit``: a revisit only points at another record, which an
    export narrowed by --since may not hold, and a replay tool resolving it needs an
    index of every file; bodies are small HTML pages, so standalone records cost little."""
    stmt = (
        select(
            PageVersion.id,
            Page.url,
            PageVersion.fetched_at,
            PageVersion.raw_hash,
            PageVersion.content_type,
            PageVersion.http_status,
            PageVersion.response_headers,
            PageVersion.version,
            Source.name.label("source_name"),
        )
        .join(Page, Page.id == PageVersion.page_id)
        .join(Source, Source.id == Page.source_id)
        .order_by(PageVersion.fetched_at, PageVersion.page_id, PageVersion.version)
    )
    stmt = _filtered(stmt, source_ids, f)
    result = conn.execute(stmt.execution_options(yield_per=BATCH_SIZE))
    for batch in result.partitions():
        for row in batch:
            try:
                body = read_blob(conn, row.raw_hash)
            except BlobError as exc:
                raise BlobError(
                    f"{row.url} version {row.version} (version_id {row.id}) cannot be "
                    f"exported: {exc.detail}",
                    database=exc.database,
                ) from exc
            head, synthesized = http_headers(
                row.http_status,
                row.response_headers,
                content_type=row.content_type,
                length=len(body),
            )
            fields = {
                "WARC-Govarchive-Source": row.source_name,
                "WARC-Govarchive-Version-Id": str(row.id),
                "WARC-Govarchive-Content-Hash": row.raw_hash,
            }
            if synthesized:
                fields["WARC-Govarchive-Headers"] = SYNTHESIZED
            yield _Record(row.url, row.fetched_at, head, body, fields)


def _attachment_records(
    conn: Connection, source_ids: list[int] | None, f: ExportFilters
) -> Iterator[_Record]:
    """Yield a response record per distinct (URL, SHA-256) of the downloaded attachments
    the selected versions name, dated by its first download. Rows come sorted by URL,
    SHA-256 and date, so a repeat is the row just before: nothing is remembered but it."""
    when = func.coalesce(Attachment.fetched_at, PageVersion.fetched_at)
    stmt = (
        select(
            Attachment.url,
            Attachment.sha256,
            when.label("at"),
            Attachment.content_type,
            Attachment.etag,
            Attachment.last_modified,
        )
        .join(PageVersion, PageVersion.id == Attachment.version_id)
        .join(Page, Page.id == PageVersion.page_id)
        .where(Attachment.sha256.is_not(None))
        .order_by(Attachment.url, Attachment.sha256, when, Attachment.id)
    )
    stmt = _filtered(stmt, source_ids, f)
    previous: tuple[str, str] | None = None
    result = conn.execute(stmt.execution_options(yield_per=BATCH_SIZE))
    for batch in result.partitions():
        for row in batch:
            if (row.url, row.sha256) == previous:
                continue
            previous = (row.url, row.sha256)
            try:
                body = read_blob(conn, row.sha256)
            except BlobError as exc:
                raise BlobError(
                    f"attachment {row.url} ({row.sha256}) cannot be exported: {exc.detail}",
                    database=exc.database,
                ) from exc
            head, _ = http_headers(None, None, content_type=row.content_type, length=len(body))
            for name, value in (("ETag", row.etag), ("Last-Modified", row.last_modified)):
                if value:
                    head.headers.insert(len(head.headers) - 1, (name, value))
            fields = {
                "WARC-Govarchive-Content-Hash": row.sha256,
                "WARC-Govarchive-Headers": SYNTHESIZED,
            }
            yield _Record(row.url, row.at, head, body, fields)


def _filtered(stmt: AnySelect, source_ids: list[int] | None, f: ExportFilters) -> AnySelect:
    """``stmt`` (joined to page_versions and pages) narrowed to the selected versions."""
    if source_ids is not None:
        stmt = stmt.where(Page.source_id.in_(source_ids))
    if f.since is not None:
        stmt = stmt.where(PageVersion.fetched_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(PageVersion.fetched_at < f.until)
    if f.published_since is not None:
        stmt = stmt.where(PageVersion.published_date >= f.published_since)
    if f.published_until is not None:
        stmt = stmt.where(PageVersion.published_date <= f.published_until)
    return stmt


def _warcinfo_fields(
    conn: Connection,
    source_ids: list[int] | None,
    *,
    generator: str,
    revision: str | None,
    command: str,
) -> list[tuple[str, str]]:
    """The warcinfo record's fields (repeatable names, in order): who wrote the file,
    from which database and schema revision, and each exported source's config."""
    stmt = select(Source.name, Source.config_json).order_by(Source.name)
    if source_ids is not None:
        stmt = stmt.where(Source.id.in_(source_ids))
    fields = [
        ("software", generator),
        ("format", FORMAT),
        ("conformsTo", CONFORMS_TO),
        ("database", describe(conn)),
        ("schema-revision", revision or ""),
        ("command", command),
    ]
    for name, config in conn.execute(stmt):
        value = {"name": name, "config": config}
        fields.append(("source-config", json.dumps(value, ensure_ascii=False, sort_keys=True)))
    return [(name, value) for name, value in fields if value]


# -- files -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Rotator:
    """Writes records to the current WARC file (under its ``.partial`` name), beginning
    a new file with its warcinfo record when the current one has passed ``max_bytes``."""

    out_dir: Path
    stamp: datetime
    max_bytes: int
    info: list[tuple[str, str]]
    written: list[Path]
    files: list[WarcFile] = field(default_factory=list)
    _handle: IO[bytes] | None = None
    _writer: WARCWriter | None = None

    def write(self, record: _Record) -> None:
        """Append one response record, opening a file first when none is open.
        ExportWriteError names the file when it cannot be written."""
        if self._handle is None:
            self._open()
        assert self._handle is not None and self._writer is not None
        current = self.files[-1]
        warc_fields = {"WARC-Date": warc_date(record.date), **record.fields}
        try:
            self._writer.write_record(
                self._writer.create_warc_record(
                    record.url,
                    "response",
                    payload=BytesIO(record.body),
                    length=len(record.body),
                    warc_headers_dict=warc_fields,
                    http_headers=record.head,
                )
            )
            size = self._handle.tell()
        except OSError as exc:
            raise ExportWriteError(self.out_dir / current.name, exc) from exc
        current.records += 1
        current.first = record.date if current.first is None else min(current.first, record.date)
        current.last = record.date if current.last is None else max(current.last, record.date)
        if size >= self.max_bytes:
            self.close()

    def close(self) -> None:
        """Close the current file, if any, and fill in its size and SHA-256."""
        if self._handle is None:
            return
        current = self.files[-1]
        path = self.out_dir / current.name
        try:
            self._handle.close()
            current.bytes = partial_path(path).stat().st_size
            current.sha256 = file_sha256(partial_path(path))
        except OSError as exc:
            raise ExportWriteError(path, exc) from exc
        finally:
            self._handle = None
            self._writer = None

    def begin(self) -> None:
        """Open the next file and write its warcinfo record."""
        self._open()

    def _open(self) -> None:
        name = f"govarchive-{self.stamp.strftime('%Y%m%d%H%M%S')}-{len(self.files):05d}.warc.gz"
        path = self.out_dir / name
        self.written.append(path)
        self.files.append(WarcFile(name))
        try:
            self._handle = partial_path(path).open("wb")
            # gzip per record (so a reader can seek to any record), WARC/1.1 for the
            # microsecond WARC-Dates. Digests are warcio's sha1 in base32, the form
            # pywb's and Heritrix's indexes and deduplication read and `warcio check`
            # verifies; the blob's own SHA-256 is in WARC-Govarchive-Content-Hash.
            self._writer = WARCWriter(self._handle, gzip=True, warc_version="1.1")
            payload = "".join(f"{n}: {v}\r\n" for n, v in self.info).encode("utf-8")
            record = self._writer.create_warc_record(
                "",
                "warcinfo",
                payload=BytesIO(payload),
                length=len(payload),
                warc_headers_dict={"WARC-Date": warc_date(self.stamp), "WARC-Filename": name},
            )
            self._writer.write_record(record)
        except OSError as exc:
            raise ExportWriteError(path, exc) from exc


# -- manifest --------------------------------------------------------------------------


def _manifest(
    engine: Engine,
    files: Sequence[WarcFile],
    *,
    filters: ExportFilters,
    revision: str | None,
    command: str,
    generator: str,
    created: datetime,
    counts: tuple[int, int],
) -> dict[str, Any]:
    firsts = [f.first for f in files if f.first is not None]
    lasts = [f.last for f in files if f.last is not None]
    versions, attachments = counts
    return {
        "generator": generator,
        "created_at": iso_utc(created),
        "command": command,
        "database": describe(engine),
        "schema_revision": revision,
        "format": "warc",
        "warc_version": "1.1",
        "filters": {
            "sources": list(filters.sources),
            "since": iso_utc(filters.since) if filters.since else None,
            "until_exclusive": iso_utc(filters.until) if filters.until else None,
            "published_since": _day(filters.published_since),
            "published_until": _day(filters.published_until),
        },
        # Response records; each file also starts with one warcinfo record.
        "records": {
            "versions": versions,
            "attachments": attachments,
            "warcinfo": len(files),
            "total": versions + attachments + len(files),
        },
        "time_range": {
            "min": iso_utc(min(firsts)) if firsts else None,
            "max": iso_utc(max(lasts)) if lasts else None,
        },
        "files": [f.to_dict() for f in files],
    }


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
