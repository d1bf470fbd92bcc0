"""Writing fetch results to the archive: the one place versions are decided.

The pipeline calls, per source crawl::

    source_id = ensure_source(engine, name, config_json=...)
    mark_stale_runs(engine, source_id)
    run_id = start_run(engine, source_id)
    known = known_pages(engine, source_id)          # validators for conditional GETs
    archive_page(engine, run_id=..., ...)           # a 200 page, parsed
    record_fetch(engine, run_id=..., outcome=...)   # everything else
    finish_run(engine, run_id, RunStatus.COMPLETED)

``archive_page`` writes everything for one page in ONE transaction: the blob (stored
once per raw hash), a new ``page_versions`` row and its ``task_sections`` when the
content hash differs from the latest version's, one ``fetches`` row, and the ``pages``
update. Versions are compared under one parser: when the latest version was parsed by
another ``parser_version``, its stored raw bytes are re-parsed with ``reparse`` first,
so a parser upgrade never creates a version by itself (the old row is left as it was).
A changed answer that looks like a transient failure of a healthy page (an empty body,
a busy page, truncated HTML, lost fields: :mod:`storage.transient`) is written as a
``suspect`` fetch and no version, unless the page's previous answers confirm it.
Concurrent writers of one page are serialised by a row lock on PostgreSQL
(``SELECT … FOR UPDATE``) and ``BEGIN IMMEDIATE`` on SQLite; the unique
(page_id, version) constraint backs that up, and a conflict is retried.

Fetch rows belong to the URL requested (and its page); ``final_url`` keeps where the
answer came from when redirects led elsewhere.

(``ensure_source``, ``start_run``, ``finish_run``, ``mark_stale_runs`` and
``RunSummary`` live in :mod:`storage.runs` and are re-exported here.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, func, select

from storage.attachments import (
    AttachmentFile,
    attachment_hashes,
    record_attachment_fetches,
    store_attachments,
    version_attachments,
)
from storage.blobs import BlobState, blob_state, blob_state_columns, put_blob, read_blob
from storage.content import (
    CANONICAL_FIELDS,
    SECTION_FIELDS,
    ParsedDoc,
    content_hash,
    raw_hash,
    section_values,
    version_values,
)
from storage.engine import database_errors, describe, write_transaction
from storage.errors import InvalidDocumentError, UnknownRecordError, WriteConflictError
from storage.models import (
    ATTACHMENTS,
    CRAWL_RUNS,
    FETCHES,
    PAGE_VERSIONS,
    PAGES,
    SOURCES,
    TASK_SECTIONS,
    FetchOutcome,
    Page,
)
from storage.runs import (
    RunSummary,
    ensure_source,
    finish_run,
    mark_stale_runs,
    require_run,
    run_summary,
    start_run,
)
from storage.sql import insert_ignoring_conflict
from storage.transient import (
    CONTENT_OUTCOMES,
    SUSPECT_LIMIT,
    is_confirmed,
    shape_of,
    transient_failure,
)

__all__ = [
    "ArchiveResult",
    "PageState",
    "RunSummary",
    "archive_page",
    "ensure_source",
    "finish_run",
    "known_pages",
    "load_raw",
    "mark_stale_runs",
    "record_fetch",
    "run_summary",
    "start_run",
]

#: Outcomes written by :func:`archive_page`; :func:`record_fetch` writes the others.
ARCHIVE_OUTCOMES: tuple[FetchOutcome, ...] = (
    FetchOutcome.NEW_VERSION,
    FetchOutcome.UNCHANGED,
    FetchOutcome.SUSPECT,
)
RECORD_OUTCOMES: tuple[FetchOutcome, ...] = tuple(
    o for o in FetchOutcome if o not in ARCHIVE_OUTCOMES
)

Outcome = Literal[FetchOutcome.NEW_VERSION, FetchOutcome.UNCHANGED, FetchOutcome.SUSPECT]

#: Attempts at one page's transaction before a lock conflict is reported.
WRITE_ATTEMPTS = 5

Reparse = Callable[[bytes, str | None], ParsedDoc]
_T = TypeVar("_T")

# Prebuilt statements executed with parameters: SQLAlchemy compiles each once and
# takes it from its compiled cache afterwards.
_LOCK_PAGE = select(PAGES.c.id).where(PAGES.c.url == bindparam("url")).with_for_update()
_PRIOR = PAGE_VERSIONS.alias("prior")
_HAS_ATTACHMENTS = (
    select(ATTACHMENTS.c.id)
    .join(PAGE_VERSIONS, PAGE_VERSIONS.c.id == ATTACHMENTS.c.version_id)
    .where(PAGE_VERSIONS.c.page_id == PAGES.c.id)
    .exists()
    .label("has_attachments")
)
_LATEST_NUMBER = (
    select(func.max(_PRIOR.c.version)).where(_PRIOR.c.page_id == PAGES.c.id).scalar_subquery()
)
# Everything a page's write decides on, in one round trip (each statement costs far
# more in the driver and SQLAlchemy than in the database): the owner of the run (the
# run check), the page (NULL when new), its latest version (NULL when none) and the
# state of the answer's body in the blob store (its raw hash stored? the source's
# dictionary), which a new version's put_blob would otherwise read in a statement of
# its own. Driven by the source's row, so no row at all means the source does not exist.
_LOOKUP = (
    select(
        select(CRAWL_RUNS.c.source_id)
        .where(CRAWL_RUNS.c.id == bindparam("run_id"))
        .scalar_subquery()
        .label("run_source"),
        PAGES.c.id.label("page_id"),
        PAGE_VERSIONS.c.id.label("version_id"),
        PAGE_VERSIONS.c.version,
        PAGE_VERSIONS.c.content_hash,
        PAGE_VERSIONS.c.parser_version,
        PAGE_VERSIONS.c.raw_hash,
        PAGE_VERSIONS.c.content_type,
        *blob_state_columns(bindparam("raw_hash"), bindparam("source_id")),
    )
    .select_from(
        SOURCES.outerjoin(PAGES, PAGES.c.url == bindparam("url")).outerjoin(
            PAGE_VERSIONS,
            and_(
                PAGE_VERSIONS.c.page_id == PAGES.c.id,
                PAGE_VERSIONS.c.version == _LATEST_NUMBER,
            ),
        )
    )
    .where(SOURCES.c.id == bindparam("source_id"))
)
_INSERT_VERSION = PAGE_VERSIONS.insert().returning(PAGE_VERSIONS.c.id)
_INSERT_SECTIONS = TASK_SECTIONS.insert()
_INSERT_FETCH = FETCHES.insert().returning(FETCHES.c.id)
_UPDATE_PAGE = PAGES.update().where(PAGES.c.id == bindparam("page_id"))
_TOUCH_PAGE = _UPDATE_PAGE.values(
    last_fetched_at=bindparam("at"),
    etag=bindparam("etag"),
    last_modified=bindparam("last_modified"),
    gone_at=None,
)
_TOUCH_CHANGED_PAGE = _TOUCH_PAGE.values(last_changed_at=bindparam("at"))
# By URL: on PostgreSQL the UPDATE takes the page's row lock, so a 304 needs no
# SELECT … FOR UPDATE of its own (one round trip less per unchanged page).
_NOT_MODIFIED_PAGE = (
    PAGES.update()
    .where(PAGES.c.url == bindparam("page_url"))
    .values(last_fetched_at=bindparam("at"), gone_at=None)
)
# A 304's fetches row with the page and its current version read in the same
# statement (INSERT … SELECT): after _NOT_MODIFIED_PAGE took the page's lock, this
# statement of its own reads the latest version as it is now. Driven by the source's
# row and filtered on the run's owner, so no row comes back for an unknown source or a
# run of another source (_look_up then says which).
_FETCH_COLUMNS = (
    "crawl_run_id",
    "url",
    "requested_at",
    "http_status",
    "outcome",
    "error",
    "elapsed_ms",
    "bytes",
    "raw_hash",
    "final_url",
    "content_hash",
)
_CURRENT_VERSION = (
    select(PAGE_VERSIONS.c.id)
    .where(PAGE_VERSIONS.c.page_id == PAGES.c.id)
    .order_by(PAGE_VERSIONS.c.version.desc())
    .limit(1)
    .scalar_subquery()
)
_RUN_SOURCE = (
    select(CRAWL_RUNS.c.source_id)
    .where(CRAWL_RUNS.c.id == bindparam("crawl_run_id"))
    .scalar_subquery()
)
_INSERT_NOT_MODIFIED_FETCH = (
    FETCHES.insert()
    .from_select(
        [*_FETCH_COLUMNS, "page_id", "version_id"],
        select(
            *(bindparam(name, type_=FETCHES.c[name].type) for name in _FETCH_COLUMNS),
            PAGES.c.id,
            _CURRENT_VERSION,
        )
        .select_from(SOURCES.outerjoin(PAGES, PAGES.c.url == bindparam("url")))
        .where(SOURCES.c.id == bindparam("source_id"), SOURCES.c.id == _RUN_SOURCE),
    )
    .returning(FETCHES.c.page_id, FETCHES.c.version_id)
)
_GONE_PAGE = (
    PAGES.update()
    .where(PAGES.c.id == bindparam("page_id"), PAGES.c.gone_at.is_(None))
    .values(gone_at=bindparam("at"))
)
# Read only when an answer differs from the latest version (see _PageWrite._suspicion).
_LATEST_VALUES = select(
    *(PAGE_VERSIONS.c[name] for name in CANONICAL_FIELDS),
    PAGE_VERSIONS.c.metadata_extra,
    PAGE_VERSIONS.c.body_text,
).where(PAGE_VERSIONS.c.id == bindparam("version_id"))
_LATEST_SECTIONS = select(
    TASK_SECTIONS.c.title,
    *(TASK_SECTIONS.c[name] for name in SECTION_FIELDS),
    TASK_SECTIONS.c.extra,
).where(TASK_SECTIONS.c.version_id == bindparam("version_id"))
_RECENT_ANSWERS = (
    select(FETCHES.c.outcome, FETCHES.c.content_hash)
    .where(FETCHES.c.page_id == bindparam("page_id"), FETCHES.c.outcome.in_(CONTENT_OUTCOMES))
    .order_by(FETCHES.c.id.desc())
    .limit(SUSPECT_LIMIT - 1)
)


@dataclass(frozen=True, slots=True)
class PageState:
    """What the crawl needs to know about an archived page before fetching it again."""

    url: str
    page_id: int
    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime
    gone_at: datetime | None
    #: Whether one of its versions has attachments: a 304 for the page then still
    #: re-checks them (a file can be replaced while its page stays the same).
    has_attachments: bool = False


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What :func:`archive_page` wrote: ``outcome`` is ``new_version``, ``unchanged`` or
    ``suspect``; ``version_id``/``version`` name the page's current version in every case
    (for ``suspect`` the version kept, which the answer did not replace)."""

    outcome: Outcome
    page_id: int
    version_id: int
    version: int
    new_page: bool
    fetch_id: int


