"""When each source is crawled: cron triggers, catch-up decisions, and the APScheduler wiring.

This is the only module that imports APScheduler (3.11; the 4.0 line changes its store
schema between pre-releases), so moving to another scheduler touches this file only.

Decisions are pure functions of a schedule and a time:

- ``make_trigger(schedule, timezone, jitter_seconds=0)`` — the 5-field cron of a source,
  read in ``scheduler.timezone`` (default Asia/Shanghai), with random jitter.
- ``fire_times`` / ``next_fire_time`` / ``last_fire_time`` — nominal (jitter-free) fire
  times around a moment.
- ``fire_served(fire, runs)`` — has a run that started at or after that fire finished?
- ``missed_fire(spec, now, runs)`` — the cron fire that should be caught up now, if any.

Catch-up needs no job store of its own: the archive's ``crawl_runs`` already says when
each source last ran. A fire within ``misfire_grace_seconds`` of now with no run started
since (other than one that was interrupted or is left ``running`` by a crashed process)
is run once when the daemon starts; older misses are skipped; several missed fires
are one catch-up, never N. While the daemon runs, APScheduler handles a machine that
slept through a fire the same way (``coalesce=True``, ``misfire_grace_time``).

:class:`CrawlScheduler` wraps APScheduler's BackgroundScheduler: one job per source,
``max_instances=1``, in a pool of :data:`SCHEDULER_THREADS` threads. Its job function
returns at once: the daemon hands each run to its crawl loop, where up to
``scheduler.max_parallel_sources`` crawls run together.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from scraper.config import Config
from scraper.scheduling.cron import apscheduler_day_of_week
from scraper.settings import SchedulerSettings
from storage.models import RunStatus

log = logging.getLogger("govarchive.schedule")

#: APScheduler's threads: they only hand runs to the daemon's crawl loop, which is
#: where crawls run (``scheduler.max_parallel_sources`` at once).
SCHEDULER_THREADS = 2

#: Run statuses that do not count as having served a cron fire: the run was stopped
#: early (interrupted) or its process died (running, with no process holding its lock).
UNSERVED_STATUSES = frozenset({RunStatus.RUNNING, RunStatus.INTERRUPTED})

# Upper bound on fire times enumerated in one window ("* * * * *" over a week is 10,080).
_MAX_FIRES = 1_000_000


class RunLike(Protocol):
    """What the catch-up decision needs of a ``crawl_runs`` row."""

    @property
    def started_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True, slots=True)
class JobSpec:
    """Everything that decides when one source runs; equal specs keep their job as is."""

    source: str
    schedule: str
    timezone: str
    jitter_seconds: int
    misfire_grace_seconds: int

    @property
    def grace(self) -> timedelta:
        """Return the misfire grace period."""
        return timedelta(seconds=self.misfire_grace_seconds)


def job_specs(config: Config) -> list[JobSpec]:
    """Return one JobSpec per configured source with a schedule, in config order. Pure.

    A source without ``schedule`` is crawled by hand only: it gets no job (see
    :func:`unscheduled_sources`).
    """
    settings: SchedulerSettings = config.scheduler
    return [
        JobSpec(
            source=s.name,
            schedule=s.schedule,
            timezone=settings.timezone,
            jitter_seconds=settings.jitter_seconds,
            misfire_grace_seconds=settings.misfire_grace_seconds,
        )
        for s in config.sources
        if s.schedule is not None
    ]


def unscheduled_sources(config: Config) -> list[str]:
    """Return the names of the configured sources without a schedule, in config order. Pure."""
    return [s.name for s in config.sources if s.schedule is None]


def make_trigger(schedule: str, timezone: str, *, jitter_seconds: int = 0) -> CronTrigger:
    """Return the APScheduler trigger of a 5-field cron ``schedule`` read in ``timezone``.

    The day of week means what cron means (``1`` is Monday, ``0`` and ``7`` Sunday):
    see :mod:`.cron`. ``jitter_seconds`` delays each fire by a random 0…jitter seconds.
    Raises ValueError for a bad expression (config validation refuses those first).
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, not {len(fields)}: {schedule!r}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=apscheduler_day_of_week(day_of_week),
        timezone=ZoneInfo(timezone),
        jitter=jitter_seconds or None,
    )


