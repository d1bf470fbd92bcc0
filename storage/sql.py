"""SQL helpers for the write path: dialect-specific spellings.

- :func:`insert_ignoring_conflict` — ``INSERT … ON CONFLICT DO NOTHING``, spelt per dialect.

The archive's statements are module-level Core statements run with
``Connection.execute``, so SQLAlchemy compiles each once and takes it from its compiled
cache afterwards. (Until December 2026 a ``Prepared`` class here ran them straight on
the DBAPI cursor through SQLAlchemy's compiler internals — ``construct_params``,
``bind_names``, ``positiontup``, ``escaped_bind_names``. Measured with
``bench/storage.py --per-page 1000`` on the real fixture pages, it saved per page, in
CPU: SQLite 165 µs of ~3030 per first archive and 80 µs of ~230 per 304 record;
PostgreSQL 320 µs of ~1590 and 195 µs of ~630 — about 3 % of the ~6 ms a first-crawl
page costs the crawl, and a 304's 80 µs is 5 % of today's 1.49 ms recrawl page. Neither
crawl target turns on it: the first crawl's is bounded by the FTS5 trigram indexing of
each new version, ~2 ms a page, and the recrawl's 0.3 ms by the fetch path. So it went
back to public APIs; ``exec_driver_sql`` with SQL compiled once was no middle way, its
execution context costing nearly what ``execute``'s does: 11.4 vs 13.1 µs a statement
on SQLite.)
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflict(
    conn: Connection, table: Table, *index_elements: str, returning: str | None = None
) -> Insert:
    """Return ``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for ``conn``'s dialect,
    with ``RETURNING returning`` when given; execute it with the row as parameters.

    On PostgreSQL a conflicting insert waits for the other transaction and then does
    nothing, which is what makes racing first writes of one page safe.
    """
    name = conn.dialect.name
    return insert_ignoring_conflict_for(name, table, *index_elements, returning=returning)


def insert_ignoring_conflict_for(
    dialect: str, table: Table, *index_elements: str, returning: str | None = None
) -> Insert:
    """:func:`insert_ignoring_conflict` for a dialect name. Built once per dialect, table
    and shape: a reused statement keeps its cache key, so it is never recompiled."""
    return _insert_ignoring_conflict(dialect, table, index_elements, returning)


@cache
def _insert_ignoring_conflict(
    dialect: str, table: Table, index_elements: tuple[str, ...], returning: str | None
) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return statement.returning(table.c[returning]) if returning is not None else statement
