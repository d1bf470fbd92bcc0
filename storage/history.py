"""A page's history: its versions in order, what changed between them, and diffs.

- :func:`find_page` — a page id or exact URL → its ``pages`` row (UnknownRecordError
  naming similar URLs when there is none).
- :func:`page_history` — every version of a page, oldest first, each with when it was
  first and last seen and what changed from the version before: which metadata fields,
  which sections appeared, disappeared, changed status or changed text, and what became
  of each attachment (new, replaced, unchanged, carried over a failed download,
  downloaded at last, removed: :mod:`storage.attachmentchanges`).
- :func:`version_diff` — the full difference between two versions: field by field, and
  for long texts (body, section progress …) a line diff with in-line character marks.

The comparison itself is pure (:func:`compare`, :func:`diff_snapshots`); loading reads
only. Values are compared as stored, so a date is a :class:`datetime.date`; every
``to_dict`` turns them into JSON-ready text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, select

from storage.attachmentchanges import (
    AttachmentChange,
    AttachmentSnapshot,
    compare_attachments,
    load_attachments,
)
from storage.backfill import OBSERVING_CAPTURES, OBSERVING_FETCHES
from storage.content import CANONICAL_FIELDS, SECTION_FIELDS
from storage.engine import database_errors, describe
from storage.errors import UnknownRecordError, UnknownVersionError
from storage.models import (
    WARC_CAPTURES,
    Fetch,
    Page,
    PageVersion,
    Source,
    TaskSection,
)
from storage.textdiff import text_diff

#: Fields compared besides the canonical ones (in this order after them).
OTHER_FIELDS: tuple[str, ...] = ("metadata_extra", "body_text")

#: Per-section values compared, in order.
SECTION_KEYS: tuple[str, ...] = ("title", *SECTION_FIELDS, "extra")


@dataclass(frozen=True, slots=True)
class SectionSnapshot:
    """One task section as stored: its number and the value of each of
    :data:`SECTION_KEYS` (``extra`` as a dict), so a section field the model gains is
    compared without being named here."""

    number: int
    values: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.values["title"])

    @property
    def status(self) -> str | None:
        status: str | None = self.values.get("status")
        return status

    def value(self, key: str) -> Any:
        """Return the value of ``key`` (one of :data:`SECTION_KEYS`)."""
        return self.values.get(key)


@dataclass(frozen=True, slots=True)
class VersionSnapshot:
    """One stored version: its identity, when it was seen, its parsed content and its
    attachments (in page order).

    ``last_seen_at`` is the latest fetch or imported capture that observed this version
    (fetches new_version, unchanged or not_modified; captures new_version, unchanged or
    earlier); ``fetches`` how many fetches did, ``captures`` how many captures, from the
    WARC or ARC files ``warc_files`` (in name order)."""

    version_id: int
    version: int
    fetched_at: datetime
    last_seen_at: datetime
    fetches: int
    content_hash: str
    raw_hash: str
    parser_version: str
    fields: dict[str, Any]
    sections: tuple[SectionSnapshot, ...]
    attachments: tuple[AttachmentSnapshot, ...] = ()
    captures: int = 0
    warc_files: tuple[str, ...] = ()

    def section_map(self) -> dict[int, SectionSnapshot]:
        """Return the sections keyed by number."""
        return {s.number: s for s in self.sections}


SectionChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class SectionChange:
    """How one section number differs between two versions. ``keys`` lists the
    changed values (``title``, ``status`` …); ``status_before``/``status_after`` are
    the statuses on each side (None where the section is absent)."""

    number: int
    title: str
    kind: SectionChangeKind
    keys: tuple[str, ...]
    status_before: str | None
    status_after: str | None

    @property
    def status_changed(self) -> bool:
        """True when the section exists on both sides with a different status."""
        return self.kind == "changed" and "status" in self.keys

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "kind": self.kind,
            "changed": list(self.keys),
            "status_before": self.status_before,
            "status_after": self.status_after,
        }


@dataclass(frozen=True, slots=True)
class VersionChange:
    """What changed from one version to the next: field names and section changes."""

    fields: tuple[str, ...]
    sections: tuple[SectionChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "sections": [s.to_dict() for s in self.sections]}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One version in a page's history; ``change`` is None for the first version.
    ``attachments`` says what became of each of its attachments since the version
    before (all ``new`` in a first version); ``removed_attachments`` lists the files
    the version before linked and this one does not."""

    snapshot: VersionSnapshot
    change: VersionChange | None
    attachments: tuple[AttachmentChange, ...] = ()
    removed_attachments: tuple[AttachmentChange, ...] = ()

    @property
    def attachments_changed(self) -> bool:
        """True when a file is new, replaced, downloaded at last or removed (a carried
        or unchanged one is no change)."""
        return bool(self.removed_attachments) or any(
            a.change in ("new", "replaced", "downloaded") for a in self.attachments
        )

    def to_dict(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "version": s.version,
            "version_id": s.version_id,
            "first_seen_at": s.fetched_at.isoformat(),
            "last_seen_at": s.last_seen_at.isoformat(),
            "fetches": s.fetches,
            "captures": s.captures,
            "warc_files": list(s.warc_files),
            "content_hash": s.content_hash,
            "parser_version": s.parser_version,
            "title": s.fields.get("title"),
            "sections": len(s.sections),
            "changes": self.change.to_dict() if self.change is not None else None,
            "attachments": [a.to_dict() for a in self.attachments],
            "removed_attachments": [a.to_dict() for a in self.removed_attachments],
        }


