"""Alembic environment for govarchive (the cookbook's shape).

- Target metadata: :data:`storage.models.Base.metadata` (naming convention included).
- Connection: ``config.attributes["connection"]`` when storage.migrate (or a test)
  hands one in, inside its own transaction; else a URL from
  ``config.attributes["url"]``, else govarchive's own precedence
  (:func:`scraper.config.database_url`): ``-x database=URL``, then
  ``GOVARCHIVE_DATABASE_URL``, then ``database:`` in ./config.yaml, then
  ``sqlite:///archive.db``. alembic.ini never holds a URL.
- ``render_as_batch`` on SQLite, whose ALTER TABLE cannot change columns in place.
- ``compare_type`` on, so ``alembic check`` also catches column type drift.
- Procrastinate's tables (``procrastinate_*``, installed on PostgreSQL by revision 0004)
  are not in our metadata: autogenerate and ``alembic check`` leave them out.
- Nor are the search indexes of revision 0006: SQLite's FTS5 tables (``*_fts`` and their
  shadow tables ``*_fts_data`` …) and PostgreSQL's trigram indexes (``ix_*_trgm``), which
  exist on one database each and are left out the same way.
"""

from __future__ import annotations

import logging.config

from sqlalchemy import Connection

from alembic import context
from storage.engine import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    given = config.attributes.get("url")
    if given:
        return str(given)
    # Only reached when Alembic is run by hand; storage itself never imports scraper.
    from scraper.config import database_url, default_config_path

    flag = context.get_x_argument(as_dictionary=True).get("database")
    return database_url(flag, default_config_path(None))


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out what procrastinate owns (its schema comes from its own SQL, revision
    0004) and the search indexes (revision 0006, one kind per database): autogenerate
    must neither drop them nor compare them with our models."""
    given = name or ""
    return not (given.startswith("procrastinate_") or "_fts" in given or given.endswith("_trgm"))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on one opened from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
