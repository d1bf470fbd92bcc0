"""A version's attachments: the files its page linked when the version was archived.

The crawl hands :func:`storage.archive.archive_page` one :class:`AttachmentFile` per
attachment of the page, in the order the page links them; the archive stores them with
the version, in the page's transaction:

- the bytes as a blob (content-addressed, compressed without the source's dictionary),
  so a file linked from a hundred pages, or unchanged over ten versions, is stored once;
- one ``attachments`` row per file (position, URL, link text, file name, what it is, its
  SHA-256, its text and how the text was read);
- one ``fetches`` row per request made for a file (``attachment`` true, ``page_id`` the
  page linking it).

**What a file means for versions.** A version's ``content_hash`` covers the SHA-256 of
its attachments, in page order (:func:`storage.content.content_hash`): a replaced file
makes exactly one new version, an unchanged one none. A download that fails proves
nothing about the file, so it must neither make a version nor lose one: the crawl then
*carries* the bytes of the page's previous version (same URL) into this one, with the
failure in ``download_error``; a file never downloaded has no SHA-256 (NULL) and the
reason in ``download_error``. The fetch row of the failure says what happened.

Decisions here are pure (:func:`attachment_outcome`); :func:`previous_attachments` and
the writers run on a caller's connection or engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from storage.blobs import put_blob
from storage.engine import database_errors
from storage.models import ATTACHMENTS, FETCHES, PAGE_VERSIONS, PAGES, FetchOutcome


@dataclass(frozen=True, slots=True)
class AttachmentRequest:
    """The request made for one attachment in this crawl: what its ``fetches`` row holds.

    ``outcome`` is None for a download that brought the file's bytes (the archive then
    records ``new_version`` when they differ from the previous version's file at that
    URL, ``unchanged`` when not); ``not_modified`` for a 304; otherwise why no bytes
    came (``error``, ``blocked``, ``too_large``, ``gone`` …).
    """

    requested_at: datetime
    outcome: FetchOutcome | None
    http_status: int | None = None
    error: str | None = None
    elapsed_ms: int = 0
    nbytes: int | None = None
    final_url: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    """One attachment of a page as this crawl found it: an ``attachments`` row to be.

    ``sha256`` names the bytes (None: never downloaded); ``raw`` holds them when they
    were downloaded in this crawl and may not be stored yet (None when carried from the
    previous version or confirmed by a 304: their blob exists). ``request`` is the
    request made for it in this crawl, None when none was made (a host not allowed,
    attachments over the per-page cap).
    """

    position: int
    url: str
    link_text: str
    filename: str | None = None
    kind: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    raw: bytes | None = None
    text: str | None = None
    extractor: str | None = None
    extract_error: str | None = None
    download_error: str | None = None
    fetched_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    request: AttachmentRequest | None = None

    def row(self) -> dict[str, Any]:
        """Return the ``attachments`` column values (without ``version_id``)."""
        return {
            "position": self.position,
            "url": self.url,
            "link_text": self.link_text,
            "filename": self.filename,
            "kind": self.kind,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "text": self.text,
            "extractor": self.extractor,
            "extract_error": self.extract_error,
            "download_error": self.download_error,
            "fetched_at": self.fetched_at,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment of a page's latest version, as the next crawl needs it: the
    validators for a conditional request, and what to carry over when a download fails."""

    version_id: int
    position: int
    url: str
    link_text: str
    filename: str | None
    kind: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    text: str | None
    extractor: str | None
    extract_error: str | None
    fetched_at: datetime | None
    etag: str | None
    last_modified: str | None


