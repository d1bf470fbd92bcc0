"""Engines, URL redaction, timestamps and error translation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from storage.engine import make_engine, normalise_url, redact_url
from storage.errors import DatabaseUnavailableError, SchemaError
from storage.migrate import current_revision
from tests.storage.factories import Crawl, make_doc


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        (
            "postgresql+psycopg://archiver:s3cr%40t@db.example:5432/archive",
            "postgresql+psycopg://archiver:***@db.example:5432/archive",
        ),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"),
        (
            "postgresql://h/db?user=u&password=hunter2&x=1",
            "postgresql://h/db?user=u&password=***&x=1",
        ),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test",
            "postgresql+psycopg://postgres@127.0.0.1/test",
        ),
        ("sqlite:///archive.db", "sqlite:///archive.db"),
        ("not a url :pw@", "not a url :pw@"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_normalise_url_sends_postgres_to_psycopg() -> None:
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///a.db").drivername == "sqlite"
    with pytest.raises(
        ValueError, match=r"unsupported database 'mysql' in 'mysql://u:\*\*\*@h/db'"
    ):
        normalise_url("mysql://u:pw@h/db")
    with pytest.raises(ValueError, match="not a database URL"):
        make_engine("archive.db")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 60000,
        "synchronous": 1,
    }


def test_timestamps_come_back_as_aware_utc(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    china = timezone(timedelta(hours=8))
    crawl.page("https://a.gov.cn/1.html", make_doc(), at=datetime(2024, 5, 1, 9, 30, tzinfo=china))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT requested_at FROM fetches")).scalar_one()
        if engine.dialect.name == "postgresql":
            zone = conn.execute(text("SHOW timezone")).scalar_one()
            assert zone == "UTC"
    # Raw SQL sees UTC on both databases (SQLite text, PostgreSQL timestamptz in UTC).
    assert str(stored).startswith("2024-05-01 01:30:00")
    from storage.archive import known_pages

    (page,) = known_pages(engine, crawl.source_id)
    assert page.last_fetched_at == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert page.last_fetched_at.tzinfo is UTC


def test_unreachable_server_names_the_database_without_its_password() -> None:
    engine = make_engine("postgresql+psycopg://archiver:hunter2@127.0.0.1:1/archive")
    with pytest.raises(DatabaseUnavailableError) as info:
        current_revision(engine)
    message = str(info.value)
    assert message.startswith("postgresql+psycopg://archiver:***@127.0.0.1:1/archive: cannot open")
    assert "hunter2" not in message
    assert not isinstance(info.value, SchemaError)


def test_unopenable_sqlite_file_is_reported(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/missing-dir/a.db")
    with pytest.raises(DatabaseUnavailableError, match=r"cannot open .*a\.db .*does not exist"):
        current_revision(engine)
