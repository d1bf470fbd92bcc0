"""Read-only questions about the archive's health, for ``govarchive status`` and the scheduler.

- ``source_statuses(engine, *, now=None, window=7 days) -> list[SourceStatus]`` — per
  source: its last run, pages archived and gone, versions, and the error rate of its
  requests in the window.
- ``runs_since(engine, source, since) -> list[RunStart]`` — the runs of a source started
  at or after ``since`` (the scheduler uses them to tell whether a cron fire was served).

Nothing here writes. Error rate = fetches whose outcome is an error (``error``,
``blocked``, ``too_large``, ``suspect``) divided by fetches that were requests (everything but the
deliberate skips ``skipped_robots``, ``offsite``, ``skipped_host_paused``); list pages
count as requests. The job queue's state (PostgreSQL: jobs and workers) is read by
:mod:`storage.jobqueue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, case, func, or_, select

from storage.engine import database_errors
from storage.models import CrawlRun, Fetch, Page, PageVersion, RunStatus, Source
from storage.runs import ERROR_OUTCOMES, SKIPPED_OUTCOMES, failed_list_page, utcnow

#: The error-rate window ``govarchive status`` shows.
ERROR_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RunStart:
    """When a run started and how it stands (``running`` until it is closed)."""

    run_id: int
    started_at: datetime
    status: RunStatus


@dataclass(frozen=True, slots=True)
class LastRun:
    """A source's most recent run as stored in ``crawl_runs``."""

    run_id: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    pages_seen: int
    new_pages: int
    new_versions: int
    errors: int

    @property
    def duration(self) -> timedelta | None:
        """Return finished_at - started_at, or None while the run is open."""
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source's health at a glance."""

    name: str
    last_run: LastRun | None
    pages_archived: int
    pages_gone: int
    versions: int
    requests: int
    """Requests made in the window (fetches minus deliberate skips)."""
    errors: int
    """Of those, the ones that failed or were blocked."""

    @property
    def error_rate(self) -> float | None:
        """Return errors / requests in the window, or None when nothing was requested."""
        return self.errors / self.requests if self.requests else None


def source_statuses(
    engine: Engine, *, now: datetime | None = None, window: timedelta = ERROR_WINDOW
) -> list[SourceStatus]:
    """Return the status of every source in the archive, ordered by name. Reads only."""
    since = (now or utcnow()) - window
    with database_errors(engine, "reading the archive's status"), engine.connect() as conn:
        sources = conn.execute(select(Source.id, Source.name).order_by(Source.name)).all()
        last_runs = _last_runs(conn)
        pages = {
            row.source_id: (int(row.archived), int(row.gone or 0))
            for row in conn.execute(
                select(
                    Page.source_id,
                    func.count().label("archived"),
                    func.sum(case((Page.gone_at.is_not(None), 1), else_=0)).label("gone"),
                ).group_by(Page.source_id)
            )
        }
        versions = {
            row.source_id: int(row.n)
            for row in conn.execute(
                select(Page.source_id, func.count().label("n"))
                .select_from(PageVersion)
                .join(Page, Page.id == PageVersion.page_id)
                .group_by(Page.source_id)
            )
        }
        requests = _requests(conn, since)
    return [
        SourceStatus(
            name=name,
            last_run=last_runs.get(source_id),
            pages_archived=pages.get(source_id, (0, 0))[0],
            pages_gone=pages.get(source_id, (0, 0))[1],
            versions=versions.get(source_id, 0),
            requests=requests.get(source_id, (0, 0))[0],
            errors=requests.get(source_id, (0, 0))[1],
        )
        for source_id, name in sources
    ]


def runs_since(engine: Engine, source: str, since: datetime) -> list[RunStart]:
    """Return the runs of source ``source`` started at or after ``since``, oldest first.

    An unknown source has no runs. Reads only.
    """
    doing = f"reading the runs of source {source!r}"
    with database_errors(engine, doing), engine.connect() as conn:
        rows = conn.execute(
            select(CrawlRun.id, CrawlRun.started_at, CrawlRun.status)
            .join(Source, Source.id == CrawlRun.source_id)
            .where(Source.name == source, CrawlRun.started_at >= since)
            .order_by(CrawlRun.started_at, CrawlRun.id)
        ).all()
    return [RunStart(run_id=r[0], started_at=r[1], status=RunStatus(r[2])) for r in rows]


def _last_runs(conn: Connection) -> dict[int, LastRun]:
    # Run ids grow with time, so each source's largest id is its latest run.
    latest = (
        select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.source_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            CrawlRun.source_id,
            CrawlRun.id,
            CrawlRun.status,
            CrawlRun.started_at,
            CrawlRun.finished_at,
            CrawlRun.pages_seen,
            CrawlRun.new_pages,
            CrawlRun.new_versions,
            CrawlRun.errors,
        ).join(latest, latest.c.run_id == CrawlRun.id)
    ).all()
    return {
        r[0]: LastRun(
            run_id=r[1],
            status=RunStatus(r[2]),
            started_at=r[3],
            finished_at=r[4],
            pages_seen=r[5],
            new_pages=r[6],
            new_versions=r[7],
            errors=r[8],
        )
        for r in rows
    }


def _requests(conn: Connection, since: datetime) -> dict[int, tuple[int, int]]:
    """Return {source_id: (requests, errors)} of fetches requested at or after ``since``."""
    is_error = case((Fetch.outcome.in_(ERROR_OUTCOMES) | failed_list_page(), 1), else_=0)
    rows = conn.execute(
        select(
            CrawlRun.source_id,
            func.count().label("requests"),
            func.coalesce(func.sum(is_error), 0).label("errors"),
        )
        .select_from(Fetch)
        .join(CrawlRun, CrawlRun.id == Fetch.crawl_run_id)
        .where(
            # Runs that ended before the window cannot hold fetches inside it; this keeps
            # the scan to recent runs' fetches (fetches is indexed by crawl_run_id).
            or_(CrawlRun.finished_at.is_(None), CrawlRun.finished_at >= since),
            and_(Fetch.requested_at >= since, Fetch.outcome.not_in(SKIPPED_OUTCOMES)),
        )
        .group_by(CrawlRun.source_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}