def fire_times(trigger: CronTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Yield the trigger's fire times in (start, end], oldest first.

    Pure for a jitter-free trigger (a jittered one adds its random delays).
    """
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    for _ in range(_MAX_FIRES):
        if fire is None or fire > end:
            return
        yield fire
        fire = trigger.get_next_fire_time(fire, fire)


def next_fire_time(schedule: str | None, timezone: str, now: datetime) -> datetime | None:
    """Return the first nominal (jitter-free) fire time after ``now``, or None for no
    schedule (a source crawled by hand). Pure."""
    if schedule is None:
        return None
    fire: datetime | None = make_trigger(schedule, timezone).get_next_fire_time(
        None, now + timedelta(microseconds=1)
    )
    return fire


def last_fire_time(
    schedule: str, timezone: str, now: datetime, *, within: timedelta
) -> datetime | None:
    """Return the latest nominal fire time in (now - within, now], or None. Pure."""
    last = None
    for last in fire_times(make_trigger(schedule, timezone), now - within, now):  # noqa: B007
        pass
    return last


def fire_served(fire: datetime, runs: Iterable[RunLike]) -> bool:
    """Return True when a run that started at or after ``fire`` counts as having run it. Pure.

    A closed run counts whatever its outcome (completed, failed, blocked: crawling again
    at once would not help); an interrupted one does not, nor one still marked
    ``running`` (the caller holds the source's lock, so such a run's process is dead).
    """
    return any(r.started_at >= fire and r.status not in UNSERVED_STATUSES for r in runs)


def missed_fire(spec: JobSpec, now: datetime, runs: Iterable[RunLike]) -> datetime | None:
    """Return the fire to catch up at ``now``: the latest within the grace period that no
    run served, or None. Several missed fires give one catch-up (the latest). Pure."""
    fire = last_fire_time(spec.schedule, spec.timezone, now, within=spec.grace)
    if fire is None or fire_served(fire, runs):
        return None
    return fire


def current_fire(spec: JobSpec, now: datetime) -> datetime | None:
    """Return the nominal fire a job running at ``now`` belongs to: the latest fire within
    the grace period plus the jitter (a jittered run starts up to that late). Pure."""
    return last_fire_time(
        spec.schedule,
        spec.timezone,
        now,
        within=spec.grace + timedelta(seconds=spec.jitter_seconds),
    )


def catch_up_time(spec: JobSpec, now: datetime, rng: random.Random | None = None) -> datetime:
    """Return when to run a catch-up: ``now`` plus a random jitter, so sources missed
    together do not all start at once. Pure given ``rng``."""
    if spec.jitter_seconds <= 0:
        return now
    return now + timedelta(seconds=(rng or random).uniform(0, spec.jitter_seconds))


@dataclass(frozen=True, slots=True)
class SyncChanges:
    """What :meth:`CrawlScheduler.sync` changed, by source name."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rescheduled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


class CrawlScheduler:
    """One APScheduler job per source calling ``run_source(name)`` on its cron.

    Jobs coalesce missed fires into one, run late fires within the grace period, and
    never run twice at once for one source in this process.
    """

    def __init__(
        self,
        run_source: Callable[[str], object],
        *,
        max_workers: int = SCHEDULER_THREADS,
    ) -> None:
        self._run_source = run_source
        self._specs: dict[str, JobSpec] = {}
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers)},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)

    @property
    def specs(self) -> Mapping[str, JobSpec]:
        """Return the scheduled sources' specs by name."""
        return dict(self._specs)

    def sync(
        self, specs: Sequence[JobSpec], *, first_runs: Mapping[str, datetime] | None = None
    ) -> SyncChanges:
        """Make the jobs match ``specs``: add new sources, remove dropped ones, and
        reschedule those whose spec changed; unchanged jobs keep their next run time.

        ``first_runs`` moves the first run of the named added or rescheduled sources to
        the given time (a catch-up; a time in the past runs at once, once).
        """
        wanted = {s.source: s for s in specs}
        first = dict(first_runs or {})
        added: list[str] = []
        removed: list[str] = []
        rescheduled: list[str] = []
        unchanged: list[str] = []
        for name in list(self._specs):
            if name not in wanted:
                self._scheduler.remove_job(_job_id(name))
                del self._specs[name]
                removed.append(name)
        for name, spec in wanted.items():
            old = self._specs.get(name)
            if old == spec:
                unchanged.append(name)
                continue
            (added if old is None else rescheduled).append(name)
            self._add(spec, first.get(name))
        return SyncChanges(tuple(added), tuple(removed), tuple(rescheduled), tuple(unchanged))

    def _add(self, spec: JobSpec, first_run: datetime | None) -> None:
        options: dict[str, Any] = {}
        if first_run is not None:
            options["next_run_time"] = first_run
        self._scheduler.add_job(
            self._run_source,
            make_trigger(spec.schedule, spec.timezone, jitter_seconds=spec.jitter_seconds),
            args=[spec.source],
            id=_job_id(spec.source),
            name=f"crawl {spec.source}",
            misfire_grace_time=spec.misfire_grace_seconds,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **options,
        )
        self._specs[spec.source] = spec

    def next_run_times(self) -> dict[str, datetime | None]:
        """Return each source's next run time (jitter included; None if paused)."""
        times: dict[str, datetime | None] = {}
        for name in self._specs:
            job = self._scheduler.get_job(_job_id(name))
            times[name] = getattr(job, "next_run_time", None) if job is not None else None
        return times

    def start(self) -> None:
        """Start running jobs in background threads."""
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop starting jobs; jobs already running go on (the daemon stops them)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        name = event.job_id.removeprefix("crawl:")
        log.warning(
            "%s: skipped the run due at %s: more than the misfire grace period late",
            name,
            event.scheduled_run_time.isoformat(timespec="seconds"),
            extra={"event": "run_missed", "source": name},
        )


def _job_id(source: str) -> str:
    return f"crawl:{source}"
