"""Schema revisions: bring a database to head, read its revision, refuse a mismatch.

The Alembic scripts live in the repository's top-level ``alembic/`` directory (next to
the ``storage`` package; the project is installed editable). Functions here build the
Alembic configuration in code, so they work from any working directory and never read
alembic.ini.

- ``upgrade(engine)`` — migrate to head (or ``revision``) in one transaction.
- ``current_revision(engine) -> str | None`` — None for a database never migrated.
- ``head_revision() -> str`` — the newest revision this code knows.
- ``revision_state(current) -> "none" | "head" | "older" | "unknown"``.
- ``ensure_current(engine, *, create=True) -> str`` — what every command that opens the
  archive calls first: creates a new, empty database at head; raises
  OutdatedSchemaError (naming ``govarchive db upgrade``) for an older revision and
  SchemaTooNewError for a revision this code does not know, writing nothing.

Migrations serialise: two processes upgrading one database at once (two crawls started
together on a new archive) run one after the other, the second finding the work done.
On PostgreSQL the migration's transaction holds an advisory lock
(:data:`MIGRATION_LOCK_KEY`) from before it reads the revision until it commits; on
SQLite its ``BEGIN IMMEDIATE`` holds the database's write lock just as long. Whether the
database holds tables without a revision is decided under that lock too.

``script_location`` (keyword-only, default the repository's alembic/) exists for
tests that need a revision history other than the real one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect, text

import storage
from alembic import command
from storage.engine import database_errors, describe, write_transaction
from storage.errors import (
    NotAnArchiveError,
    OutdatedSchemaError,
    SchemaError,
    SchemaTooNewError,
)
from storage.models import Base

# A wheel install carries the migrations inside the package (setup.py copies them);
# an editable install or a checkout uses the repository's top-level alembic/.
_PACKAGED = Path(storage.__file__).resolve().parent / "_alembic"

#: The Alembic script directory in use.
SCRIPT_LOCATION = (
    _PACKAGED if _PACKAGED.is_dir() else Path(storage.__file__).resolve().parent.parent / "alembic"
)

#: The command that upgrades an archive; named in OutdatedSchemaError messages.
UPGRADE_COMMAND = "govarchive db upgrade"

#: The PostgreSQL advisory-lock key a migration holds (a stable hash of a name of its own,
#: so it cannot meet the source crawl locks of storage.locks or another application's).
MIGRATION_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"govarchive:schema-migration").digest()[:8], "big", signed=True
)

#: What to do with a database that has archive tables but no revision (NotAnArchiveError).
NOT_AN_ARCHIVE_ADVICE = (
    "govarchive cannot tell which schema they have, so it neither uses nor changes them. "
    "Point --database (or GOVARCHIVE_DATABASE_URL) at a new SQLite file or an empty "
    "database, where govarchive creates its schema; if this is an archive whose "
    "alembic_version table was lost, restore it from a backup"
)

log = logging.getLogger("govarchive.storage")


def alembic_config(*, script_location: Path | None = None) -> Config:
    """Return an Alembic Config for the archive's scripts (no ini file, no logging setup)."""
    config = Config()
    config.set_main_option("script_location", str(script_location or SCRIPT_LOCATION))
    config.attributes["configure_logger"] = False
    return config


