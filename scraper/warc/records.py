"""Reading WARC and ARC files: which captures a file holds, and the body of each.

:class:`WarcReader` is the one reader of web archive files (``govarchive import-warc``
codes against it). :meth:`WarcReader.scan` makes one pass over a file and returns a
:class:`CaptureRef` for each ``response`` and ``revisit`` record, without bodies (a WARC
may be gigabytes); :meth:`WarcReader.payload` seeks to one record and returns its HTTP
headers and its entity body, de-chunked and Content-Encoding-decoded.
:func:`resolve_revisits` (pure) finds the response whose payload each revisit stands for.

Formats: WARC 1.0 and 1.1 and ARC v1, each uncompressed or gzipped one record per gzip
member (what wget, Heritrix, Browsertrix and warcio write): records are found again by
seeking to their byte offset. A file gzipped as one stream (``gzip file.warc``) cannot
be seeked: the reader detects it (a gzip file whose first member runs to its end),
decompresses it once into a temporary uncompressed copy that it owns (deleted by
:meth:`WarcReader.close`), and the offsets of that file's :class:`CaptureRef` and
:class:`ScanProblem` are offsets in the copy (so too for a gzip file of one record).

A corrupt or truncated file is not an error: :class:`Scan` carries the records read
before the first unreadable point and a :class:`ScanProblem` naming its byte offset (in
the file as read: compressed offset for per-record gzip). A record whose Content-Length
runs past the end of the file is truncated and not returned. Only a file that cannot be
opened, or is not WARC or ARC at all, raises :class:`~scraper.errors.InputError`.

Why warcio and not FastWARC. ``bench/warc_read.py`` (3,000 gzip-per-record responses
whose bodies are the 110 real and builder pages of tests/fixtures/, 142.6 MB of bodies,
33.3 MB of file; one in eight chunked, one in eight gzip-encoded; CPU time, best of 7,
Python 3.11, one thread, warcio 1.8.1, FastWARC 2.0.1) reads every decoded body:

================================  =========  ==============  ============  ====
reader                            records/s  MB/s of bodies  MB/s of file  time
================================  =========  ==============  ============  ====
WarcReader.scan alone                 8,501               -            95     -
WarcReader (scan, then payload)       3,861             184            43  4.8x
warcio, one pass                      7,208             343            80  2.6x
FastWARC, one pass                   18,527             880           206  1x
================================  =========  ==============  ============  ====

FastWARC is 2.6x faster than warcio doing the same pass (4.8x against this reader,
which decompresses each record twice: once to scan, once to read the payload by
offset). warcio still wins on what the importer needs:

- FastWARC reads only WARC: an ARC file (``.arc``, ``.arc.gz``) fails with "Invalid WARC
  header", and ARC is how crawls before WARC (ISO 28500, 2009) were kept;
- warcio decodes chunked and gzip payloads by default (``content_stream``); FastWARC does
  too only when asked (``auto_decode="all"``; the default hands back the bytes as sent);
  both read revisits;
- warcio also writes WARCs and checks them (``warcio check``) for the export, so one
  library covers both directions; it is pure Python, with no compiled wheel to miss;
- each imported capture is also parsed (``bench/parse.py``) and written as a version
  (``bench/storage.py``), so reading is one cost of several; should it ever dominate,
  reading the payload in the scanning pass halves this reader's time without a new
  library.
"""

from __future__ import annotations

import hashlib
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException
from warcio.timeutils import timestamp_to_datetime

from scraper.errors import InputError

