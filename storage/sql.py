"""Statements whose spelling differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflict(
    conn: Connection, table: Table, *index_elements: str, returning: str | None = None
) -> Insert:
    """Return ``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for ``conn``'s dialect,
    with ``RETURNING returning`` when given; execute it with the row as parameters.

    Built once per dialect, table and shape: a statement object that is reused keeps its
    cache key, so SQLAlchemy neither rebuilds nor recompiles it per call.
    On PostgreSQL a conflicting insert waits for the other transaction and then does
    nothing, which is what makes racing first writes of one page safe.
    """
    return _insert_ignoring_conflict(conn.dialect.name, table, index_elements, returning)


@cache
def _insert_ignoring_conflict(
    dialect: str, table: Table, index_elements: tuple[str, ...], returning: str | None
) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return statement.returning(table.c[returning]) if returning is not None else statement