def known_pages(engine: Engine, source_id: int) -> list[PageState]:
    """Return every page of ``source_id`` (also gone ones), ordered by page id. Reads only."""
    with database_errors(engine, "listing known pages"), engine.connect() as conn:
        rows = conn.execute(
            select(
                Page.url,
                Page.id,
                Page.etag,
                Page.last_modified,
                Page.last_fetched_at,
                Page.gone_at,
                _HAS_ATTACHMENTS,
            )
            .where(Page.source_id == source_id)
            .order_by(Page.id)
        ).all()
    return [PageState(*row[:6], has_attachments=bool(row[6])) for row in rows]


def load_raw(engine: Engine, raw_hash: str) -> bytes:
    """Return the original bytes of blob ``raw_hash`` (BlobError if missing or corrupt)."""
    with database_errors(engine, f"reading blob {raw_hash}"), engine.connect() as conn:
        return read_blob(conn, raw_hash)


def archive_page(
    engine: Engine,
    *,
    run_id: int,
    source_id: int,
    url: str,
    requested_at: datetime,
    http_status: int | None,
    raw: bytes,
    content_type: str | None,
    doc: ParsedDoc,
    parser_version: str,
    reparse: Reparse,
    etag: str | None,
    last_modified: str | None,
    elapsed_ms: int,
    final_url: str | None = None,
    attachments: Sequence[AttachmentFile] = (),
    response_headers: Sequence[tuple[str, str]] = (),
) -> ArchiveResult:
    """Archive one successfully fetched and parsed page, in one transaction.

    ``url`` is the URL requested (the page); ``final_url`` where the answer came from
    after redirects (stored only when it differs). ``doc`` is the record read from ``raw``.
    ``attachments`` are the files the page links, as this crawl found them
    (:mod:`storage.attachments`): their SHA-256 are part of the content hash; a new
    version stores them (blobs and ``attachments`` rows), and every request made for
    one gets a ``fetches`` row (``attachment`` true) whatever the page's outcome.
    ``http_status`` and ``response_headers`` (the answer's header lines as served, for a
    WARC export) are stored with a new version.

    Writes: the ``pages`` row if the URL is new; the raw body to ``blobs`` unless that
    hash is stored; a ``page_versions`` row (next version number) with its
    ``task_sections`` when the content hash differs from the latest version's; one
    ``fetches`` row (outcome new_version or unchanged, pointing at the current
    version); and ``pages.last_fetched_at``, ``etag``, ``last_modified`` (plus
    ``last_changed_at`` for a new version), clearing ``gone_at``. A changed answer that
    looks like a transient failure of a healthy page and is not confirmed by the page's
    previous answers writes only a ``suspect`` fetches row (no version, no blob, the
    page row untouched). Returns what was written. Raises InvalidDocumentError for a
    malformed ``doc`` (nothing written), UnknownRecordError for an unknown run or source.
    """
    try:
        _require_aware(requested_at, "requested_at")
        version_row = version_values(doc)
        section_rows = section_values(doc)
    except ValueError as exc:
        raise InvalidDocumentError(f"{url}: {exc}", database=describe(engine)) from exc
    write = _PageWrite(
        run_id=run_id,
        source_id=source_id,
        url=url,
        requested_at=requested_at,
        http_status=http_status,
        raw=raw,
        raw_hash=raw_hash(raw),
        content_type=content_type,
        content_hash=content_hash(doc, raw, attachment_hashes(attachments)),
        version_row=version_row,
        section_rows=section_rows,
        parser_version=parser_version,
        reparse=reparse,
        etag=etag,
        last_modified=last_modified,
        elapsed_ms=elapsed_ms,
        final_url=final_url if final_url != url else None,
        attachments=tuple(attachments),
        response_headers=[[name, value] for name, value in response_headers] or None,
    )
    return _retrying(engine, f"archiving {url}", write.run)


