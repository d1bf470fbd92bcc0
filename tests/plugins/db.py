"""Database fixtures: SQLite and PostgreSQL engines at head (owned by the storage tests).

- ``engine`` — parametrized over ``sqlite`` and ``postgresql``; both built through the
  real Alembic migrations. SQLite: a copy of a file migrated once per session, so each
  test has its own fresh file. PostgreSQL: a database created for this test session
  (``govarchive_test_<pid>_<random>``, dropped at the end) migrated once; its tables,
  procrastinate's job queue included, are emptied before each test.
- ``database_url`` — the URL behind ``engine`` (for child processes and the CLI).
- ``postgres_url`` — the same on PostgreSQL only (procrastinate's job queue is there).
- ``empty_database_url`` — a fresh database with no tables at all, on each backend.

PostgreSQL comes from ``GOVARCHIVE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the server is only used to
create and drop this session's databases. Unreachable: the PostgreSQL cases are
skipped with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.engine import make_engine, normalise_url, redact_url
from storage.migrate import upgrade
from storage.models import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_server_url() -> str:
    """Return the URL of the PostgreSQL database used to create test databases."""
    return os.environ.get("GOVARCHIVE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


class PostgresServer:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.prefix = f"govarchive_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.created: list[str] = []
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def check(self) -> str | None:
        """Return None if the server answers, else why not."""
        try:
            with self._admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            return f"PostgreSQL at {redact_url(self.url)} unreachable: {exc.orig}"
        return None

    def create_database(self, suffix: str) -> str:
        """Create database ``<prefix>_<suffix>`` and return its URL."""
        name = f"{self.prefix}_{suffix}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop the database behind ``url`` (closing any connection still open)."""
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL test server; skips (fails under CI=true) when unreachable."""
    server = PostgresServer(postgres_server_url())
    problem = server.check()
    if problem is not None:
        server.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run)")
        pytest.skip(problem)
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_head_url(postgres_server: PostgresServer) -> str:
    """A session database migrated to head once."""
    url = postgres_server.create_database("head")
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "archive.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty archive at head, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_head_url")
    _empty_tables(url)
    return url


@pytest.fixture
def postgres_url(postgres_head_url: str) -> str:
    """The URL of an empty archive at head on PostgreSQL only (for its job queue)."""
    _empty_tables(postgres_head_url)
    return postgres_head_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An Engine on an empty archive at head (SQLite and PostgreSQL)."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (no schema yet), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database(f"empty_{secrets.token_hex(3)}")
    yield url
    server.drop_database(url)


#: Procrastinate's tables, which revision 0004 installs on PostgreSQL (jobs, workers …).
PROCRASTINATE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def _empty_tables(url: str) -> None:
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            tables = [table.name for table in Base.metadata.sorted_tables]
            names = ", ".join([*tables, *PROCRASTINATE_TABLES])
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        eng.dispose()