def head_revision(*, script_location: Path | None = None) -> str:
    """Return the head revision id of the migration scripts (e.g. ``"0001"``)."""
    script = ScriptDirectory.from_config(alembic_config(script_location=script_location))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the repository always has revisions
        raise RuntimeError(f"no migrations found in {script.dir}")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the database's revision id, or None if it was never migrated.

    Reads only. Raises DatabaseUnavailableError if the database cannot be opened.
    """
    with database_errors(engine, "reading the schema revision"), engine.connect() as conn:
        return _revision(conn)


def upgrade(
    engine: Engine, revision: str = "head", *, script_location: Path | None = None
) -> str | None:
    """Migrate the database to ``revision`` (default head) in one transaction; return
    the revision it started from (None: an empty database).

    Waits for a migration another process is running on the same database, then starts
    from the revision that one left. Refuses (SchemaTooNewError) a database whose
    revision these scripts do not know, and (NotAnArchiveError) one that holds tables
    named like the archive's but no revision; nothing is written then. A revision that
    refuses to run (0004 when another procrastinate version is installed, or when
    procrastinate's tables already exist and differ from what it installs) raises
    SchemaError with its reason, and nothing is written either.
    """
    config = alembic_config(script_location=script_location)
    with _migration_errors(engine, f"upgrading to {revision}"), write_transaction(engine) as conn:
        _serialise(conn)
        current = _refuse_unknown(conn, config)
        if current is None:
            _refuse_unrecorded_tables(conn)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current


def downgrade(engine: Engine, revision: str, *, script_location: Path | None = None) -> None:
    """Migrate the database down to ``revision`` (``"base"`` drops every table)."""
    config = alembic_config(script_location=script_location)
    with _migration_errors(engine, f"downgrading to {revision}"), write_transaction(engine) as conn:
        _serialise(conn)
        _refuse_unknown(conn, config)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


RevisionState = Literal["none", "head", "older", "unknown"]


def revision_state(current: str | None, *, script_location: Path | None = None) -> RevisionState:
    """Classify a database revision against these scripts: ``none`` (never migrated),
    ``head``, ``older`` (a known earlier revision) or ``unknown`` (a newer version's)."""
    script = ScriptDirectory.from_config(alembic_config(script_location=script_location))
    if current is None:
        return "none"
    if current == script.get_current_head():
        return "head"
    return "older" if _known(script, current) else "unknown"


def ensure_current(
    engine: Engine, *, create: bool = True, script_location: Path | None = None
) -> str:
    """Make sure the database is usable by this code and return its revision (head).

    A database with none of the archive's tables and no revision is migrated to head
    when ``create`` is true (else OutdatedSchemaError). A database at an older revision
    raises OutdatedSchemaError naming ``govarchive db upgrade``; one at a revision
    this code does not know raises SchemaTooNewError; one holding archive tables but
    no revision raises NotAnArchiveError. Nothing is written in those cases.
    """
    head = head_revision(script_location=script_location)
    current = current_revision(engine)
    if current == head:
        return head
    if current is None:
        if create:  # upgrade() decides under the migration lock, so a racing creator is fine
            upgrade(engine, script_location=script_location)
            return head
        refuse_unrecorded_tables(engine)
        raise OutdatedSchemaError(
            f"the database has no archive schema yet; run `{UPGRADE_COMMAND}`",
            database=describe(engine),
            expected=head,
        )
    if revision_state(current, script_location=script_location) == "older":
        raise OutdatedSchemaError(
            f"the archive schema is at revision {current}, this govarchive needs {head}; "
            f"run `{UPGRADE_COMMAND}` (back up the database first)",
            database=describe(engine),
            current=current,
            expected=head,
        )
    raise _too_new(engine, current, head)


def refuse_unrecorded_tables(engine: Engine) -> None:
    """Raise NotAnArchiveError, with what to do, when the database holds tables named
    like the archive's but no revision (it cannot be used or migrated). Reads only."""
    with database_errors(engine, "listing tables"), engine.connect() as conn:
        _refuse_unrecorded_tables(conn)


def archive_tables(conn: Connection) -> list[str]:
    """Return the archive's table names that the database holds, sorted. Reads only."""
    present = set(inspect(conn).get_table_names())
    return sorted(present & set(Base.metadata.tables))


def not_an_archive(conn: Connection, tables: list[str]) -> NotAnArchiveError:
    """Return the error for a database holding ``tables`` but no revision, with advice."""
    return NotAnArchiveError(
        f"the database has tables named like govarchive's ({', '.join(tables)}) but no "
        f"alembic_version record of their schema revision. {NOT_AN_ARCHIVE_ADVICE}",
        database=describe(conn),
        expected=head_revision(),
    )


@contextmanager
def _migration_errors(engine: Engine, doing: str) -> Iterator[None]:
    """database_errors, and a migration's refusal (Alembic's CommandError, e.g. revision
    0004 finding another procrastinate version installed) becomes SchemaError; the
    transaction was rolled back, so nothing was written."""
    try:
        with database_errors(engine, doing):
            yield
    except CommandError as exc:
        raise SchemaError(f"{doing}: {exc}", database=describe(engine)) from exc


def _revision(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        raise SchemaError(
            f"the database records several schema revisions at once ({', '.join(heads)})",
            database=describe(conn),
        )
    return heads[0] if heads else None


def _serialise(conn: Connection) -> None:
    """Wait, inside ``conn``'s transaction, until no other migration of this database
    runs; the lock is released when the transaction ends. SQLite: the transaction's
    BEGIN IMMEDIATE already holds the database's write lock."""
    if conn.dialect.name != "postgresql":
        return
    key = {"key": MIGRATION_LOCK_KEY}
    if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar_one():
        log.info("%s: another process is migrating this database; waiting", describe(conn))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


def _refuse_unrecorded_tables(conn: Connection) -> None:
    tables = archive_tables(conn)
    if tables:
        raise not_an_archive(conn, tables)


def _refuse_unknown(conn: Connection, config: Config) -> str | None:
    """Return the database's revision; SchemaTooNewError if these scripts do not know it."""
    current = _revision(conn)
    script = ScriptDirectory.from_config(config)
    if current is not None and not _known(script, current):
        raise _too_new(conn, current, script.get_current_head())
    return current


def _too_new(engine: Engine | Connection, current: str, head: str | None) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"the archive schema is at revision {current}, which this govarchive (head {head}) "
        "does not know: it was written by a newer version; upgrade govarchive to use it. "
        "Nothing was written",
        database=describe(engine),
        current=current,
        expected=head,
    )


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
