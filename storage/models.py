"""The archive's tables as typed SQLAlchemy 2 models. docs/schema.md explains every column.

The schema changes only through Alembic migrations (alembic/versions/); a test runs
``alembic check`` so these models and the migrations never drift. Constraint and index
names come from :data:`NAMING_CONVENTION`. The views ``latest_versions`` and
``section_changes`` are created by the migrations (alembic/versions/0001_initial.py
holds their SQL for each dialect); they are not models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column
from sqlalchemy.types import TypeEngine

from storage.types import JSONDocument, UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class FetchOutcome(StrEnum):
    """Every value of ``fetches.outcome``: how one request (or a decision not to make it)
    ended. docs/schema.md says what each means. The order is the CHECK constraint's; a new
    value needs a migration that widens it (as 0003 did for ``suspect``)."""

    NEW_VERSION = "new_version"  # content changed or page new: a version was written
    UNCHANGED = "unchanged"  # same content as the latest version
    SUSPECT = "suspect"  # changed content that looks like a transient failure; held back
    NOT_MODIFIED = "not_modified"  # HTTP 304 to a conditional request
    GONE = "gone"  # 404, 410 or a soft-404 page
    ERROR = "error"  # network error, timeout, 5xx, … after retries
    BLOCKED = "blocked"  # a WAF or script-challenge page
    SKIPPED_ROBOTS = "skipped_robots"  # robots.txt disallows it; no request made
    OFFSITE = "offsite"  # a redirect left the source's hosts; not followed
    TOO_LARGE = "too_large"  # body over the size limit
    SKIPPED_HOST_PAUSED = "skipped_host_paused"  # not requested: its host failed repeatedly
    LIST_PAGE = "list_page"  # a list page fetched for discovery


class CaptureOutcome(StrEnum):
    """Every value of ``warc_captures.outcome``: what ``import-warc`` made of one WARC or
    ARC record. docs/schema.md says what each means. The order is the CHECK constraint's."""

    NEW_VERSION = "new_version"  # a version was written at the capture's time
    UNCHANGED = "unchanged"  # same content as the version in effect at that time
    EARLIER = "earlier"  # the next version's content, seen earlier: it now starts here
    REDIRECT = "redirect"  # a 3xx answer: nothing to archive
    GONE = "gone"  # 404, 410 or a soft-404 page
    BLOCKED = "blocked"  # a WAF or script-challenge page
    SUSPECT = "suspect"  # looks like a transient failure of the page; not archived
    ERROR = "error"  # another status, or a payload that could not be read or parsed
    UNRESOLVED = "unresolved"  # a revisit whose original record is in none of the files


class RunStatus(StrEnum):
    """Every value of ``crawl_runs.status``. The order is the CHECK constraint's; a new
    value needs a migration that widens it."""

    RUNNING = "running"  # not finished (or its process died: the next crawl closes it)
    COMPLETED = "completed"
    FAILED = "failed"  # requests were made and none was answered
    BLOCKED = "blocked"  # nothing answered, block pages seen
    INTERRUPTED = "interrupted"  # stopped early, or found still running after its process died


#: A SHA-256 in lower-case hex.
Sha256 = String(64)

# fetches grows by one row per page per recrawl: 64-bit ids on PostgreSQL (SQLite's
# INTEGER PRIMARY KEY is 64-bit already and must be spelled INTEGER to autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: Iterable[str]) -> str:
    # str(): a StrEnum member's repr is <FetchOutcome.GONE: 'gone'>, its str 'gone'.
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


#: The ``Column.info`` key that marks a metadata field (see :func:`metadata_field`).
METADATA_FIELD = "metadata_field"


