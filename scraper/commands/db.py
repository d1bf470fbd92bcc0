"""``govarchive db upgrade`` / ``govarchive db current``: the archive's schema revision.

Both take the database URL from ``--database``, else ``GOVARCHIVE_DATABASE_URL``,
else ``database:`` in the config file, else ``sqlite:///archive.db``
(:func:`scraper.config.database_url`). URLs are printed with the password redacted.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine

from scraper.commands.common import (
    DatabaseUnusable,
    config_option,
    database_option,
    translated_errors,
)
from scraper.config import database_url, default_config_path
from storage.engine import make_engine, redact_url
from storage.migrate import (
    UPGRADE_COMMAND,
    current_revision,
    head_revision,
    refuse_unrecorded_tables,
    revision_state,
    upgrade,
)


@click.group("db")
def db() -> None:
    """Create, upgrade and inspect the archive database's schema."""


@db.command("upgrade")
@database_option
@config_option
def upgrade_command(database: str | None, config_path: Path | None) -> None:
    """Migrate the archive to this govarchive's schema (creating it if empty).

    Back up a database you care about first. A database written by a newer
    govarchive, or holding tables named like the archive's but no schema revision,
    is refused and left untouched. Two upgrades of one database run one after the
    other (the second finds the work done).
    """
    engine = _engine(database, config_path)
    try:
        with translated_errors():
            before = current_revision(engine)
            head = head_revision()
            if before == head:
                click.echo(f"{redact_url(engine.url)}: already at revision {head} (head)")
                return
            # upgrade() waits for another process migrating this database, and says
            # where it really started from
            before = upgrade(engine)
            after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{redact_url(engine.url)}: already at revision {after} (head)")
        return
    start = f"revision {before}" if before else "an empty database"
    click.echo(f"{redact_url(engine.url)}: upgraded from {start} to revision {after} (head)")


@db.command("current")
@database_option
@config_option
def current_command(database: str | None, config_path: Path | None) -> None:
    """Print the archive's schema revision and whether it matches this govarchive.

    Reads only; a missing SQLite file is reported, not created. A database holding
    tables named like the archive's but no revision is reported with what to do, and
    exit status 3 (no command can use it).
    """
    url = _url(database, config_path)
    missing = _missing_sqlite_file(url)
    head = head_revision()
    if missing is not None:
        click.echo(f"{redact_url(url)}: no database file at {missing} (head is {head})")
        return
    engine = _engine(database, config_path)
    try:
        with translated_errors():
            current = current_revision(engine)
            if current is None:  # tables without a revision: say what to do (exit 3)
                refuse_unrecorded_tables(engine)
    finally:
        engine.dispose()
    click.echo(f"{redact_url(engine.url)}: {_describe(current, head)}")


def _describe(current: str | None, head: str) -> str:
    state = revision_state(current)
    if state == "none":
        return f"no schema yet (head is {head}; any command creates it, or `{UPGRADE_COMMAND}`)"
    if state == "head":
        return f"revision {current} (head)"
    if state == "older":
        return f"revision {current}, older than head {head}: run `{UPGRADE_COMMAND}`"
    return f"revision {current}, unknown to this govarchive (head {head}): written by a newer one"


def _url(database: str | None, config_path: Path | None) -> str:
    with translated_errors():
        return database_url(database, default_config_path(config_path))


def _engine(database: str | None, config_path: Path | None) -> Engine:
    url = _url(database, config_path)
    try:
        return make_engine(url)
    except ValueError as exc:
        raise DatabaseUnusable(str(exc)) from exc


def _missing_sqlite_file(url: str) -> Path | None:
    """Return the path of a file-backed SQLite URL whose file does not exist, else None."""
    try:
        engine = make_engine(url)
    except ValueError:
        return None
    try:
        name = engine.url.database
        if engine.url.get_backend_name() != "sqlite" or not name or name == ":memory:":
            return None
        if name.startswith("file:"):
            return None
        path = Path(name)
        return None if path.exists() else path
    finally:
        engine.dispose()
