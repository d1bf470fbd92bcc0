"""storage.status queries, the status report's formatting, and the status/sources commands;
the job queue's part of ``status`` (storage.jobqueue itself: tests/storage/test_jobqueue.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from scraper.commands.export import DEFAULT_ZONE as EXPORT_DEFAULT_ZONE
from scraper.commands.status import (
    build_reports,
    display_zone,
    format_counts,
    format_duration,
    format_outcome,
    format_rate,
    job_queue_json,
    jobs_table,
    source_jobs_json,
    status_table,
    workers_table,
)
from scraper.config import load_config
from scraper.scheduling.schedule import next_fire_time
from storage.archive import ensure_source, finish_run, record_fetch, start_run
from storage.engine import make_engine
from storage.jobqueue import FailedJob, Job, JobQueue, QueueCounts, Worker
from storage.models import FetchOutcome, RunStatus
from storage.status import LastRun, SourceStatus, runs_since, source_statuses
from tests.storage.factories import Crawl, make_doc
from tests.storage.jobs import build_queue

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def build_archive(engine: Engine, now: datetime) -> None:
    """alpha: an old run and a recent completed one; beta: a run still open; gamma: no run."""
    alpha = ensure_source(engine, "alpha")
    old = start_run(engine, alpha, now=now - timedelta(days=10))
    for minute in (1, 2):  # errors outside the 7-day window
        at = now - timedelta(days=10, minutes=-minute)
        url = f"https://a.example/x{minute}"
        record_fetch(
            engine,
            run_id=old,
            source_id=alpha,
            url=url,
            requested_at=at,
            outcome=FetchOutcome.ERROR,
        )
    finish_run(engine, old, RunStatus.COMPLETED, now=now - timedelta(days=10, minutes=-5))

    started = now - timedelta(days=1)
    recent = start_run(engine, alpha, now=started)
    crawl = Crawl(engine, alpha, recent, clock=started)
    crawl.fetch("https://a.example/list.html", "list_page")
    for n in (1, 2, 3):
        crawl.page(f"https://a.example/doc{n}.html", make_doc(body=f"文件{n}"))
    crawl.fetch("https://a.example/doc3.html", "gone", http_status=404)
    crawl.fetch("https://a.example/doc4.html", "error", http_status=500)
    crawl.fetch("https://a.example/doc5.html", "blocked", http_status=412)
    crawl.fetch("https://a.example/private.html", "skipped_robots")  # not a request
    finish_run(engine, recent, RunStatus.COMPLETED, now=started + timedelta(minutes=5, seconds=7))

    beta = ensure_source(engine, "beta")
    open_run = start_run(engine, beta, now=now - timedelta(hours=2))
    record_fetch(engine, run_id=open_run, source_id=beta, url="https://b.example/list.html",
                 requested_at=now - timedelta(hours=2), outcome=FetchOutcome.ERROR)  # fmt: skip

    ensure_source(engine, "gamma")


class TestQueries:
    def test_source_statuses(self, engine: Engine) -> None:
        build_archive(engine, NOW)
        statuses = {s.name: s for s in source_statuses(engine, now=NOW)}
        assert list(statuses) == ["alpha", "beta", "gamma"]

        alpha = statuses["alpha"]
        assert alpha.last_run is not None
        assert alpha.last_run.status == "completed"
        assert alpha.last_run.started_at == NOW - timedelta(days=1)
        assert alpha.last_run.duration == timedelta(minutes=5, seconds=7)
        assert alpha.last_run.new_versions == 3
        assert alpha.last_run.errors == 2
        assert (alpha.pages_archived, alpha.pages_gone, alpha.versions) == (3, 1, 3)
        # list page + 3 versions + gone + error + blocked; the robots skip is no request
        assert (alpha.requests, alpha.errors) == (7, 2)
        assert alpha.error_rate == pytest.approx(2 / 7)

        beta = statuses["beta"]
        assert beta.last_run is not None
        assert beta.last_run.status == "running"
        assert beta.last_run.duration is None
        assert (beta.requests, beta.errors, beta.error_rate) == (1, 1, 1.0)

        gamma = statuses["gamma"]
        assert gamma.last_run is None
        assert (gamma.pages_archived, gamma.requests, gamma.error_rate) == (0, 0, None)

    def test_window_is_configurable(self, engine: Engine) -> None:
        build_archive(engine, NOW)
        statuses = {s.name: s for s in source_statuses(engine, now=NOW, window=timedelta(days=30))}
        assert (statuses["alpha"].requests, statuses["alpha"].errors) == (9, 4)

    def test_runs_since(self, engine: Engine) -> None:
        build_archive(engine, NOW)
        recent = runs_since(engine, "alpha", NOW - timedelta(days=2))
        assert [(r.started_at, r.status) for r in recent] == [
            (NOW - timedelta(days=1), "completed")
        ]
        assert len(runs_since(engine, "alpha", NOW - timedelta(days=11))) == 2
        assert runs_since(engine, "nobody", NOW - timedelta(days=30)) == []


def _status(name: str, run: LastRun | None = None, **counts: int) -> SourceStatus:
    base = {"pages_archived": 0, "pages_gone": 0, "versions": 0, "requests": 0, "errors": 0}
    base.update(counts)
    return SourceStatus(name=name, last_run=run, **base)


RUN = LastRun(run_id=7, status=RunStatus.COMPLETED, started_at=NOW - timedelta(hours=3),
              finished_at=NOW - timedelta(hours=3) + timedelta(minutes=62), pages_seen=40,
              new_pages=1, new_versions=4, errors=1)  # fmt: skip


class TestFormatting:
    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(0, "0s"), (12.4, "12s"), (185, "3m05s"), (3720, "1h02m"), (90061, "25h01m")],
    )
    def test_duration(self, seconds: float, text: str) -> None:
        assert format_duration(timedelta(seconds=seconds)) == text

    def test_duration_of_an_open_run(self) -> None:
        assert format_duration(None) == "-"

    def test_rate(self) -> None:
        assert format_rate(_status("a", requests=214, errors=5)) == "2.3% (5/214)"
        assert format_rate(_status("a")) == "-"
        assert format_rate(None) == "-"

    def test_outcome_of_a_running_run_names_its_holder(self) -> None:
        running = replace(RUN, status=RunStatus.RUNNING, finished_at=None)
        held = build_reports(None, [_status("a", running)], NOW, {"a": "pid 12 on host h"})[0]
        assert format_outcome(held) == "running (pid 12 on host h)"
        dead = build_reports(None, [_status("a", running)], NOW, {"a": None})[0]
        assert format_outcome(dead).startswith("running? no process holds its lock")
        never = build_reports(None, [_status("a")], NOW)[0]
        assert format_outcome(never) == "never run"

    def test_reports_list_configured_sources_then_archived_leftovers(self, tmp_path: Path) -> None:
        config = load_config(_config_file(tmp_path, ["zeta", "alpha"]))
        reports = build_reports(config, [_status("alpha", RUN), _status("old")], NOW)
        assert [(r.name, r.configured) for r in reports] == [
            ("zeta", True), ("alpha", True), ("old", False)
        ]  # fmt: skip
        assert reports[0].status is None
        assert reports[0].next_run == next_fire_time("0 6 * * *", "Asia/Shanghai", NOW)
        assert reports[2].next_run is None
        document = reports[1].to_json()
        assert document["last_run"]["duration_s"] == 3720.0
        assert document["last_run"]["outcome"] == "completed"
        assert document["next_run"] == "2026-05-10T22:00:00+00:00"

    def test_table_shows_times_in_the_scheduler_zone(self, tmp_path: Path) -> None:
        from rich.console import Console

        config = load_config(_config_file(tmp_path, ["alpha"]))
        reports = build_reports(config, [_status("alpha", RUN, requests=10, errors=1)], NOW)
        console = Console(width=250, record=True)
        console.print(status_table(reports, "Asia/Shanghai"))
        text = console.export_text()
        assert "2026-05-10 17:00" in text  # 09:00 UTC started, shown in Shanghai time
        assert "2026-05-11 06:00" in text  # next run
        assert "1h02m" in text and "10.0% (1/10)" in text


def _config_file(tmp_path: Path, names: list[str], tz: str | None = None) -> Path:
    lines = []
    if tz:
        lines += ["scheduler:", f"  timezone: {tz}"]
    lines.append("sources:")
    for name in names:
        lines += [
            f"  - name: {name}",
            f"    start_urls: ['https://{name}.example/list.html']",
            "    detail_links: 'ul a'",
            "    schedule: '0 6 * * *'",
        ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestCommands:
    def test_status_json(self, tmp_path: Path, sqlite_template: Path) -> None:
        db = tmp_path / "archive.db"
        db.write_bytes(sqlite_template.read_bytes())
        url = f"sqlite:///{db}"
        engine = make_engine(url)
        now = datetime.now(UTC)
        build_archive(engine, now)
        engine.dispose()
        config = _config_file(tmp_path, ["alpha", "delta"])
        result = CliRunner().invoke(
            cli, ["status", "--json", "--config", str(config), "--database", url]
        )
        assert result.exit_code == 0, result.output
        rows = {r["source"]: r for r in json.loads(result.output)}
        assert list(rows) == ["alpha", "delta", "beta", "gamma"]
        alpha = rows["alpha"]
        assert alpha["configured"] is True
        assert alpha["last_run"]["outcome"] == "completed"
        assert alpha["last_run"]["new_versions"] == 3
        assert alpha["last_run"]["duration_s"] == 307.0
        assert (alpha["pages_archived"], alpha["pages_gone"]) == (3, 1)
        assert alpha["error_rate_7d"] == pytest.approx(2 / 7)
        assert datetime.fromisoformat(alpha["next_run"]) == next_fire_time(
            "0 6 * * *", "Asia/Shanghai", now
        )
        assert rows["delta"]["last_run"] is None and rows["delta"]["pages_archived"] == 0
        beta = rows["beta"]
        assert beta["configured"] is False and beta["next_run"] is None
        assert beta["last_run"]["outcome"] == "running"
        assert beta["last_run"]["held_by"] is None  # nobody holds its lock: it died

    def test_status_table(
        self, tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)  # no ./config.yaml: the archive's sources only
        db = tmp_path / "archive.db"
        db.write_bytes(sqlite_template.read_bytes())
        engine = make_engine(f"sqlite:///{db}")
        now = datetime.now(UTC)
        build_archive(engine, now)
        engine.dispose()
        result = CliRunner().invoke(cli, ["status", "--database", f"sqlite:///{db}"])
        assert result.exit_code == 0, result.output
        # No config: the default zone of scheduler.timezone and export's --tz, named.
        assert "times in Asia/Shanghai" in result.output
        started = (now - timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai"))
        assert started.strftime("%Y-%m-%d %H:%M") in result.output
        assert "alpha (not in config)" in result.output
        assert "28.6% (2/7)" in result.output
        assert "running? no process holds its lock" in result.output

    def test_status_refuses_a_missing_archive_without_creating_it(self, tmp_path: Path) -> None:
        db = tmp_path / "none.db"
        result = CliRunner().invoke(cli, ["status", "--database", f"sqlite:///{db}"])
        assert result.exit_code == 2
        assert f"no archive at {db}" in result.output and not db.exists()

    def test_sources(self, tmp_path: Path) -> None:
        config = _config_file(tmp_path, ["alpha", "beta"], tz="UTC")
        result = CliRunner().invoke(cli, ["sources", "--json", "--config", str(config)])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)
        assert [(r["source"], r["schedule"], r["timezone"]) for r in rows] == [
            ("alpha", "0 6 * * *", "UTC"), ("beta", "0 6 * * *", "UTC")
        ]  # fmt: skip
        assert rows[0]["start_urls"] == ["https://alpha.example/list.html"]
        assert datetime.fromisoformat(rows[0]["next_run"]).time().isoformat() == "06:00:00"
        table = CliRunner().invoke(cli, ["sources", "--config", str(config)])
        assert table.exit_code == 0, table.output
        assert "alpha" in table.output and "0 6 * * *" in table.output

    def test_sources_names_a_bad_config(self, tmp_path: Path) -> None:
        path = tmp_path / "config.yaml"
        path.write_text("sources:\n  - name: a\n    schedule: 'nope'\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["sources", "--config", str(path)])
        assert result.exit_code == 2
        assert "schedule" in result.output


CHECKED = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def _job(job_id: int, source: str | None, **fields: Any) -> Job:
    base: dict[str, Any] = {
        "queue": "crawl",
        "task": "govarchive.crawl_source",
        "attempts": 0,
        "scheduled_at": None,
        "since": CHECKED - timedelta(minutes=10),
        "worker_id": None,
    }
    base.update(fields)
    return Job(job_id=job_id, source=source, **base)


QUEUE = JobQueue(
    checked_at=CHECKED,
    counts=(QueueCounts("crawl", todo=3, doing=2, succeeded=40, failed=1),),
    queued=(
        _job(5, "epsilon"),
        _job(6, "later", scheduled_at=CHECKED + timedelta(hours=2)),
    ),
    running=(
        _job(4, "delta", worker_id=3),
        _job(7, None, task="other.task", worker_id=None),
    ),
    retrying=(
        _job(2, "beta", attempts=2, scheduled_at=CHECKED + timedelta(minutes=30), worker_id=3),
    ),
    failed=(
        FailedJob(3, "crawl", "govarchive.crawl_source", "gamma", 3, CHECKED - timedelta(hours=1)),
    ),
    workers=(
        Worker(3, CHECKED - timedelta(seconds=4), stale=False),
        Worker(9, CHECKED - timedelta(minutes=5), stale=True),
    ),
)


def _text(*renderables: Any) -> str:
    from rich.console import Console

    console = Console(width=250, record=True)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


class TestJobQueueFormatting:
    def test_counts_split_todo_into_queued_and_waiting_for_retry(self) -> None:
        assert format_counts(QUEUE) == [
            "queue crawl: 2 queued, 2 running, 1 waiting for retry, 40 succeeded, 1 failed, "
            "0 cancelled, 0 aborted"
        ]

    def test_jobs_table_rows(self) -> None:
        lines = [
            " ".join(line.replace("│", " ").split())
            for line in _text(jobs_table(QUEUE, "Asia/Shanghai")).splitlines()
        ]
        assert "4 delta running 1 3 since 2026-05-10 19:50" in lines
        stalled = "none (its worker was pruned: stalled)"
        assert f"7 (other.task) running 1 {stalled} since 2026-05-10 19:50" in lines
        assert "5 epsilon queued 1 - queued 2026-05-10 19:50" in lines
        assert "6 later queued 1 - not before 2026-05-10 22:00" in lines
        assert "2 beta waiting for retry 3 - next try 2026-05-10 20:30" in lines
        assert "3 gamma failed 3 - failed 2026-05-10 19:00" in lines

    def test_a_running_job_on_a_stale_worker_says_so(self) -> None:
        stale = replace(QUEUE, workers=(Worker(3, CHECKED - timedelta(minutes=2), stale=True),))
        assert "3 (stale)" in _text(jobs_table(stale, "UTC"))

    def test_workers_table(self) -> None:
        text = _text(workers_table(QUEUE, "UTC"))
        assert "2026-05-10 11:59:56" in text and "live (4s ago)" in text
        assert "stale: no heartbeat for 5m00s" in text

    def test_json_of_the_queue_and_of_one_source(self) -> None:
        document = job_queue_json(QUEUE, "postgresql")
        assert document["job_queue"] is True
        assert document["counts"]["crawl"]["todo"] == 3
        assert [j["job_id"] for j in document["waiting_for_retry"]] == [2]
        assert document["waiting_for_retry"][0]["scheduled_at"] == "2026-05-10T12:30:00+00:00"
        assert document["workers"][1] == {
            "worker_id": 9,
            "last_heartbeat": "2026-05-10T11:55:00+00:00",
            "stale": True,
        }
        beta = source_jobs_json(QUEUE, "beta")
        assert beta is not None
        assert [len(beta[k]) for k in ("queued", "running", "waiting_for_retry")] == [0, 0, 1]
        assert beta["waiting_for_retry"][0]["attempts"] == 2
        assert source_jobs_json(None, "beta") is None

    def test_without_a_queue_the_reason_is_given(self) -> None:
        assert job_queue_json(None, "sqlite") == {
            "job_queue": False,
            "reason": "no job queue (SQLite archive: the in-process daemon runs crawls)",
        }
        assert "no procrastinate tables" in job_queue_json(None, "postgresql")["reason"]


class TestJobQueueCommand:
    def test_sqlite_says_there_is_no_queue(self, tmp_path: Path, sqlite_template: Path) -> None:
        db = tmp_path / "archive.db"
        db.write_bytes(sqlite_template.read_bytes())
        url = f"sqlite:///{db}"
        engine = make_engine(url)
        build_archive(engine, datetime.now(UTC))
        engine.dispose()
        config = str(_config_file(tmp_path, ["alpha"]))
        table = CliRunner().invoke(cli, ["status", "--config", config, "--database", url])
        assert table.exit_code == 0, table.output
        assert table.output.rstrip().endswith(
            "Jobs: no job queue (SQLite archive: the in-process daemon runs crawls)"
        )
        rows = json.loads(
            CliRunner()
            .invoke(cli, ["status", "--json", "--config", config, "--database", url])
            .output
        )
        assert {r["source"]: r["jobs"] for r in rows}["alpha"] is None
        jobs = CliRunner().invoke(cli, ["status", "--jobs", "--json", "--database", url])
        assert jobs.exit_code == 0, jobs.output
        assert json.loads(jobs.output)["job_queue"] is False
        only = CliRunner().invoke(cli, ["status", "--jobs", "--database", url])
        assert only.output == (
            "Jobs: no job queue (SQLite archive: the in-process daemon runs crawls)\n"
        )

    @pytest.mark.postgres
    def test_postgresql_shows_jobs_and_workers(self, tmp_path: Path, postgres_url: str) -> None:
        engine = make_engine(postgres_url)
        build_archive(engine, datetime.now(UTC))
        engine.dispose()
        made = build_queue(postgres_url)
        config = str(_config_file(tmp_path, ["alpha", "delta", "fail-beta"], tz="UTC"))
        args = ["--config", config, "--database", postgres_url]

        table = CliRunner().invoke(cli, ["status", *args])
        assert table.exit_code == 0, table.output
        assert "28.6% (2/7)" in table.output  # the sources' table is still there
        lines = [" ".join(line.replace("│", " ").split()) for line in table.output.splitlines()]
        ids = {str(made.running), str(made.queued), str(made.retrying), str(made.failed)}
        rows = {line.split()[1]: line for line in lines if line.split(" ", 1)[0] in ids}
        assert rows["delta"].startswith(f"{made.running} delta running 1 {made.worker} since ")
        assert rows["epsilon"].startswith(f"{made.queued} epsilon queued 1 - queued ")
        assert rows["fail-beta"].startswith(f"{made.retrying} fail-beta waiting for retry 2 - ")
        assert "next try" in rows["fail-beta"]
        assert rows["fail-gamma"].startswith(f"{made.failed} fail-gamma failed 1 - failed ")
        assert "procrastinate keeps none" in table.output
        assert (
            "queue crawl: 1 queued, 1 running, 1 waiting for retry, 1 succeeded, 1 failed, "
            "1 cancelled, 0 aborted"
        ) in table.output
        assert "stale: no heartbeat for 5m" in table.output

        listed = CliRunner().invoke(cli, ["status", "--json", *args])
        assert listed.exit_code == 0, listed.output
        by_source = {r["source"]: r["jobs"] for r in json.loads(listed.output)}
        assert by_source["delta"]["running"][0]["worker_id"] == made.worker
        assert by_source["fail-beta"]["waiting_for_retry"][0]["attempts"] == 1
        assert by_source["alpha"] == {
            "queued": [], "running": [], "waiting_for_retry": [], "failed_recently": []
        }  # fmt: skip

        whole = CliRunner().invoke(cli, ["status", "--jobs", "--json", *args])
        document = json.loads(whole.output)
        assert document["job_queue"] is True
        assert [w["stale"] for w in document["workers"]] == [False, True]
        assert [f["source"] for f in document["failed_recently"]] == ["fail-gamma"]

    @pytest.mark.postgres
    def test_postgresql_with_an_empty_queue(self, postgres_url: str) -> None:
        result = CliRunner().invoke(cli, ["status", "--jobs", "--database", postgres_url])
        assert result.exit_code == 0, result.output
        assert result.output == (
            "Jobs: none queued or running, none failed in the last 7 days\n"
            "Workers: none registered (`govarchive worker` runs one)\n"
        )


def test_status_shows_times_in_the_configured_zone_or_the_default(tmp_path: Path) -> None:
    assert display_zone(None) == "Asia/Shanghai" == EXPORT_DEFAULT_ZONE
    assert display_zone(load_config(_config_file(tmp_path, ["a"]))) == "Asia/Shanghai"
    assert display_zone(load_config(_config_file(tmp_path, ["a"], tz="UTC"))) == "UTC"


def test_sources_from_the_archive_without_a_config(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    now = datetime.now(UTC)
    build_archive(engine, now)
    args = ["sources", "--database", database_url]
    result = CliRunner().invoke(cli, [*args, "--json"], env={"GOVARCHIVE_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    rows = {r["source"]: r for r in json.loads(result.output)}
    assert list(rows) == ["alpha", "beta", "gamma"]
    alpha = rows["alpha"]
    assert (alpha["pages_archived"], alpha["pages_gone"], alpha["versions"]) == (3, 1, 3)
    assert alpha["last_run"]["outcome"] == "completed"
    assert datetime.fromisoformat(alpha["last_run"]["started_at"]) == now - timedelta(days=1)
    assert rows["beta"]["last_run"]["outcome"] == "running"
    assert rows["gamma"]["last_run"] is None and rows["gamma"]["pages_archived"] == 0

    table = CliRunner().invoke(cli, args, env={"GOVARCHIVE_DATABASE_URL": None})
    assert table.exit_code == 0, table.output
    assert "sources in the archive (times in Asia/Shanghai)" in table.output
    started = (now - timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert started.strftime("%Y-%m-%d %H:%M") in table.output
    assert "gamma" in table.output


def test_sources_of_a_missing_archive_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    result = CliRunner().invoke(cli, ["sources", "--database", f"sqlite:///{path}"])
    assert result.exit_code == 2 and f"no archive at {path}" in result.output
    assert not path.exists()
