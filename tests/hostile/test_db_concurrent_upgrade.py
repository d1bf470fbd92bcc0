"""Processes creating the schema of one EMPTY database at once serialise (issue 16):
on PostgreSQL the second used to fail with 'duplicate key value violates unique
constraint "pg_type_typname_nsp_index"' (both ran CREATE TABLE), e.g. two `govarchive
crawl` or `db upgrade` started together by cron on a new archive; on SQLite one could
fail with "database is locked" while turning the new file to WAL.

Real processes, released together by a file barrier after their imports, because
Alembic's per-process state does not allow two migrations in threads of one process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from storage.engine import make_engine
from storage.migrate import current_revision, head_revision
from tests.plugins.db import BACKENDS, PostgresServer

pytestmark = pytest.mark.timeout(300)

ROUNDS = 2  # PostgreSQL failed every round before the lock; SQLite has its own test below
CHILDREN = 3  # three make SQLite's journal-mode race on a new file show up often

CHILD = """
import pathlib, sys, time
ready, go, how, url = sys.argv[1:5]
from scraper.cli import cli
from storage.engine import make_engine
from storage.migrate import ensure_current
pathlib.Path(ready).touch()
deadline = time.monotonic() + 60
while not pathlib.Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.002)
if how == "db-upgrade":
    cli.main(["db", "upgrade", "--database", url], prog_name="govarchive")
else:  # what `govarchive crawl` and `schedule` do first
    engine = make_engine(url)
    ensure_current(engine)
    engine.dispose()
    print("schema ready")
"""


def _race(url: str, how: str, work: Path) -> list[tuple[int, str]]:
    """Start CHILDREN processes on ``url``, release them together, return (status, output)."""
    go = work / "go"
    ready = [work / f"ready{i}" for i in range(CHILDREN)]
    env = {k: v for k, v in os.environ.items() if k != "GOVARCHIVE_DATABASE_URL"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(r), str(go), how, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for r in ready
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            if any(c.poll() is not None for c in children):
                break
            time.sleep(0.01)
        go.touch()
        return [(c.wait(timeout=180), (c.stdout.read() if c.stdout else "")) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def _fresh_databases(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Callable[[int], str]:
    if backend == "sqlite":
        return lambda n: f"sqlite:///{tmp_path / f'new{n}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")

    def create(n: int) -> str:
        url = server.create_database(f"race{n}_{secrets.token_hex(3)}")
        request.addfinalizer(lambda: server.drop_database(url))
        return url

    return create


@pytest.mark.parametrize("how", ["db-upgrade", "ensure-current"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_creating_the_schema_at_once_all_succeed(
    request: pytest.FixtureRequest, backend: str, how: str, tmp_path: Path
) -> None:
    fresh = _fresh_databases(request, backend, tmp_path)
    head = head_revision()
    for n in range(ROUNDS):
        url = fresh(n)
        work = tmp_path / f"round{n}"
        work.mkdir()

        results = _race(url, how, work)

        for code, output in results:
            assert code == 0, output
            assert "Traceback" not in output and "duplicate key" not in output
        engine = make_engine(url)
        try:
            assert current_revision(engine) == head
            with engine.connect() as conn:
                assert conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
                assert {"pages", "page_versions", "fetches"} <= set(inspect(conn).get_table_names())
        finally:
            engine.dispose()
        if how == "db-upgrade":  # one created it; the other waited for it and found it done
            outputs = sorted(output.split(": ", 1)[1] for _, output in results)
            assert outputs == [f"already at revision {head} (head)\n"] * (CHILDREN - 1) + [
                f"upgraded from an empty database to revision {head} (head)\n"
            ]


def test_opening_a_new_sqlite_file_another_process_is_creating_waits(tmp_path: Path) -> None:
    """The deterministic form of the SQLite race: while another connection holds the
    write lock of a new (not yet WAL) file, opening it used to fail at once with
    "database is locked" in PRAGMA journal_mode=WAL; now it waits, like busy_timeout."""
    import sqlite3
    import threading

    path = tmp_path / "new.db"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("CREATE TABLE being_created (x INTEGER)")
    done = threading.Timer(0.3, lambda: creator.execute("COMMIT"))
    done.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM being_created").scalar() == 0
    finally:
        done.join()
        engine.dispose()
        creator.close()
