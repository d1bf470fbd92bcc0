"""Writing captures from web archives (WARC and ARC records) into a page's history.

``govarchive import-warc`` (:mod:`scraper.warc.importer`) reads the records and parses
them; this module decides nothing itself (:mod:`storage.placement` does) and writes:

- :func:`imported_record_ids` — which records an earlier import already read;
- :func:`record_skipped` — a record that is not archived (a redirect, a block page …);
- :func:`attachments_at` — the files of the version in effect at a capture's time, so a
  capture whose files are in no WARC keeps them, as a crawl's failed download does;
- :func:`archive_capture` — one capture, in ONE transaction: its version placed at its
  capture time (versions after it renumbered, a run it falls inside split), the page row
  kept consistent, and its ``warc_captures`` row.

Every record read gets exactly one ``warc_captures`` row (``record_id`` is unique), so a
second import of the same file writes nothing, and a killed import resumes where it
stopped. Versions are compared under the current parser, as a crawl compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, update

from storage.attachments import (
    AttachmentFile,
    StoredAttachment,
    attachment_hashes,
    store_attachments,
    version_attachments,
)
from storage.blobs import put_blob, read_blob
from storage.content import ParsedDoc, content_hash, raw_hash, section_values, version_values
from storage.engine import database_errors, describe, write_transaction
from storage.errors import InvalidDocumentError
from storage.models import (
    ATTACHMENTS,
    FETCHES,
    PAGE_VERSIONS,
    PAGES,
    TASK_SECTIONS,
    WARC_CAPTURES,
    CaptureOutcome,
    FetchOutcome,
)
from storage.placement import Move, Placement, Span, neighbours, place
from storage.transient import shape_of, transient_failure

__all__ = [
    "OBSERVING_CAPTURES",
    "OBSERVING_FETCHES",
    "CaptureRecord",
    "CaptureResult",
    "archive_capture",
    "attachments_at",
    "imported_record_ids",
    "record_skipped",
]

Reparse = Callable[[bytes, str | None], ParsedDoc]

#: Records asked about per query (well under SQLite's bound-parameter limit).
_ID_BATCH = 500
#: Added to version numbers while they are moved up, so that no two rows of a page ever
#: hold one number, whatever order the database updates them in.
_PARKING = 1_000_000_000

#: Fetch outcomes that observed a version, its content read or confirmed (what history
#: counts as a version's sightings, and what tells a run goes on past a capture).
OBSERVING_FETCHES = (FetchOutcome.NEW_VERSION, FetchOutcome.UNCHANGED, FetchOutcome.NOT_MODIFIED)
#: Imported capture outcomes that observed a version, likewise.
OBSERVING_CAPTURES = (CaptureOutcome.NEW_VERSION, CaptureOutcome.UNCHANGED, CaptureOutcome.EARLIER)
_MOVE_OUTCOMES: dict[Move, CaptureOutcome] = {
    Move.UNCHANGED: CaptureOutcome.UNCHANGED,
    Move.EARLIER: CaptureOutcome.EARLIER,
    Move.INSERT: CaptureOutcome.NEW_VERSION,
    Move.SPLIT: CaptureOutcome.NEW_VERSION,
}

_SPANS = (
    select(
        PAGE_VERSIONS.c.id,
        PAGE_VERSIONS.c.version,
        PAGE_VERSIONS.c.fetched_at,
        PAGE_VERSIONS.c.content_hash,
        PAGE_VERSIONS.c.parser_version,
        PAGE_VERSIONS.c.raw_hash,
        PAGE_VERSIONS.c.content_type,
    )
    .where(PAGE_VERSIONS.c.page_id == bindparam("page_id"))
    .order_by(PAGE_VERSIONS.c.version)
)
# Copied as they are when a version's run is split: everything but its key, number and
# time (the copy is the same content, seen again).
_COPIED = [
    c for c in PAGE_VERSIONS.columns if c.name not in ("id", "version", "fetched_at", "page_id")
]
_SECTION_COPIED = [c for c in TASK_SECTIONS.columns if c.name not in ("id", "version_id")]
_ATTACHMENT_COPIED = [c for c in ATTACHMENTS.columns if c.name not in ("id", "version_id")]


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """Where a capture comes from: the ``warc_captures`` row's provenance columns."""

    warc_file: str
    record_offset: int
    record_id: str
    record_type: str
    url: str
    captured_at: datetime
    http_status: int | None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """What one capture did. ``version`` is the number of the version it made, confirmed
    or moved earlier (after any renumbering); ``renumbered`` how many existing versions
    of the page moved up; ``reason`` why a skipped or suspect capture was not archived."""

    outcome: CaptureOutcome
    page_id: int | None = None
    version_id: int | None = None
    version: int | None = None
    new_page: bool = False
    renumbered: int = 0
    reason: str | None = None


