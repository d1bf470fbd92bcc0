"""Statements whose spelling differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Insert
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflict(
    conn: Connection, model: Any, index_elements: list[str], values: dict[str, Any]
) -> Insert:
    """Return ``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for ``conn``'s dialect.

    On PostgreSQL a conflicting insert waits for the other transaction and then does
    nothing, which is what makes racing first writes of one page safe.
    """
    if conn.dialect.name == "postgresql":
        return (
            postgresql.insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=index_elements)
        )
    return (
        sqlite.insert(model).values(**values).on_conflict_do_nothing(index_elements=index_elements)
    )
