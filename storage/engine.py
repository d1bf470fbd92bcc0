"""Engines for the archive: SQLite (the default) and PostgreSQL via psycopg 3.

``make_engine(url)`` is the only place connections are configured; every SQLite
pragma lives in :func:`_sqlite_on_connect`. ``write_transaction(engine)`` opens the
transaction every storage write runs in (``BEGIN IMMEDIATE`` on SQLite, so two
writers queue on the busy timeout instead of failing half-way).
``redact_url(url)`` is the only form in which a URL is ever printed.
``database_errors(engine, doing)`` translates driver errors into the storage tree, once:
a full disk, a damaged file and a permission problem each get their own error and a
message naming the file (SQLite) or database (PostgreSQL) and what to do.
``read_only_url(path)`` is how to open a SQLite archive on read-only media.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from storage.errors import (
    CorruptDatabaseError,
    DatabaseAccessError,
    DatabaseUnavailableError,
    DiskFullError,
    StorageError,
    WriteConflictError,
)

#: How long a SQLite writer waits for another writer's lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 60_000

#: Execution option that makes the next SQLite transaction ``BEGIN IMMEDIATE``.
_WRITE_OPTION = "govarchive_write"

_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@)")
_PASSWORD_IN_QUERY = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&]*)", re.IGNORECASE)


def redact_url(url: str | URL) -> str:
    """Return ``url`` with any password (in the userinfo or a ``password=`` query
    parameter) replaced by ``***``. Never raises, also for malformed URLs."""
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    # SQLAlchemy escapes the colon of a SQLite URI filename; show it as it is typed.
    text = text.replace("sqlite:///file%3A", "sqlite:///file:", 1)
    text = _PASSWORD_IN_URL.sub(r"\g<head>***\g<tail>", text)
    return _PASSWORD_IN_QUERY.sub(r"\g<head>***", text)


def describe(engine: Engine | Connection) -> str:
    """Return the redacted URL of the database behind ``engine`` (for messages)."""
    return redact_url(engine.engine.url)


def normalise_url(url: str) -> URL:
    """Parse ``url``, sending bare ``postgresql://`` / ``postgres://`` URLs to psycopg 3
    (the driver installed with govarchive). Raises ValueError naming the (redacted) URL."""
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {redact_url(url)!r}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r} in {redact_url(url)!r}: "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def make_engine(url: str) -> Engine:
    """Return an Engine for ``url`` (``sqlite:///archive.db`` or ``postgresql+psycopg://…``).

    SQLite connections run in WAL mode with a busy timeout, foreign keys on and
    ``synchronous=NORMAL`` (a killed process never loses a committed transaction).
    PostgreSQL sessions use the UTC time zone, so timestamp literals in SQL mean UTC on
    both databases. Connects lazily: nothing is opened or written here.
    Raises ValueError for a malformed or unsupported URL.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (the pysqlite driver would
    # otherwise BEGIN lazily, too late to take the write lock up front).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    # Turning a new file to WAL needs an exclusive lock, and SQLite answers "database is
    # locked" at once, without its busy handler, while another process is opening the
    # same new file (two crawls started together on a new archive): retry, as long as
    # the busy timeout would have waited.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _sqlite_on_begin(connection: Connection) -> None:
    # A writer takes the database write lock when its transaction starts, so two
    # writers queue on busy_timeout rather than deadlocking on a read→write upgrade.
    if connection.get_execution_options().get(_WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def database_errors(engine: Engine | Connection, doing: str) -> Iterator[None]:
    """Translate driver errors raised inside the block into the storage tree, once.

    A failure to connect becomes DatabaseUnavailableError; a lock wait that timed out,
    a deadlock or a serialization failure becomes WriteConflictError; any other driver
    error becomes StorageError. Messages name the redacted database and never contain
    its password.
    """
    try:
        yield
    except DBAPIError as exc:
        raise _translate(engine, exc, doing) from exc


def is_conflict(exc: DBAPIError) -> bool:
    """Return True when ``exc`` means another writer got in the way (worth a retry)."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01", "55P03", "23505"):
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def _translate(engine: Engine | Connection, exc: DBAPIError, doing: str) -> StorageError:
    database = describe(engine)
    message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else repr(exc.orig)
    password = engine.engine.url.password
    if password:
        message = message.replace(str(password), "***")
    problem = classify_driver_error(exc.orig)
    if problem is not None:
        path = sqlite_path(engine.engine.url)
        text = explain_problem(problem, message, path, doing)
        return _PROBLEM_ERRORS[problem](text, database=database)
    if exc.connection_invalidated or exc.statement is None:
        return DatabaseUnavailableError(
            f"cannot open the database ({doing}): {message}", database=database
        )
    if is_conflict(exc):
        return WriteConflictError(
            f"{doing}: gave up waiting for another writer: {message}", database=database
        )
    return StorageError(f"{doing} failed: {message}", database=database)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection inside one write transaction; commit on success, roll back
    on any exception. On SQLite the transaction is ``BEGIN IMMEDIATE``."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


# --- what a driver error means --------------------------------------------------------

Problem = Literal["full", "not_a_database", "corrupt", "read_only", "cannot_open", "denied", "io"]

# SQLite's primary result codes (``sqlite_errorname`` drops the extended suffix here).
_SQLITE_PROBLEMS: dict[str, Problem] = {
    "SQLITE_FULL": "full",
    "SQLITE_NOTADB": "not_a_database",
    "SQLITE_CORRUPT": "corrupt",
    "SQLITE_READONLY": "read_only",
    "SQLITE_CANTOPEN": "cannot_open",
    "SQLITE_PERM": "denied",
    "SQLITE_AUTH": "denied",
    "SQLITE_IOERR": "io",
}
# The same, by message, for a driver that does not say the code.
_SQLITE_TEXTS: tuple[tuple[str, Problem], ...] = (
    ("database or disk is full", "full"),
    ("file is not a database", "not_a_database"),
    ("database disk image is malformed", "corrupt"),
    ("readonly database", "read_only"),
    ("unable to open database file", "cannot_open"),
    ("disk i/o error", "io"),
)
# PostgreSQL SQLSTATEs.
_PG_PROBLEMS: dict[str, Problem] = {
    "53100": "full",  # disk_full
    "XX001": "corrupt",  # data_corrupted
    "XX002": "corrupt",  # index_corrupted
    "25006": "read_only",  # read_only_sql_transaction (a standby, or default_transaction_read_only)
    "42501": "denied",  # insufficient_privilege
    "58030": "io",  # io_error
}

_PROBLEM_ERRORS: dict[Problem, type[StorageError]] = {
    "full": DiskFullError,
    "not_a_database": CorruptDatabaseError,
    "corrupt": CorruptDatabaseError,
    "read_only": DatabaseAccessError,
    "cannot_open": DatabaseAccessError,
    "denied": DatabaseAccessError,
    "io": DatabaseUnavailableError,
}


def classify_driver_error(orig: BaseException | None) -> Problem | None:
    """Return what a DB-API error says about the database itself — its disk is full, it
    is not a database or is damaged, it cannot be written or opened, access is denied, an
    I/O error — or None for any other error (a constraint, a lock, a lost connection). Pure."""
    if orig is None:
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return _PG_PROBLEMS.get(str(sqlstate))
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
        return _SQLITE_PROBLEMS.get(primary)
    text = str(orig).lower()
    return next((problem for needle, problem in _SQLITE_TEXTS if needle in text), None)


def sqlite_path(url: URL) -> Path | None:
    """Return the file behind a SQLite URL (plain or ``file:`` URI), or None for another
    database or an in-memory one. Pure."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if str(url.query.get("mode", "")) == "memory":
        return None
    return Path(database.removeprefix("file:").split("?", 1)[0])


def read_only_url(path: Path | str) -> str:
    """Return the URL that opens the SQLite archive at ``path`` read-only and immutable:
    nothing is written next to it (no ``-wal``/``-shm`` files, no locks), so it works on
    read-only media. Only for a file nothing writes to while it is open. Pure."""
    return f"sqlite:///file:{Path(path).absolute()}?mode=ro&immutable=1&uri=true"


def explain_problem(problem: Problem, message: str, path: Path | None, doing: str) -> str:
    """Return the message for ``problem``: what happened to which file, and what to do.

    ``path`` is the SQLite file (None for PostgreSQL). For a file that cannot be opened,
    looks at the file system (does the file exist, is its folder writable) to say why."""
    where = str(path) if path is not None else "the database"
    said = f"{doing}: {message}"
    if problem == "full":
        disk = f"the disk holding {path}" if path is not None else "the database server's disk"
        return (
            f"{disk} is full ({said}); free some space and run the command again "
            "(what was committed before is kept)"
        )
    if problem == "not_a_database":
        return (
            f"{where} is not a SQLite database, or is damaged or encrypted ({said}); check "
            "the --database path, and if it is your archive restore it from a backup"
        )
    if problem == "corrupt":
        return f"{where} is damaged ({said}); restore it from a backup" + (
            f" (`sqlite3 {path} .recover` may save what is left)" if path else ""
        )
    if problem == "denied":
        who = "this user" if path is not None else "the database user"
        return f"permission denied on {where} ({said}): {who} may not do this; check its rights"
    if problem == "io":
        return f"input/output error on {where} ({said}): the disk may be failing or unplugged"
    if path is None:
        return f"{where} cannot be written ({said}): a read-only server or transaction"
    if problem == "read_only":
        return (
            f"{path} cannot be written ({said}): the file, its folder or the medium is "
            "read-only, or the URL says mode=ro. Commands that only read (status, history, "
            f"raw, export) can open it read-only: --database '{read_only_url(path)}'"
        )
    return f"cannot open {path} ({said}): {_why_not_open(path)}"


def _why_not_open(path: Path) -> str:
    """Say why SQLite could not open ``path``, from what the file system shows."""
    folder = path.parent
    if path.is_dir():
        return "it is a folder, not a database file"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not path.exists():
        return f"the folder {folder} does not let this user create files"
    if not os.access(path, os.R_OK):
        return "this user may not read it"
    if not os.access(folder, os.W_OK) or not os.access(path, os.W_OK):
        return (
            "it or its folder is read-only (read-only media, or permissions), and SQLite "
            f"writes {path.name}-wal and {path.name}-shm next to it. To read it there, open it "
            f"read-only: --database '{read_only_url(path)}'"
        )
    return "check that this user may read and write the file and its folder"