@dataclass(frozen=True, slots=True)
class PageInfo:
    """A ``pages`` row with its source's name."""

    page_id: int
    url: str
    source_name: str
    first_seen_at: datetime
    last_fetched_at: datetime
    last_changed_at: datetime
    gone_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "url": self.url,
            "source_name": self.source_name,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_fetched_at": self.last_fetched_at.isoformat(),
            "last_changed_at": self.last_changed_at.isoformat(),
            "gone_at": self.gone_at.isoformat() if self.gone_at else None,
        }


@dataclass(frozen=True, slots=True)
class PageHistory:
    """A page and all its versions, oldest first."""

    page: PageInfo
    entries: tuple[HistoryEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.page.to_dict(), "versions": [e.to_dict() for e in self.entries]}


@dataclass(frozen=True, slots=True)
class ValueDiff:
    """One changed value: ``name`` is a field, a metadata_extra label or a section key;
    ``lines`` is the readable diff of ``old`` → ``new`` (see storage.textdiff)."""

    name: str
    old: Any
    new: Any
    lines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "diff": list(self.lines),
        }


@dataclass(frozen=True, slots=True)
class SectionDiff:
    """One section's difference; ``values`` holds every changed key (all keys of an
    added or removed section)."""

    number: int
    title: str
    kind: SectionChangeKind
    values: tuple[ValueDiff, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "kind": self.kind,
            "values": [v.to_dict() for v in self.values],
        }


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """The full difference between two versions of one page. ``attachments`` holds the
    files that are not unchanged from ``old`` to ``new`` (new, replaced, carried,
    downloaded at last, removed)."""

    page: PageInfo
    old: VersionSnapshot
    new: VersionSnapshot
    fields: tuple[ValueDiff, ...]
    metadata_extra: tuple[ValueDiff, ...]
    sections: tuple[SectionDiff, ...]
    attachments: tuple[AttachmentChange, ...] = ()

    @property
    def identical(self) -> bool:
        """True when the two versions' parsed content and files are the same (a file
        carried over a failed download is the same file)."""
        files = any(a.change != "carried" for a in self.attachments)
        return not (self.fields or self.metadata_extra or self.sections or files)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.page.to_dict(),
            "old_version": self.old.version,
            "new_version": self.new.version,
            "fields": [v.to_dict() for v in self.fields],
            "metadata_extra": [v.to_dict() for v in self.metadata_extra],
            "sections": [s.to_dict() for s in self.sections],
            "attachments": [a.to_dict() for a in self.attachments],
        }


# -- pure comparison ---------------------------------------------------------------


def compare(old: VersionSnapshot, new: VersionSnapshot) -> VersionChange:
    """Return the names of the fields that differ and how each section changed. Pure."""
    names = [
        n for n in (*CANONICAL_FIELDS, *OTHER_FIELDS) if old.fields.get(n) != new.fields.get(n)
    ]
    return VersionChange(tuple(names), tuple(_section_changes(old, new)))


def _section_changes(old: VersionSnapshot, new: VersionSnapshot) -> list[SectionChange]:
    before, after = old.section_map(), new.section_map()
    changes: list[SectionChange] = []
    for number in sorted(before.keys() | after.keys()):
        a, b = before.get(number), after.get(number)
        if a is None and b is not None:
            changes.append(SectionChange(number, b.title, "added", (), None, b.status))
        elif b is None and a is not None:
            changes.append(SectionChange(number, a.title, "removed", (), a.status, None))
        elif a is not None and b is not None:
            keys = tuple(k for k in SECTION_KEYS if a.value(k) != b.value(k))
            if keys:
                changes.append(SectionChange(number, b.title, "changed", keys, a.status, b.status))
    return changes


