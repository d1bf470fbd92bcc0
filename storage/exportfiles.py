"""The file formats of :mod:`storage.export`: CSV, JSON Lines and Parquet writers.

Every writer takes batches of rows (sequences in column order) and the columns' kinds,
which decide how a value is written:

==========  ============================  ======================  =======================
kind        CSV                           JSON Lines              Parquet
==========  ============================  ======================  =======================
int         decimal                       number                  int64
bool        ``true`` / ``false``          true / false            bool
text        as is                         string                  string
date        ``YYYY-MM-DD``                string                  date32
timestamp   ISO 8601 in the zone asked    string (as CSV)         timestamp[us, UTC]
json        JSON text (sorted keys)       nested object           string (JSON text)
==========  ============================  ======================  =======================

NULL is an empty CSV field, ``null`` in JSON Lines and a null in Parquet. Files are
UTF-8; CSV optionally starts with a byte order mark. Writes only the file it is given.

Timestamps in CSV and JSON Lines are written in the zone of a :class:`TimeStyle` (UTC
unless asked: ``2021-10-11T09:25:00+08:00`` in Asia/Shanghai, the offset always written),
or with ``excel`` as local ``YYYY-MM-DD HH:MM:SS`` without an offset, which spreadsheet
programs read as a date and time. Parquet keeps them UTC-aware whatever the zone: a
Parquet timestamp is an instant with its zone in the schema, which pandas, DuckDB and
R read as such and show in whatever zone their user chooses; converting it would only
relabel the same instant.

:func:`os_problem` says in words what an OSError from writing a file means (a full disk,
a read-only file system, a missing folder …), for messages that name the file.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, Protocol

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")
Kind = Literal["int", "bool", "text", "date", "timestamp", "json"]
Columns = Sequence[tuple[str, Kind]]


class RowWriter(Protocol):
    """Writes batches of rows to one file; ``close`` flushes and closes it."""

    def write(self, rows: Sequence[Sequence[Any]]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TimeStyle:
    """How CSV and JSON Lines write timestamps: in ``zone`` (named ``zone_name`` in the
    manifest), as ISO 8601 with the offset, or with ``excel`` as ``YYYY-MM-DD
    HH:MM:SS`` local time without one."""

    zone: tzinfo = UTC
    zone_name: str = "UTC"
    excel: bool = False

    def text(self, value: datetime) -> str:
        """Return an aware datetime as this style writes it."""
        local = value.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M:%S") if self.excel else local.isoformat()


UTC_ISO = TimeStyle()


def open_writer(
    path: Path, fmt: Format, columns: Columns, *, bom: bool = False, times: TimeStyle = UTC_ISO
) -> RowWriter:
    """Create ``path`` (truncating it) and return a writer of ``fmt`` for ``columns``.
    ``bom`` applies to CSV only, ``times`` to CSV and JSON Lines (Parquet keeps UTC).
    Parquet needs pyarrow (ImportError otherwise)."""
    if fmt == "csv":
        return _CsvWriter(path, columns, bom, times)
    if fmt == "jsonl":
        return _JsonlWriter(path, columns, times)
    return _ParquetWriter(path, columns)


def iso_utc(value: datetime) -> str:
    """Return an aware datetime as ISO 8601 in UTC (``2021-10-11T01:25:00+00:00``)."""
    return value.astimezone(UTC).isoformat()


def csv_text(value: Any, kind: Kind, times: TimeStyle = UTC_ISO) -> str:
    """Return the CSV text of one value (see the module table)."""
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "timestamp":
        return times.text(value)
    if kind == "date":
        return str(value.isoformat())
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def json_value(value: Any, kind: Kind, times: TimeStyle = UTC_ISO) -> Any:
    """Return the JSON Lines value of one value (see the module table)."""
    if value is None or kind in ("int", "text", "json"):
        return value
    if kind == "bool":
        return bool(value)
    if kind == "timestamp":
        return times.text(value)
    return value.isoformat()


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of the file at ``path`` (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def partial_path(path: Path) -> Path:
    """Return the name ``path`` is written under until it is complete. Pure."""
    return path.with_name(path.name + ".partial")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a ``.partial`` file renamed into place.

    On failure the partial file is removed and ``path`` is as it was; the OSError
    propagates (see :func:`os_problem`)."""
    partial = partial_path(path)
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# What an errno means for someone writing a file, in words.
_OS_PROBLEMS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this file system allows",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
    errno.EEXIST: "a file is in the way",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (a failing or removed disk?)",
}

#: Errors that mean the path given cannot be what was asked (bad usage), rather than
#: that writing to it failed.
PATH_ERRORS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG}
)


def os_error_number(exc: OSError) -> int | None:
    """Return the errno of ``exc``, read from its text when a library (pyarrow) kept
    only the words. Pure."""
    if exc.errno is not None:
        return exc.errno
    text = str(exc)
    return next((code for code in _OS_PROBLEMS if os.strerror(code) in text), None)


def os_problem(exc: OSError) -> str:
    """Return what ``exc`` means in words, with the system's own text. Pure."""
    code = os_error_number(exc)
    system = exc.strerror or str(exc)
    said = _OS_PROBLEMS.get(code) if code is not None else None
    return f"{said} ({system})" if said else system


class _CsvWriter:
    def __init__(self, path: Path, columns: Columns, bom: bool, times: TimeStyle) -> None:
        # newline="" lets csv end rows with \r\n itself (RFC 4180) and keep the \n
        # inside quoted body_text fields as they are.
        self.handle = path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
        self.kinds = [kind for _, kind in columns]
        self.times = times
        self.csv = csv.writer(self.handle)
        self.csv.writerow([name for name, _ in columns])

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        kinds, times = self.kinds, self.times
        self.csv.writerows(
            [csv_text(v, k, times) for v, k in zip(row, kinds, strict=True)] for row in rows
        )

    def close(self) -> None:
        self.handle.close()


class _JsonlWriter:
    def __init__(self, path: Path, columns: Columns, times: TimeStyle) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="\n")
        self.columns = list(columns)
        self.times = times

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        out = io.StringIO()
        for row in rows:
            record = {
                name: json_value(v, kind, self.times)
                for (name, kind), v in zip(self.columns, row, strict=True)
            }
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
        self.handle.write(out.getvalue())

    def close(self) -> None:
        self.handle.close()


class _ParquetWriter:
    """One row group per batch, with an explicit schema (so an empty export and an
    all-NULL column still have the right types)."""

    def __init__(self, path: Path, columns: Columns) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        types = {
            "int": pa.int64(),
            "bool": pa.bool_(),
            "text": pa.string(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "json": pa.string(),
        }
        self.kinds = [kind for _, kind in columns]
        self.schema = pa.schema([(name, types[kind]) for name, kind in columns])
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        arrays: list[list[Any]] = []
        for index, kind in enumerate(self.kinds):
            values = [row[index] for row in rows]
            if kind == "json":
                values = [None if v is None else csv_text(v, "json") for v in values]
            arrays.append(values)
        self.writer.write_batch(self.pa.record_batch(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