def record_fetch(
    engine: Engine,
    *,
    run_id: int,
    source_id: int,
    url: str,
    requested_at: datetime,
    outcome: FetchOutcome,
    http_status: int | None = None,
    error: str | None = None,
    elapsed_ms: int = 0,
    nbytes: int | None = None,
    raw_hash: str | None = None,
    final_url: str | None = None,
    attachments: Sequence[AttachmentFile] = (),
) -> None:
    """Record a fetch that produced no parsed page, in one transaction.

    ``url`` is the URL requested; ``final_url`` where redirects led (stored only when it
    differs), so a page redirected to an error page is the page marked gone.
    Writes one ``fetches`` row (``page_id`` set when the URL is a known page). For
    ``not_modified`` the row points at the page's current version and
    ``pages.last_fetched_at`` is set (``gone_at`` cleared); for ``gone`` the page's
    ``gone_at`` is set unless already set (its versions are kept). ``error``,
    ``blocked``, ``skipped_robots``, ``offsite`` and ``too_large`` write only the row.
    ``attachments``, for a ``not_modified`` page whose attachments were checked again
    and found unchanged, write their requests' ``fetches`` rows (``attachment`` true).
    """
    if outcome not in RECORD_OUTCOMES:
        allowed = ", ".join(RECORD_OUTCOMES)
        raise ValueError(f"record_fetch outcome must be one of {allowed}, not {outcome!r}")
    try:
        _require_aware(requested_at, "requested_at")
    except ValueError as exc:
        raise InvalidDocumentError(f"{url}: {exc}", database=describe(engine)) from exc

    fetch = {
        "crawl_run_id": run_id,
        "url": url,
        "requested_at": requested_at,
        "http_status": http_status,
        "outcome": outcome,
        "error": error,
        "elapsed_ms": elapsed_ms,
        "bytes": nbytes,
        "raw_hash": raw_hash,
        "final_url": final_url if final_url != url else None,
        "content_hash": None,
    }

    def write(conn: Connection) -> None:
        page_id: int | None
        version_id: int | None = None
        if outcome == FetchOutcome.NOT_MODIFIED:
            page_id, version_id = _record_not_modified(conn, source_id, fetch)
        else:
            page_id = _look_up(conn, run_id=run_id, source_id=source_id, url=url).page_id
            if page_id is not None and outcome == FetchOutcome.GONE:
                conn.execute(_GONE_PAGE, {"page_id": page_id, "at": requested_at})
            conn.execute(_INSERT_FETCH, {**fetch, "page_id": page_id, "version_id": None})
        if attachments and page_id is not None:
            known = version_attachments(conn, version_id) if version_id is not None else []
            record_attachment_fetches(
                conn,
                run_id=run_id,
                page_id=page_id,
                version_id=version_id,
                files=attachments,
                previous={a.url: a.sha256 for a in known},
            )

    _retrying(engine, f"recording a {outcome} fetch of {url}", write)