def diff_snapshots(page: PageInfo, old: VersionSnapshot, new: VersionSnapshot) -> VersionDiff:
    """Return the full, readable difference between two versions. Pure."""
    fields = tuple(
        _value_diff(name, old.fields.get(name), new.fields.get(name))
        for name in (*CANONICAL_FIELDS, "body_text")
        if old.fields.get(name) != new.fields.get(name)
    )
    extra_old: dict[str, str] = old.fields.get("metadata_extra") or {}
    extra_new: dict[str, str] = new.fields.get("metadata_extra") or {}
    extra = tuple(
        _value_diff(label, extra_old.get(label), extra_new.get(label))
        for label in sorted(extra_old.keys() | extra_new.keys())
        if extra_old.get(label) != extra_new.get(label)
    )
    before, after = old.section_map(), new.section_map()
    sections: list[SectionDiff] = []
    for change in _section_changes(old, new):
        a, b = before.get(change.number), after.get(change.number)
        keys = change.keys if change.kind == "changed" else SECTION_KEYS
        values = tuple(
            _value_diff(k, a.value(k) if a else None, b.value(k) if b else None)
            for k in keys
            if (a.value(k) if a else None) != (b.value(k) if b else None)
        )
        sections.append(SectionDiff(change.number, change.title, change.kind, values))
    files, removed = compare_attachments(old.attachments, new.attachments)
    changed = tuple(f for f in [*files, *removed] if f.change != "unchanged")
    return VersionDiff(page, old, new, fields, extra, tuple(sections), changed)


def _value_diff(name: str, old: Any, new: Any) -> ValueDiff:
    return ValueDiff(name, old, new, tuple(text_diff(_text(old), _text(new))))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in sorted(value.items()))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# -- loading -------------------------------------------------------------------------


def find_page(conn: Connection, ref: int | str) -> PageInfo:
    """Return the page with id ``ref`` (an int) or URL ``ref`` (a str, matched exactly).

    Raises UnknownRecordError naming up to five archived URLs that end like ``ref``.
    """
    stmt = select(
        Page.id,
        Page.url,
        Source.name,
        Page.first_seen_at,
        Page.last_fetched_at,
        Page.last_changed_at,
        Page.gone_at,
    ).join(Source, Source.id == Page.source_id)
    row = None
    if isinstance(ref, str):
        row = conn.execute(stmt.where(Page.url == ref)).first()
    elif integer_fits(conn, ref):  # a larger id names no row, and the drivers refuse it
        row = conn.execute(stmt.where(Page.id == ref)).first()
    if row is not None:
        return PageInfo(*row)
    hint = ""
    if isinstance(ref, str):
        tail = ref.rstrip("/").rsplit("/", 1)[-1]
        like = select(Page.url).where(Page.url.contains(tail, autoescape=True))
        similar = conn.execute(like.order_by(Page.url).limit(5)).scalars().all() if tail else []
        if similar:
            hint = "; similar archived URLs: " + ", ".join(similar)
    what = f"page id {shown_id(ref)}" if isinstance(ref, int) else f"page with URL {ref}"
    raise UnknownRecordError(f"no {what} in the archive{hint}", database=describe(conn))


#: The largest value an INTEGER column holds: 32 bits on PostgreSQL, 64 on SQLite.
INTEGER_MAX: dict[str, int] = {"postgresql": 2**31 - 1, "sqlite": 2**63 - 1}


def integer_fits(conn: Connection, value: int) -> bool:
    """Return True when ``value`` fits the database's INTEGER columns (ids, version
    numbers). A value that does not names no row; PostgreSQL answers "integer out of
    range" and SQLite's driver overflows if it is sent. Pure."""
    limit = INTEGER_MAX.get(conn.dialect.name, 2**31 - 1)
    return -limit - 1 <= value <= limit


def shown_id(number: int | str) -> str:
    """Return an id for a message: in full, or its first digits and length when absurd. Pure."""
    text = str(number)
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} digits)"