def metadata_field(type_: type[TypeEngine[Any]] | TypeEngine[Any]) -> MappedColumn[Any]:
    """Return a metadata field of a version (索引号 → ``index_no``, 发布机构 → ``publisher``
    …): a ``page_versions`` column the parser fills, marked so that
    :data:`CANONICAL_FIELDS` finds it. Its type is Text, Date (the parser gives an ISO
    date) or UTCDateTime (an ISO datetime with offset); null when the page shows none."""
    return mapped_column(type_, info={METADATA_FIELD: True})


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BlobDict(Base):
    """A zstd raw-content dictionary: one source's first page, so later pages of that
    source store only what differs from the site's common chrome."""

    __tablename__ = "blob_dicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(Sha256, unique=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Source(Base):
    """One configured source (a site section crawled as a unit)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    config_json: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blob_dict_id: Mapped[int | None] = mapped_column(ForeignKey("blob_dicts.id"))


class Blob(Base):
    """A raw response body, compressed, stored once per distinct SHA-256."""

    __tablename__ = "blobs"
    __table_args__ = (CheckConstraint(_in("codec", ("zstd",)), name="codec"),)

    hash: Mapped[str] = mapped_column(Sha256, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(Text)
    dict_id: Mapped[int | None] = mapped_column(ForeignKey("blob_dicts.id"))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Page(Base):
    """One canonical detail-page URL."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class PageVersion(Base):
    """One distinct content of a page, with every metadata field as a column (those made
    with :func:`metadata_field`; :data:`CANONICAL_FIELDS` lists them)."""

    __tablename__ = "page_versions"
    __table_args__ = (
        UniqueConstraint("page_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(Sha256, index=True)
    raw_hash: Mapped[str] = mapped_column(ForeignKey("blobs.hash"))
    content_type: Mapped[str | None] = mapped_column(Text)
    # The metadata fields, in the order the parser's Metadata gives them.
    title: Mapped[str | None] = metadata_field(Text)
    index_no: Mapped[str | None] = metadata_field(Text)
    category: Mapped[str | None] = metadata_field(Text)
    publisher: Mapped[str | None] = metadata_field(Text)
    topic: Mapped[str | None] = metadata_field(Text)
    doc_number: Mapped[str | None] = metadata_field(Text)
    published_date: Mapped[date | None] = metadata_field(Date)
    published_at: Mapped[datetime | None] = metadata_field(UTCDateTime)
    written_date: Mapped[date | None] = metadata_field(Date)
    effective_date: Mapped[date | None] = metadata_field(Date)
    expiry_date: Mapped[date | None] = metadata_field(Date)
    validity: Mapped[str | None] = metadata_field(Text)
    # The page's own 来源 / 信息来源 (who issued it), named ``source`` before revision 0007:
    # renamed so that it never shares a name with the configured source (``sources.name``).
    info_source: Mapped[str | None] = metadata_field(Text)
    keywords: Mapped[str | None] = metadata_field(Text)
    summary: Mapped[str | None] = metadata_field(Text)
    metadata_extra: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    body_text: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(Text)
    encoding_source: Mapped[str] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSONDocument)
    parser_version: Mapped[str] = mapped_column(Text)
    # Since revision 0008: the HTTP answer that first brought this content, as served
    # (status, and headers in order with their original case), so an export can write
    # it back as a WARC response record. NULL for versions archived before 0008.
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSONDocument)


