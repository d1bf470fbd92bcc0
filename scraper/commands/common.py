"""What every command shares: the --config / --database options, opening the
archive, and turning library errors into click errors with one exit-code scheme.

Exit codes: 0 success; 1 the command ran but its work failed (e.g. every request of
a source failed); 2 bad usage or a bad config; 3 the database cannot be used
(unreachable, outdated or too-new schema, full disk, damaged file, no permission);
4 nothing was done because another process holds it (``crawl``: every source it was
asked to crawl is being crawled elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from scraper.config import Config, database_url, default_config_path, load_config
from scraper.errors import ConfigError, GovarchiveError
from storage.engine import make_engine, redact_url
from storage.errors import StorageError
from storage.migrate import ensure_current

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_BUSY = 4


class CommandError(click.ClickException):
    """A click error with one of our exit codes; ``CommandError(message, code)``."""

    def __new__(cls, message: str, exit_code: int = EXIT_FAILED) -> CommandError:
        # click reads exit_code from the class; pick the subclass that carries it.
        target = _BY_CODE.get(exit_code, cls) if cls is CommandError else cls
        return super().__new__(target)

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)


class _UsageFailure(CommandError):
    exit_code = EXIT_USAGE


class _DatabaseFailure(CommandError):
    exit_code = EXIT_DATABASE


class _WorkFailure(CommandError):
    exit_code = EXIT_FAILED


class _Busy(CommandError):
    exit_code = EXIT_BUSY


_BY_CODE: dict[int, type[CommandError]] = {
    EXIT_FAILED: _WorkFailure,
    EXIT_USAGE: _UsageFailure,
    EXIT_DATABASE: _DatabaseFailure,
    EXIT_BUSY: _Busy,
}


def config_option(func: F) -> F:
    """``--config PATH`` (default ./config.yaml when it exists)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Config file (default: ./config.yaml).",
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
    """Turn govarchive's and storage's errors into CommandErrors with our exit codes."""
    try:
        yield
    except ConfigError as exc:
        raise CommandError(f"config error: {exc}", EXIT_USAGE) from exc
    except StorageError as exc:
        raise CommandError(str(exc), EXIT_DATABASE) from exc
    except GovarchiveError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from exc


def read_config(config_path: Path | None) -> Config:
    """Load the config named by ``--config`` (or ./config.yaml); CommandError if absent/bad."""
    path = default_config_path(config_path)
    if path is None:
        raise CommandError(
            "no config file: pass --config PATH or run in a folder with config.yaml", EXIT_USAGE
        )
    with translated_errors():
        return load_config(path)


def open_archive(database: str | None, config_path: Path | None, *, create: bool = True) -> Engine:
    """Return an engine for the archive, checked to be at this code's schema revision.

    A new, empty database is migrated to head (when ``create``); an outdated or
    too-new one is refused with a message naming ``govarchive db upgrade``.
    """
    with translated_errors():
        url = database_url(database, default_config_path(config_path))
        engine = make_engine(url)
        try:
            ensure_current(engine, create=create)
        except StorageError:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            raise CommandError(
                f"cannot open the archive at {redact_url(url)}: {exc}", EXIT_DATABASE
            ) from exc
    return engine
