"""govarchive worker on real PostgreSQL: several worker processes, many hosts, a kill -9.

The hosts are local test sites on loopback addresses 127.0.0.2 … (one address per host,
as distinct sites would be), each logging every request with its arrival time, so
politeness is checked from the server's side, across worker processes.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage.engine import make_engine
from storage.migrate import upgrade
from tests.plugins.db import PostgresServer
from tests.schedule.helpers import _child_env, far_schedule, populate, write_config
from tests.site.server import TestSite, serve

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh archive at head (job queue included) on the test server."""
    url = postgres_server.create_database(f"queue_{os.urandom(3).hex()}")
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def hosts(request: pytest.FixtureRequest) -> Iterator[Callable[[int], list[TestSite]]]:
    """``hosts(n)``: n local sites on 127.0.0.2, 127.0.0.3, …"""
    with ExitStack() as stack:

        def make(count: int) -> list[TestSite]:
            return [stack.enter_context(serve(f"127.0.0.{2 + i}")) for i in range(count)]

        yield make


class Worker:
    """``govarchive worker --log-format json`` in a child process, logging to a file."""

    def __init__(self, tmp: Path, name: str, config: Path, database: str, *args: str) -> None:
        self.log_path = tmp / f"{name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scraper.cli", "worker", "--config", str(config),
             "--database", database, "--log-format", "json", "--name", name, *args],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=_child_env(),
        )  # fmt: skip

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def records(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def _config(
    tmp: Path,
    sites: list[TestSite],
    *,
    per_host: int,
    docs: int,
    crawl: dict[str, Any],
    workers: dict[str, Any],
    delay: float = 0.0,
) -> Path:
    """Serve ``per_host`` sources of ``docs`` documents (each answering after ``delay``
    seconds) on every site; return a config file naming them all."""
    sources = []
    for (i, site), k in itertools.product(enumerate(sites), range(per_host)):
        name = f"h{i}-s{k}"
        populate(site, docs, prefix=f"{name}/", delay=delay)
        sources.append({"name": name, "start_urls": [site.url(f"/{name}/list.html")],
                        "schedule": far_schedule()})  # fmt: skip
    path = write_config(tmp / "config.yaml", sources, crawl=crawl)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["workers"] = workers
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _enqueue(config: Path, database: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "scraper.cli", "crawl", "--enqueue", "--config", str(config),
         "--database", database],
        cwd=ROOT, capture_output=True, text=True, env=_child_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)).all())


# Requests per second per host: fast enough for a test, slow enough that a gap shorter
# than 1/RATE is a real fault and not the jitter of a connection's setup.
RATE = 5.0


def test_two_workers_crawl_fifty_sources_on_ten_hosts_once_each_at_each_host_s_rate(
    queue_db: str, hosts: Callable[[int], list[TestSite]], tmp_path: Path
) -> None:
    sites = hosts(10)
    config = _config(
        tmp_path, sites, per_host=5, docs=3,
        crawl={"requests_per_second": RATE, "max_concurrency": 100},
        workers={"heartbeat_seconds": 1, "stalled_after_seconds": 5},
    )  # fmt: skip
    queued = _enqueue(config, queue_db)
    assert len(queued) == 50 and all("queued as job" in line for line in queued)
    # a second enqueue while they wait adds nothing: one waiting job per source
    assert all("already queued" in line for line in _enqueue(config, queue_db))

    # five sources at once each: both workers get hosts from the start
    workers = [Worker(tmp_path, f"w{n}", config, queue_db, "--burst", "--concurrency", "5")
               for n in (1, 2)]  # fmt: skip
    try:
        assert [w.wait(180) for w in workers] == [0, 0]
        started = [len(w.events("run_started")) for w in workers]
    finally:
        for w in workers:
            w.close()

    engine = make_engine(queue_db)
    try:
        runs = _rows(engine, "SELECT s.name, r.status FROM crawl_runs r "
                             "JOIN sources s ON s.id = r.source_id")  # fmt: skip
        versions = _rows(engine, "SELECT p.url, count(*) FROM page_versions v "
                                 "JOIN pages p ON p.id = v.page_id GROUP BY p.url")  # fmt: skip
        jobs = _rows(engine, "SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")
    finally:
        engine.dispose()
    # each source ran once, to completion; every page has one version
    assert sorted(status for _name, status in runs) == ["completed"] * 50
    assert len({name for name, _status in runs}) == 50
    assert len(versions) == 150 and {n for _url, n in versions} == {1}
    assert dict(jobs) == {"succeeded": 50}
    assert sum(started) == 50 and min(started) >= 1, started  # both workers crawled

    # politeness from each server's own log: one request at a time, never faster than
    # the rate, although two processes with a Fetcher each crawled the sources of a host
    for site in sites:
        arrivals = [r.at for r in site.requests]
        assert len(arrivals) == 5 * 4  # 5 sources × (list page + 3 documents)
        assert site.max_in_flight == 1
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 1 / RATE - 0.05, (site.host, min(gaps))


def test_a_worker_killed_mid_crawl_has_its_jobs_finished_by_another_exactly_once(
    queue_db: str, hosts: Callable[[int], list[TestSite]], tmp_path: Path
) -> None:
    sites = hosts(2)
    config = _config(
        tmp_path, sites, per_host=2, docs=6,
        crawl={"requests_per_second": RATE, "max_concurrency": 100},
        workers={"heartbeat_seconds": 1, "stalled_after_seconds": 3},
        delay=0.4,  # slow documents, so the kill lands mid-crawl
    )  # fmt: skip
    _enqueue(config, queue_db)
    engine = make_engine(queue_db)
    first = Worker(tmp_path, "doomed", config, queue_db, "--concurrency", "4")
    second: Worker | None = None
    try:
        deadline = time.monotonic() + 60
        while _rows(engine, "SELECT count(*) FROM page_versions")[0][0] < 3:
            assert time.monotonic() < deadline, first.log_path.read_text()
            time.sleep(0.1)
        running = {r[0] for r in _rows(engine, "SELECT id FROM procrastinate_jobs "
                                               "WHERE status = 'doing'")}  # fmt: skip
        assert running
        first.kill()  # no goodbye: its jobs stay 'doing', its heartbeat stops

        second = Worker(tmp_path, "survivor", config, queue_db, "--burst", "--concurrency", "4")
        assert second.wait(120) == 0, second.log_path.read_text()
        requeued = {r["job_id"] for r in second.events("job_requeued")}

        versions = _rows(engine, "SELECT p.url, count(*) FROM page_versions v "
                                 "JOIN pages p ON p.id = v.page_id GROUP BY p.url")  # fmt: skip
        jobs = _rows(engine, "SELECT status, count(*) FROM procrastinate_jobs GROUP BY status")
        runs = _rows(engine, "SELECT s.name, r.status FROM crawl_runs r "
                             "JOIN sources s ON s.id = r.source_id")  # fmt: skip
    finally:
        first.close()
        if second is not None:
            second.close()
        engine.dispose()
    assert requeued == running  # the survivor put back exactly the dead worker's jobs
    assert dict(jobs) == {"succeeded": 4}
    # no page lost, none archived twice: 2 hosts × 2 sources × 6 documents
    assert len(versions) == 24 and {n for _url, n in versions} == {1}
    # every source ended with one completed run; the dead worker's runs were closed
    # as interrupted by the crawls that took over
    completed = [name for name, status in runs if status == "completed"]
    assert sorted(completed) == sorted(set(completed)) and len(completed) == 4
    assert {status for _name, status in runs} <= {"completed", "interrupted"}