class TaskSection(Base):
    """One numbered task section (一、… / 任务一、…) of a version."""

    __tablename__ = "task_sections"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("page_versions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, str]] = mapped_column(JSONDocument)


class CrawlRun(Base):
    """One crawl of one source, with outcome counts filled in when it ends."""

    __tablename__ = "crawl_runs"
    __table_args__ = (CheckConstraint(_in("status", RunStatus), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(Text)
    pages_seen: Mapped[int] = mapped_column(Integer, default=0)
    new_pages: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    gone: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)


class Fetch(Base):
    """One attempt to fetch a detail page, whatever came of it."""

    __tablename__ = "fetches"
    __table_args__ = (CheckConstraint(_in("outcome", FetchOutcome), name="outcome"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    nbytes: Mapped[int | None] = mapped_column("bytes", Integer)
    raw_hash: Mapped[str | None] = mapped_column(Sha256)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("page_versions.id"))
    # Since revision 0003 (added last, where ALTER TABLE puts them).
    final_url: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(Sha256)
    # Since revision 0005: the request was for an attachment the page (page_id) links,
    # not for the page itself; crawl_runs' page counts leave these rows out.
    attachment: Mapped[bool] = mapped_column(server_default=false())


class Attachment(Base):
    """One file a version's page links (附件: a PDF, Word, Excel, WPS, OFD …), as it was
    when that version was archived. The bytes are a blob (``sha256`` is its hash), so a
    file linked from many pages or versions is stored once."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("page_versions.id", ondelete="CASCADE"))
    #: 1-based order among the page's attachments, as linked on the page.
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    link_text: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    #: What the bytes are, sniffed: pdf, docx, xlsx, xls, ofd, doc, wps, et, zip, …
    kind: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    #: The blob holding the bytes; NULL when they were never downloaded (download_error).
    sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.hash"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    extractor: Mapped[str | None] = mapped_column(Text)
    extract_error: Mapped[str | None] = mapped_column(Text)
    #: Why this crawl's download failed; the bytes (if any) are then those of the
    #: page's previous version, kept because a failed download proves no change.
    download_error: Mapped[str | None] = mapped_column(Text)
    #: When the bytes were downloaded (or last confirmed by a 304).
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class WarcCapture(Base):
    """One response or revisit record of a WARC or ARC file that ``import-warc`` read for
    a source, and what it made of it (:class:`CaptureOutcome`): the provenance of every
    imported version, and what makes a second import of the same file change nothing."""

    __tablename__ = "warc_captures"
    __table_args__ = (CheckConstraint(_in("outcome", CaptureOutcome), name="outcome"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    #: The version the capture made, confirmed or moved earlier; NULL when skipped.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("page_versions.id"), index=True)
    #: The file's name (without its folder) and where the record starts in it.
    warc_file: Mapped[str] = mapped_column(Text)
    record_offset: Mapped[int] = mapped_column(BigInteger)
    #: WARC-Record-ID (a stable made-up one for ARC records, which have none).
    record_id: Mapped[str] = mapped_column(Text, unique=True)
    record_type: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    #: WARC-Date: when the capturing crawler fetched it.
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The same tables as Core ``Table`` objects, for prebuilt hot-path statements.
BLOB_DICTS: Table = Base.metadata.tables["blob_dicts"]
BLOBS: Table = Base.metadata.tables["blobs"]
SOURCES: Table = Base.metadata.tables["sources"]
PAGES: Table = Base.metadata.tables["pages"]
PAGE_VERSIONS: Table = Base.metadata.tables["page_versions"]
TASK_SECTIONS: Table = Base.metadata.tables["task_sections"]
CRAWL_RUNS: Table = Base.metadata.tables["crawl_runs"]
FETCHES: Table = Base.metadata.tables["fetches"]
ATTACHMENTS: Table = Base.metadata.tables["attachments"]
WARC_CAPTURES: Table = Base.metadata.tables["warc_captures"]

#: The metadata fields of a version, in column order: the ``page_versions`` columns made
#: with :func:`metadata_field`. Storage's one list of them: storage.content (what is
#: stored and hashed), storage.export, storage.history and storage.reparse take it from
#: here. Its twin on the parser's side is scraper.parse.record.Metadata (storage never
#: imports scraper); tests/storage/test_content.py holds the two equal.
CANONICAL_FIELDS: tuple[str, ...] = tuple(
    column.name for column in PAGE_VERSIONS.columns if column.info.get(METADATA_FIELD)
)

#: The labelled fields of a task section (完成状态 → ``status`` …), in column order: the
#: ``task_sections`` columns besides its key (``id``, ``version_id``, ``number``), its
#: heading (``title``) and its other labels (``extra``). The parser's twin is
#: scraper.parse.record.Section.
SECTION_FIELDS: tuple[str, ...] = tuple(
    column.name
    for column in TASK_SECTIONS.columns
    if column.name not in ("id", "version_id", "number", "title", "extra")
)
