"""scraper.scheduling.schedule: triggers from config, catch-up decisions, coalescing, job sync.

Times are fixed datetimes; no test waits for a wall-clock schedule. The one test that
runs APScheduler itself schedules a job days in the past and waits for that one run.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import config_from_mapping
from scraper.scheduling.schedule import (
    CrawlScheduler,
    JobSpec,
    catch_up_time,
    current_fire,
    fire_served,
    fire_times,
    job_specs,
    last_fire_time,
    make_trigger,
    missed_fire,
    next_fire_time,
    unscheduled_sources,
)

SHANGHAI = "Asia/Shanghai"


@dataclass(frozen=True)
class Run:
    started_at: datetime
    status: str


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def spec(schedule: str = "0 6 * * *", *, grace: int = 6 * 3600, jitter: int = 0,
         tz: str = SHANGHAI) -> JobSpec:  # fmt: skip
    return JobSpec("s", schedule, tz, jitter, grace)


def config(**scheduler: object) -> dict[str, object]:
    document: dict[str, object] = {
        "sources": [
            {"name": "a", "start_urls": ["https://a.example/list.html"],
             "detail_links": "ul a", "schedule": "0 6 * * *"},
            {"name": "b", "start_urls": ["https://b.example/list.html"],
             "detail_links": "ul a", "schedule": "30 2 * * mon-fri"},
        ],
    }  # fmt: skip
    if scheduler:
        document["scheduler"] = scheduler
    return document


class TestTriggers:
    def test_specs_come_from_config_with_the_default_time_zone(self) -> None:
        specs = job_specs(config_from_mapping(config()))
        assert [(s.source, s.schedule, s.timezone) for s in specs] == [
            ("a", "0 6 * * *", "Asia/Shanghai"),
            ("b", "30 2 * * mon-fri", "Asia/Shanghai"),
        ]
        assert specs[0].jitter_seconds == 300
        assert specs[0].grace == timedelta(hours=6)

    def test_a_source_without_schedule_loads_and_gets_no_job(self) -> None:
        document = config()
        sources = document["sources"]
        assert isinstance(sources, list)
        del sources[0]["schedule"]
        loaded = config_from_mapping(document)
        assert loaded.sources[0].schedule is None
        assert [s.source for s in job_specs(loaded)] == ["b"]
        assert unscheduled_sources(loaded) == ["a"]
        assert next_fire_time(None, "UTC", utc(2026, 5, 4)) is None

    def test_scheduler_section_overrides(self) -> None:
        specs = job_specs(
            config_from_mapping(config(timezone="UTC", jitter_seconds=0, misfire_grace_seconds=60))
        )
        assert {(s.timezone, s.jitter_seconds, s.misfire_grace_seconds) for s in specs} == {
            ("UTC", 0, 60)
        }

    def test_cron_is_read_in_the_configured_time_zone(self) -> None:
        # 06:00 in Shanghai is 22:00 UTC the day before.
        now = utc(2026, 5, 1, 0, 0)  # 08:00 in Shanghai
        assert next_fire_time("0 6 * * *", SHANGHAI, now) == utc(2026, 5, 1, 22, 0)
        assert next_fire_time("0 6 * * *", "UTC", now) == utc(2026, 5, 1, 6, 0)

    def test_day_of_week_names(self) -> None:
        # 2026-05-01 is a Friday; the next weekday 02:30 in Shanghai is Monday 4 May.
        now = utc(2026, 5, 1, 0, 0)
        assert next_fire_time("30 2 * * mon-fri", SHANGHAI, now) == utc(2026, 5, 3, 18, 30)

    def test_next_fire_is_strictly_after_now(self) -> None:
        at_fire = utc(2026, 5, 1, 6, 0)
        assert next_fire_time("0 6 * * *", "UTC", at_fire) == utc(2026, 5, 2, 6, 0)

    def test_fire_times_in_a_window(self) -> None:
        trigger = make_trigger("*/15 * * * *", "UTC")
        fires = list(fire_times(trigger, utc(2026, 5, 1, 6, 0), utc(2026, 5, 1, 7, 0)))
        assert fires == [utc(2026, 5, 1, 6, 15), utc(2026, 5, 1, 6, 30),
                         utc(2026, 5, 1, 6, 45), utc(2026, 5, 1, 7, 0)]  # fmt: skip

    def test_last_fire_time_within(self) -> None:
        now = utc(2026, 5, 1, 9, 0)
        assert last_fire_time("0 6 * * *", "UTC", now, within=timedelta(hours=6)) == utc(
            2026, 5, 1, 6, 0
        )
        assert last_fire_time("0 6 * * *", "UTC", now, within=timedelta(hours=2)) is None

    def test_jitter_delays_each_fire_by_up_to_jitter_seconds(self) -> None:
        random.seed(1234)
        trigger = make_trigger("0 6 * * *", "UTC", jitter_seconds=300)
        now = utc(2026, 5, 1, 0, 0)
        delays = [
            (trigger.get_next_fire_time(None, now) - utc(2026, 5, 1, 6, 0)).total_seconds()
            for _ in range(50)
        ]
        assert all(0 <= d <= 300 for d in delays)
        assert len(set(delays)) > 40  # really random, not a constant offset

    def test_bad_expression(self) -> None:
        with pytest.raises(ValueError, match="5 fields"):
            make_trigger("0 6 * *", "UTC")


class TestCatchUp:
    def test_missed_fire_within_grace_is_caught_up(self) -> None:
        now = utc(2026, 5, 1, 9, 0)
        runs = [Run(utc(2026, 4, 30, 6, 1), "completed")]  # yesterday's run only
        assert missed_fire(spec(tz="UTC"), now, runs) == utc(2026, 5, 1, 6, 0)

    def test_never_crawled_source_is_caught_up(self) -> None:
        assert missed_fire(spec(tz="UTC"), utc(2026, 5, 1, 9, 0), []) == utc(2026, 5, 1, 6, 0)

    def test_a_served_fire_is_not_repeated(self) -> None:
        now = utc(2026, 5, 1, 9, 0)
        for status in ("completed", "failed", "blocked"):
            runs = [Run(utc(2026, 5, 1, 6, 3), status)]
            assert missed_fire(spec(tz="UTC"), now, runs) is None, status

    def test_an_interrupted_or_dead_run_does_not_serve_the_fire(self) -> None:
        now = utc(2026, 5, 1, 9, 0)
        for status in ("interrupted", "running"):
            runs = [Run(utc(2026, 5, 1, 6, 3), status)]
            assert missed_fire(spec(tz="UTC"), now, runs) == utc(2026, 5, 1, 6, 0), status

    def test_a_miss_older_than_the_grace_period_is_skipped(self) -> None:
        now = utc(2026, 5, 1, 13, 0)  # 7 h after 06:00, grace 6 h
        assert missed_fire(spec(tz="UTC"), now, []) is None

    def test_many_missed_fires_give_one_catch_up(self) -> None:
        # Hourly cron, daemon down for 5 hours: one catch-up, for the latest fire.
        s = spec("0 * * * *", tz="UTC")
        now = utc(2026, 5, 1, 11, 20)
        runs = [Run(utc(2026, 5, 1, 6, 0, 5), "completed")]
        assert missed_fire(s, now, runs) == utc(2026, 5, 1, 11, 0)
        # ...and once that catch-up ran, nothing is left to catch up.
        runs.append(Run(utc(2026, 5, 1, 11, 20, 1), "completed"))
        assert missed_fire(s, utc(2026, 5, 1, 11, 50), runs) is None

    def test_runs_before_the_fire_do_not_count(self) -> None:
        assert not fire_served(utc(2026, 5, 1, 6), [Run(utc(2026, 5, 1, 5, 59), "completed")])
        assert fire_served(utc(2026, 5, 1, 6), [Run(utc(2026, 5, 1, 6), "completed")])

    def test_current_fire_allows_for_jitter(self) -> None:
        s = spec("0 6 * * *", tz="UTC", grace=60, jitter=300)
        # A jittered run at 06:04 belongs to the 06:00 fire even with a 1-minute grace.
        assert current_fire(s, utc(2026, 5, 1, 6, 4)) == utc(2026, 5, 1, 6, 0)
        assert current_fire(s, utc(2026, 5, 1, 6, 7)) is None

    def test_catch_up_time_is_jittered(self) -> None:
        now = utc(2026, 5, 1, 9, 0)
        assert catch_up_time(spec(jitter=0), now) == now
        rng = random.Random(7)
        times = {catch_up_time(spec(jitter=120), now, rng) for _ in range(20)}
        assert all(now <= t <= now + timedelta(seconds=120) for t in times)
        assert len(times) == 20


class TestCrawlScheduler:
    def test_sync_adds_removes_reschedules_and_keeps(self) -> None:
        scheduler = CrawlScheduler(lambda name: None)
        first = scheduler.sync([spec("0 6 * * *"), JobSpec("t", "0 7 * * *", "UTC", 0, 60)])
        assert first.added == ("s", "t")
        changes = scheduler.sync(
            [spec("0 6 * * *"), JobSpec("u", "0 8 * * *", "UTC", 0, 60),
             JobSpec("t", "0 9 * * *", "UTC", 0, 60)]
        )  # fmt: skip
        assert changes.added == ("u",)
        assert changes.removed == ()
        assert changes.rescheduled == ("t",)
        assert changes.unchanged == ("s",)
        changes = scheduler.sync([spec("0 6 * * *")])
        assert set(changes.removed) == {"t", "u"}
        assert set(scheduler.specs) == {"s"}

    def test_unchanged_job_keeps_its_next_run_time(self) -> None:
        scheduler = CrawlScheduler(lambda name: None)
        scheduler.start()
        try:
            scheduler.sync([spec("0 6 1 1 *", jitter=300)])
            before = scheduler.next_run_times()["s"]
            assert before is not None
            scheduler.sync([spec("0 6 1 1 *", jitter=300)])
            assert scheduler.next_run_times()["s"] == before
        finally:
            scheduler.shutdown()

    def test_missed_periods_are_coalesced_into_one_run(self) -> None:
        """A job three daily periods late runs once, not three times."""
        calls: list[str] = []
        ran = threading.Event()

        def run(name: str) -> None:
            calls.append(name)
            ran.set()

        scheduler = CrawlScheduler(run)
        now = datetime.now(UTC)
        s = JobSpec("s", "0 6 * * *", "UTC", 0, 4 * 24 * 3600)
        scheduler.sync([s], first_runs={"s": now - timedelta(days=3)})
        scheduler.start()
        try:
            assert ran.wait(timeout=10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                upcoming = scheduler.next_run_times()["s"]
                if upcoming is not None and upcoming > now:
                    break
                time.sleep(0.02)
            upcoming = scheduler.next_run_times()["s"]
            assert upcoming is not None
            assert now < upcoming <= now + timedelta(days=1)
            assert (upcoming.hour, upcoming.minute) == (6, 0)
            assert calls == ["s"]
        finally:
            scheduler.shutdown()

    def test_a_run_later_than_the_grace_period_is_skipped(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="govarchive.schedule")
        calls: list[str] = []
        scheduler = CrawlScheduler(calls.append)
        now = datetime.now(UTC)
        # A daily fire 12 hours away from now, so none falls in the last two hours.
        hour = (now.hour + 12) % 24
        s = JobSpec("s", f"0 {hour} * * *", "UTC", 0, 60)  # one minute of grace
        scheduler.sync([s], first_runs={"s": now - timedelta(hours=2)})
        scheduler.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not _events(caplog, "run_missed"):
                time.sleep(0.02)
            assert [r.source for r in _events(caplog, "run_missed")] == ["s"]  # type: ignore[attr-defined]
            assert calls == []
        finally:
            scheduler.shutdown()


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == event]


def test_sources_and_status_show_a_source_without_schedule(tmp_path: Path) -> None:
    """`sources` and `status` list a by-hand source with no schedule and no next run."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "sources:\n"
        "  - name: by-hand\n"
        "    start_urls: ['https://a.example/list.html']\n"
        "    detail_links: 'ul a'\n",
        encoding="utf-8",
    )
    listed = CliRunner().invoke(cli, ["sources", "--json", "--config", str(path)])
    assert listed.exit_code == 0, listed.output
    assert [(r["source"], r["schedule"], r["next_run"]) for r in json.loads(listed.output)] == [
        ("by-hand", None, None)
    ]
    table = CliRunner().invoke(cli, ["sources", "--config", str(path)])
    assert table.exit_code == 0, table.output
    assert "by-hand" in table.output
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    assert CliRunner().invoke(cli, ["db", "upgrade", "--database", database]).exit_code == 0
    status = CliRunner().invoke(
        cli, ["status", "--json", "--config", str(path), "--database", database]
    )
    assert status.exit_code == 0, status.output
    (row,) = json.loads(status.output)
    assert (row["source"], row["schedule"], row["next_run"]) == ("by-hand", None, None)
