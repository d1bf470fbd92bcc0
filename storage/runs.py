"""Sources and crawl runs: the rows every fetch hangs off.

- ``ensure_source(engine, name, *, config_json=None) -> int`` — the source's id,
  creating the row on first use; a given ``config_json`` replaces the stored one.
- ``start_run(engine, source_id) -> int`` — a new ``crawl_runs`` row, status ``running``.
- ``finish_run(engine, run_id, status) -> RunSummary`` — sets status and finished_at and
  stores the counts computed from the run's ``fetches`` rows.
- ``mark_stale_runs(engine, source_id) -> int`` — runs of the source still ``running``
  (left by a killed process) become ``interrupted``, with their counts; call it when a
  crawl of the source starts.

Each function is one short write transaction. ``now`` (keyword-only) exists for tests;
it defaults to the current UTC time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)

from storage.engine import database_errors, describe, write_transaction
from storage.errors import UnknownRecordError
from storage.models import (
    CRAWL_RUNS,
    SOURCES,
    CrawlRun,
    Fetch,
    FetchOutcome,
    PageVersion,
    RunStatus,
    Source,
)
from storage.sql import insert_ignoring_conflict

#: Outcomes counted in ``crawl_runs.errors`` (the fetch failed or was refused, or its
#: answer looked like a transient failure and was held back).
ERROR_OUTCOMES: tuple[FetchOutcome, ...] = (
    FetchOutcome.ERROR,
    FetchOutcome.BLOCKED,
    FetchOutcome.TOO_LARGE,
    FetchOutcome.SUSPECT,
)


def failed_list_page() -> ColumnElement[bool]:
    """Return the condition of a ``fetches`` row for a list page that could not be read:
    outcome ``list_page`` with an error. Such a row is no page: it counts in no page
    count of its run, but as a failed request where requests are counted. (A list page
    past the last one answers 404 and has no error; crawls before this rule wrote a
    failed list page as ``error`` or ``blocked``, and those rows stay as they are.)"""
    return (Fetch.outcome == FetchOutcome.LIST_PAGE) & Fetch.error.is_not(None)


#: Outcomes counted in ``crawl_runs.skipped`` (deliberately not fetched).
SKIPPED_OUTCOMES: tuple[FetchOutcome, ...] = (
    FetchOutcome.SKIPPED_ROBOTS,
    FetchOutcome.OFFSITE,
    FetchOutcome.SKIPPED_HOST_PAUSED,
)

#: The statuses a run can finish with (every one but ``running``).
_FINISHED: tuple[RunStatus, ...] = tuple(s for s in RunStatus if s is not RunStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One crawl run as stored in ``crawl_runs`` (counts as defined in docs/schema.md)."""

    run_id: int
    source_id: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    pages_seen: int
    new_pages: int
    new_versions: int
    unchanged: int
    not_modified: int
    gone: int
    errors: int
    skipped: int


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_source(
    engine: Engine,
    name: str,
    *,
    config_json: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """Return the id of source ``name``, inserting it if new.

    Writes at most one ``sources`` row; when ``config_json`` is given it replaces the
    stored configuration.
    """
    if not name.strip():
        raise ValueError("a source name must not be empty")
    with database_errors(engine, f"registering source {name!r}"), write_transaction(engine) as conn:
        conn.execute(
            insert_ignoring_conflict(conn, SOURCES, "name"),
            {"name": name, "config_json": config_json, "created_at": now or utcnow()},
        )
        if config_json is not None:
            conn.execute(update(Source).where(Source.name == name).values(config_json=config_json))
        return int(conn.execute(select(Source.id).where(Source.name == name)).scalar_one())


def start_run(engine: Engine, source_id: int, *, now: datetime | None = None) -> int:
    """Insert a ``crawl_runs`` row with status ``running`` and return its id."""
    with database_errors(engine, "starting a crawl run"), write_transaction(engine) as conn:
        _require_source(conn, source_id)
        run_id = conn.execute(
            insert(CrawlRun)
            .values(source_id=source_id, started_at=now or utcnow(), status=RunStatus.RUNNING)
            .returning(CrawlRun.id)
        ).scalar_one()
        return int(run_id)


def finish_run(
    engine: Engine, run_id: int, status: RunStatus, *, now: datetime | None = None
) -> RunSummary:
    """Close run ``run_id`` with ``status`` (completed, failed, blocked or interrupted).

    Writes finished_at, status and the counts from the run's ``fetches`` rows to its
    ``crawl_runs`` row, and returns the stored row.
    """
    if status not in _FINISHED:
        allowed = ", ".join(_FINISHED)
        raise ValueError(f"a run finishes as one of {allowed}, not {status!r}")
    doing = f"finishing crawl run {run_id}"
    with database_errors(engine, doing), write_transaction(engine) as conn:
        if conn.execute(select(CrawlRun.id).where(CrawlRun.id == run_id)).first() is None:
            raise UnknownRecordError(f"crawl run {run_id} does not exist", database=describe(conn))
        _close(conn, run_id, status, now or utcnow())
        return _summary(conn, run_id)


def mark_stale_runs(engine: Engine, source_id: int) -> int:
    """Mark every run of ``source_id`` still ``running`` as ``interrupted``.

    Their counts are computed from their fetches, and finished_at is their last fetch's
    requested_at (or started_at when they fetched nothing). Returns how many were marked.
    """
    with database_errors(engine, "marking interrupted runs"), write_transaction(engine) as conn:
        stale = conn.execute(
            select(CrawlRun.id, CrawlRun.started_at).where(
                CrawlRun.source_id == source_id, CrawlRun.status == RunStatus.RUNNING
            )
        ).all()
        for run_id, started_at in stale:
            last = conn.execute(
                select(func.max(Fetch.requested_at)).where(Fetch.crawl_run_id == run_id)
            ).scalar()
            _close(conn, run_id, RunStatus.INTERRUPTED, _as_utc(last) or started_at)
        return len(stale)


def run_summary(engine: Engine, run_id: int) -> RunSummary:
    """Return run ``run_id`` as stored (counts are those of its last close)."""
    with database_errors(engine, f"reading crawl run {run_id}"), engine.connect() as conn:
        return _summary(conn, run_id)


_RUN_OWNER = select(CRAWL_RUNS.c.source_id).where(CRAWL_RUNS.c.id == bindparam("run_id"))


def require_run(conn: Connection, run_id: int, source_id: int) -> None:
    """Raise UnknownRecordError unless run ``run_id`` exists and belongs to ``source_id``."""
    owner = conn.execute(_RUN_OWNER, {"run_id": run_id}).scalar()
    if owner is None:
        raise UnknownRecordError(f"crawl run {run_id} does not exist", database=describe(conn))
    if owner != source_id:
        raise UnknownRecordError(
            f"crawl run {run_id} belongs to source {owner}, not {source_id}",
            database=describe(conn),
        )


def _require_source(conn: Connection, source_id: int) -> None:
    if conn.execute(select(Source.id).where(Source.id == source_id)).first() is None:
        raise UnknownRecordError(f"source {source_id} does not exist", database=describe(conn))


def _close(conn: Connection, run_id: int, status: RunStatus, finished_at: datetime) -> None:
    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    new_version = Fetch.outcome == FetchOutcome.NEW_VERSION
    counts = conn.execute(
        select(
            func.count(
                func.distinct(case((Fetch.outcome != FetchOutcome.LIST_PAGE, Fetch.url)))
            ).label("pages_seen"),
            count(new_version & (PageVersion.version == 1)).label("new_pages"),
            count(new_version).label("new_versions"),
            count(Fetch.outcome == FetchOutcome.UNCHANGED).label("unchanged"),
            count(Fetch.outcome == FetchOutcome.NOT_MODIFIED).label("not_modified"),
            count(Fetch.outcome == FetchOutcome.GONE).label("gone"),
            count(Fetch.outcome.in_(ERROR_OUTCOMES)).label("errors"),
            count(Fetch.outcome.in_(SKIPPED_OUTCOMES)).label("skipped"),
        )
        .select_from(Fetch)
        .outerjoin(PageVersion, PageVersion.id == Fetch.version_id)
        # the run's page counts: requests for attachments are not pages
        .where(Fetch.crawl_run_id == run_id, Fetch.attachment.is_(False))
    ).one()
    conn.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(
            status=status,
            finished_at=finished_at,
            **{name: int(value) for name, value in counts._mapping.items()},
        )
    )


def _summary(conn: Connection, run_id: int) -> RunSummary:
    row = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).first()
    if row is None:
        raise UnknownRecordError(f"crawl run {run_id} does not exist", database=describe(conn))
    m = row._mapping
    return RunSummary(
        run_id=m["id"],
        source_id=m["source_id"],
        status=RunStatus(m["status"]),
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        pages_seen=m["pages_seen"],
        new_pages=m["new_pages"],
        new_versions=m["new_versions"],
        unchanged=m["unchanged"],
        not_modified=m["not_modified"],
        gone=m["gone"],
        errors=m["errors"],
        skipped=m["skipped"],
    )


def _as_utc(value: object) -> datetime | None:
    # func.max() loses the column type on SQLite (text comes back); UTCDateTime values
    # from a typed select are already aware.
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
