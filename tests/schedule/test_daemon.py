"""scraper.scheduling.daemon in this process: real crawls of the local site through the scheduler.

Schedules are chosen relative to now (a daily fire a few minutes ago, caught up at
start; or one twelve hours away), so no test waits for a wall-clock schedule.
"""

from __future__ import annotations

import itertools
import json
import logging
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from scraper.config import load_config
from scraper.scheduling import daemon as daemon_module
from scraper.scheduling.daemon import STOP_TIMEOUT_SECONDS, Daemon, StopResult
from scraper.scheduling.schedule import current_fire, job_specs
from storage.archive import ensure_source, finish_run, start_run
from storage.locks import try_lock_source
from storage.models import Fetch, RunStatus
from storage.status import RunStart, runs_since, source_statuses
from tests.schedule.helpers import failing, far_schedule, populate, recent_schedule, write_config
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(60)


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[Any]:
    return [r for r in caplog.records if getattr(r, "event", None) == event]


def _closed_runs(engine: Engine, source: str, timeout: float = 30.0) -> list[RunStart]:
    """Wait until ``source`` has a closed run; return its runs of the last day."""
    since = datetime.now(UTC) - timedelta(days=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = runs_since(engine, source, since)
        if runs and all(r.status != "running" for r in runs):
            return runs
        time.sleep(0.05)
    raise AssertionError(f"{source}: no closed run within {timeout}s")


@pytest.fixture
def caplog_info(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="govarchive.schedule")
    return caplog


def test_a_missed_run_is_caught_up_once_and_really_crawls(
    engine: Engine, site: TestSite, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    populate(site, 4)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": recent_schedule()}
    config = load_config(write_config(tmp_path / "config.yaml", [source]))
    daemon = Daemon(config, engine)
    daemon.start()
    try:
        runs = _closed_runs(engine, "s1")
    finally:
        result = daemon.stop()
    assert not result.forced
    assert [r.status for r in runs] == ["completed"]
    (status,) = source_statuses(engine)
    assert (status.name, status.pages_archived, status.versions) == ("s1", 4, 4)
    assert site.hits("/list.html") == 1

    assert [r.source for r in _events(caplog_info, "catch_up")] == ["s1"]
    assert [r.source for r in _events(caplog_info, "run_started")] == ["s1"]
    (finished,) = _events(caplog_info, "run_finished")
    assert (finished.run_id, finished.status, finished.new_versions, finished.errors) == (
        runs[0].run_id, "completed", 4, 0
    )  # fmt: skip
    assert "4 new versions" in finished.getMessage()


def test_a_source_locked_elsewhere_is_skipped_with_the_reason(
    engine: Engine, database_url: str, site: TestSite, tmp_path: Path,
    caplog_info: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    populate(site, 2)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": recent_schedule()}
    config = load_config(write_config(tmp_path / "config.yaml", [source]))
    from storage.engine import make_engine

    other = make_engine(database_url)  # another daemon's connection
    lock = try_lock_source(other, "s1")
    assert lock is not None
    try:
        with Daemon(config, engine) as daemon:
            assert daemon.run_source("s1") is None
    finally:
        lock.release()
        other.dispose()
    (skipped,) = _events(caplog_info, "run_skipped")
    assert skipped.reason == "locked"
    assert "already being crawled by" in skipped.getMessage()
    assert runs_since(engine, "s1", datetime.now(UTC) - timedelta(days=1)) == []
    assert site.requests == []


def test_a_fire_already_served_by_another_daemon_is_skipped(
    engine: Engine, site: TestSite, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    populate(site, 2)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": recent_schedule()}
    config = load_config(write_config(tmp_path / "config.yaml", [source]))
    (spec,) = job_specs(config)
    fire = current_fire(spec, datetime.now(UTC))
    assert fire is not None
    source_id = ensure_source(engine, "s1")

    # An interrupted run since the fire does not count: the daemon crawls.
    interrupted = start_run(engine, source_id, now=fire + timedelta(seconds=1))
    finish_run(engine, interrupted, RunStatus.INTERRUPTED, now=fire + timedelta(seconds=2))
    with Daemon(config, engine) as daemon:
        first = daemon.run_source("s1")
    assert first is not None and first.status == "completed"

    # A second daemon firing for the same cron time finds it done.
    with Daemon(config, engine) as daemon:
        assert daemon.run_source("s1") is None
    (skipped,) = _events(caplog_info, "run_skipped")
    assert skipped.reason == "served"
    assert len(runs_since(engine, "s1", fire)) == 2
    assert site.hits("/list.html") == 1


def test_reload_keeps_the_old_config_when_the_new_one_is_bad(
    engine: Engine, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.yaml"
    s1 = {"name": "s1", "start_urls": ["http://127.0.0.1:9/list.html"], "schedule": far_schedule()}
    write_config(path, [s1])
    daemon = Daemon(load_config(path), engine, config_path=path)
    daemon.start()
    try:
        before = daemon.scheduler.next_run_times()
        path.write_text("sources:\n  - name: s1\n    schedule: '61 * * * *'\n", encoding="utf-8")
        assert daemon.reload() is False
        assert list(daemon.config.source_names) == ["s1"]
        assert daemon.scheduler.next_run_times() == before
        (refused,) = _events(caplog_info, "config_refused")
        assert "schedule" in refused.error and refused.levelname == "ERROR"

        s2 = {**s1, "name": "s2"}
        write_config(path, [{**s1, "schedule": "0 3 1 1 *"}, s2])
        assert daemon.reload() is True
        assert daemon.config.source_names == ("s1", "s2")
        (reloaded,) = _events(caplog_info, "config_reloaded")
        assert (reloaded.added, reloaded.removed, reloaded.rescheduled) == (["s2"], [], ["s1"])
        upcoming = daemon.scheduler.next_run_times()["s1"]
        assert upcoming is not None and (upcoming.month, upcoming.day, upcoming.hour) == (1, 1, 3)

        write_config(path, [s2])
        assert daemon.reload() is True
        assert set(daemon.scheduler.specs) == {"s2"}
    finally:
        daemon.stop()


def test_a_source_without_schedule_is_skipped_with_a_log_line(
    engine: Engine, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.yaml"
    scheduled = {"name": "s1", "start_urls": ["http://127.0.0.1:9/list.html"],
                 "schedule": far_schedule()}  # fmt: skip
    by_hand = {"name": "s2", "start_urls": ["http://127.0.0.1:9/list.html"]}
    write_config(path, [scheduled, by_hand])
    daemon = Daemon(load_config(path), engine, config_path=path)
    daemon.start()
    try:
        assert set(daemon.scheduler.specs) == {"s1"}
        (line,) = _events(caplog_info, "source_unscheduled")
        assert line.source == "s2"
        assert line.getMessage() == (
            "s2: no schedule in the config: not scheduled "
            "(crawl it by hand: govarchive crawl --source s2)"
        )
    finally:
        daemon.stop()


def test_a_failing_host_is_paused_for_the_rest_of_the_run(
    engine: Engine, site: TestSite, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    failing(site, 6)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": recent_schedule(),
              "host_failure_threshold": 2}  # fmt: skip
    config = load_config(write_config(tmp_path / "config.yaml", [source]))
    with Daemon(config, engine) as daemon:
        run = daemon.run_source("s1")
    assert run is not None
    assert run.paused_hosts == (site.host,)
    detail_hits = sum(site.hits(f"/doc/{n}.html") for n in range(1, 7))
    assert detail_hits == 2  # then the host was left alone
    with engine.connect() as conn:
        outcomes = dict(
            conn.execute(
                select(Fetch.outcome, func.count())
                .where(Fetch.crawl_run_id == run.run_id)
                .group_by(Fetch.outcome)
            ).all()
        )
    assert outcomes == {"list_page": 1, "error": 2, "skipped_host_paused": 4}
    (finished,) = _events(caplog_info, "run_finished")
    assert finished.paused_hosts == [site.host]
    assert f"paused hosts: {site.host}" in finished.getMessage()


def test_sources_sharing_a_host_crawl_together_at_the_host_s_rate(
    engine: Engine, site: TestSite, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    """Both sources run at once in the daemon's one loop, and the host they share sees
    its rate and concurrency once, not once per source: the shared Fetcher holds it."""
    populate(site, 3, delay=0.05, prefix="a/")
    populate(site, 3, delay=0.05, prefix="b/")
    rate = 10.0
    sources = [
        {"name": name, "start_urls": [site.url(f"/{name}/list.html")], "schedule": far_schedule(),
         "requests_per_second": rate}
        for name in ("a", "b")
    ]  # fmt: skip
    with Daemon(load_config(write_config(tmp_path / "config.yaml", sources)), engine) as daemon:
        futures = [daemon.dispatch(n) for n in ("a", "b")]
        runs = [f.result(timeout=30) for f in futures if f is not None]
    assert [r.status for r in runs if r is not None] == ["completed", "completed"]
    assert site.max_in_flight == 1
    statuses = {s.name: s.versions for s in source_statuses(engine)}
    assert statuses == {"a": 3, "b": 3}
    # The two sources' requests interleave (they ran together) ...
    order = [r.path.split("/")[1] for r in site.requests if r.path != "/robots.txt"]
    assert sorted(order) == ["a"] * 4 + ["b"] * 4
    assert sum(1 for x, y in itertools.pairwise(order) if x != y) > 1
    # ... and yet no two requests to the host came closer than its rate allows.
    starts = [r.at for r in site.requests if r.path != "/robots.txt"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 1 / rate - 0.03  # arrival times jitter a little behind the limiter


def test_a_fire_while_the_previous_run_is_still_going_is_skipped(
    engine: Engine, site: TestSite, tmp_path: Path, caplog_info: pytest.LogCaptureFixture
) -> None:
    populate(site, 3, delay=0.2)
    source = {"name": "s1", "start_urls": [site.url("/list.html")], "schedule": far_schedule()}
    with Daemon(load_config(write_config(tmp_path / "config.yaml", [source])), engine) as daemon:
        first = daemon.dispatch("s1")
        assert first is not None
        assert daemon.dispatch("s1") is None
        run = first.result(timeout=30)
    assert run is not None and run.status == "completed"
    assert [r.reason for r in _events(caplog_info, "run_skipped")] == ["running"]


class _Exited(Exception):
    """Stands in for the process ending (``exit_at_once`` calls ``os._exit``)."""


def _idle_daemon(engine: Engine, tmp_path: Path) -> Daemon:
    source = {"name": "s1", "start_urls": ["http://127.0.0.1:9/list.html"],
              "schedule": far_schedule()}  # fmt: skip
    return Daemon(load_config(write_config(tmp_path / "config.yaml", [source])), engine)


def _handlers() -> dict[signal.Signals, Any]:
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}


# signal.raise_signal runs the Python handler before it returns: no waiting, no race.


def test_serve_stops_on_a_first_signal_and_puts_the_handlers_back(
    engine: Engine, tmp_path: Path, caplog_info: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    daemon = _idle_daemon(engine, tmp_path)
    real_start = daemon.start

    def start_then_sigint() -> Any:
        changes = real_start()
        signal.raise_signal(signal.SIGINT)
        return changes

    monkeypatch.setattr(daemon, "start", start_then_sigint)
    before = _handlers()

    assert daemon.serve() == StopResult(forced=False)

    assert _handlers() == before
    (received,) = _events(caplog_info, "signal")
    assert received.getMessage() == "received SIGINT: stopping after the pages in hand"
    assert [r.forced for r in _events(caplog_info, "stopped")] == [False]


def test_a_second_signal_while_stopping_exits_at_once(
    engine: Engine, tmp_path: Path, caplog_info: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    daemon = _idle_daemon(engine, tmp_path)
    real_start, real_stop = daemon.start, daemon.stop
    exits: list[signal.Signals] = []

    def exit_at_once(sig: signal.Signals) -> None:
        exits.append(sig)
        raise _Exited

    def start_then_sigterm() -> Any:
        changes = real_start()
        signal.raise_signal(signal.SIGTERM)  # the first: finish the pages in hand
        return changes

    def sigterm_then_stop(timeout: float = STOP_TIMEOUT_SECONDS) -> StopResult:
        signal.raise_signal(signal.SIGTERM)  # the second, while crawls would be closing
        return real_stop(timeout)

    monkeypatch.setattr(daemon_module, "exit_at_once", exit_at_once)
    monkeypatch.setattr(daemon, "start", start_then_sigterm)
    monkeypatch.setattr(daemon, "stop", sigterm_then_stop)
    before = _handlers()
    try:
        with pytest.raises(_Exited):
            daemon.serve()
    finally:
        real_stop(0)

    assert exits == [signal.SIGTERM]  # exit_at_once: status 128 + 15 = 143
    assert _handlers() == before
    messages = [r.getMessage() for r in caplog_info.records]
    assert "received SIGTERM: stopping after the pages in hand" in messages
    assert "received SIGTERM again: exiting now" in messages


def test_at_most_max_parallel_sources_crawl_at_once_and_the_rest_wait_their_turn(
    engine: Engine, site_factory: Any, tmp_path: Path
) -> None:
    sites = [site_factory() for _ in range(4)]  # four hosts: no host rate in the way
    for s in sites:
        populate(s, 2, delay=0.3)
    sources = [
        {"name": f"s{n}", "start_urls": [s.url("/list.html")], "schedule": far_schedule()}
        for n, s in enumerate(sites)
    ]
    path = write_config(tmp_path / "config.yaml", sources)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["scheduler"]["max_parallel_sources"] = 2
    path.write_text(json.dumps(document), encoding="utf-8")
    with Daemon(load_config(path), engine) as daemon:
        futures = [daemon.dispatch(f"s{n}") for n in range(4)]
        runs = [f.result(timeout=30) for f in futures if f is not None]
    assert [r.status for r in runs if r is not None] == ["completed"] * 4
    # from each site's own log: when its source's crawl began and ended
    spans = [(s.requests[0].at, s.requests[-1].at) for s in sites]
    overlapping = max(
        sum(1 for begin, end in spans if begin <= moment <= end) for moment, _ in spans
    )
    assert overlapping == 2
