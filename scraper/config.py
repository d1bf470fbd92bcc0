"""Load and validate config.yaml into frozen, typed objects, before any request.

Precedence, lowest to highest: the defaults in :mod:`scraper.settings` < ``crawl:``
in config.yaml < a source's own keys < environment (``GOVARCHIVE_DATABASE_URL``) <
command-line flags. Every refusal is a :class:`~scraper.errors.ConfigError` whose
message names the file, the source and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scraper.errors import ConfigError
from scraper.settings import DEFAULT_DATABASE_URL

#: Environment variable that overrides ``database:`` in config.yaml.
DATABASE_ENV = "GOVARCHIVE_DATABASE_URL"


def database_url(
    cli_value: str | None,
    config_path: Path | None,
    env: Mapping[str, str] = os.environ,
) -> str:
    """Return the archive's SQLAlchemy URL. Reads config_path only when needed.

    Precedence: ``--database`` (cli_value) > ``GOVARCHIVE_DATABASE_URL`` >
    ``database:`` in config.yaml > ``sqlite:///archive.db``. A config_path of None
    (the default path, absent) is not an error; a given file that is missing,
    unreadable or not valid YAML raises ConfigError.
    """
    if cli_value:
        return cli_value
    from_env = env.get(DATABASE_ENV, "").strip()
    if from_env:
        return from_env
    if config_path is not None:
        document = _read_yaml(config_path)
        value = document.get("database")
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    "must be a non-empty string (an SQLAlchemy URL)",
                    where=f"{config_path}: database",
                )
            return value.strip()
    return DEFAULT_DATABASE_URL


def _read_yaml(path: Path) -> dict[str, Any]:
    """Return the YAML mapping at path; ConfigError (with the line) if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=str(path)) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{line}invalid YAML: {problem}", where=str(path)) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {type(document).__name__}",
            where=str(path),
        )
    return document
