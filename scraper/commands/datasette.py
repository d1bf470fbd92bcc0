"""``govarchive datasette-metadata``: write the metadata that lets Datasette serve an archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml
from sqlalchemy.engine import make_url

from scraper.commands.common import (
    BadUsage,
    config_option,
    open_archive,
    refuse_missing_file,
    translated_errors,
)
from scraper.config import database_url, default_config_path
from storage.datasette import archive_tables, datasette_metadata
from storage.engine import sqlite_path


def _sqlite_file(database: str | None, config_path: Path | None) -> tuple[str, Path]:
    """Return the archive's URL and file, or raise: Datasette serves SQLite files only."""
    if database is not None and "://" not in database:
        database = f"sqlite:///{Path(database).resolve()}"
    with translated_errors():
        url = database_url(database, default_config_path(config_path))
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy's ArgumentError: not a URL
        raise BadUsage(f"not a database URL or path: {url}") from exc
    if parsed.get_backend_name() != "sqlite":
        raise BadUsage(
            f"the archive is a {parsed.get_backend_name()} database: Datasette serves SQLite "
            "files only (name one with --database PATH)"
        )
    path = sqlite_path(parsed)
    if path is None:
        raise BadUsage("an in-memory SQLite database cannot be served: name a file")
    refuse_missing_file(url)
    return url, path


class _YamlDumper(yaml.SafeDumper):
    """Writes multi-line strings (the canned queries' SQL) as literal blocks, as typed."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_YamlDumper.add_representer(str, _represent_str)


def _render(metadata: dict[str, Any], fmt: str) -> str:
    if fmt == "yaml":
        return yaml.dump(
            metadata, Dumper=_YamlDumper, allow_unicode=True, sort_keys=False, width=100
        )
    return json.dumps(metadata, ensure_ascii=False, indent=2) + "\n"


@click.command("datasette-metadata")
@config_option
@click.option(
    "--database",
    "database",
    metavar="URL|PATH",
    default=None,
    help="The SQLite archive: a path or sqlite:/// URL; overrides GOVARCHIVE_DATABASE_URL "
    "and `database:` in config.yaml (default archive.db).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the metadata to FILE (default: standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "yaml"]),
    default=None,
    help="json or yaml (default: yaml when FILE ends in .yaml or .yml, else json).",
)
def datasette_command(
    config_path: Path | None, database: str | None, output: Path | None, fmt: str | None
) -> None:
    """Write Datasette metadata for an SQLite archive.

    The metadata (for Datasette 0.6x: `datasette archive.db -m metadata.json`) hides the
    compressed raw bodies (blobs, blob_dicts), alembic_version and the full-text index
    tables; describes every table and column as docs/schema.md does; puts a search box on
    page_versions, latest_versions, task_sections and attachments (words of three
    characters or more); and offers docs/schema.md's recipes as canned queries. Reads the
    archive only; PostgreSQL archives are refused (Datasette serves SQLite).
    """
    url, path = _sqlite_file(database, config_path)
    if fmt is None:
        fmt = "yaml" if output is not None and output.suffix in (".yaml", ".yml") else "json"
    engine = open_archive(url, None, create=False)
    try:
        with translated_errors():
            tables = archive_tables(engine)
    finally:
        engine.dispose()
    # Datasette names a database after its file, without the extension.
    rendered = _render(datasette_metadata(path.stem, tables), fmt)
    if output is None:
        click.echo(rendered, nl=False)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        raise BadUsage(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {output}: serve with `datasette {path} -m {output}`", err=True)