_COLUMNS = tuple(ATTACHMENTS.c[name] for name in StoredAttachment.__dataclass_fields__)
_PRIOR = PAGE_VERSIONS.alias("prior")
_LATEST_OF_PAGE = (
    select(func.max(_PRIOR.c.version)).where(_PRIOR.c.page_id == PAGES.c.id).scalar_subquery()
)
_PREVIOUS = (
    select(*_COLUMNS)
    .select_from(
        PAGES.join(PAGE_VERSIONS, PAGE_VERSIONS.c.page_id == PAGES.c.id).join(
            ATTACHMENTS, ATTACHMENTS.c.version_id == PAGE_VERSIONS.c.id
        )
    )
    .where(PAGES.c.url == bindparam("url"), PAGE_VERSIONS.c.version == _LATEST_OF_PAGE)
    .order_by(ATTACHMENTS.c.position)
)
_OF_VERSION = (
    select(*_COLUMNS)
    .where(ATTACHMENTS.c.version_id == bindparam("version_id"))
    .order_by(ATTACHMENTS.c.position)
)
_INSERT = ATTACHMENTS.insert()
_INSERT_FETCHES = FETCHES.insert()


def previous_attachments(engine: Engine, page_url: str) -> dict[str, StoredAttachment]:
    """Return the attachments of the latest version of the page at ``page_url``, by URL
    (the first position of a URL linked twice); empty for an unknown page or a version
    without attachments. Reads only."""
    with database_errors(engine, f"reading the attachments of {page_url}"), engine.connect() as c:
        rows = c.execute(_PREVIOUS, {"url": page_url}).all()
    found: dict[str, StoredAttachment] = {}
    for row in rows:
        found.setdefault(row.url, StoredAttachment(*row))
    return found


def version_attachments(conn: Connection, version_id: int) -> list[StoredAttachment]:
    """Return the attachments of version ``version_id`` in page order. Reads only."""
    return [StoredAttachment(*row) for row in conn.execute(_OF_VERSION, {"version_id": version_id})]


def attachment_hashes(files: Sequence[AttachmentFile]) -> list[str | None]:
    """Return the SHA-256 of each file in page order (None: never downloaded): what a
    version's content hash covers of its attachments. Pure."""
    return [file.sha256 for file in sorted(files, key=lambda f: f.position)]


def attachment_outcome(
    file: AttachmentFile, previous: Mapping[str, str | None]
) -> FetchOutcome | None:
    """Return the ``fetches.outcome`` of the request made for ``file`` (None when none
    was made). ``previous`` maps the URLs of the page's latest version's attachments to
    their SHA-256. Pure."""
    request = file.request
    if request is None:
        return None
    if request.outcome is not None:
        return request.outcome
    if file.url in previous and previous[file.url] == file.sha256:
        return FetchOutcome.UNCHANGED
    return FetchOutcome.NEW_VERSION


def store_attachments(
    conn: Connection,
    *,
    version_id: int,
    files: Sequence[AttachmentFile],
    source_id: int,
    now: datetime,
) -> None:
    """Write ``files`` as the attachments of version ``version_id``: the bytes
    downloaded in this crawl as blobs (unless stored), one ``attachments`` row each."""
    if not files:
        return
    for file in files:
        if file.raw is not None and file.sha256 is not None:
            put_blob(
                conn,
                raw=file.raw,
                raw_hash=file.sha256,
                source_id=source_id,
                now=now,
                dictionary=False,
            )
    conn.execute(_INSERT, [{"version_id": version_id, **file.row()} for file in files])


def record_attachment_fetches(
    conn: Connection,
    *,
    run_id: int,
    page_id: int,
    version_id: int | None,
    files: Sequence[AttachmentFile],
    previous: Mapping[str, str | None],
) -> None:
    """Write one ``fetches`` row (``attachment`` true) per request made for ``files``,
    pointing at the page and at ``version_id`` (the version the file now belongs to;
    None when the page's answer was held back as suspect)."""
    rows = []
    for file in files:
        outcome = attachment_outcome(file, previous)
        request = file.request
        if outcome is None or request is None:
            continue
        rows.append(
            {
                "crawl_run_id": run_id,
                "page_id": page_id,
                "url": file.url,
                "requested_at": request.requested_at,
                "http_status": request.http_status,
                "outcome": outcome,
                "error": request.error,
                "elapsed_ms": request.elapsed_ms,
                "bytes": request.nbytes,
                "raw_hash": file.sha256 if request.outcome is None else None,
                "version_id": version_id,
                "final_url": request.final_url if request.final_url != file.url else None,
                "content_hash": None,
                "attachment": True,
            }
        )
    if rows:
        conn.execute(_INSERT_FETCHES, rows)