@dataclass(frozen=True, slots=True)
class _PageWrite:
    """Everything archive_page computed before opening its transaction."""

    run_id: int
    source_id: int
    url: str
    requested_at: datetime
    http_status: int | None
    raw: bytes
    raw_hash: str
    content_type: str | None
    content_hash: str
    version_row: dict[str, Any]
    section_rows: list[dict[str, Any]]
    parser_version: str
    reparse: Reparse
    etag: str | None
    last_modified: str | None
    elapsed_ms: int
    final_url: str | None
    attachments: tuple[AttachmentFile, ...]
    response_headers: list[list[str]] | None

    def run(self, conn: Connection) -> ArchiveResult:
        """The transaction body: lock the page, decide, write."""
        state = self._look_up(conn)
        new_page = False
        if state.page_id is None:
            state, new_page = self._create_page(conn, state.blob)
        page_id = state.page_id
        assert page_id is not None  # _create_page returns a page
        suspicion: str | None = None
        outcome: Outcome
        previous: dict[str, str | None] = {}
        if self.attachments and state.version_id is not None:
            previous = {
                a.url: a.sha256 for a in reversed(version_attachments(conn, state.version_id))
            }
        if state.version_id is not None and self._same_content(conn, state):
            outcome = FetchOutcome.UNCHANGED
            version_id, version = state.version_id, state.version
        elif state.version_id is not None and (suspicion := self._suspicion(conn, state)):
            outcome = FetchOutcome.SUSPECT
            version_id, version = state.version_id, state.version
        else:
            outcome = FetchOutcome.NEW_VERSION
            version = state.version + 1 if state.version_id is not None else 1
            version_id = self._insert_version(conn, page_id, version, state.blob)
        fetch_id = _insert_fetch(
            conn,
            crawl_run_id=self.run_id,
            page_id=page_id,
            url=self.url,
            requested_at=self.requested_at,
            http_status=self.http_status,
            outcome=outcome,
            error=suspicion,
            elapsed_ms=self.elapsed_ms,
            nbytes=len(self.raw),
            raw_hash=self.raw_hash,
            # a suspect answer observed no version: it is held back, not the current one
            version_id=None if outcome is FetchOutcome.SUSPECT else version_id,
            final_url=self.final_url,
            # Kept where it is needed: the next answer is compared with it. (For the
            # other outcomes it is the version's; 64 bytes on every recrawl's row.)
            content_hash=self.content_hash if outcome is FetchOutcome.SUSPECT else None,
        )
        record_attachment_fetches(
            conn,
            run_id=self.run_id,
            page_id=page_id,
            version_id=None if outcome is FetchOutcome.SUSPECT else version_id,
            files=self.attachments,
            previous=previous,
        )
        if outcome is FetchOutcome.SUSPECT:
            # Its validators and time are not the page's: the next crawl must ask again
            # (and get the page back, or the same answer to confirm it).
            return ArchiveResult(outcome, page_id, version_id, version, new_page, fetch_id)
        if not new_page:
            touch = _TOUCH_CHANGED_PAGE if outcome is FetchOutcome.NEW_VERSION else _TOUCH_PAGE
            conn.execute(
                touch,
                {
                    "page_id": page_id,
                    "at": self.requested_at,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                },
            )
        return ArchiveResult(outcome, page_id, version_id, version, new_page, fetch_id)

    def _create_page(self, conn: Connection, blob: BlobState | None) -> tuple[_PageState, bool]:
        """Insert the page row; return its state (with ``blob``, the body's blob state
        read by the lookup) and whether this write created it."""
        at = self.requested_at
        created = conn.execute(
            insert_ignoring_conflict(conn, PAGES, "url", returning="id"),
            {
                "source_id": self.source_id,
                "url": self.url,
                "first_seen_at": at,
                "last_fetched_at": at,
                "last_changed_at": at,
                "gone_at": None,
                "etag": self.etag,
                "last_modified": self.last_modified,
            },
        ).first()
        if created is not None:
            return _PageState(page_id=int(created[0]), blob=blob), True
        # Another writer created the page between our lookup and INSERT (PostgreSQL
        # waited for it to commit): lock the row it created and read it afresh.
        return self._look_up(conn), False

    def _look_up(self, conn: Connection) -> _PageState:
        return _look_up(
            conn, run_id=self.run_id, source_id=self.source_id, url=self.url, raw_hash=self.raw_hash
        )

    def _same_content(self, conn: Connection, latest: _PageState) -> bool:
        """Compare under the current parser: re-parse the latest version's raw bytes
        when it was parsed by another parser_version."""
        if latest.parser_version == self.parser_version:
            return latest.content_hash == self.content_hash
        assert latest.raw_hash is not None  # a version always names its blob
        previous_raw = read_blob(conn, latest.raw_hash)
        reparsed = self.reparse(previous_raw, latest.content_type)
        assert latest.version_id is not None  # a latest version exists here
        files = [a.sha256 for a in version_attachments(conn, latest.version_id)]
        return content_hash(reparsed, previous_raw, files) == self.content_hash

    def _suspicion(self, conn: Connection, latest: _PageState) -> str | None:
        """Why this changed answer looks like a transient failure compared with the
        page's latest version, unless the page's previous answers confirm it; None when
        it is to be a version. Reads only."""
        params = {"version_id": latest.version_id}
        stored = dict(conn.execute(_LATEST_VALUES, params).mappings().one())
        sections = [dict(row) for row in conn.execute(_LATEST_SECTIONS, params).mappings()]
        reason = transient_failure(
            shape_of(self.version_row, self.section_rows, self.raw), shape_of(stored, sections)
        )
        if reason is None:
            return None
        recent = conn.execute(_RECENT_ANSWERS, {"page_id": latest.page_id}).all()
        if is_confirmed(self.content_hash, [(o, h) for o, h in recent]):
            return None
        return reason

    def _insert_version(
        self, conn: Connection, page_id: int, version: int, blob: BlobState | None
    ) -> int:
        put_blob(
            conn,
            raw=self.raw,
            raw_hash=self.raw_hash,
            source_id=self.source_id,
            now=self.requested_at,
            state=blob,
        )
        version_id: int = conn.execute(
            _INSERT_VERSION,
            {
                "page_id": page_id,
                "version": version,
                "fetched_at": self.requested_at,
                "content_hash": self.content_hash,
                "raw_hash": self.raw_hash,
                "content_type": self.content_type,
                "parser_version": self.parser_version,
                "http_status": self.http_status,
                "response_headers": self.response_headers,
                **self.version_row,
            },
        ).scalar_one()
        if self.section_rows:
            conn.execute(
                _INSERT_SECTIONS,
                [{"version_id": version_id, **row} for row in self.section_rows],
            )
        store_attachments(
            conn,
            version_id=version_id,
            files=self.attachments,
            source_id=self.source_id,
            now=self.requested_at,
        )
        return version_id