def imported_record_ids(engine: Engine, record_ids: Iterable[str]) -> set[str]:
    """Return those of ``record_ids`` that have a ``warc_captures`` row. Reads only."""
    wanted = list(dict.fromkeys(record_ids))
    found: set[str] = set()
    with database_errors(engine, "reading imported records"), engine.connect() as conn:
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start : start + _ID_BATCH]
            found.update(
                conn.execute(
                    select(WARC_CAPTURES.c.record_id).where(WARC_CAPTURES.c.record_id.in_(batch))
                ).scalars()
            )
    return found


def record_skipped(
    engine: Engine,
    *,
    source_id: int,
    capture: CaptureRecord,
    outcome: CaptureOutcome,
    reason: str | None,
    now: datetime,
) -> CaptureResult:
    """Write the ``warc_captures`` row of a record that is not archived (``outcome`` one
    of the skipped ones, ``reason`` its ``error``), naming the page when it exists."""
    with (
        database_errors(engine, f"recording {capture.record_id}"),
        write_transaction(engine) as conn,
    ):
        page_id = conn.execute(
            select(PAGES.c.id).where(PAGES.c.url == capture.url)
        ).scalar_one_or_none()
        _insert_capture(
            conn, source_id, capture, outcome, page_id=page_id, version_id=None, error=reason,
            now=now,
        )  # fmt: skip
    return CaptureResult(outcome, page_id=page_id, reason=reason)


def attachments_at(engine: Engine, url: str, at: datetime) -> dict[str, StoredAttachment]:
    """Return the attachments, by URL, of the version of page ``url`` in effect at ``at``
    (or, before its first version, of that first version); empty for an unknown page.
    Reads only."""
    with database_errors(engine, f"reading the attachments of {url}"), engine.connect() as conn:
        page_id = conn.execute(select(PAGES.c.id).where(PAGES.c.url == url)).scalar()
        if page_id is None:
            return {}
        spans = [_span(row) for row in conn.execute(_SPANS, {"page_id": page_id})]
        before, after = neighbours(spans, at)
        chosen = before or after
        if chosen is None:
            return {}
        found: dict[str, StoredAttachment] = {}
        for stored in version_attachments(conn, chosen.version_id):
            found.setdefault(stored.url, stored)
        return found


def archive_capture(
    engine: Engine,
    *,
    source_id: int,
    capture: CaptureRecord,
    raw: bytes,
    content_type: str | None,
    doc: ParsedDoc,
    parser_version: str,
    reparse: Reparse,
    response_headers: Sequence[tuple[str, str]],
    attachments: Sequence[AttachmentFile] = (),
    confirmed: bool = False,
    now: datetime,
) -> CaptureResult:
    """Archive one capture of page ``capture.url`` at ``capture.captured_at``, in one
    transaction, and return what it did.

    Writes, as :mod:`storage.placement` decides: the ``pages`` row when the URL is new
    (first seen at the capture); for a new version the blob, the ``page_versions`` row
    (``fetched_at`` the capture time, ``http_status`` and ``response_headers`` the
    record's), its ``task_sections`` and ``attachments``, the page's later versions
    renumbered, and for a split a copy of the split version from its next sighting with
    the fetches and captures after the capture pointed at the copy; for ``earlier`` the
    version's new ``fetched_at``. Then the page's ``first_seen_at``,
    ``last_changed_at`` and ``last_fetched_at`` (and ``etag``/``last_modified``
    cleared when the capture is the newest version, so the next crawl asks in full), and
    one ``warc_captures`` row. A changed capture that looks like a transient failure of
    the version before it (as a crawl judges, :mod:`storage.transient`) writes only its
    ``suspect`` row unless ``confirmed`` (the page's next capture has the same bytes).
    Raises InvalidDocumentError for a malformed ``doc`` (nothing written).
    """
    try:
        version_row = version_values(doc)
        section_rows = section_values(doc)
    except ValueError as exc:
        raise InvalidDocumentError(f"{capture.url}: {exc}", database=describe(engine)) from exc
    write = _CaptureWrite(
        source_id=source_id,
        capture=capture,
        raw=raw,
        raw_hash=raw_hash(raw),
        content_type=content_type,
        content_hash=content_hash(doc, raw, attachment_hashes(attachments)),
        version_row=version_row,
        section_rows=section_rows,
        parser_version=parser_version,
        reparse=reparse,
        response_headers=[[name, value] for name, value in response_headers] or None,
        attachments=tuple(attachments),
        confirmed=confirmed,
        now=now,
    )
    with (
        database_errors(engine, f"archiving {capture.record_id}"),
        write_transaction(engine) as conn,
    ):
        return write.run(conn)


