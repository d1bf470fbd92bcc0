"""Statements whose spelling differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflict(conn: Connection, table: Table, *index_elements: str) -> Insert:
    """Return ``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for ``conn``'s dialect;
    execute it with the row as parameters. Built once per dialect and table.

    On PostgreSQL a conflicting insert waits for the other transaction and then does
    nothing, which is what makes racing first writes of one page safe.
    """
    return _insert_ignoring_conflict(conn.dialect.name, table, index_elements)


@cache
def _insert_ignoring_conflict(
    dialect: str, table: Table, index_elements: tuple[str, ...]
) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
