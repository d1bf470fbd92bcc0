"""One crawl per source at a time, across processes and machines.

- ``try_lock_source(engine, source) -> SourceLock | None`` — take the source's crawl
  lock without waiting; None when another process (or thread) holds it.
- ``source_locks(engine, sources)`` — a ``with`` block holding the locks of every free
  source among ``sources``; yields (locked names, {busy name: holder}). For one-shot
  commands such as ``govarchive crawl``.
- ``LockSession(engine, role)`` — many locks on one PostgreSQL session, for a daemon
  or worker crawling hundreds of sources at once (``lock.try_lock(source)``).
- ``lock_holder(engine, source) -> str | None`` — who holds it ("pid 4242 on host
  crawler-2 since …"), or None when it is free. Never takes the lock.

PostgreSQL: a session-level ``pg_try_advisory_lock`` on a dedicated connection that
lives as long as the lock. The key is a stable 64-bit hash of the source name, so
every daemon on every machine computes the same key. The server drops the lock when
that session ends, so a holder that crashed or lost its network frees the source
(TCP keepalives on the lock's session make the server notice a dead machine within
minutes instead of the kernel default of two hours).

SQLite: an exclusive ``flock`` on ``<database file>.locks/<source>.lock``. The kernel
drops it when the holding process exits, however it exits (kill -9 included), so a
crashed holder never leaves a stale lock; the file only records who holds it, for
messages. Lock files are never deleted (deleting a locked file lets a second process
lock a new file of the same name). A SQLite archive is one machine's: flock does not
reach across NFS, and neither does SQLite's own locking. An in-memory SQLite database
uses a lock inside this process.

Writes nothing to the archive's tables.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text

from storage.engine import database_errors, describe, sqlite_path
from storage.errors import StorageError

#: Prefix of the string hashed into a PostgreSQL advisory-lock key (a namespace, so
#: other applications' advisory locks on a shared server cannot collide by accident).
PG_KEY_NAMESPACE = "govarchive:source-crawl:"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

# Locks of in-memory SQLite databases: (id of the engine, source name).
_MEMORY_LOCKS: set[tuple[int, str]] = set()
_MEMORY_GUARD = threading.Lock()


def advisory_key(source: str) -> int:
    """Return the signed 64-bit PostgreSQL advisory-lock key of ``source``. Pure, stable."""
    digest = hashlib.sha256((PG_KEY_NAMESPACE + source).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file_path(database: str, source: str) -> Path:
    """Return the lock file of ``source`` for the SQLite database file ``database``. Pure.

    Names that are not plain file names (source names in config.yaml always are) are
    replaced by a hash.
    """
    db = Path(database)
    name = (
        source
        if _SAFE_NAME.match(source)
        else "source-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    )
    return db.with_name(db.name + ".locks") / f"{name}.lock"


def _holder_note() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _describe_note(note: dict[str, object]) -> str:
    pid, host, since = (note.get(k, "?") for k in ("pid", "host", "since"))
    return f"pid {pid} on host {host} since {since}"


class SourceLock:
    """A held crawl lock of one source. ``release()`` (or leaving a ``with`` block)
    frees it; releasing twice is harmless."""

    def __init__(self, source: str, releaser: _Releaser) -> None:
        self.source = source
        self._releaser: _Releaser | None = releaser

    @property
    def held(self) -> bool:
        """True until the lock is released."""
        return self._releaser is not None

    def release(self) -> None:
        """Free the lock. Never raises for a lock whose connection or file already went away."""
        releaser, self._releaser = self._releaser, None
        if releaser is not None:
            releaser.release()

    def __enter__(self) -> SourceLock:
        return self

    def __exit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


class _Releaser:
    def release(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def try_lock_source(engine: Engine, source: str) -> SourceLock | None:
    """Take the crawl lock of ``source`` without waiting.

    Returns the held lock, or None when another process or thread holds it. Raises
    StorageError when the database (PostgreSQL) or the lock directory (SQLite) cannot
    be used. Writes only the SQLite lock file's holder note.
    """
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return _pg_try_lock(engine, source)
    if dialect == "sqlite":
        database = _sqlite_file(engine)
        if database is None:
            return _memory_try_lock(engine, source)
        return _file_try_lock(engine, lock_file_path(database, source), source)
    raise StorageError(f"no crawl lock for {dialect!r} databases", database=describe(engine))


@contextmanager
def source_locks(
    engine: Engine, sources: Iterable[str]
) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Hold the crawl locks of every free source in ``sources`` for the ``with`` block.

    Yields ``(locked, busy)``: the names whose lock this process now holds, in the
    given order, and ``{name: who holds it}`` for the others. Releases them all on exit.
    """
    held: list[SourceLock] = []
    busy: dict[str, str] = {}
    try:
        for name in dict.fromkeys(sources):
            lock = try_lock_source(engine, name)
            if lock is None:
                busy[name] = lock_holder(engine, name) or "another process"
            else:
                held.append(lock)
        yield [lock.source for lock in held], busy
    finally:
        for lock in reversed(held):
            lock.release()


