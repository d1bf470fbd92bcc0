"""What changed in the archive in a period, for `govarchive changes` (cron, e-mail).

:func:`changes_between` reads, for ``since <= time < until`` and the chosen sources, one
:class:`Change` per thing that happened:

============  ==============================================================================
kind          what
============  ==============================================================================
new_page      a page's first version was fetched in the period
field         a later version was: one row per metadata field (or ``metadata_extra``,
              ``body_text``) that differs from the version before, old → new
section       …and per task section that appeared, disappeared or changed (``old`` and
              ``new`` are its status: 持续推进 → 已完成)
attachment    …and per file that is new, replaced, downloaded at last or removed
              (:mod:`storage.attachmentchanges`; a file carried over a failed download is
              no change)
gone          the page's ``gone_at`` falls in the period (and it has not answered since)
failures      per source, outcome and kind of request (page or attachment): how many
              fetches ended ``blocked``, ``error``, ``too_large`` or ``suspect``; and
              list pages that could not be read (``list_page`` rows with an error)
============  ==============================================================================

A version is compared with the one before it exactly as ``history`` compares them
(:func:`storage.history.compare`), so the two never disagree. Times are UTC; rendering
them in a zone is :mod:`storage.changereport`'s. Reads only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, select

from storage.attachmentchanges import compare_attachments
from storage.engine import database_errors
from storage.history import VersionSnapshot, compare, load_snapshots
from storage.models import CrawlRun, Fetch, FetchOutcome, Page, PageVersion, Source
from storage.runs import failed_list_page
from storage.selection import resolve_sources

ChangeKind = Literal["new_page", "field", "section", "attachment", "gone", "failures"]

#: Fetch outcomes counted as failures, in the order reports list them.
FAILURE_OUTCOMES: tuple[FetchOutcome, ...] = (
    FetchOutcome.BLOCKED,
    FetchOutcome.ERROR,
    FetchOutcome.TOO_LARGE,
    FetchOutcome.SUSPECT,
)

#: Attachment changes reported (``unchanged`` and ``carried`` are not changes).
_FILE_CHANGES = ("new", "replaced", "downloaded", "removed")


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happened (see the module's table). ``item`` names what changed
    (a field, ``<number> <title>`` of a section, a file's position and name, an outcome);
    ``change`` how (a section's ``added``/``removed``/``changed``, a file's
    ``new``/``replaced``/…, ``page`` or ``attachment`` for failures); ``old`` and ``new``
    are values as text (a section's status, a file's SHA-256). ``at`` is None and
    ``count`` set only for ``failures``."""

    kind: ChangeKind
    source: str
    at: datetime | None = None
    url: str | None = None
    page_id: int | None = None
    version: int | None = None
    title: str | None = None
    item: str | None = None
    change: str | None = None
    old: str | None = None
    new: str | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """Every change of the period ``since <= t < until`` (UTC), by source name, then
    time, page and version; ``sources`` the names asked for (empty: all)."""

    since: datetime
    until: datetime
    sources: tuple[str, ...]
    changes: tuple[Change, ...]

    def of_kind(self, kind: ChangeKind) -> list[Change]:
        """Return the changes of one kind, in report order."""
        return [c for c in self.changes if c.kind == kind]


def as_text(value: Any) -> str | None:
    """A stored value as report text: dates ISO, a dict one ``key: value`` line per key.
    Pure."""
    if value is None:
        return None
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in sorted(value.items())) or None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def version_changes(
    source: str, url: str, page_id: int, before: VersionSnapshot, after: VersionSnapshot
) -> list[Change]:
    """Return the ``field``, ``section`` and ``attachment`` changes from ``before`` to
    ``after`` (consecutive versions of page ``page_id``). Pure."""
    common: dict[str, Any] = {
        "source": source,
        "at": after.fetched_at,
        "url": url,
        "page_id": page_id,
        "version": after.version,
        "title": after.fields.get("title"),
    }
    diff = compare(before, after)
    out = [
        Change(
            "field",
            item=name,
            old=as_text(before.fields.get(name)),
            new=as_text(after.fields.get(name)),
            **common,
        )
        for name in diff.fields
    ]
    out.extend(
        Change(
            "section",
            item=f"{s.number} {s.title}",
            change=s.kind,
            old=s.status_before,
            new=s.status_after,
            **common,
        )
        for s in diff.sections
    )
    files, removed = compare_attachments(before.attachments, after.attachments)
    out.extend(
        Change(
            "attachment",
            item=f"{f.attachment.position} {f.attachment.name}",
            change=f.change,
            old=f.previous_sha256,
            new=f.attachment.sha256 if f.change != "removed" else None,
            **common,
        )
        for f in [*files, *removed]
        if f.change in _FILE_CHANGES
    )
    return out


