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

``script_location`` (keyword-only, default the repository's alembic/) exists for
tests that need a revision history other than the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect

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
        heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        raise SchemaError(
            f"the database records several schema revisions at once ({', '.join(heads)})",
            database=describe(engine),
        )
    return heads[0] if heads else None


def upgrade(engine: Engine, revision: str = "head", *, script_location: Path | None = None) -> None:
    """Migrate the database to ``revision`` (default head) in one transaction.

    Refuses (SchemaTooNewError) a database whose revision these scripts do not know.
    """
    config = alembic_config(script_location=script_location)
    _refuse_unknown(engine, config)
    with database_errors(engine, f"upgrading to {revision}"), write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str, *, script_location: Path | None = None) -> None:
    """Migrate the database down to ``revision`` (``"base"`` drops every table)."""
    config = alembic_config(script_location=script_location)
    _refuse_unknown(engine, config)
    with database_errors(engine, f"downgrading to {revision}"), write_transaction(engine) as conn:
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
        existing = _archive_tables(engine)
        if existing:
            raise NotAnArchiveError(
                f"the database has tables named like govarchive's ({', '.join(existing)}) "
                "but no alembic_version record; use an empty database",
                database=describe(engine),
                expected=head,
            )
        if not create:
            raise OutdatedSchemaError(
                f"the database has no archive schema yet; run `{UPGRADE_COMMAND}`",
                database=describe(engine),
                expected=head,
            )
        upgrade(engine, script_location=script_location)
        return head
    if revision_state(current, script_location=script_location) == "older":
        raise OutdatedSchemaError(
            f"the archive schema is at revision {current}, this govarchive needs {head}; "
            f"run `{UPGRADE_COMMAND}` (back up the database first)",
            database=describe(engine),
            current=current,
            expected=head,
        )
    raise _too_new(engine, current, head)


def _refuse_unknown(engine: Engine, config: Config) -> None:
    current = current_revision(engine)
    if current is not None and not _known(ScriptDirectory.from_config(config), current):
        script = ScriptDirectory.from_config(config)
        raise _too_new(engine, current, script.get_current_head())


def _too_new(engine: Engine, current: str, head: str | None) -> SchemaTooNewError:
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


def _archive_tables(engine: Engine) -> list[str]:
    with database_errors(engine, "listing tables"), engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    return sorted(present & set(Base.metadata.tables))