def lock_holder(engine: Engine, source: str) -> str | None:
    """Return who holds the crawl lock of ``source``, or None when nobody does.

    Reads only; on SQLite it briefly tries the file lock to tell a live holder from a
    leftover note. The description names the pid, host and since when, as far as the
    database or the lock file knows them.
    """
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return _pg_holder(engine, source)
    database = _sqlite_file(engine)
    if database is None:
        with _MEMORY_GUARD:
            held = (id(engine), source) in _MEMORY_LOCKS
        return "this process" if held else None
    path = lock_file_path(database, source)
    if not path.exists():
        return None
    try:
        handle = path.open("r+", encoding="utf-8")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_note(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


# --- PostgreSQL -------------------------------------------------------------------


class _PgReleaser(_Releaser):
    def __init__(self, conn: Connection, key: int) -> None:
        self.conn = conn
        self.key = key

    def release(self) -> None:
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self.conn.commit()
        except Exception:  # the session is gone, and the lock with it
            pass
        finally:
            # Never hand a session that held a lock back to the pool: closing the
            # DBAPI connection ends the session, which drops any lock for certain.
            try:
                self.conn.invalidate()
            finally:
                self.conn.close()


def _pg_try_lock(engine: Engine, source: str) -> SourceLock | None:
    key = advisory_key(source)
    with database_errors(engine, f"taking the crawl lock of source {source!r}"):
        conn = engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
            )
            if got:
                _pg_describe_session(conn, f"crawl {source}")
            conn.commit()  # leave no transaction open on a session kept for hours
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
    if not got:
        conn.invalidate()
        conn.close()
        return None
    return SourceLock(source, _PgReleaser(conn, key))


def _pg_describe_session(conn: Connection, doing: str) -> None:
    # application_name shows in pg_stat_activity (and in lock_holder's message);
    # keepalives make the server end the session of a machine that died.
    note = f"govarchive {doing} pid {os.getpid()} on {socket.gethostname()}"[:63]
    conn.execute(text("SELECT set_config('application_name', :v, false)"), {"v": note})
    for name, value in (
        ("tcp_keepalives_idle", "60"),
        ("tcp_keepalives_interval", "10"),
        ("tcp_keepalives_count", "6"),
    ):
        conn.execute(text("SELECT set_config(:n, :v, false)"), {"n": name, "v": value})


