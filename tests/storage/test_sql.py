"""storage.sql.insert_ignoring_conflict: the first insert returns its row, a conflicting
one nothing, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, select

from storage.engine import write_transaction
from storage.models import PAGES
from storage.sql import insert_ignoring_conflict, insert_ignoring_conflict_for
from tests.storage.factories import Crawl

AT = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))


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


def test_a_conflicting_insert_writes_and_returns_nothing(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with write_transaction(engine) as conn:
        create = insert_ignoring_conflict(conn, PAGES, "url", returning="id")
        created = conn.execute(create, page_row(crawl, "http://a/1")).first()
        assert created is not None
        later = page_row(crawl, "http://a/1") | {"etag": '"v2"'}
        assert conn.execute(create, later).first() is None  # conflict: nothing
    with engine.connect() as conn:
        row = conn.execute(select(PAGES).where(PAGES.c.id == created[0])).one()
    assert (row.etag, row.last_fetched_at) == ('"v1"', AT.astimezone(UTC))


def test_the_statement_is_built_once_per_dialect_and_shape() -> None:
    first = insert_ignoring_conflict_for("sqlite", PAGES, "url", returning="id")
    assert insert_ignoring_conflict_for("sqlite", PAGES, "url", returning="id") is first
    assert insert_ignoring_conflict_for("postgresql", PAGES, "url", returning="id") is not first
    assert insert_ignoring_conflict_for("sqlite", PAGES, "url") is not first