@dataclass(frozen=True, slots=True)
class _PageState:
    """A page as its write found it: ``page_id`` None for an unknown URL, the
    ``version_*`` fields None when the page has no version yet."""

    page_id: int | None
    version_id: int | None = None
    version: int = 0
    content_hash: str | None = None
    parser_version: str | None = None
    raw_hash: str | None = None
    content_type: str | None = None
    #: The answer's body in the blob store, when the lookup read it (put_blob reads it
    #: itself otherwise).
    blob: BlobState | None = None


def _look_up(
    conn: Connection,
    *,
    run_id: int,
    source_id: int,
    url: str,
    raw_hash: str | None = None,
    lock: bool = True,
) -> _PageState:
    """Return the page behind ``url``, its latest version and the blob state of the body
    ``raw_hash`` (when given), holding the page's row lock on PostgreSQL (``lock=False``:
    the caller already holds it). Raises UnknownRecordError unless run ``run_id`` exists
    and belongs to ``source_id``. Reads only."""
    if lock and conn.dialect.name == "postgresql":
        # Lock first, then read in a statement of its own: under READ COMMITTED a
        # statement that waited for the lock would otherwise see the latest version as
        # it was before the other writer committed. (SQLite's BEGIN IMMEDIATE already
        # serialises writers, so its one statement reads current data.)
        conn.execute(_LOCK_PAGE, {"url": url})
    params = {"run_id": run_id, "source_id": source_id, "url": url, "raw_hash": raw_hash}
    row = conn.execute(_LOOKUP, params).first()
    if row is None or row[0] != source_id:
        require_run(conn, run_id, source_id)  # raises, naming what is wrong with the run
        raise UnknownRecordError(f"source {source_id} does not exist", database=describe(conn))
    _, page_id, version_id, version, content, parser, raw, content_type = row[:8]
    blob = blob_state(row[8:]) if raw_hash is not None else None
    return _PageState(page_id, version_id, version or 0, content, parser, raw, content_type, blob)