def _pg_holder(engine: Engine, source: str) -> str | None:
    key = advisory_key(source)
    # A bigint advisory key shows in pg_locks as classid = high 32 bits, objid = low
    # 32 bits, objsubid = 1.
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    high, low = unsigned >> 32, unsigned & 0xFFFF_FFFF
    query = text(
        "SELECT a.pid, a.application_name, a.client_addr, a.backend_start "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = CAST(:high AS oid) AND l.objid = CAST(:low AS oid) "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    doing = f"reading the crawl lock of source {source!r}"
    with database_errors(engine, doing), engine.connect() as conn:
        row = conn.execute(query, {"high": high, "low": low}).first()
    if row is None:
        return None
    pid, app, addr, since = row
    who = app or "a session"
    where = f" from {addr}" if addr else ""
    when = f" since {since.astimezone(UTC).isoformat(timespec='seconds')}" if since else ""
    return f"{who} (server pid {pid}{where}){when}"


class LockSession:
    """The crawl locks of a process that crawls many sources at once, on one session.

    :func:`try_lock_source` keeps a PostgreSQL connection per held lock; a daemon or
    worker crawling hundreds of sources would exhaust the engine's pool and the
    server's ``max_connections``. A LockSession holds all of its process's advisory
    locks on one dedicated session instead (described as ``govarchive <role> pid …``
    for :func:`lock_holder`). The guarantee is the same: the server drops every lock when
    that session ends, so a killed process frees its sources. On SQLite each lock is
    still its own file (no connection is involved), exactly as with
    :func:`try_lock_source`. Thread-safe; :meth:`close` frees every lock it holds.
    """

    def __init__(self, engine: Engine, role: str) -> None:
        self.engine = engine
        self.role = role
        self._guard = threading.Lock()
        self._conn: Connection | None = None
        self._held: set[int] = set()
        self._files: set[SourceLock] = set()  # SQLite: one file lock per source
        # bumped when the session is dropped: a lock taken on an older session was lost
        # with it, and its release must not free the same key taken again since
        self._generation = 0

    def try_lock(self, source: str) -> SourceLock | None:
        """Take ``source``'s crawl lock without waiting; None when anyone holds it,
        this session included. Raises StorageError when the database cannot be used."""
        if self.engine.dialect.name != "postgresql":
            lock = try_lock_source(self.engine, source)
            if lock is not None:
                with self._guard:
                    self._files = {held for held in self._files if held.held}
                    self._files.add(lock)
            return lock
        key = advisory_key(source)
        with self._guard, database_errors(self.engine, f"taking the crawl lock of {source!r}"):
            if key in self._held:  # advisory locks stack within a session: refuse here
                return None
            conn = self._session()
            try:
                query = text("SELECT pg_try_advisory_lock(:key)")
                got = bool(conn.execute(query, {"key": key}).scalar_one())
                conn.commit()
            except BaseException:
                self._drop_session()
                raise
            if not got:
                return None
            self._held.add(key)
            generation = self._generation
        return SourceLock(source, _SessionReleaser(self, key, generation))

    def _session(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            conn = self.engine.connect()
            try:
                _pg_describe_session(conn, self.role)
                conn.commit()
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop_session(self) -> None:
        # A session that failed may have lost its locks with it: forget them all, and
        # never hand it back to the pool (closing it ends the session for certain).
        conn, self._conn = self._conn, None
        self._held.clear()
        self._generation += 1
        if conn is not None:
            try:
                conn.invalidate()
            finally:
                conn.close()

    def release(self, key: int, generation: int) -> None:
        """Free the lock ``key`` taken on session ``generation`` (called by its
        SourceLock); never raises."""
        with self._guard:
            if generation != self._generation or key not in self._held:
                return
            self._held.discard(key)
            conn = self._conn
            if conn is None:
                return
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
            except Exception:  # the session is gone, and the lock with it
                self._drop_session()

    def close(self) -> None:
        """Free every lock of this session by ending it."""
        with self._guard:
            self._drop_session()
            files, self._files = self._files, set()
        for lock in files:
            lock.release()


class _SessionReleaser(_Releaser):
    def __init__(self, session: LockSession, key: int, generation: int) -> None:
        self.session = session
        self.key = key
        self.generation = generation

    def release(self) -> None:
        self.session.release(self.key, self.generation)


# --- SQLite file --------------------------------------------------------------------


def _sqlite_file(engine: Engine) -> str | None:
    """Return the SQLite database's file path, or None for an in-memory database."""
    path = sqlite_path(engine.url)
    return None if path is None else str(path)


class _FileReleaser(_Releaser):
    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def release(self) -> None:
        try:
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.flush()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
        except OSError:
            pass
        finally:
            self.handle.close()


def _file_try_lock(engine: Engine, path: Path, source: str) -> SourceLock | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" creates the file without truncating a note another holder wrote.
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise StorageError(
            f"cannot create the crawl lock file {path}: {exc}", database=describe(engine)
        ) from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    except OSError as exc:
        handle.close()
        raise StorageError(
            f"cannot lock the crawl lock file {path}: {exc}", database=describe(engine)
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"source": source, **_holder_note()}) + "\n")
    handle.flush()
    return SourceLock(source, _FileReleaser(handle))


def _read_note(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        note = json.loads(handle.read() or "{}")
    except ValueError:
        note = {}
    if not isinstance(note, dict) or not note:
        return "another process (it has not written its name yet)"
    return _describe_note(note)


# --- SQLite in memory ---------------------------------------------------------------


class _MemoryReleaser(_Releaser):
    def __init__(self, key: tuple[int, str]) -> None:
        self.key = key

    def release(self) -> None:
        with _MEMORY_GUARD:
            _MEMORY_LOCKS.discard(self.key)


def _memory_try_lock(engine: Engine, source: str) -> SourceLock | None:
    key = (id(engine), source)
    with _MEMORY_GUARD:
        if key in _MEMORY_LOCKS:
            return None
        _MEMORY_LOCKS.add(key)
    return SourceLock(source, _MemoryReleaser(key))
