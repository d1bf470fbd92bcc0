"""storage.locks: one crawl per source at a time, across processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.engine import make_engine
from storage.errors import StorageError
from storage.locks import (
    LockSession,
    SourceLock,
    advisory_key,
    lock_file_path,
    lock_holder,
    source_locks,
    try_lock_source,
)
from tests.plugins.db import BACKENDS, PostgresServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=BACKENDS)
def lock_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL to lock against (locks need no schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url.render_as_string(hide_password=False)


@pytest.fixture
def engines(lock_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two daemons would have."""
    first, second = make_engine(lock_url), make_engine(lock_url)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.fixture
def source() -> str:
    """A source name no other test (or test run on the shared server) uses."""
    return f"src-{uuid.uuid4().hex[:12]}"


class Holder:
    """A child process holding a source's lock until stdin closes or it is killed."""

    def __init__(self, url: str, source: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.schedule.hold_lock", url, source],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.close()


def _lock_within(engine: Engine, source: str, seconds: float = 10.0) -> SourceLock | None:
    """Try the lock until it is free (PostgreSQL ends a killed client's session a moment later)."""
    deadline = time.monotonic() + seconds
    while True:
        lock = try_lock_source(engine, source)
        if lock is not None or time.monotonic() > deadline:
            return lock
        time.sleep(0.05)


def _held(lock: SourceLock) -> bool:
    """Read ``held`` afresh (mypy keeps an asserted attribute narrowed across calls)."""
    return lock.held


def test_one_holder_per_source(engines: tuple[Engine, Engine], source: str) -> None:
    first, second = engines
    lock = try_lock_source(first, source)
    assert lock is not None and lock.held
    assert try_lock_source(second, source) is None
    other = try_lock_source(second, source + "-other")  # other sources are independent
    assert other is not None
    other.release()
    lock.release()
    assert not _held(lock)
    again = try_lock_source(second, source)
    assert again is not None
    again.release()


def test_context_manager_and_double_release(engines: tuple[Engine, Engine], source: str) -> None:
    first, second = engines
    lock = try_lock_source(first, source)
    assert lock is not None
    with lock:
        assert try_lock_source(second, source) is None
    lock.release()  # harmless
    with try_lock_source(second, source) as relocked:  # type: ignore[union-attr]
        assert relocked.held


def test_holder_is_described_and_freed(engines: tuple[Engine, Engine], source: str) -> None:
    first, second = engines
    assert lock_holder(second, source) is None
    lock = try_lock_source(first, source)
    assert lock is not None
    description = lock_holder(second, source)
    assert description is not None
    assert f"pid {os.getpid()}" in description
    lock.release()
    assert lock_holder(second, source) is None


def test_second_process_skips_and_a_killed_holder_frees_the_source(
    lock_url: str, engines: tuple[Engine, Engine], source: str, holders: list[Holder]
) -> None:
    engine = engines[0]
    winner = Holder(lock_url, source)
    holders.append(winner)
    assert winner.first_line == "held"

    loser = Holder(lock_url, source)
    holders.append(loser)
    assert loser.first_line == "busy"
    assert loser.proc.wait(timeout=10) == 1

    assert try_lock_source(engine, source) is None
    description = lock_holder(engine, source)
    assert description is not None and f"pid {winner.proc.pid}" in description

    winner.kill()  # kill -9: no chance to release anything
    lock = _lock_within(engine, source)
    assert lock is not None, "a crashed holder must not keep the source locked"
    lock.release()


def test_a_released_lock_is_free_for_the_next_process(
    lock_url: str, engines: tuple[Engine, Engine], source: str, holders: list[Holder]
) -> None:
    holder = Holder(lock_url, source)
    holders.append(holder)
    assert holder.first_line == "held"
    out, _ = holder.proc.communicate(input="", timeout=10)
    assert out.strip() == "released"
    assert lock_holder(engines[0], source) is None
    successor = Holder(lock_url, source)
    holders.append(successor)
    assert successor.first_line == "held"


def test_source_locks_takes_the_free_ones(engines: tuple[Engine, Engine], source: str) -> None:
    first, second = engines
    taken = try_lock_source(first, source + "-b")
    assert taken is not None
    with source_locks(second, [source + "-a", source + "-b", source + "-a"]) as (locked, busy):
        assert locked == [source + "-a"]
        assert list(busy) == [source + "-b"] and f"pid {os.getpid()}" in busy[source + "-b"]
        assert try_lock_source(first, source + "-a") is None
    taken.release()
    again = try_lock_source(first, source + "-a")  # released at the end of the block
    assert again is not None
    again.release()


def test_advisory_key_is_stable() -> None:
    # Daemons of different versions on different machines must compute the same key.
    assert advisory_key("xuancheng-sjzyj") == advisory_key("xuancheng-sjzyj")
    assert advisory_key("xuancheng-sjzyj") == 6879266145384308127
    assert advisory_key("a") != advisory_key("b")
    assert -(2**63) <= advisory_key("a") < 2**63


def test_lock_file_lives_next_to_the_database(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    assert lock_file_path(str(db), "xuancheng-sjzyj") == tmp_path / "archive.db.locks" / (
        "xuancheng-sjzyj.lock"
    )
    odd = lock_file_path(str(db), "../etc/passwd")
    assert odd.parent == tmp_path / "archive.db.locks"
    assert odd.name.startswith("source-") and "/" not in odd.name


def test_sqlite_lock_file_records_the_holder(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    lock = try_lock_source(engine, "s")
    assert lock is not None
    note = (tmp_path / "archive.db.locks" / "s.lock").read_text(encoding="utf-8")
    assert f'"pid": {os.getpid()}' in note
    lock.release()
    assert (tmp_path / "archive.db.locks" / "s.lock").read_text(encoding="utf-8") == ""
    engine.dispose()


def test_in_memory_sqlite_locks_within_the_process() -> None:
    engine = make_engine("sqlite://")
    lock = try_lock_source(engine, "s")
    assert lock is not None
    assert try_lock_source(engine, "s") is None
    assert lock_holder(engine, "s") == "this process"
    lock.release()
    assert lock_holder(engine, "s") is None
    engine.dispose()


# -- LockSession: many locks, one PostgreSQL session ---------------------------------


def test_lock_session_holds_many_sources_on_one_session(
    engines: tuple[Engine, Engine], source: str
) -> None:
    first, second = engines
    names = [f"{source}-{n}" for n in range(40)]
    session = LockSession(first, "daemon")
    try:
        held = [session.try_lock(name) for name in names]
        assert all(lock is not None for lock in held)
        # the same process asking again is refused too (advisory locks would stack)
        assert session.try_lock(names[0]) is None
        assert try_lock_source(second, names[0]) is None
        holder = lock_holder(second, names[0])
        assert holder is not None
        if first.dialect.name == "postgresql":
            assert "govarchive daemon pid" in holder
            # 40 locks, one server session: a daemon of hundreds of sources fits the pool
            assert first.pool.checkedout() == 1  # type: ignore[attr-defined]
        lock = held[0]
        assert lock is not None
        lock.release()
        other = try_lock_source(second, names[0])
        assert other is not None
        other.release()
    finally:
        session.close()
    # closing the session frees every lock it held
    for name in names[1:]:
        again = try_lock_source(second, name)
        assert again is not None
        again.release()


@pytest.mark.postgres
def test_lock_session_survives_losing_its_session(
    postgres_server: PostgresServer, source: str
) -> None:
    """The server ended the session (restart, failover, idle kill): its locks are gone
    with it, and the next lock opens a new session instead of failing for good."""
    from sqlalchemy import text

    engine = make_engine(postgres_server.url.render_as_string(hide_password=False))
    session = LockSession(engine, "worker")
    try:
        lock = session.try_lock(f"{source}-a")
        assert lock is not None
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "application_name LIKE 'govarchive worker pid%' AND pid <> pg_backend_pid()"
                )
            )
        try:  # the first use may be the one that notices the loss ...
            again = session.try_lock(f"{source}-b")
        except StorageError:  # ... and says so; the next one opens a new session
            again = session.try_lock(f"{source}-b")
        assert again is not None
        retaken = session.try_lock(f"{source}-a")  # lost with the old session: free
        assert retaken is not None
        lock.release()  # the lost lock's release is harmless: it frees nothing ...
        assert session.try_lock(f"{source}-a") is None  # ... not the lock taken since
        retaken.release()
        again.release()
    finally:
        session.close()
        engine.dispose()
