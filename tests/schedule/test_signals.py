"""`govarchive schedule` as a process: SIGTERM mid-crawl, SIGHUP, two daemons on one archive."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from storage.models import Blob, CrawlRun, Fetch, Page, PageVersion
from tests.schedule.helpers import (
    DaemonProcess,
    far_schedule,
    populate,
    recent_schedule,
    write_config,
)
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.kill()


def _wait_for_documents(site: TestSite, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for r in site.requests if r.path.startswith("/doc/")) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"the crawl did not reach {count} documents within {timeout}s")


def _count(engine: Engine, statement: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())  # type: ignore[call-overload]


def test_sigterm_mid_crawl_closes_the_run_as_interrupted(
    engine: Engine, database_url: str, site: TestSite, tmp_path: Path,
    daemons: list[DaemonProcess],
) -> None:  # fmt: skip
    total = 30
    populate(site, total, delay=0.15)
    source = {"name": "slow", "start_urls": [site.url("/list.html")], "schedule": recent_schedule()}
    config = write_config(tmp_path / "config.yaml", [source])
    daemon = DaemonProcess(config, database_url, cwd=tmp_path)
    daemons.append(daemon)
    daemon.event("run_started")
    _wait_for_documents(site, 3)

    daemon.signal(signal.SIGTERM)
    # wait, not stop: a second SIGTERM would mean "exit now" (143).
    assert daemon.wait(timeout=20) == 0
    finished = daemon.event("run_finished", timeout=1)
    assert finished["status"] == "interrupted"
    assert daemon.event("stopped", timeout=1)["forced"] is False

    with engine.connect() as conn:
        runs = conn.execute(
            select(CrawlRun.status, CrawlRun.finished_at, CrawlRun.new_versions)
        ).all()
    assert len(runs) == 1
    status, finished_at, new_versions = runs[0]
    assert status == "interrupted" and finished_at is not None
    # Consistent: every version has its blob, its page and its fetch row, and no more.
    versions = _count(engine, select(func.count()).select_from(PageVersion))
    assert 3 <= versions < total
    assert new_versions == versions
    assert _count(engine, select(func.count()).select_from(Page)) == versions
    assert _count(engine, select(func.count()).where(Fetch.outcome == "new_version")) == versions
    orphans = (
        select(func.count())
        .select_from(PageVersion)
        .where(PageVersion.raw_hash.not_in(select(Blob.hash)))
    )
    assert _count(engine, orphans) == 0


def test_sighup_reloads_a_good_config_and_refuses_a_bad_one(
    sqlite_template: Path, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    db = tmp_path / "archive.db"
    db.write_bytes(sqlite_template.read_bytes())
    path = tmp_path / "config.yaml"
    s1 = {"name": "s1", "start_urls": ["http://127.0.0.1:9/list.html"], "schedule": far_schedule()}
    write_config(path, [s1])
    daemon = DaemonProcess(path, f"sqlite:///{db}", cwd=tmp_path)
    daemons.append(daemon)
    assert daemon.event("scheduler_started")["sources"] == ["s1"]

    path.write_text("sources:\n  - name: s1\n    schedule: '61 * * * *'\n", encoding="utf-8")
    daemon.signal(signal.SIGHUP)
    refused = daemon.event("config_refused")
    assert refused["level"] == "error"
    assert "schedule" in refused["error"] and "start_urls" in refused["error"]

    write_config(path, [s1, {**s1, "name": "s2"}])
    daemon.signal(signal.SIGHUP)
    reloaded = daemon.event("config_reloaded")
    # Compared with the config kept after the refusal: s1 unchanged, s2 new.
    assert (reloaded["sources"], reloaded["added"], reloaded["removed"]) == (
        ["s1", "s2"],
        ["s2"],
        [],
    )
    assert reloaded["rescheduled"] == []
    assert daemon.stop() == 0


def test_two_daemons_on_one_archive_crawl_a_source_once(
    engine: Engine, database_url: str, site: TestSite, tmp_path: Path,
    daemons: list[DaemonProcess],
) -> None:  # fmt: skip
    populate(site, 8, delay=0.1)
    source = {
        "name": "shared",
        "start_urls": [site.url("/list.html")],
        "schedule": recent_schedule(),
    }
    config = write_config(tmp_path / "config.yaml", [source])
    for n in range(2):
        folder = tmp_path / f"machine{n}"
        folder.mkdir()
        daemons.append(DaemonProcess(config, database_url, cwd=folder))
    # Each daemon either crawls the missed run or skips it, and says so.
    outcomes = [
        d.wait_for(lambda r: r.get("event") in ("run_finished", "run_skipped")) for d in daemons
    ]
    assert sorted(o["event"] for o in outcomes) == ["run_finished", "run_skipped"]
    skipped = next(o for o in outcomes if o["event"] == "run_skipped")
    assert skipped["reason"] in ("locked", "served")
    if skipped["reason"] == "locked":
        assert "already being crawled by" in skipped["message"]
    for d in daemons:
        assert d.stop() == 0
    assert _count(engine, select(func.count()).select_from(CrawlRun)) == 1
    assert site.hits("/list.html") == 1
