"""The ``govarchive schedule`` daemon: crawl each source on its cron until told to stop.

Every run of the daemon goes through one :class:`~scraper.crawling.service.CrawlService`:
one event loop on a thread of its own, with one Fetcher, one parser pool and one
archive writer shared by all sources. So a host's rate, concurrency and Crawl-delay
hold across every source that crawls it, and hundreds of sources can be in flight at
once (``scheduler.max_parallel_sources``; further ones wait for a slot). APScheduler's
threads only decide when and hand the run to that loop.

What one scheduled run does (:meth:`Daemon.dispatch`):

1. skips the fire if the source's previous run in this daemon is still going;
2. waits for one of the ``max_parallel_sources`` slots;
3. takes the source's crawl lock (:mod:`storage.locks`, on the daemon's one lock
   session) without waiting — if another process or machine holds it, logs who and
   skips this run;
4. skips the run if another daemon already crawled the source since this cron fire
   (several daemons on one archive all fire; the first one does the work);
5. crawls the source and logs one line at its start and one, with counts, at its end.

Signals (installed by :meth:`Daemon.serve` in the main thread, through
:mod:`scraper.shutdown` as for ``govarchive crawl``): SIGTERM / SIGINT stop taking new
pages — each crawl finishes or rolls back the page in hand and closes its run as
``interrupted`` — then the process exits; a second signal exits at once (status 128 +
the signal number). SIGHUP reloads config.yaml; a bad file is refused with a log line
and the running config is kept.
"""

from __future__ import annotations

import concurrent.futures
import logging
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine

from scraper.config import Config, SourceConfig, database_url, load_config
from scraper.crawling.pipeline import SourceRun
from scraper.crawling.service import CrawlMeans, CrawlService
from scraper.errors import ConfigError
from scraper.logs import RunLogReporter, log_run_finished, run_fields
from scraper.scheduling.schedule import (
    CrawlScheduler,
    JobSpec,
    SyncChanges,
    catch_up_time,
    current_fire,
    fire_served,
    job_specs,
    missed_fire,
    unscheduled_sources,
)
from scraper.scheduling.tasks import CrawlQueue
from scraper.shutdown import exit_at_once, shutdown_handlers, signal_handlers
from storage.engine import normalise_url, redact_url
from storage.errors import StorageError
from storage.locks import lock_holder
from storage.runs import utcnow
from storage.status import runs_since

log = logging.getLogger("govarchive.schedule")

#: Seconds the daemon waits, after SIGTERM, for crawls to close their runs before it
#: exits anyway (their runs are then closed as ``interrupted`` by the next crawl).
STOP_TIMEOUT_SECONDS = 20.0
#: Seconds between two ``daemon_load`` log lines (sources running, waiting, loop lag).
LOAD_LOG_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class StopResult:
    """How the daemon ended: ``forced`` when crawls were still running at the deadline."""

    forced: bool
    unfinished: tuple[str, ...] = ()


