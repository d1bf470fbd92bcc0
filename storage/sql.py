"""SQL helpers for the write path: dialect-specific spellings, and prepared statements.

- :func:`insert_ignoring_conflict` — ``INSERT … ON CONFLICT DO NOTHING``, spelt per dialect.
- :class:`Prepared` — a prebuilt Core statement compiled once per dialect and run
  straight on the DBAPI cursor. The archive writes one transaction of 3-7 statements
  per fetched page, and ``Connection.execute`` spends ~12-25 µs per statement in
  SQLAlchemy's execution context (more than SQLite spends running it); this path
  spends 2-5 µs, with the same SQL, the same bind processing and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

#: The statements :class:`Prepared` runs.
Statement = Select[Any] | Insert | Update


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


@dataclass(frozen=True, slots=True)
class _Form:
    """One statement compiled for one dialect and one set of parameter names."""

    sql: str
    compiled: SQLCompiler
    order: tuple[str, ...] | None  # bind names in placeholder order; None for named styles
    processors: dict[str, Callable[[Any], Any]]


class Prepared:
    """A prebuilt statement run on the DBAPI cursor. Create once (module level), then
    ``prepared.first(conn, params)`` inside a transaction.

    ``build`` is the statement, or a function of the dialect name returning it (for
    statements spelt per dialect). Result rows come back as the driver returns them,
    so only statements whose result columns need no conversion (ids, numbers, text)
    take the fast path; others, and every statement on a connection that is not in a
    transaction, echoes SQL or has cursor-execute listeners, run through
    ``conn.execute`` unchanged.
    """

    __slots__ = ("_build", "_forms")

    def __init__(self, build: Statement | Callable[[str], Statement]) -> None:
        self._build = build
        self._forms: dict[tuple[str, tuple[str, ...]], _Form | None] = {}

    def statement(self, dialect: str) -> Statement:
        """Return the Core statement for ``dialect`` (a name such as ``"sqlite"``)."""
        build = self._build
        return build if isinstance(build, Select | Insert | Update) else build(dialect)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """Execute with ``params``; return the first result row, or None when there is
        none (or the statement returns no rows). Driver errors are raised as
        SQLAlchemy's DBAPIError, and a lost connection is invalidated, exactly as by
        ``conn.execute``."""
        form = self._form(conn, params)
        if form is None:
            result = conn.execute(self.statement(conn.dialect.name), params)
            row = result.first() if result.returns_rows else None
            return tuple(row) if row is not None else None
        values = form.compiled.construct_params(params)
        for name, process in form.processors.items():
            values[name] = process(values[name])
        args: Any = tuple(values[n] for n in form.order) if form.order is not None else values
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None  # in a transaction, so connected
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(form.sql, args)
            return cursor.fetchone() if cursor.description else None
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, exc, form.sql, args, cursor) from exc
        finally:
            cursor.close()

    def _form(self, conn: Connection, params: Mapping[str, Any]) -> _Form | None:
        if not conn.in_transaction() or conn.engine.echo or _has_cursor_listeners(conn):
            return None
        dialect = conn.dialect
        key = (dialect.name, tuple(sorted(params)))
        if key not in self._forms:
            self._forms[key] = _compile(self.statement(dialect.name), dialect, key[1])
        return self._forms[key]


def _compile(statement: Statement, dialect: Dialect, keys: tuple[str, ...]) -> _Form | None:
    """Compile as ``conn.execute`` would for these parameter names (``column_keys``
    picks an INSERT's columns); None when the statement needs what only SQLAlchemy's
    execution does (result conversion, post-compile or escaped parameters)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    if compiled.post_compile_params or compiled.literal_execute_params:
        return None
    if compiled.escaped_bind_names:
        return None
    columns = getattr(statement, "exported_columns", ())
    for column in columns:
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            return None
    processors: dict[str, Callable[[Any], Any]] = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    order = tuple(compiled.positiontup or ()) if dialect.positional else None
    return _Form(compiled.string, compiled, order, processors)


def _has_cursor_listeners(conn: Connection) -> bool:
    # Listeners expect to see every statement (tests hook them to stop a writer mid-
    # transaction; users to log or time SQL), so their connections take the full path.
    return bool(conn.dispatch.before_cursor_execute) or bool(conn.dispatch.after_cursor_execute)


def _wrapped(conn: Connection, exc: Any, sql: str, args: Any, cursor: Any) -> BaseException:
    """Return ``exc`` as the DBAPIError ``conn.execute`` would raise, invalidating the
    connection first when the error means it was lost (so the pool never hands it out
    again and storage reports the database as unavailable)."""
    dialect = conn.dialect
    lost = dialect.is_disconnect(exc, conn.connection, cursor)
    if lost:
        conn.invalidate(exc)
    wrapped = DBAPIError.instance(
        sql,
        args,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=conn.engine.hide_parameters,
        connection_invalidated=lost,
        dialect=dialect,
    )
    assert isinstance(wrapped, BaseException)
    return wrapped
