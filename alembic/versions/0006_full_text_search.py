"""full-text search: trigram indexes over titles, body text, sections and attachment text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Issue 13 (the researcher's daily tools): SQLite's default FTS5 tokenizer splits text at
spaces and punctuation, so a Chinese sentence is one token and ``MATCH '城市大脑'`` finds
nothing. Trigrams index every run of three characters, whatever the script.

SQLite (3.34 or later, for FTS5's ``trigram`` tokenizer): three external-content FTS5
tables, which index the text without storing it a second time —

- ``page_versions_fts`` (title, body_text) over ``page_versions``,
- ``task_sections_fts`` (title, status, progress, problems, next_steps) over
  ``task_sections``,
- ``attachments_fts`` (filename, link_text, text) over ``attachments``,

each with its rowid the row's ``id``, kept current by three triggers on its table
(``<table>_fts_insert``, ``_delete``, and ``_update`` firing only when an indexed column
changes, so a reparse that only stamps ``parser_version`` rewrites no index entries), and
filled from the existing rows ('rebuild'). A cascade delete fires the delete triggers.

PostgreSQL: the ``pg_trgm`` extension and one GIN trigram index (``gin_trgm_ops``) per
column, named ``ix_<table>_<column>_trgm``, which ``LIKE``/``ILIKE '%…%'`` use for
patterns of three characters or more. Creating the extension needs a role allowed to
(a superuser, or the database's owner on PostgreSQL 13+ where pg_trgm is trusted);
without it the revision is refused, naming the statement to run, and nothing is written.
pg_trgm reads trigrams of Chinese characters only under an LC_CTYPE that classifies them
(C.UTF-8, zh_CN.UTF-8 …); under ``C`` it reads none and every search scans, so the revision
warns about such a database.

Neither is declared in storage.models: FTS5 tables and triggers exist on SQLite only and
operator-class indexes on PostgreSQL only, and a model Index would build a b-tree over
whole body texts on SQLite. alembic/env.py leaves out every ``*_fts*`` and ``*_trgm``
name, so ``alembic check`` stays clean on both databases.

Downgrading drops the tables, triggers and indexes (the extension stays: other schemas
may use it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic.util import CommandError

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The indexed columns of each table (a snapshot: storage.search reads the same names).
INDEXED: dict[str, tuple[str, ...]] = {
    "page_versions": ("title", "body_text"),
    "task_sections": ("title", "status", "progress", "problems", "next_steps"),
    "attachments": ("filename", "link_text", "text"),
}

log = logging.getLogger("govarchive.storage")

#: FTS5's trigram tokenizer first shipped in SQLite 3.34.0.
SQLITE_TRIGRAM = (3, 34, 0)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table, columns in INDEXED.items():
        if postgresql:
            for column in columns:
                op.execute(f"DROP INDEX {_trgm_index(table, column)}")
            continue
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {table}_fts_{event}")
        op.execute(f"DROP TABLE {table}_fts")


def _trgm_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def _upgrade_postgresql() -> None:
    conn = op.get_bind()
    installed = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    if installed.first() is None:
        database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # the driver's error: privilege, or pg_trgm not installed
            raise CommandError(
                "revision 0006 needs PostgreSQL's pg_trgm extension for full-text search, and "
                f"this role cannot create it ({str(exc).splitlines()[0]}). As a superuser, run "
                f'`CREATE EXTENSION pg_trgm;` in database "{database}" (the package '
                "postgresql-contrib provides it), then `govarchive db upgrade` again. Nothing "
                "was written"
            ) from exc
    ctype = conn.exec_driver_sql(
        "SELECT datctype FROM pg_database WHERE datname = current_database()"
    ).scalar_one()
    if ctype in ("C", "POSIX"):
        log.warning(
            "database %s has LC_CTYPE %s, under which pg_trgm reads no trigram from Chinese "
            "text: search still finds it, but by scanning every row. Create the archive's "
            "database with LC_CTYPE 'C.UTF-8' (or zh_CN.UTF-8) to have the index used",
            conn.exec_driver_sql("SELECT current_database()").scalar_one(),
            ctype,
        )
    for table, columns in INDEXED.items():
        for column in columns:
            op.execute(
                f"CREATE INDEX {_trgm_index(table, column)} ON {table} "
                f"USING gin ({column} gin_trgm_ops)"
            )


def _upgrade_sqlite() -> None:
    conn = op.get_bind()
    version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
    if tuple(int(part) for part in version.split(".")[:3]) < SQLITE_TRIGRAM:
        raise CommandError(
            f"revision 0006 needs SQLite 3.34 or later for full-text search (FTS5's trigram "
            f"tokenizer); this Python's sqlite3 module uses SQLite {version}. Use a Python "
            "built with a newer SQLite (3.11 from python.org or a current distribution), or a "
            "PostgreSQL archive. Nothing was written"
        )
    for table, columns in INDEXED.items():
        fts = f"{table}_fts"
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        insert = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {new});"
        delete = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
            "content_rowid='id', tokenize='trigram')"
        )
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} "
            f"BEGIN {delete} {insert} END"
        )
        op.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