#: Longest HTTP status line read while scanning; a longer first line is not HTTP.
_STATUS_LINE_LIMIT = 8192
_CHUNK = 1 << 16
#: What a corrupt record can make warcio and zlib raise while reading.
_READ_ERRORS = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    zlib.error,
    EOFError,
    ValueError,
    UnicodeDecodeError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,  # warcio on a record missing a header it expects (WARC-Target-URI)
)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """One response or revisit record, without its body."""

    path: Path  # the file as given
    # byte offset of the record in the file as read: the file itself (compressed offset of
    # its gzip member), or the uncompressed copy of a whole-file gzip
    offset: int
    # WARC-Record-ID as written (with <>); for ARC records "<urn:govarchive:arc:SHA1HEX>"
    # of (URL, ARC date, length, IP), the same whenever the same ARC is read, even renamed
    # (warcio's arc2warc ids are random)
    record_id: str
    kind: Literal["response", "revisit"]
    url: str  # WARC-Target-URI without the <> some tools wrapped it in
    captured_at: datetime  # WARC-Date (or the ARC date), aware UTC, fractions kept
    status: int | None  # HTTP status of the record's block; None if not HTTP or unreadable
    payload_digest: str | None  # WARC-Payload-Digest as written ("sha1:BASE32")
    refers_to: str | None  # revisit: WARC-Refers-To (a record id)
    refers_to_url: str | None  # revisit: WARC-Refers-To-Target-URI
    refers_to_date: datetime | None  # revisit: WARC-Refers-To-Date
    profile: str | None  # revisit: WARC-Profile
    # WARC-Govarchive-Source: the source whose version `govarchive export --format warc`
    # wrote this record for (None in any other tool's file)
    source_name: str | None = None
    # WARC-Govarchive-Headers: "synthesized" when that export made the HTTP headers up
    govarchive_headers: str | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """A record's HTTP response as recorded."""

    status: int | None
    headers: tuple[tuple[str, str], ...]  # HTTP headers in order, original case
    body: bytes  # the entity body, de-chunked and Content-Encoding-decoded


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """The first point of a file that could not be read, and why."""

    path: Path
    offset: int  # where the unreadable record starts, in the file as read
    message: str  # "truncated record at byte 81234", "unreadable record at byte …"


@dataclass(frozen=True, slots=True)
class Scan:
    """What one pass over a file found."""

    refs: tuple[CaptureRef, ...]  # every response and revisit before any problem, in order
    other_records: int  # warcinfo, request, metadata, resource … records read and ignored
    problem: ScanProblem | None  # the first unreadable point; the records before it are in refs


class _Truncated(Exception):
    """A record's block ends before its Content-Length."""