def load_snapshots(
    conn: Connection, page_id: int, versions: Sequence[int] | None = None
) -> list[VersionSnapshot]:
    """Return the page's versions (all, or the given version numbers), oldest first,
    with their sections and when fetches last observed them. Reads only."""
    stmt = (
        select(
            PageVersion.id,
            PageVersion.version,
            PageVersion.fetched_at,
            PageVersion.content_hash,
            PageVersion.raw_hash,
            PageVersion.parser_version,
            PageVersion.metadata_extra,
            PageVersion.body_text,
            *(getattr(PageVersion, n) for n in CANONICAL_FIELDS),
        )
        .where(PageVersion.page_id == page_id)
        .order_by(PageVersion.version)
    )
    if versions is not None:
        wanted = [v for v in versions if integer_fits(conn, v)]
        stmt = stmt.where(PageVersion.version.in_(wanted))
    rows = conn.execute(stmt).all()
    ids = [row.id for row in rows]
    sections: dict[int, list[SectionSnapshot]] = {i: [] for i in ids}
    seen: dict[int, tuple[datetime, int]] = {}
    captured: dict[int, list[tuple[datetime, str]]] = {i: [] for i in ids}
    if ids:
        columns = TaskSection.__table__.c
        section_rows = conn.execute(
            select(
                TaskSection.version_id,
                TaskSection.number,
                *(columns[key] for key in SECTION_KEYS),
            )
            .where(TaskSection.version_id.in_(ids))
            .order_by(TaskSection.version_id, TaskSection.number)
        )
        for version_id, number, *values in section_rows:
            stored = dict(zip(SECTION_KEYS, values, strict=True))
            stored["extra"] = dict(stored["extra"] or {})
            sections[version_id].append(SectionSnapshot(number, stored))
        observed = conn.execute(
            select(Fetch.version_id, func.max(Fetch.requested_at), func.count())
            .where(
                Fetch.version_id.in_(ids),
                Fetch.outcome.in_(OBSERVING_FETCHES),
                Fetch.attachment.is_(False),  # a page is observed by its own fetches
            )
            .group_by(Fetch.version_id)
        ).all()
        seen = {vid: (last, n) for vid, last, n in observed if vid is not None}
        for vid, last, file in conn.execute(
            select(
                WARC_CAPTURES.c.version_id, WARC_CAPTURES.c.captured_at, WARC_CAPTURES.c.warc_file
            ).where(
                WARC_CAPTURES.c.version_id.in_(ids),
                WARC_CAPTURES.c.outcome.in_(OBSERVING_CAPTURES),
            )
        ):
            captured[vid].append((last, file))
    attachments = load_attachments(conn, ids)
    snapshots: list[VersionSnapshot] = []
    for row in rows:
        fields = {n: getattr(row, n) for n in CANONICAL_FIELDS}
        fields["metadata_extra"] = dict(row.metadata_extra or {})
        fields["body_text"] = row.body_text
        last, count = seen.get(row.id, (row.fetched_at, 0))
        imported = captured[row.id]
        last = max([last, row.fetched_at, *(at for at, _ in imported)])
        snapshots.append(
            VersionSnapshot(
                row.id,
                row.version,
                row.fetched_at,
                last,
                count,
                row.content_hash,
                row.raw_hash,
                row.parser_version,
                fields,
                tuple(sections[row.id]),
                tuple(attachments[row.id]),
                captures=len(imported),
                warc_files=tuple(sorted({file for _, file in imported})),
            )
        )
    return snapshots


def page_history(engine: Engine, ref: int | str) -> PageHistory:
    """Return the page ``ref`` (id or exact URL) with every version, oldest first, and
    what changed from each version to the next. Reads only."""
    with database_errors(engine, "reading a page's history"), engine.connect() as conn:
        page = find_page(conn, ref)
        snapshots = load_snapshots(conn, page.page_id)
    entries = []
    for i, s in enumerate(snapshots):
        before = snapshots[i - 1] if i else None
        files, removed = compare_attachments(before.attachments if before else (), s.attachments)
        change = compare(before, s) if before else None
        entries.append(HistoryEntry(s, change, tuple(files), tuple(removed)))
    return PageHistory(page, tuple(entries))


def version_diff(engine: Engine, ref: int | str, old: int, new: int) -> VersionDiff:
    """Return the difference between versions ``old`` and ``new`` (version numbers,
    1, 2, 3 …) of page ``ref``. UnknownRecordError names the versions that exist."""
    with database_errors(engine, "reading two versions"), engine.connect() as conn:
        page = find_page(conn, ref)
        found = {s.version: s for s in load_snapshots(conn, page.page_id, [old, new])}
        missing = [v for v in (old, new) if v not in found]
        if missing:
            count = conn.execute(
                select(func.count()).where(PageVersion.page_id == page.page_id)
            ).scalar_one()
            have = f"it has versions 1 to {count}" if count else "it has no versions"
            raise UnknownVersionError(
                f"page {page.page_id} ({page.url}) has no version {shown_id(missing[0])}; {have}",
                database=describe(conn),
            )
    return diff_snapshots(page, found[old], found[new])
