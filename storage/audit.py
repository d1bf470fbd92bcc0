"""Reading back what a page actually served: the stored raw bytes of a version, or of
one of its attachments.

The archive keeps every version's raw response body and the bytes of the files its page
linked (see docs/schema.md, ``blobs`` and ``attachments``) so that anything parsed can be
checked against what the site served. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from storage.blobs import read_blob
from storage.engine import database_errors, describe
from storage.errors import UnknownAttachmentError, UnknownVersionError
from storage.history import PageInfo, find_page
from storage.models import Attachment, PageVersion


@dataclass(frozen=True, slots=True)
class RawVersion:
    """One version's raw body, with what is needed to cite and re-parse it."""

    page_id: int
    url: str
    version: int
    fetched_at: datetime
    raw_hash: str
    content_type: str | None
    encoding: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class RawAttachment:
    """One attachment of a version: what it is, and its bytes (None when they were
    never downloaded: ``download_error`` says why). A ``download_error`` with bytes
    means this version's download failed and the bytes are an earlier version's."""

    page_id: int
    page_url: str
    version: int
    position: int
    url: str
    filename: str | None
    kind: str | None
    content_type: str | None
    sha256: str | None
    download_error: str | None
    fetched_at: datetime | None
    data: bytes | None


def _version_row(conn: Connection, page: PageInfo, version: int | None, *columns: Any) -> Any:
    """Return the row of ``columns`` of version ``version`` (None: the newest) of
    ``page``; UnknownVersionError names the versions it has."""
    stmt = select(*columns).where(PageVersion.page_id == page.page_id)
    if version is None:
        stmt = stmt.order_by(PageVersion.version.desc()).limit(1)
    else:
        stmt = stmt.where(PageVersion.version == version)
    row = conn.execute(stmt).first()
    if row is None:
        count = conn.execute(
            select(func.count()).where(PageVersion.page_id == page.page_id)
        ).scalar_one()
        have = f"it has versions 1 to {count}" if count else "it has no versions"
        raise UnknownVersionError(
            f"{page.url}: no version {version}; {have}", database=describe(conn)
        )
    return row


def raw_version(engine: Engine, ref: int | str, version: int | None = None) -> RawVersion:
    """Return the raw body of version ``version`` (default: the newest) of page ``ref``
    (an id, or an exact URL). The bytes are checked against their SHA-256.

    Raises UnknownRecordError naming what exists when the page or version does not.
    """
    with database_errors(engine, "reading a stored page"), engine.connect() as conn:
        page = find_page(conn, ref)
        row = _version_row(
            conn,
            page,
            version,
            PageVersion.version,
            PageVersion.fetched_at,
            PageVersion.raw_hash,
            PageVersion.content_type,
            PageVersion.encoding,
        )
        data = read_blob(conn, row.raw_hash)
    return RawVersion(
        page_id=page.page_id,
        url=page.url,
        version=row.version,
        fetched_at=row.fetched_at,
        raw_hash=row.raw_hash,
        content_type=row.content_type,
        encoding=row.encoding,
        data=data,
    )


def raw_attachment(
    engine: Engine, ref: int | str, version: int | None, position: int
) -> RawAttachment:
    """Return attachment ``position`` (1, 2, 3 … as the page linked them) of version
    ``version`` (default: the newest) of page ``ref`` (an id, or an exact URL), with its
    bytes checked against their SHA-256; ``data`` None when they were never downloaded.

    Raises UnknownRecordError naming what exists when the page or version does not,
    UnknownAttachmentError naming the version's attachments when it has none at
    ``position``; BlobError when the stored bytes are missing or corrupt.
    """
    with database_errors(engine, "reading a stored attachment"), engine.connect() as conn:
        page = find_page(conn, ref)
        found = _version_row(conn, page, version, PageVersion.id, PageVersion.version)
        row = conn.execute(
            select(
                Attachment.url,
                Attachment.filename,
                Attachment.kind,
                Attachment.content_type,
                Attachment.sha256,
                Attachment.download_error,
                Attachment.fetched_at,
            ).where(Attachment.version_id == found.id, Attachment.position == position)
        ).first()
        if row is None:
            positions = conn.execute(
                select(Attachment.position)
                .where(Attachment.version_id == found.id)
                .order_by(Attachment.position)
            ).scalars()
            have = ", ".join(map(str, positions))
            raise UnknownAttachmentError(
                f"{page.url} version {found.version} has no attachment {position}; "
                + (f"its attachments are {have}" if have else "it has no attachments"),
                database=describe(conn),
            )
        data = read_blob(conn, row.sha256) if row.sha256 is not None else None
    return RawAttachment(
        page_id=page.page_id,
        page_url=page.url,
        version=found.version,
        position=position,
        url=row.url,
        filename=row.filename,
        kind=row.kind,
        content_type=row.content_type,
        sha256=row.sha256,
        download_error=row.download_error,
        fetched_at=row.fetched_at,
        data=data,
    )