def _span(row: Any) -> Span:
    return Span(row.id, row.version, row.fetched_at, row.content_hash)


@dataclass(frozen=True, slots=True)
class _CaptureWrite:
    """Everything archive_capture computed before opening its transaction."""

    source_id: int
    capture: CaptureRecord
    raw: bytes
    raw_hash: str
    content_type: str | None
    content_hash: str
    version_row: dict[str, Any]
    section_rows: list[dict[str, Any]]
    parser_version: str
    reparse: Reparse
    response_headers: list[list[str]] | None
    attachments: tuple[AttachmentFile, ...]
    confirmed: bool
    now: datetime

    @property
    def at(self) -> datetime:
        return self.capture.captured_at

    def run(self, conn: Connection) -> CaptureResult:
        """The transaction body: lock the page, place the capture, write."""
        page = conn.execute(
            select(PAGES.c.id, PAGES.c.source_id, PAGES.c.first_seen_at, PAGES.c.last_fetched_at)
            .where(PAGES.c.url == self.capture.url)
            .with_for_update()
        ).first()
        if page is not None and page.source_id != self.source_id:
            reason = "the page belongs to another source of this archive"
            self._record(conn, CaptureOutcome.ERROR, page.id, None, reason)
            return CaptureResult(CaptureOutcome.ERROR, page_id=page.id, reason=reason)
        if page is None:
            page_id = self._create_page(conn)
            version_id = self._insert_version(conn, page_id, 1)
            self._record(conn, CaptureOutcome.NEW_VERSION, page_id, version_id, None)
            return CaptureResult(CaptureOutcome.NEW_VERSION, page_id, version_id, 1, True)
        page_id = page.id
        rows = {row.id: row for row in conn.execute(_SPANS, {"page_id": page_id})}
        stored = [_span(row) for row in rows.values()]
        # Only the two neighbours are compared: only they are re-parsed when another
        # parser read them.
        near = {s.version_id for s in neighbours(stored, self.at) if s is not None}
        spans = [
            self._current(conn, rows[s.version_id]) if s.version_id in near else s for s in stored
        ]
        before, after = neighbours(spans, self.at)
        # Only a changed capture after a version needs to know whether that version's
        # run goes on past it (two queries a capture of unchanged content is spared).
        changed = before is not None and before.content_hash != self.content_hash
        seen_again = self._seen_again(conn, before) if changed and before is not None else None
        decision = place(
            spans, at=self.at, content_hash=self.content_hash, seen_again_at=seen_again
        )
        if decision.move in (Move.INSERT, Move.SPLIT) and not self.confirmed:
            suspicion = self._suspicion(conn, before or (spans[0] if spans else None))
            if suspicion is not None:
                self._record(conn, CaptureOutcome.SUSPECT, page_id, None, suspicion)
                return CaptureResult(CaptureOutcome.SUSPECT, page_id=page_id, reason=suspicion)
        version_id = self._apply(conn, page_id, decision)
        newest = decision.move is Move.INSERT and after is None
        self._touch_page(conn, page, newest=newest)
        outcome = _MOVE_OUTCOMES[decision.move]
        self._record(conn, outcome, page_id, version_id, None)
        moved = [s for s in spans if s.version >= decision.version] if decision.shift else []
        return CaptureResult(outcome, page_id, version_id, decision.version, renumbered=len(moved))

    # -- reading --------------------------------------------------------------------

    def _current(self, conn: Connection, row: Any) -> Span:
        """The version's span, its content hash taken under the current parser (its raw
        bytes re-parsed when another parser read them, as a crawl compares)."""
        if row.parser_version == self.parser_version:
            return _span(row)
        previous_raw = read_blob(conn, row.raw_hash)
        files = [a.sha256 for a in version_attachments(conn, row.id)]
        reparsed = content_hash(self.reparse(previous_raw, row.content_type), previous_raw, files)
        return Span(row.id, row.version, row.fetched_at, reparsed)

    def _seen_again(self, conn: Connection, span: Span) -> datetime | None:
        """The first sighting of ``span``'s content after the capture: a fetch that
        made, confirmed or revalidated it, or a capture that did."""
        by_fetch = conn.execute(
            select(func.min(FETCHES.c.requested_at)).where(
                FETCHES.c.version_id == span.version_id,
                FETCHES.c.requested_at > self.at,
                FETCHES.c.outcome.in_(OBSERVING_FETCHES),
                FETCHES.c.attachment.is_(False),
            )
        ).scalar()
        by_capture = conn.execute(
            select(func.min(WARC_CAPTURES.c.captured_at)).where(
                WARC_CAPTURES.c.version_id == span.version_id,
                WARC_CAPTURES.c.captured_at > self.at,
                WARC_CAPTURES.c.outcome.in_(OBSERVING_CAPTURES),
            )
        ).scalar()
        seen = [t for t in (by_fetch, by_capture) if t is not None]
        return min(seen) if seen else None

    def _suspicion(self, conn: Connection, reference: Span | None) -> str | None:
        """Why this changed capture looks like a transient failure of ``reference`` (the
        version in effect at its time, else the page's first), or None."""
        if reference is None:
            return None
        params = {"version_id": reference.version_id}
        stored = dict(
            conn.execute(
                select(PAGE_VERSIONS).where(PAGE_VERSIONS.c.id == bindparam("version_id")),
                params,
            ).mappings().one()
        )  # fmt: skip
        sections = [
            dict(row)
            for row in conn.execute(
                select(TASK_SECTIONS).where(TASK_SECTIONS.c.version_id == reference.version_id)
            ).mappings()
        ]
        return transient_failure(
            shape_of(self.version_row, self.section_rows, self.raw), shape_of(stored, sections)
        )

    # -- writing --------------------------------------------------------------------

    def _apply(self, conn: Connection, page_id: int, decision: Placement) -> int:
        """Carry out ``decision``; return the id of the version the capture belongs to."""
        if decision.move is Move.UNCHANGED:
            assert decision.target is not None
            return decision.target.version_id
        if decision.move is Move.EARLIER:
            assert decision.target is not None
            conn.execute(
                update(PAGE_VERSIONS)
                .where(PAGE_VERSIONS.c.id == decision.target.version_id)
                .values(fetched_at=self.at)
            )
            return decision.target.version_id
        _shift(conn, page_id, decision.version, decision.shift)
        version_id = self._insert_version(conn, page_id, decision.version)
        if decision.move is Move.SPLIT:
            assert decision.split_from is not None and decision.resumed_at is not None
            _split(
                conn,
                decision.split_from.version_id,
                version=decision.version + 1,
                at=decision.resumed_at,
                after=self.at,
            )
        return version_id

    def _create_page(self, conn: Connection) -> int:
        return int(
            conn.execute(
                insert(PAGES).returning(PAGES.c.id),
                {
                    "source_id": self.source_id,
                    "url": self.capture.url,
                    "first_seen_at": self.at,
                    "last_fetched_at": self.at,
                    "last_changed_at": self.at,
                    "gone_at": None,
                    "etag": None,
                    "last_modified": None,
                },
            ).scalar_one()
        )

    def _insert_version(self, conn: Connection, page_id: int, version: int) -> int:
        put_blob(conn, raw=self.raw, raw_hash=self.raw_hash, source_id=self.source_id, now=self.now)
        version_id = int(
            conn.execute(
                insert(PAGE_VERSIONS).returning(PAGE_VERSIONS.c.id),
                {
                    "page_id": page_id,
                    "version": version,
                    "fetched_at": self.at,
                    "content_hash": self.content_hash,
                    "raw_hash": self.raw_hash,
                    "content_type": self.content_type,
                    "parser_version": self.parser_version,
                    "http_status": self.capture.http_status,
                    "response_headers": self.response_headers,
                    **self.version_row,
                },
            ).scalar_one()
        )
        if self.section_rows:
            conn.execute(
                insert(TASK_SECTIONS), [{"version_id": version_id, **r} for r in self.section_rows]
            )
        store_attachments(
            conn, version_id=version_id, files=self.attachments, source_id=self.source_id,
            now=self.now,
        )  # fmt: skip
        return version_id

    def _touch_page(self, conn: Connection, page: Any, *, newest: bool) -> None:
        """Keep the page row true to its versions after a capture was placed: first
        seen no later than the capture, last confirmed no earlier, last changed when its
        newest version was first seen."""
        latest = (
            select(func.max(PAGE_VERSIONS.c.fetched_at))
            .where(PAGE_VERSIONS.c.page_id == page.id)
            .scalar_subquery()
        )
        values: dict[str, Any] = {
            "first_seen_at": min(page.first_seen_at, self.at),
            "last_fetched_at": max(page.last_fetched_at, self.at),
            "last_changed_at": latest,
        }
        if newest:
            # The validators are those of an older answer: a 304 to them would confirm
            # content that is no longer the newest version.
            values.update(etag=None, last_modified=None)
        conn.execute(update(PAGES).where(PAGES.c.id == page.id).values(**values))

    def _record(
        self,
        conn: Connection,
        outcome: CaptureOutcome,
        page_id: int | None,
        version_id: int | None,
        error: str | None,
    ) -> None:
        _insert_capture(
            conn, self.source_id, self.capture, outcome, page_id=page_id, version_id=version_id,
            error=error, now=self.now,
        )  # fmt: skip


