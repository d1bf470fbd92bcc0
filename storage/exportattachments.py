"""The attachment files of an export: each distinct file's bytes, written once.

``govarchive export --what attachments --attachment-files`` writes, besides the
``attachments`` dataset, the bytes of every file its rows name into
``<out>/attachments/<sha256>.<ext>``: one file per SHA-256, however many rows (versions,
pages) name it. Rows whose ``sha256`` is NULL (never downloaded) have no file.

- :func:`file_name` — the name of a file in the export (pure).
- :class:`FileCollector` — watches the dataset's rows as they are written and keeps, per
  SHA-256, the file's name and the first row naming it (for messages).
- :func:`write_attachment_file` — read one blob (one at a time: a file may be 50 MB),
  write it under its ``.partial`` name, check the written file's SHA-256.

The caller (:func:`storage.export.export`) renames the ``.partial`` files into place with
the rest of the export, the manifest last, and removes them when anything fails.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from storage.blobs import read_blob
from storage.errors import BlobError
from storage.exportfiles import file_sha256, partial_path

#: The folder of an export that holds the attachment files.
FOLDER = "attachments"

#: File name extension for each ``attachments.kind`` that says what the bytes are.
#: ``image`` and ``other`` take the extension of the file's own name (else ``bin``).
KIND_EXTENSIONS: dict[str, str] = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "xls": "xls",
    "ofd": "ofd",
    "doc": "doc",
    "wps": "wps",
    "et": "et",
    "zip": "zip",
    "rar": "rar",
    "7z": "7z",
    "text": "txt",
}

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def file_name(sha256: str, kind: str | None, filename: str | None) -> str:
    """Return the name of a file in the export's attachments folder:
    ``<sha256>.<ext>``, ``ext`` from the sniffed kind, else from the file's own name
    (letters and digits only), else ``bin``. Pure."""
    ext = KIND_EXTENSIONS.get(kind or "")
    if ext is None:
        match = _EXTENSION.search(filename or "")
        ext = match.group(1).lower() if match else "bin"
    return f"{sha256}.{ext}"


@dataclass(frozen=True, slots=True)
class WantedFile:
    """One distinct file to write, and the first row that names it (for messages)."""

    sha256: str
    name: str
    page_url: str
    version: int
    version_id: int


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """One file written: its path relative to the export folder, SHA-256 and size."""

    name: str
    sha256: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        """Return its manifest entry."""
        return {"name": self.name, "sha256": self.sha256, "bytes": self.bytes}


class FileCollector:
    """Collects the distinct files that rows of the ``attachments`` dataset name."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._index = {
            key: columns.index(key)
            for key in ("sha256", "kind", "filename", "page_url", "version", "version_id")
        }
        self.files: dict[str, WantedFile] = {}

    def watch(self, batches: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """Yield ``batches`` unchanged, noting the files their rows name."""
        i = self._index
        for batch in batches:
            for row in batch:
                sha256 = row[i["sha256"]]
                if sha256 is not None and sha256 not in self.files:
                    self.files[sha256] = WantedFile(
                        sha256,
                        file_name(sha256, row[i["kind"]], row[i["filename"]]),
                        row[i["page_url"]],
                        row[i["version"]],
                        row[i["version_id"]],
                    )
            yield batch


def write_attachment_file(conn: Connection, path: Path, wanted: WantedFile) -> WrittenFile:
    """Write ``wanted``'s bytes, read from its blob, to ``path.partial`` (the caller
    renames it into place with the rest of the export, or removes it) and return what
    was written. Holds one file's bytes in memory, never more.

    Raises BlobError naming the file's SHA-256 and the version whose row named it when
    its blob is missing or corrupt; OSError when the file cannot be written, or when the
    file written does not hash to its SHA-256 (EIO)."""
    try:
        data = read_blob(conn, wanted.sha256)
    except BlobError as exc:
        raise BlobError(
            f"attachment file {wanted.sha256} (of {wanted.page_url} version "
            f"{wanted.version}, version_id {wanted.version_id}) cannot be exported: "
            f"{exc.detail}",
            database=exc.database,
        ) from exc
    partial = partial_path(path)
    partial.write_bytes(data)
    size = len(data)
    del data  # the caller reads the next blob next
    if file_sha256(partial) != wanted.sha256:
        raise OSError(errno.EIO, f"the bytes written do not hash to {wanted.sha256}")
    return WrittenFile(f"{FOLDER}/{path.name}", wanted.sha256, size)
