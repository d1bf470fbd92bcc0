"""``govarchive crawl`` as a user runs it: config errors, database errors, signals, kill -9."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import text

from scraper.cli import cli
from scraper.commands.crawl import _summary_table
from scraper.crawling.pipeline import SourceRun
from scraper.shutdown import Shutdown
from storage.engine import make_engine
from storage.models import RunStatus
from storage.runs import RunSummary
from tests.crawl_site import DisclosureSite, rows, scalar
from tests.site.server import Request, Response, TestSite


def _write_config(path: Path, docs: DisclosureSite, database: str, **crawl: Any) -> Path:
    settings = {"requests_per_second": 1000, "per_host_concurrency": 2, "retries": 0}
    settings.update(crawl)
    path.write_text(
        yaml.safe_dump(docs.document(database, settings), allow_unicode=True), encoding="utf-8"
    )
    return path


def test_crawl_command_runs_and_prints_a_summary(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    config = _write_config(tmp_path / "config.yaml", docs, database)

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--quiet"])

    assert result.exit_code == 0, result.output
    assert "local" in result.output and "completed" in result.output
    engine = make_engine(database)
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 3
    engine.dispose()


def _run(source: str, run_id: int, status: RunStatus, count: int) -> SourceRun:
    summary = RunSummary(
        run_id=run_id, source_id=1, status=status, started_at=datetime.now(UTC),
        finished_at=None, pages_seen=count, new_pages=count, new_versions=count,
        unchanged=count, not_modified=count, gone=count, errors=count, skipped=0,
    )  # fmt: skip
    return SourceRun(source, run_id, status, summary)


def test_the_summary_fits_80_columns_with_long_source_names() -> None:
    long_name = "xuancheng-sjzyj-decision-implementation-" + "x" * 60
    runs = [
        _run(long_name, 12345, RunStatus.COMPLETED, 9999),
        _run("a", 1, RunStatus.INTERRUPTED, 1234),
        _run("demo", 7, RunStatus.FAILED, 0),
    ]
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(_summary_table(runs))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines and max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text  # nothing cut short: long names fold instead
    for word in ("source", "run", "status", "seen", "versions", "unchanged", "modified", "errors"):
        assert word in text
    assert "interrupted" in text and "12345" in text and "9999" in text
    folded = "".join(line.split(" ", 1)[0] for line in lines[4:] if not line.startswith("a "))
    assert long_name in folded


def test_bad_config_is_refused_before_any_request(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    document = docs.document(f"sqlite:///{tmp_path / 'a.db'}", {"requests_per_secnd": 1})
    document["sources"][0]["detail_links"] = "ul[[["
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    site.clear_log()

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config)])

    assert result.exit_code == 2
    assert "requests_per_secnd" in result.output and "requests_per_second" in result.output
    assert "local" in result.output and "detail_links" in result.output
    assert site.requests == []
    assert not (tmp_path / "a.db").exists()


def test_unknown_source_name_lists_the_known_ones(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    config = _write_config(tmp_path / "config.yaml", docs, f"sqlite:///{tmp_path / 'a.db'}")
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--source", "lokal"])
    assert result.exit_code == 2
    assert "lokal" in result.output and "local" in result.output


def test_database_newer_than_the_code_is_refused(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    config = _write_config(tmp_path / "config.yaml", docs, database)
    assert CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"]).exit_code == 0
    engine = make_engine(database)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    before = scalar(engine, "SELECT COUNT(*) FROM fetches")
    site.clear_log()

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config)])

    assert result.exit_code == 3
    assert "ffffffffffff" in result.output
    assert scalar(engine, "SELECT COUNT(*) FROM fetches") == before
    assert site.requests == []
    engine.dispose()


def test_every_request_failing_exits_non_zero(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    site.add("/OpennessContent/showList/1/2/page_1.html", "<h1>down</h1>", status=500)
    config = _write_config(tmp_path / "config.yaml", docs, f"sqlite:///{tmp_path / 'a.db'}")

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])

    assert result.exit_code == 1
    assert "every request failed" in result.output


def test_kill_9_mid_crawl_then_rerun_loses_and_duplicates_nothing(
    site: TestSite, tmp_path: Path, database_url: str
) -> None:
    docs = DisclosureSite(site, count=10, per_page=10)
    for i in range(10):
        docs.serve(i, docs.bodies[i], delay=0.15)
    config = _write_config(
        tmp_path / "config.yaml", docs, database_url, per_host_concurrency=1, max_concurrency=1
    )
    command = [sys.executable, "-m", "scraper.cli", "crawl", "--config", str(config), "-q"]
    engine = make_engine(database_url)
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = scalar(engine, "SELECT COUNT(*) FROM fetches WHERE outcome = 'new_version'")
            if done >= 4:
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    killed_versions = scalar(engine, "SELECT COUNT(*) FROM page_versions")
    assert 4 <= killed_versions < 10

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert rerun.returncode == 0, rerun.stderr
    per_page = rows(engine, "SELECT page_id, COUNT(*) FROM page_versions GROUP BY page_id")
    assert len(per_page) == 10
    assert all(n == 1 for _, n in per_page)
    statuses = [s for (s,) in rows(engine, "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["interrupted", "completed"]
    # every version the first process committed is complete: sections and blob present
    orphans = scalar(
        engine,
        "SELECT COUNT(*) FROM page_versions v LEFT JOIN blobs b ON b.hash = v.raw_hash "
        "WHERE b.hash IS NULL",
    )
    assert orphans == 0
    engine.dispose()


def test_a_source_another_process_is_crawling_is_skipped(
    site: TestSite, tmp_path: Path, database_url: str
) -> None:
    from storage.locks import try_lock_source

    docs = DisclosureSite(site, count=2, per_page=2)
    config = _write_config(tmp_path / "config.yaml", docs, database_url)
    engine = make_engine(database_url)
    held = try_lock_source(engine, "local")
    assert held is not None
    site.clear_log()
    try:
        result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])
    finally:
        held.release()
        engine.dispose()

    assert result.exit_code == 4, result.output  # its only source: nothing was crawled
    assert "skipped: local" in result.output
    assert site.requests == []


def test_database_failing_mid_crawl_ends_with_a_message(
    site: TestSite, tmp_path: Path, monkeypatch: Any
) -> None:
    from storage import archive
    from storage.errors import DatabaseUnavailableError

    docs = DisclosureSite(site, count=2, per_page=2)
    config = _write_config(tmp_path / "config.yaml", docs, f"sqlite:///{tmp_path / 'a.db'}")

    def down(*_args: object, **_kwargs: object) -> None:
        raise DatabaseUnavailableError("disk I/O error", database="sqlite:///a.db")

    monkeypatch.setattr(archive, "record_fetch", down)
    monkeypatch.setattr(archive, "archive_page", down)

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])

    assert result.exit_code == 3
    assert "disk I/O error" in result.output
    assert "Traceback" not in result.output


def _interrupt_at_the_first_document(docs: DisclosureSite, signals: int) -> list[str]:
    """Make the first document request send ``signals`` SIGINTs to this process, as
    Ctrl-C pressed once or twice mid-crawl; returns the problems seen (none expected).

    Each signal is sent only while the crawl's handler is installed (anything else
    would reach pytest's), and the next only once the crawl has taken the previous
    one: its handler runs in the main thread, the request waits for it.
    """
    problems: list[str] = []
    first = threading.Lock()

    def answer(i: int) -> Any:
        def handler(request: Request) -> Response:
            installed = signal.getsignal(signal.SIGINT)
            if first.acquire(blocking=False):
                if isinstance(installed, Shutdown):
                    _press_ctrl_c(installed, signals, problems)
                else:
                    problems.append("the crawl's signal handler is not installed")
            return Response(docs.bodies[i], headers={"Content-Type": "text/html"})

        return handler

    for i in range(docs.count):
        docs.site.add_handler(docs.doc_path(i), answer(i))
    return problems


def _press_ctrl_c(shutdown: Shutdown, times: int, problems: list[str]) -> None:
    os.kill(os.getpid(), signal.SIGINT)
    if times == 2:
        if _wait_until(lambda: shutdown.requested):
            os.kill(os.getpid(), signal.SIGINT)
        else:
            problems.append("the first signal was not taken")


def _wait_until(condition: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_first_signal_finishes_the_pages_in_hand_and_exits_130(
    site: TestSite, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    config = _write_config(
        tmp_path / "config.yaml", docs, database, per_host_concurrency=1, max_concurrency=1
    )
    problems = _interrupt_at_the_first_document(docs, signals=1)
    before = signal.getsignal(signal.SIGINT)

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])

    assert problems == []
    assert result.exit_code == 130, result.output
    assert "signal 2: finishing the pages in hand, then stopping" in result.output
    assert "govarchive crawl" in result.output  # the summary table
    assert "Traceback" not in result.output
    assert signal.getsignal(signal.SIGINT) is before
    engine = make_engine(database)
    try:
        # the run was closed, not left running (whether the watcher saw the stop before
        # the last page is a matter of timing, so both closed statuses are fine)
        (status,) = [s for (s,) in rows(engine, "SELECT status FROM crawl_runs")]
        assert status in ("interrupted", "completed")
    finally:
        engine.dispose()


def test_a_second_signal_stops_at_once(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    config = _write_config(
        tmp_path / "config.yaml", docs, database, per_host_concurrency=1, max_concurrency=1
    )
    problems = _interrupt_at_the_first_document(docs, signals=2)
    before = signal.getsignal(signal.SIGINT)

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])

    assert problems == []
    assert result.exit_code == 1, result.output
    assert result.output.rstrip().endswith("Aborted!")
    assert "govarchive crawl" not in result.output  # no summary: it did not wait
    assert signal.getsignal(signal.SIGINT) is before


def test_an_unresolvable_host_ends_the_crawl_with_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(host: Any, *args: Any, **kwargs: Any) -> Any:
        # an immediate answer from the resolver: no real lookup, no resolver timeout
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{tmp_path / 'archive.db'}",
                "crawl": {"retries": 3, "backoff_base": 5},
                "sources": [{"name": "gov", "detail_links": "ul a",
                             "start_urls": ["http://nonexistent.invalid/list.html"]}],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--quiet"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if "nonexistent.invalid" in line]
    assert lines[-1] == (
        "error: nonexistent.invalid did not resolve (offline, or no such host), so nothing "
        "more was asked of it; to try govarchive offline: govarchive demo"
    )
    assert "retry" not in result.stderr