def _record_not_modified(
    conn: Connection, source_id: int, fetch: dict[str, Any]
) -> tuple[int | None, int | None]:
    """Write a 304's ``fetches`` row ``fetch`` (its ``page_id`` and ``version_id`` the
    page's and its current version's, None for an unknown URL) and touch the page;
    return (page_id, version_id). Two statements: the UPDATE first, so that on
    PostgreSQL it holds the page's row lock before the current version is read. Raises
    UnknownRecordError for an unknown source or a run of another source."""
    url = fetch["url"]
    conn.execute(_NOT_MODIFIED_PAGE, {"page_url": url, "at": fetch["requested_at"]})
    row = conn.execute(_INSERT_NOT_MODIFIED_FETCH, {**fetch, "source_id": source_id}).first()
    if row is None:
        # Nothing written: say why (an unknown URL still gives a row, with no page).
        _look_up(conn, run_id=fetch["crawl_run_id"], source_id=source_id, url=url, lock=False)
        raise AssertionError(f"no fetches row written for {url}")  # pragma: no cover
    return row[0], row[1]


def _insert_fetch(conn: Connection, *, nbytes: int | None, **values: Any) -> int:
    fetch_id: int = conn.execute(_INSERT_FETCH, {"bytes": nbytes, **values}).scalar_one()
    return fetch_id


def _retrying(engine: Engine, doing: str, body: Callable[[Connection], _T]) -> _T:
    """Run ``body`` in a write transaction, retrying lock conflicts a few times."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with database_errors(engine, doing), write_transaction(engine) as conn:
                return body(conn)
        except WriteConflictError:
            if attempt == WRITE_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not {value.isoformat()}")