class WarcReader:
    """Reads captures and payloads from the given WARC and ARC files (see the module
    docstring), kept in ``paths``; none is opened before its first :meth:`scan` or
    :meth:`payload`. A context manager: :meth:`close` closes its files and deletes the
    temporary copies of whole-file-gzipped archives. Not for use from several threads."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        self._readable: dict[Path, Path] = {}
        self._handles: dict[Path, IO[bytes]] = {}
        self._cut_copies: set[Path] = set()
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> WarcReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every open file and delete the temporary copies."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
        self._readable.clear()
        self._cut_copies.clear()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def scan(self, path: Path) -> Scan:
        """Return every response and revisit record of ``path`` in file order, the count
        of other records, and the first unreadable point if any. Never raises for corrupt
        content; raises InputError if the file cannot be read or is not WARC or ARC."""
        found = self._scan_records(path)
        if found.problem is not None and self._holds_records_between_members(path, found):
            # Gzip members of several records each (whole-file gzips concatenated, say):
            # not seekable record by record either, so read through a copy as well.
            self._open_copy(path)
            found = self._scan_records(path)
        copy = self._readable[path]
        if found.problem is None and copy in self._cut_copies:
            size = copy.stat().st_size
            message = f"gzip stream cut off after byte {size} of its decompressed copy"
            found = Scan(found.refs, found.other_records, ScanProblem(path, size, message))
        return found

    def _holds_records_between_members(self, path: Path, found: Scan) -> bool:
        """Return True if ``path`` is gzip read directly and ``found`` stopped at a point
        that is not the start of a gzip member."""
        if found.problem is None or self._readable[path] != path:
            return False
        with path.open("rb") as file:
            if file.read(2) != _GZIP_MAGIC:
                return False
            file.seek(found.problem.offset)
            head = file.read(2)
            # a member cut after its first byte still starts like one
            return not _GZIP_MAGIC.startswith(head)

    def _scan_records(self, path: Path) -> Scan:
        """One pass of warcio over the file ``path`` is read through (see :meth:`scan`)."""
        handle = self._handle(path)
        handle.seek(0)
        refs: list[CaptureRef] = []
        others = 0
        records = ArchiveIterator(handle, no_record_parse=True, arc2warc=False)
        offset = 0  # where the next record starts
        last = 0  # where the last record read starts
        first = True
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except _READ_ERRORS as exc:
                if first:
                    raise InputError(
                        f"not a WARC or ARC file ({_first_line(exc)})", input_name=str(path)
                    ) from exc
                message = f"unreadable record at byte {offset} ({_first_line(exc)})"
                return _stopped(refs, others, path, offset, message)
            first = False
            try:
                status = _read_block(record)
                offset = records.get_record_offset()
                ref = _capture_ref(path, offset, record, status)
            except _Truncated:
                start = records.get_record_offset()
                return _stopped(refs, others, path, start, f"truncated record at byte {start}")
            except _READ_ERRORS as exc:
                return _stopped(
                    refs, others, path, offset, f"unreadable record at byte {offset}: {exc}"
                )
            if ref is None:
                others += 1
            else:
                refs.append(ref)
            # Where the next record starts (past this one's blank lines), which is where
            # a record that fails to parse is reported.
            last = records.get_record_offset()
            offset = records.offset
        if first:
            raise InputError("empty: not a WARC or ARC file", input_name=str(path))
        if not _gzip_member_ends(handle, last):
            # warcio reads a gzip member cut short as far as it goes: a file cut in its
            # last record's gzip trailer would otherwise pass as whole.
            if refs and refs[-1].offset == last:
                refs.pop()
            else:
                others -= 1
            return _stopped(refs, others, path, last, f"truncated record at byte {last}")
        end = records.offset  # where the last whole record ends
        handle.seek(end)
        if handle.read(_CHUNK).strip():
            # Bytes after it that warcio read as no record at all: a gzip member cut off in
            # its own header (a download stopped a few bytes into the next record).
            return _stopped(refs, others, path, end, f"truncated record at byte {end}")
        return Scan(tuple(refs), others, None)

    def payload(self, ref: CaptureRef) -> Payload:
        """Return the HTTP status, headers and decoded body of the record at ``ref``.
        Raises InputError naming the file and offset if the record cannot be read."""
        handle = self._handle(ref.path)
        where = f"record at byte {ref.offset}"
        try:
            handle.seek(ref.offset)
            record = next(ArchiveIterator(handle, arc2warc=False))
            headers = record.http_headers
            if headers is None:
                return Payload(None, (), record.raw_stream.read())
            return Payload(
                _status(headers.get_statuscode()),
                tuple((str(name), str(value)) for name, value in headers.headers),
                record.content_stream().read(),
            )
        except StatusAndHeadersParserException:
            pass  # an unreadable HTTP head: the block is returned whole, as the scan saw it
        except (*_READ_ERRORS, StopIteration, OSError) as exc:
            raise InputError(f"{where} unreadable: {exc}", input_name=str(ref.path)) from exc
        try:
            handle.seek(ref.offset)
            record = next(ArchiveIterator(handle, no_record_parse=True, arc2warc=False))
            return Payload(None, (), record.raw_stream.read())
        except (*_READ_ERRORS, StopIteration, OSError) as exc:
            raise InputError(f"{where} unreadable: {exc}", input_name=str(ref.path)) from exc

    def _handle(self, path: Path) -> IO[bytes]:
        """The open, seekable file ``path`` is read through: itself, or the uncompressed
        copy of a whole-file gzip (made on first use)."""
        if path in self._handles:
            return self._handles[path]
        try:
            if _is_single_gzip(path):
                return self._open_copy(path)
            handle = path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", input_name=str(path)) from exc
        self._readable[path] = path
        self._handles[path] = handle
        return handle

    def _open_copy(self, path: Path) -> IO[bytes]:
        """Decompress ``path`` (every gzip member) into this reader's temporary directory
        and read it through that copy from now on. A stream cut off or corrupt is copied
        as far as it decompresses, and remembered in ``_cut_copies``."""
        if self._tempdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="govarchive-warc-")
        copy = Path(self._tempdir.name) / f"{len(self._readable)}-{path.name}.warc"
        try:
            with path.open("rb") as source, copy.open("wb") as target:
                whole = _gunzip(source, target)
            handle = copy.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", input_name=str(path)) from exc
        if not whole:
            self._cut_copies.add(copy)
        if path in self._handles:
            self._handles[path].close()
        self._readable[path] = copy
        self._handles[path] = handle
        return handle


def _gunzip(source: IO[bytes], target: IO[bytes]) -> bool:
    """Decompress the gzip members of ``source`` into ``target``; return False if the
    stream is cut off or corrupt (what came before is written)."""
    inflate = zlib.decompressobj(wbits=31)
    fed = False  # whether the current member has had any input
    while chunk := source.read(_CHUNK):
        try:
            while chunk:
                fed = True
                target.write(inflate.decompress(chunk, _CHUNK))
                chunk = inflate.unconsumed_tail
                if inflate.eof:  # a further gzip member follows, or the end
                    chunk = inflate.unused_data + chunk
                    inflate = zlib.decompressobj(wbits=31)
                    fed = False
        except zlib.error:
            return False
    return not fed


def _stopped(refs: list[CaptureRef], others: int, path: Path, offset: int, message: str) -> Scan:
    return Scan(tuple(refs), others, ScanProblem(path, offset, message))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _is_single_gzip(path: Path) -> bool:
    """Return True if ``path`` is gzip whose first member runs to the end of the file (or
    is cut off): a whole-file gzip, unseekable. Per-record gzip ends its first member at
    the first record. Reads up to the end of the first member; never raises for content."""
    with path.open("rb") as file:
        if file.read(2) != _GZIP_MAGIC:
            return False
        file.seek(0)
        inflate = zlib.decompressobj(wbits=31)
        while chunk := file.read(_CHUNK):
            try:
                while chunk and not inflate.eof:
                    inflate.decompress(chunk, _CHUNK)
                    chunk = inflate.unconsumed_tail
            except zlib.error:
                return False  # corrupt: read it as per-record gzip, and the scan says where
            if inflate.eof:
                return not inflate.unused_data and not file.read(1)
        return True


def _gzip_member_ends(handle: IO[bytes], offset: int) -> bool:
    """Return False if the file is gzip and its member at ``offset`` is cut off or corrupt
    (True for a file that is not gzip). Reads that one member."""
    handle.seek(offset)
    if handle.read(2) != _GZIP_MAGIC:
        return True
    handle.seek(offset)
    inflate = zlib.decompressobj(wbits=31)
    try:
        while chunk := handle.read(_CHUNK):
            while chunk and not inflate.eof:
                inflate.decompress(chunk, _CHUNK)
                chunk = inflate.unconsumed_tail
            if inflate.eof:
                return True
    except zlib.error:
        return False
    return False


def _read_block(record: Any) -> int | None:
    """Read a record's block to its end; return the HTTP status of its first line (None
    if it is not an HTTP status line). Raises _Truncated if the block is short."""
    expected = record.length
    stream = record.raw_stream
    head = stream.readline(_STATUS_LINE_LIMIT)
    read = len(head)
    while chunk := stream.read(_CHUNK):
        read += len(chunk)
    if expected is None:
        # Headers without Content-Length: cut off within the headers if nothing follows.
        if read == 0:
            raise _Truncated()
        raise ArchiveLoadFailed("record without a Content-Length")
    if read < expected:
        raise _Truncated()
    if record.rec_type not in ("response", "revisit"):
        return None
    return _status_of_line(head)


def _status_of_line(line: bytes) -> int | None:
    """``HTTP/1.1 200 OK`` → 200; anything else → None."""
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return None
    return _status(parts[1].decode("latin-1"))


def _status(code: str | None) -> int | None:
    if code is None or not (len(code) == 3 and code.isdigit()):
        return None
    return int(code)


def _capture_ref(path: Path, offset: int, record: Any, status: int | None) -> CaptureRef | None:
    """The CaptureRef of a response or revisit record; None for any other record."""
    if record.format == "arc":
        return _arc_ref(path, offset, record, status)
    kind = record.rec_type
    if kind not in ("response", "revisit"):
        return None
    headers = record.rec_headers

    def header(name: str) -> str | None:
        value = headers.get_header(name)
        return str(value).strip() if value is not None else None

    url = _unwrap(header("WARC-Target-URI"))
    if not url:
        raise ArchiveLoadFailed(f"{kind} record without WARC-Target-URI")
    date = header("WARC-Date")
    captured_at = _iso_date(date)
    if captured_at is None:
        raise ArchiveLoadFailed(f"unreadable WARC-Date {date!r}")
    refers_date = header("WARC-Refers-To-Date")
    return CaptureRef(
        path=path,
        offset=offset,
        record_id=header("WARC-Record-ID") or "",
        kind=kind,
        url=url,
        captured_at=captured_at,
        status=status,
        payload_digest=header("WARC-Payload-Digest"),
        refers_to=header("WARC-Refers-To"),
        refers_to_url=_unwrap(header("WARC-Refers-To-Target-URI")),
        refers_to_date=_iso_date(refers_date) if refers_date else None,
        profile=header("WARC-Profile"),
        source_name=header("WARC-Govarchive-Source"),
        govarchive_headers=header("WARC-Govarchive-Headers"),
    )


def _arc_ref(path: Path, offset: int, record: Any, status: int | None) -> CaptureRef | None:
    """An ARC record as a response, with a synthetic id that depends only on the record:
    re-importing the same ARC (renamed or not) gives the same ids."""
    headers = record.rec_headers
    url = str(headers.get_header("uri") or "")
    if record.rec_type != "response":  # the filedesc:// header block
        return None
    date = str(headers.get_header("archive-date") or "")
    try:
        captured_at = timestamp_to_datetime(date).replace(tzinfo=UTC)
    except (ValueError, TypeError) as exc:
        raise ArchiveLoadFailed(f"unreadable ARC date {date!r}") from exc
    length = str(headers.get_header("length") or "")
    ip = str(headers.get_header("ip-address") or "")
    key = "\n".join((url, date, length, ip)).encode("utf-8", "surrogateescape")
    return CaptureRef(
        path=path,
        offset=offset,
        record_id=f"<urn:govarchive:arc:{hashlib.sha1(key).hexdigest()}>",
        kind="response",
        url=url,
        captured_at=captured_at,
        status=status,
        payload_digest=None,
        refers_to=None,
        refers_to_url=None,
        refers_to_date=None,
        profile=None,
    )


def _unwrap(url: str | None) -> str | None:
    """wget 1.19 wrote ``<http://…>``; the URL without the brackets."""
    if url and url.startswith("<") and url.endswith(">"):
        return url[1:-1]
    return url