def changes_between(
    engine: Engine, since: datetime, until: datetime, sources: Sequence[str] = ()
) -> ChangeReport:
    """Return what happened in ``since <= t < until`` (aware datetimes) to the sources
    named ``sources`` (empty: every source). Reads only.

    Raises UnknownRecordError naming an unknown source and the sources there are."""
    with database_errors(engine, "reading what changed"), engine.connect() as conn:
        source_ids = resolve_sources(conn, sources)
        changes = [
            *_version_rows(conn, since, until, source_ids),
            *_gone(conn, since, until, source_ids),
        ]
        failures = _failures(conn, since, until, source_ids)
    order = {"new_page": 0, "field": 1, "section": 2, "attachment": 3, "gone": 4}
    changes.sort(
        key=lambda c: (c.source, c.at or since, c.url or "", c.version or 0, order[c.kind])
    )
    merged = sorted([*changes, *failures], key=lambda c: c.source)  # stable: keeps the above
    return ChangeReport(since, until, tuple(sources), tuple(merged))


def _version_rows(
    conn: Connection, since: datetime, until: datetime, source_ids: list[int] | None
) -> list[Change]:
    stmt = (
        select(
            Source.name,
            Page.id,
            Page.url,
            PageVersion.version,
            PageVersion.fetched_at,
            PageVersion.title,
        )
        .select_from(PageVersion)
        .join(Page, Page.id == PageVersion.page_id)
        .join(Source, Source.id == Page.source_id)
        .where(PageVersion.fetched_at >= since, PageVersion.fetched_at < until)
    )
    if source_ids is not None:
        stmt = stmt.where(Page.source_id.in_(source_ids))
    out: list[Change] = []
    wanted: dict[int, tuple[str, str, set[int]]] = {}
    for source, page_id, url, version, fetched_at, title in conn.execute(stmt):
        if version == 1:
            out.append(Change("new_page", source, fetched_at, url, page_id, 1, title))
        else:
            wanted.setdefault(page_id, (source, url, set()))[2].add(version)
    for page_id, (source, url, versions) in wanted.items():
        needed = sorted(versions | {v - 1 for v in versions})
        found = {s.version: s for s in load_snapshots(conn, page_id, needed)}
        for version in sorted(versions):
            out.extend(version_changes(source, url, page_id, found[version - 1], found[version]))
    return out


def _gone(
    conn: Connection, since: datetime, until: datetime, source_ids: list[int] | None
) -> list[Change]:
    title = (
        select(PageVersion.title)
        .where(PageVersion.page_id == Page.id)
        .order_by(PageVersion.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(Source.name, Page.id, Page.url, Page.gone_at, title)
        .join(Source, Source.id == Page.source_id)
        .where(Page.gone_at >= since, Page.gone_at < until)
    )
    if source_ids is not None:
        stmt = stmt.where(Page.source_id.in_(source_ids))
    return [
        Change("gone", source, gone_at, url, page_id, title=name)
        for source, page_id, url, gone_at, name in conn.execute(stmt)
    ]


def _failures(
    conn: Connection, since: datetime, until: datetime, source_ids: list[int] | None
) -> list[Change]:
    stmt = (
        select(Source.name, Fetch.attachment, Fetch.outcome, func.count())
        .select_from(Fetch)
        .join(CrawlRun, CrawlRun.id == Fetch.crawl_run_id)
        .join(Source, Source.id == CrawlRun.source_id)
        .where(
            Fetch.requested_at >= since,
            Fetch.requested_at < until,
            Fetch.outcome.in_(FAILURE_OUTCOMES) | failed_list_page(),
        )
        .group_by(Source.name, Fetch.attachment, Fetch.outcome)
    )
    if source_ids is not None:
        stmt = stmt.where(CrawlRun.source_id.in_(source_ids))
    # a failed list page is a list_page row with an error: reported as a list page
    rank = {o: i for i, o in enumerate((*FAILURE_OUTCOMES, FetchOutcome.LIST_PAGE))}
    rows = sorted(conn.execute(stmt), key=lambda r: (r[0], bool(r[1]), rank[FetchOutcome(r[2])]))
    return [
        Change(
            "failures",
            source,
            item=str(outcome),
            change="attachment"
            if attachment
            else "list page"
            if outcome == FetchOutcome.LIST_PAGE
            else "page",
            count=int(count),
        )
        for source, attachment, outcome, count in rows
    ]
