"""Reading back what a page actually served: the stored raw bytes of a version.

The archive keeps every version's raw response body (see docs/schema.md, ``blobs``) so
that anything parsed can be checked against the page itself. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.blobs import read_blob
from storage.engine import database_errors, describe
from storage.errors import UnknownVersionError
from storage.history import find_page
from storage.models import PageVersion


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


def raw_version(engine: Engine, ref: int | str, version: int | None = None) -> RawVersion:
    """Return the raw body of version ``version`` (default: the newest) of page ``ref``
    (an id, or an exact URL). The bytes are checked against their SHA-256.

    Raises UnknownRecordError naming what exists when the page or version does not.
    """
    with database_errors(engine, "reading a stored page"), engine.connect() as conn:
        page = find_page(conn, ref)
        stmt = select(
            PageVersion.version,
            PageVersion.fetched_at,
            PageVersion.raw_hash,
            PageVersion.content_type,
            PageVersion.encoding,
        ).where(PageVersion.page_id == page.page_id)
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