def _iso_date(value: str | None) -> datetime | None:
    """A WARC date (``2024-05-01T08:00:00Z``, WARC/1.1 with fractional seconds) as aware
    UTC; None if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # WARC dates are UTC by definition
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def resolve_revisits(refs: Sequence[CaptureRef]) -> dict[str, CaptureRef | None]:
    """For every revisit ref (keyed by its record_id): the response ref holding its
    payload, or None. Pure.

    Order of preference: the WARC-Refers-To record id; else a response of the same
    payload digest and the same URL (WARC-Refers-To-Target-URI, else the revisit's own),
    the one captured at WARC-Refers-To-Date if given, else the latest not after the
    revisit; for the server-not-modified profile without a digest, the latest response
    of the same URL before the revisit."""
    responses = [ref for ref in refs if ref.kind == "response"]
    by_id = {ref.record_id: ref for ref in responses}
    resolved: dict[str, CaptureRef | None] = {}
    for revisit in refs:
        if revisit.kind != "revisit":
            continue
        resolved[revisit.record_id] = _original(revisit, responses, by_id)
    return resolved


def _original(
    revisit: CaptureRef, responses: list[CaptureRef], by_id: dict[str, CaptureRef]
) -> CaptureRef | None:
    if revisit.refers_to and revisit.refers_to in by_id:
        return by_id[revisit.refers_to]
    url = revisit.refers_to_url or revisit.url
    same_url = [ref for ref in responses if ref.url == url]
    if revisit.payload_digest:
        same = [ref for ref in same_url if ref.payload_digest == revisit.payload_digest]
        at_date = [ref for ref in same if ref.captured_at == revisit.refers_to_date]
        if at_date:
            return at_date[-1]
        # No response at the stated date (or none stated): any response of the same URL
        # and digest holds the same payload, so the latest before the revisit serves.
        return _latest(same, revisit.captured_at, inclusive=True)
    if revisit.profile and revisit.profile.endswith("/server-not-modified"):
        return _latest(same_url, revisit.captured_at, inclusive=False)
    return None


def _latest(refs: list[CaptureRef], until: datetime, *, inclusive: bool) -> CaptureRef | None:
    """The latest ref captured before ``until`` (or at it), the later in file order on a
    tie; None if there is none."""
    best: CaptureRef | None = None
    for ref in refs:
        in_time = ref.captured_at < until or (inclusive and ref.captured_at == until)
        if in_time and (best is None or ref.captured_at >= best.captured_at):
            best = ref
    return best


__all__ = [
    "CaptureRef",
    "Payload",
    "Scan",
    "ScanProblem",
    "WarcReader",
    "resolve_revisits",
]
