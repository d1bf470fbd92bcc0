"""Engines for the archive: SQLite (the default) and PostgreSQL via psycopg 3.

``make_engine(url)`` is the only place connections are configured; every SQLite
pragma lives in :func:`_sqlite_on_connect`. ``write_transaction(engine)`` opens the
transaction every storage write runs in (``BEGIN IMMEDIATE`` on SQLite, so two
writers queue on the busy timeout instead of failing half-way).
``redact_url(url)`` is the only form in which a URL is ever printed.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from storage.errors import (
    DatabaseUnavailableError,
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
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


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