class Daemon:
    """Runs the configured sources on their schedules against one archive.

    ``config_path`` is re-read on :meth:`reload`; ``database_flag`` is the
    ``--database`` value (it keeps precedence over the file on reload).
    """

    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        config_path: Path | None = None,
        database_flag: str | None = None,
        workers: bool = False,
    ) -> None:
        self.engine = engine
        self.config_path = config_path
        self.database_flag = database_flag
        self._config = config
        self._database = engine.url.render_as_string(hide_password=False)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = False
        self._scheduler = CrawlScheduler(self.dispatch)
        self._running: dict[str, float] = {}
        self._running_cond = threading.Condition()
        self._reporter = RunLogReporter(log)
        self._service: CrawlService | None = None
        self._service_guard = threading.Lock()
        # With workers, each fire queues a job (procrastinate) instead of crawling here.
        self._queue: CrawlQueue | None = CrawlQueue(engine.url, config) if workers else None

    @property
    def config(self) -> Config:
        """Return the config in force (replaced by a successful reload)."""
        return self._config

    @property
    def scheduler(self) -> CrawlScheduler:
        """Return the scheduler wiring (for ``status`` and tests)."""
        return self._scheduler

    def running_sources(self) -> list[str]:
        """Return the sources this daemon is crawling now."""
        with self._running_cond:
            return sorted(self._running)

    # --- one run ----------------------------------------------------------------

    def _crawl_service(self) -> CrawlService:
        with self._service_guard:
            if self._service is None:
                service = CrawlService(
                    self._config.crawl,
                    self.engine,
                    max_parallel=self._config.scheduler.max_parallel_sources,
                    role="daemon",
                )
                service.start()
                self._service = service
            return self._service

    def dispatch(self, name: str) -> concurrent.futures.Future[SourceRun | None] | None:
        """Hand a run of source ``name`` to the crawl loop and return its future
        (what APScheduler calls on each fire; it returns at once).

        Returns None, running nothing, when the daemon is stopping or the source's
        previous run is still going. The future's result is the SourceRun, or None when
        the run was skipped (locked elsewhere, already served, removed from the config,
        failed — failures are logged, never raised).
        """
        if self._stop.is_set():
            return None
        if self._queue is not None:
            self._defer(name)
            return None
        with self._running_cond:
            if name in self._running:
                log.info(
                    "%s: skipped: its previous run is still going", name,
                    extra={"event": "run_skipped", "source": name, "reason": "running"},
                )  # fmt: skip
                return None
            self._running[name] = time.monotonic()
        try:
            config = self._config
            future = self._crawl_service().submit(lambda means: self._run(means, config, name))
        except BaseException:
            self._finished(name)
            raise
        future.add_done_callback(lambda _f: self._finished(name))
        return future

    def _defer(self, name: str) -> None:
        """Queue a crawl job for ``name`` unless the fire is served or a job waits."""
        assert self._queue is not None
        config = self._config
        spec = self._spec(config, name)
        fire = current_fire(spec, utcnow()) if spec is not None else None
        try:
            if fire is not None and fire_served(fire, runs_since(self.engine, name, fire)):
                log.info(
                    "%s: not queued: already crawled for the %s run", name,
                    fire.isoformat(timespec="minutes"),
                    extra={"event": "run_skipped", "source": name, "reason": "served"},
                )  # fmt: skip
                return
            (job,) = self._queue.defer([name], fire=fire)
        except Exception as exc:  # the next fire tries again
            log.exception(
                "%s: could not queue a crawl job: %s", name, exc,
                extra={"event": "run_error", "source": name, "error": str(exc)},
            )  # fmt: skip
            return
        if job.already_queued:
            log.info(
                "%s: not queued: a job for it is still waiting for a worker", name,
                extra={"event": "run_skipped", "source": name, "reason": "queued"},
            )  # fmt: skip
        else:
            log.info(
                "%s: queued as job %s", name, job.job_id,
                extra={"event": "job_queued", "source": name, "job_id": job.job_id},
            )  # fmt: skip

    def run_source(self, name: str) -> SourceRun | None:
        """Crawl source ``name`` once and wait for it (see :meth:`dispatch`).

        Returns its SourceRun, or None when skipped. Never raises for a failed run.
        """
        future = self.dispatch(name)
        return None if future is None else future.result()

    def _finished(self, name: str) -> None:
        with self._running_cond:
            self._running.pop(name, None)
            self._running_cond.notify_all()

    async def _run(self, means: CrawlMeans, config: Config, name: str) -> SourceRun | None:
        if self._stop.is_set():
            return None
        try:
            source = config.source(name)
        except ConfigError:
            log.info(
                "%s: skipped: no longer in the config", name,
                extra={"event": "run_skipped", "source": name, "reason": "removed"},
            )  # fmt: skip
            return None
        try:
            return await self._locked_run(means, config, source)
        except Exception as exc:
            log.exception(
                "%s: scheduled run failed: %s", name, exc,
                extra={"event": "run_error", "source": name, "error": str(exc)},
            )  # fmt: skip
            return None

    async def _locked_run(
        self, means: CrawlMeans, config: Config, source: SourceConfig
    ) -> SourceRun | None:
        name = source.name
        lock = await means.writer.call(means.locks.try_lock, name)
        if lock is None:
            holder = await means.writer.call(lock_holder, self.engine, name) or "another process"
            log.info(
                "%s: skipped: already being crawled by %s", name, holder,
                extra={"event": "run_skipped", "source": name, "reason": "locked",
                       "holder": holder},
            )  # fmt: skip
            return None
        try:
            spec = self._spec(config, name)
            fire = current_fire(spec, utcnow()) if spec is not None else None
            if fire is not None:
                runs = await means.writer.call(runs_since, self.engine, name, fire)
                if fire_served(fire, runs):
                    started = runs[-1].started_at.isoformat(timespec="seconds")
                    log.info(
                        "%s: skipped: already crawled for the %s run (a run started %s)",
                        name, fire.isoformat(timespec="minutes"), started,
                        extra={"event": "run_skipped", "source": name, "reason": "served",
                               "fire": fire.isoformat()},
                    )  # fmt: skip
                    return None
            service = self._crawl_service()
            assert service.stop is not None
            began = time.monotonic()
            run = await means.crawl(source, stop=service.stop, reporter=self._reporter)
            log_run_finished(log, name, run_fields(run, time.monotonic() - began))
            return run
        finally:
            await means.writer.call(lock.release)

    @staticmethod
    def _spec(config: Config, name: str) -> JobSpec | None:
        return next((s for s in job_specs(config) if s.source == name), None)

    # --- scheduling and catch-up --------------------------------------------------

    def catch_ups(self, specs: list[JobSpec], now: datetime) -> dict[str, datetime]:
        """Return {source: when to run its catch-up} for sources with a missed fire.

        Reads each source's recent runs; a database error is logged and means no
        catch-up (the next regular fire still runs).
        """
        due: dict[str, datetime] = {}
        for spec in specs:
            try:
                runs = runs_since(self.engine, spec.source, now - spec.grace)
            except StorageError as exc:
                log.error("%s: cannot read past runs for catch-up: %s", spec.source, exc)
                continue
            fire = missed_fire(spec, now, runs)
            if fire is not None:
                due[spec.source] = catch_up_time(spec, now)
                log.info(
                    "%s: the %s run was missed; running it now", spec.source,
                    fire.isoformat(timespec="minutes"),
                    extra={"event": "catch_up", "source": spec.source, "fire": fire.isoformat()},
                )  # fmt: skip
        return due

    def start(self) -> SyncChanges:
        """Schedule every source (with catch-ups) and start the scheduler threads."""
        specs = job_specs(self._config)
        changes = self._scheduler.sync(specs, first_runs=self.catch_ups(specs, utcnow()))
        self._scheduler.start()
        _log_unscheduled(self._config)
        log.info(
            "scheduler started: %d sources, time zone %s, jitter up to %ds, grace %ds",
            len(specs), self._config.scheduler.timezone, self._config.scheduler.jitter_seconds,
            self._config.scheduler.misfire_grace_seconds,
            extra={"event": "scheduler_started", "sources": [s.source for s in specs],
                   "next_runs": self._next_runs()},
        )  # fmt: skip
        return changes

    def _next_runs(self) -> dict[str, str | None]:
        return {
            name: when.isoformat(timespec="seconds") if when else None
            for name, when in self._scheduler.next_run_times().items()
        }

    def reload(self) -> bool:
        """Re-read the config file and reschedule; returns False (old config kept) if it is bad.

        Crawls in progress finish under the config they started with.
        """
        if self.config_path is None:
            log.error("config reload refused: the daemon was started without a config file")
            return False
        try:
            new = load_config(self.config_path)
            url = database_url(self.database_flag, self.config_path)
        except ConfigError as exc:
            log.error(
                "config reload refused, keeping the previous config: %s", exc,
                extra={"event": "config_refused", "path": str(self.config_path),
                       "error": str(exc)},
            )  # fmt: skip
            return False
        if normalise_url(url).render_as_string(hide_password=False) != self._database:
            log.warning(
                "the database URL changed to %s; restart the daemon to use it (still using %s)",
                redact_url(url), redact_url(self._database),
            )  # fmt: skip
        specs = job_specs(new)
        old = self._scheduler.specs
        fresh = [s for s in specs if old.get(s.source) != s]
        self._config = new
        changes = self._scheduler.sync(specs, first_runs=self.catch_ups(fresh, utcnow()))
        _log_unscheduled(new)
        log.info(
            "config reloaded from %s: %d sources (added: %s; removed: %s; rescheduled: %s)",
            self.config_path, len(specs), ", ".join(changes.added) or "none",
            ", ".join(changes.removed) or "none", ", ".join(changes.rescheduled) or "none",
            extra={"event": "config_reloaded", "sources": [s.source for s in specs],
                   "added": list(changes.added), "removed": list(changes.removed),
                   "rescheduled": list(changes.rescheduled), "next_runs": self._next_runs()},
        )  # fmt: skip
        return True

    # --- stopping -------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the daemon to stop (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Ask the daemon to reload its config (safe from a signal handler)."""
        self._reload_requested = True
        self._wake.set()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> StopResult:
        """Stop scheduling, tell running crawls to stop, and wait up to ``timeout`` s for them."""
        self._stop.set()
        busy = self.running_sources()
        if busy:
            log.info(
                "stopping: waiting for %s to close their runs as interrupted", ", ".join(busy),
                extra={"event": "stopping", "running": busy},
            )  # fmt: skip
        if self._service is not None:
            self._service.request_stop()
        self._scheduler.shutdown()
        with self._service_guard:
            queue, self._queue = self._queue, None
        if queue is not None:
            queue.close()
        deadline = time.monotonic() + timeout
        with self._running_cond:
            while self._running and time.monotonic() < deadline:
                self._running_cond.wait(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
            unfinished = tuple(sorted(self._running))
        if self._service is not None and not unfinished:
            self._service.close(max(0.0, deadline - time.monotonic()))
        if unfinished:
            log.error(
                "stopping: %s still running after %.0fs; exiting anyway (the next crawl "
                "of each closes its run as interrupted)", ", ".join(unfinished), timeout,
                extra={"event": "stopped", "forced": True, "unfinished": list(unfinished)},
            )  # fmt: skip
            return StopResult(forced=True, unfinished=unfinished)
        log.info("stopped", extra={"event": "stopped", "forced": False})
        return StopResult(forced=False)

    def serve(self, *, install_signals: bool = True) -> StopResult:
        """Run until a stop is requested; handles SIGTERM/SIGINT/SIGHUP when ``install_signals``.

        Must be called from the main thread when installing signal handlers.
        """
        with ExitStack() as handlers:
            if install_signals:
                handlers.enter_context(shutdown_handlers(self._on_stop_signal, _exit_now))
                handlers.enter_context(signal_handlers({signal.SIGHUP: self._on_hup}))
            self.start()
            next_load = time.monotonic() + LOAD_LOG_SECONDS
            while not self._stop.is_set():
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                if self._reload_requested and not self._stop.is_set():
                    self._reload_requested = False
                    self.reload()
                if time.monotonic() >= next_load:
                    next_load = time.monotonic() + LOAD_LOG_SECONDS
                    self.log_load()
            return self.stop()

    def log_load(self) -> None:
        """Log how many sources are running and how late the crawl loop's timers are."""
        service = self._service
        lag = service.lag() if service is not None else None
        running = self.running_sources()
        fields: dict[str, Any] = {"event": "daemon_load", "running": len(running)}
        if lag is not None:
            fields.update(
                loop_lag_samples=lag.samples,
                loop_lag_p50_ms=lag.p50_ms,
                loop_lag_p99_ms=lag.p99_ms,
                loop_lag_max_ms=lag.max_ms,
            )
        log.info(
            "load: %d sources running or waiting for a slot (at most %d at once); "
            "crawl loop lag p99 %s ms, max %s ms", len(running),
            self._config.scheduler.max_parallel_sources,
            lag.p99_ms if lag else "-", lag.max_ms if lag else "-", extra=fields,
        )  # fmt: skip

    def close(self) -> None:
        """Stop the crawl loop and its parser processes (after :meth:`stop`, or when
        the daemon was only used through :meth:`run_source`)."""
        self.request_stop()
        with self._service_guard:
            service, self._service = self._service, None
            queue, self._queue = self._queue, None
        if queue is not None:
            queue.close()
        if service is not None:
            service.request_stop()
            service.close(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _on_stop_signal(self, sig: signal.Signals) -> None:
        log.info(
            "received %s: stopping after the pages in hand", sig.name,
            extra={"event": "signal", "signal": sig.name},
        )  # fmt: skip
        self.request_stop()

    def _on_hup(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received SIGHUP: reloading the config",
                 extra={"event": "signal", "signal": "SIGHUP"})  # fmt: skip
        self.request_reload()


def _exit_now(sig: signal.Signals) -> None:
    """A second stop signal: the user does not want to wait for the pages in hand."""
    log.warning("received %s again: exiting now", sig.name)
    exit_at_once(sig)


def _log_unscheduled(config: Config) -> None:
    """Log one line per source without a schedule: the daemon never runs it."""
    for name in unscheduled_sources(config):
        log.info(
            "%s: no schedule in the config: not scheduled (crawl it by hand: "
            "govarchive crawl --source %s)", name, name,
            extra={"event": "source_unscheduled", "source": name},
        )  # fmt: skip
