"""storage.sql.Prepared: the same rows, stored values and errors as ``conn.execute``."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.engine import database_errors, make_engine, write_transaction
from storage.errors import DatabaseUnavailableError
from storage.models import PAGE_VERSIONS, PAGES, SOURCES
from storage.sql import Prepared, insert_ignoring_conflict_for
from tests.storage.factories import Crawl, make_doc

AT = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))

_INSERT_PAGE = Prepared(PAGES.insert().returning(PAGES.c.id))
_PAGE_BY_URL = Prepared(
    select(PAGES.c.id, PAGES.c.url, SOURCES.c.name)
    .join(SOURCES, SOURCES.c.id == PAGES.c.source_id)
    .where(
        PAGES.c.url == bindparam("url"),
        PAGES.c.source_id == bindparam("source_id"),
        SOURCES.c.id == bindparam("source_id"),
    )
)
_CREATE_PAGE = Prepared(
    lambda dialect: insert_ignoring_conflict_for(dialect, PAGES, "url", returning="id")
)
_TOUCH = Prepared(
    PAGES.update()
    .where(PAGES.c.url == bindparam("match"))
    .values(last_fetched_at=bindparam("at"), gone_at=None, etag=bindparam("etag"))
)


def page_row(crawl: Crawl, url: str) -> dict[str, Any]:
    return {
        "source_id": crawl.source_id,
        "url": url,
        "first_seen_at": AT,
        "last_fetched_at": AT,
        "last_changed_at": AT,
        "gone_at": None,
        "etag": '"v1"',
        "last_modified": None,
    }


def stored(engine: Engine, table: str, key: str, value: Any) -> tuple[Any, ...]:
    """Return a row as the database holds it (no type conversion on the way out)."""
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT * FROM {table} WHERE {key} = :v"), {"v": value}).one()
    return tuple(row)


def test_rows_and_stored_values_match_conn_execute(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with write_transaction(engine) as conn:
        fast = _INSERT_PAGE.first(conn, page_row(crawl, "http://a/fast"))
        slow = conn.execute(
            _INSERT_PAGE.statement(conn.dialect.name), page_row(crawl, "http://a/slow")
        )
        slow_id = slow.scalar_one()
        assert fast is not None and fast[0] == slow_id - 1
        # a bound parameter used twice, a join, and a row that is not there
        assert _PAGE_BY_URL.first(conn, {"url": "http://a/fast", "source_id": crawl.source_id}) == (
            fast[0],
            "http://a/fast",
            "xuancheng-sjzy",
        )
        assert (
            _PAGE_BY_URL.first(conn, {"url": "http://a/none", "source_id": crawl.source_id}) is None
        )
    # every column but id and url as stored: the aware timestamps went through
    # UTCDateTime (UTC, and on SQLite its text form) exactly as SQLAlchemy binds them
    fast_row = stored(engine, "pages", "id", fast[0])
    slow_row = stored(engine, "pages", "id", slow_id)
    assert fast_row[1] == crawl.source_id
    assert fast_row[3:] == slow_row[3:]
    assert fast_row[3] is not None


def test_json_and_date_columns_are_bound_as_by_conn_execute(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    result = crawl.page("http://a/doc", make_doc())
    insert = Prepared(PAGE_VERSIONS.insert().returning(PAGE_VERSIONS.c.id))
    with engine.connect() as conn:
        original = dict(
            conn.execute(select(PAGE_VERSIONS).where(PAGE_VERSIONS.c.id == result.version_id))
            .one()
            ._mapping
        )
    values = {k: v for k, v in original.items() if k != "id"} | {
        "version": 2,
        "metadata_extra": {"发布机构": "市数据资源局"},
        "warnings": ["w1"],
        "published_date": date(2021, 10, 11),
    }
    with write_transaction(engine) as conn:
        fast = insert.first(conn, values)
        slow = conn.execute(insert.statement(conn.dialect.name), values | {"version": 3})
        slow_id = slow.scalar_one()
    assert fast is not None
    fast_row = stored(engine, "page_versions", "id", fast[0])
    slow_row = stored(engine, "page_versions", "id", slow_id)
    assert fast_row[3:] == slow_row[3:]  # all but id, page_id and version


def test_dialect_specific_statement_and_update(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with write_transaction(engine) as conn:
        created = _CREATE_PAGE.first(conn, page_row(crawl, "http://a/1"))
        assert created is not None
        assert _CREATE_PAGE.first(conn, page_row(crawl, "http://a/1")) is None  # conflict: nothing
        later = AT + timedelta(days=1)
        assert _TOUCH.first(conn, {"match": "http://a/1", "at": later, "etag": '"v2"'}) is None
    with engine.connect() as conn:
        row = conn.execute(select(PAGES).where(PAGES.c.id == created[0])).one()
    assert (row.last_fetched_at, row.etag, row.gone_at) == (AT + timedelta(days=1), '"v2"', None)
    assert row.last_fetched_at.tzinfo is UTC


def test_driver_errors_are_raised_as_sqlalchemy_would(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with write_transaction(engine) as conn:
        _INSERT_PAGE.first(conn, page_row(crawl, "http://a/dup"))
    with pytest.raises(IntegrityError) as info, write_transaction(engine) as conn:
        _INSERT_PAGE.first(conn, page_row(crawl, "http://a/dup"))
    assert info.value.statement is not None and "INSERT INTO pages" in info.value.statement
    assert not info.value.connection_invalidated
    # the failed transaction was rolled back and the connection is usable again
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pages")).scalar_one() == 1


@pytest.mark.postgres
def test_a_lost_connection_is_invalidated_and_reported_unavailable(
    postgres_head_url: str,
) -> None:
    engine = make_engine(postgres_head_url)
    crawl = Crawl.start(engine, name=f"lost-{secrets.token_hex(3)}")
    with engine.connect() as conn:
        transaction = conn.begin()
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DatabaseUnavailableError) as info, database_errors(engine, "testing"):
            _INSERT_PAGE.first(conn, page_row(crawl, "http://a/lost"))
        cause = info.value.__cause__
        assert isinstance(cause, DBAPIError) and cause.connection_invalidated
        assert conn.invalidated  # so the pool never hands the dead connection out again
        transaction.rollback()
    engine.dispose()


def test_listeners_see_every_statement(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", before)
    with write_transaction(engine) as conn:
        row = _INSERT_PAGE.first(conn, page_row(crawl, "http://a/heard"))
        assert _PAGE_BY_URL.first(conn, {"url": "http://a/heard", "source_id": crawl.source_id})
    assert row is not None
    assert seen[-2:] == ["INSERT", "SELECT"]


def test_outside_a_transaction_it_runs_as_conn_execute_does(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with engine.connect() as conn:
        row = _INSERT_PAGE.first(conn, page_row(crawl, "http://a/auto"))
        conn.commit()
    assert row is not None
    assert stored(engine, "pages", "id", row[0])[2] == "http://a/auto"
