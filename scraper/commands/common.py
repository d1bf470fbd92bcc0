"""What every command shares: the --config / --database options, opening the
archive, and turning library errors into click errors with one exit-code scheme.

Exit codes: 0 success; 1 the command ran but its work failed (e.g. every request of
a source failed); 2 bad usage or a bad config; 3 the database cannot be used
(unreachable, outdated or too-new schema, full disk, damaged file, no permission);
4 nothing was done because another process holds it (``crawl``: every source it was
asked to crawl is being crawled elsewhere).

Each code has its own error class; a command raises the one that says what went
wrong, and :func:`translated_errors` is the one place where library errors become
them::

    click.ClickException
    └── CommandError          base; never raised itself
        ├── WorkFailed        1  the command ran but its work failed
        ├── BadUsage          2  a bad argument or config: a source, page or version
        │                        that does not exist, a path that cannot be written
        ├── DatabaseUnusable  3  the archive cannot be used
        └── Busy              4  another process holds what the command needed
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scraper.config import Config, database_url, default_config_path, load_config
from scraper.errors import ConfigError, GovarchiveError
from scraper.logs import LOG_FORMATS
from storage.engine import make_engine, redact_url, sqlite_path
from storage.errors import StorageError, UnknownRecordError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_BUSY = 4


class CommandError(click.ClickException):
    """Base of govarchive's click errors: raise the subclass whose exit code fits."""


class WorkFailed(CommandError):
    """The command ran but its work failed (every request of a source, a re-parse …)."""

    exit_code = EXIT_FAILED


class BadUsage(CommandError):
    """A bad argument or config: something named that does not exist, an unusable path.

    Not :class:`click.UsageError`: that one prints the command's usage line too.
    """

    exit_code = EXIT_USAGE


class DatabaseUnusable(CommandError):
    """The archive cannot be used: unreachable, wrong schema, full, damaged, no permission."""

    exit_code = EXIT_DATABASE


class Busy(CommandError):
    """Nothing was done because another process holds it (e.g. every source's crawl lock)."""

    exit_code = EXIT_BUSY


def config_option(func: F) -> F:
    """``--config PATH`` (default ./config.yaml when it exists)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Config file (default: ./config.yaml).",
    )(func)


def log_format_option(func: F) -> F:
    """``--log-format text|json`` for the long-running commands (schedule, worker)."""
    return click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="text",
        show_default=True,
        help="Log lines as plain text, or as one JSON object per line for log shippers.",
    )(func)


def database_option(func: F) -> F:
    """``--database URL`` (overrides GOVARCHIVE_DATABASE_URL and config.yaml)."""
    return click.option(
        "--database",
        "database",
        metavar="URL",
        default=None,
        help="SQLAlchemy URL of the archive; overrides GOVARCHIVE_DATABASE_URL and "
        "`database:` in config.yaml (default sqlite:///archive.db).",
    )(func)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn govarchive's and storage's errors into CommandErrors with our exit codes.

    A source, run, page or version that does not exist is a wrong argument, not a
    broken database: BadUsage, its message without the database's URL.
    """
    try:
        yield
    except ConfigError as exc:
        raise BadUsage(f"config error: {exc}") from exc
    except UnknownRecordError as exc:
        raise BadUsage(exc.detail) from exc
    except StorageError as exc:
        raise DatabaseUnusable(str(exc)) from exc
    except GovarchiveError as exc:
        raise WorkFailed(str(exc)) from exc


def read_config(config_path: Path | None) -> Config:
    """Load the config named by ``--config`` (or ./config.yaml); BadUsage if absent/bad."""
    path = default_config_path(config_path)
    if path is None:
        raise BadUsage("no config file: pass --config PATH or run in a folder with config.yaml")
    with translated_errors():
        return load_config(path)


def refuse_missing_file(url: str) -> None:
    """Raise BadUsage when ``url`` names a SQLite file that does not exist.

    For the commands that only read: opening the file would create an empty one
    (``ensure_current(create=False)`` refuses the empty database, but only after SQLite
    made it), and a mistyped path is a wrong argument, not a broken database.
    """
    try:
        path = sqlite_path(make_url(url))
    except (ArgumentError, ValueError):
        return  # not a URL: make_engine says so
    if path is not None and not path.exists():
        raise BadUsage(
            f"no archive at {path}: the file does not exist (fill one with `govarchive crawl`, "
            "try `govarchive demo`, or name another with --database)"
        )


def open_archive(database: str | None, config_path: Path | None, *, create: bool = True) -> Engine:
    """Return an engine for the archive, checked to be at this code's schema revision.

    A new, empty database is migrated to head (when ``create``); an outdated or
    too-new one is refused with a message naming ``govarchive db upgrade``. Without
    ``create`` (the commands that read), a SQLite file that does not exist is refused
    before it is made (:func:`refuse_missing_file`).
    """
    with translated_errors():
        url = database_url(database, default_config_path(config_path))
    if not create:
        refuse_missing_file(url)
    # Imported here, not at the top: Alembic is about half of a command's start-up, and
    # `govarchive CMD --help` never opens the archive.
    from storage.migrate import ensure_current

    with translated_errors():
        engine = make_engine(url)
        try:
            ensure_current(engine, create=create)
        except StorageError:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            raise DatabaseUnusable(f"cannot open the archive at {redact_url(url)}: {exc}") from exc
    return engine