def _shift(conn: Connection, page_id: int, start: int, by: int) -> None:
    """Move versions ``start`` and later of the page up by ``by``, in two steps through
    numbers no version holds (the unique (page_id, version) is checked row by row)."""
    of_page = and_(PAGE_VERSIONS.c.page_id == page_id, PAGE_VERSIONS.c.version >= start)
    conn.execute(
        update(PAGE_VERSIONS).where(of_page).values(version=PAGE_VERSIONS.c.version + _PARKING + by)
    )
    conn.execute(
        update(PAGE_VERSIONS)
        .where(PAGE_VERSIONS.c.page_id == page_id, PAGE_VERSIONS.c.version >= _PARKING)
        .values(version=PAGE_VERSIONS.c.version - _PARKING)
    )


def _split(
    conn: Connection, version_id: int, *, version: int, at: datetime, after: datetime
) -> None:
    """Copy version ``version_id`` (with its sections and attachments) as number
    ``version`` first seen ``at``, and point the fetches and captures that saw it after
    ``after`` at the copy."""
    copy_id = int(
        conn.execute(
            insert(PAGE_VERSIONS)
            .from_select(
                ["page_id", "version", "fetched_at", *(c.name for c in _COPIED)],
                select(
                    PAGE_VERSIONS.c.page_id,
                    bindparam("version", version),
                    bindparam("at", at, type_=PAGE_VERSIONS.c.fetched_at.type),
                    *_COPIED,
                ).where(PAGE_VERSIONS.c.id == version_id),
            )
            .returning(PAGE_VERSIONS.c.id)
        ).scalar_one()
    )
    conn.execute(
        insert(TASK_SECTIONS).from_select(
            ["version_id", *(c.name for c in _SECTION_COPIED)],
            select(bindparam("copy", copy_id), *_SECTION_COPIED).where(
                TASK_SECTIONS.c.version_id == version_id
            ),
        )
    )
    conn.execute(
        insert(ATTACHMENTS).from_select(
            ["version_id", *(c.name for c in _ATTACHMENT_COPIED)],
            select(bindparam("copy", copy_id), *_ATTACHMENT_COPIED).where(
                ATTACHMENTS.c.version_id == version_id
            ),
        )
    )
    conn.execute(
        update(FETCHES)
        .where(FETCHES.c.version_id == version_id, FETCHES.c.requested_at > after)
        .values(version_id=copy_id)
    )
    conn.execute(
        update(WARC_CAPTURES)
        .where(WARC_CAPTURES.c.version_id == version_id, WARC_CAPTURES.c.captured_at > after)
        .values(version_id=copy_id)
    )


def _insert_capture(
    conn: Connection,
    source_id: int,
    capture: CaptureRecord,
    outcome: CaptureOutcome,
    *,
    page_id: int | None,
    version_id: int | None,
    error: str | None,
    now: datetime,
) -> None:
    conn.execute(
        insert(WARC_CAPTURES),
        {
            "source_id": source_id,
            "page_id": page_id,
            "version_id": version_id,
            "warc_file": capture.warc_file,
            "record_offset": capture.record_offset,
            "record_id": capture.record_id,
            "record_type": capture.record_type,
            "url": capture.url,
            "captured_at": capture.captured_at,
            "http_status": capture.http_status,
            "outcome": outcome,
            "error": error,
            "imported_at": now,
        },
    )
