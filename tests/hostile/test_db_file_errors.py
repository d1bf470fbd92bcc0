"""A full disk, a damaged file and a permission problem each get their own error and a
message naming the file (issue 16): they used to share "cannot open the database" or
"… failed: <driver text>", which did not say what was wrong or what to do."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from scraper.cli import cli
from storage.engine import (
    classify_driver_error,
    database_errors,
    make_engine,
    read_only_url,
    sqlite_path,
)
from storage.errors import (
    CorruptDatabaseError,
    DatabaseAccessError,
    DiskFullError,
    StorageError,
)
from storage.migrate import current_revision, upgrade
from tests.plugins.db import PostgresServer

pytestmark = pytest.mark.timeout(120)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"GOVARCHIVE_DATABASE_URL": None})
    return result.exit_code, result.output


def _error_line(output: str) -> str:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.fixture
def archive_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    return path


def _capped(path: Path, pages: int) -> Engine:
    """An engine on ``path`` whose connections may not grow the file past ``pages``
    pages: SQLite then answers SQLITE_FULL exactly as on a full disk."""
    engine = make_engine(f"sqlite:///{path}")

    def cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(engine, "connect", cap)
    return engine


# --- the three kinds, told apart -------------------------------------------------------


def test_a_full_disk_is_said_to_be_full(archive_file: Path) -> None:
    pages = archive_file.stat().st_size // 4096
    engine = _capped(archive_file, pages)
    try:
        with (
            pytest.raises(DiskFullError) as caught,
            database_errors(engine, "archiving a page"),
            engine.begin() as conn,
        ):
            conn.execute(text("CREATE TABLE filler (data BLOB)"))
            conn.execute(text("INSERT INTO filler VALUES (zeroblob(1000000))"))
    finally:
        engine.dispose()
    message = str(caught.value)
    assert f"the disk holding {archive_file} is full" in message
    assert "database or disk is full" in message and "free some space" in message


def test_a_file_that_is_not_a_database_is_said_to_be_one(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)

    code, output = _run("status", "--database", f"sqlite:///{path}")

    assert code == 3
    line = _error_line(output)
    assert f"{path} is not a SQLite database, or is damaged" in line
    assert "file is not a database" in line
    assert path.read_bytes() == b"these are my notes, not a database\n" * 200


def test_a_damaged_archive_is_said_to_be_damaged(archive_file: Path) -> None:
    data = bytearray(archive_file.read_bytes())
    data[120:4096] = b"\xa5" * (4096 - 120)  # the schema page, after the 100-byte header
    archive_file.write_bytes(bytes(data))
    engine = make_engine(f"sqlite:///{archive_file}")
    try:
        with pytest.raises(CorruptDatabaseError) as caught:
            current_revision(engine)
    finally:
        engine.dispose()
    assert f"{archive_file} is damaged" in str(caught.value)
    assert "malformed" in str(caught.value) and "backup" in str(caught.value)


def test_a_read_only_archive_is_said_to_be_read_only(archive_file: Path) -> None:
    url = f"sqlite:///file:{archive_file}?mode=ro&uri=true"
    engine = make_engine(url)
    try:
        with (
            pytest.raises(DatabaseAccessError) as caught,
            database_errors(engine, "starting a crawl run"),
            engine.begin() as conn,
        ):
            conn.execute(text("INSERT INTO sources (name) VALUES ('x')"))
    finally:
        engine.dispose()
    message = str(caught.value)
    assert f"{archive_file} cannot be written" in message
    assert "read-only" in message and read_only_url(archive_file) in message


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p.mkdir(), "it is a folder, not a database file"),
        (lambda p: None, "the folder {parent} does not exist"),
    ],
    ids=["a-folder", "no-such-folder"],
)
def test_a_path_sqlite_cannot_open_says_why(tmp_path: Path, make: Any, why: str) -> None:
    path = tmp_path / "archive.db" if "folder, not" in why else tmp_path / "missing" / "a.db"
    make(path)

    code, output = _run("db", "upgrade", "--database", f"sqlite:///{path}")

    assert code == 3
    line = _error_line(output)
    assert f"cannot open {path}" in line
    assert why.format(parent=path.parent) in line


def test_the_three_kinds_are_told_apart() -> None:
    import sqlite3

    def sqlite_error(message: str, name: str) -> sqlite3.Error:
        error = sqlite3.OperationalError(message)
        error.sqlite_errorname = name
        return error

    assert classify_driver_error(sqlite_error("database or disk is full", "SQLITE_FULL")) == "full"
    assert classify_driver_error(sqlite_error("file is not a database", "SQLITE_NOTADB")) == (
        "not_a_database"
    )
    assert classify_driver_error(sqlite_error("x", "SQLITE_IOERR_WRITE")) == "io"
    assert classify_driver_error(sqlite_error("x", "SQLITE_READONLY_DBMOVED")) == "read_only"
    assert classify_driver_error(sqlite_error("x", "SQLITE_CANTOPEN_ISDIR")) == "cannot_open"
    assert classify_driver_error(sqlite_error("database is locked", "SQLITE_BUSY")) is None
    # without the code, by the text SQLite always uses
    readonly = Exception("attempt to write a readonly database")
    assert classify_driver_error(readonly) == "read_only"
    assert classify_driver_error(Exception("UNIQUE constraint failed: pages.url")) is None


def test_sqlite_path_reads_plain_and_uri_urls() -> None:
    assert sqlite_path(make_url("sqlite:////srv/a.db")) == Path("/srv/a.db")
    assert sqlite_path(make_url("sqlite:///file:/srv/a.db?mode=ro&uri=true")) == Path("/srv/a.db")
    assert sqlite_path(make_url("sqlite://")) is None
    assert sqlite_path(make_url("postgresql+psycopg://u@h/db")) is None


# --- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture
def unprivileged_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database and a login role that may connect to it but create nothing."""
    url = postgres_server.create_database(f"noperm_{secrets.token_hex(3)}")
    role = f"govarchive_test_noperm_{secrets.token_hex(3)}"
    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        yield make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        postgres_server.drop_database(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_permission_denied_is_said_to_be_a_permission_problem(
    unprivileged_url: str,
) -> None:
    engine = make_engine(unprivileged_url)
    try:
        with pytest.raises(DatabaseAccessError) as caught:
            upgrade(engine)
    finally:
        engine.dispose()
    assert "permission denied" in str(caught.value)
    assert "the database user may not do this" in str(caught.value)

    code, output = _run("db", "upgrade", "--database", unprivileged_url)
    assert code == 3
    assert "permission denied" in _error_line(output)


def test_storage_errors_stay_one_tree() -> None:
    for kind in (DiskFullError, CorruptDatabaseError, DatabaseAccessError):
        assert issubclass(kind, StorageError)
