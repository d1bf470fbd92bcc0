"""``govarchive raw``: write the stored raw HTML of a page's version, for audit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scraper.commands.common import (
    EXIT_USAGE,
    CommandError,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.commands.history import VERSION_NUMBER, first_found, page_refs
from storage.audit import raw_version
from storage.errors import UnknownRecordError


@click.command("raw")
@click.argument("page")
@click.option(
    "--version",
    "version",
    type=VERSION_NUMBER,
    default=None,
    help="Version number (1, 2, 3 …); default the newest.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the bytes to this file instead of standard output.",
)
@config_option
@database_option
def raw_command(
    page: str, version: int | None, out: Path | None, config_path: Path | None, database: str | None
) -> None:
    """Write the raw response body archived for PAGE (a URL or page id), byte for byte.

    The bytes are those the site served for that version (checked against their
    SHA-256), in the site's own encoding: open them in a browser, diff two versions,
    or re-parse them with `govarchive parse`. Where they came from is printed on
    standard error.
    """
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            try:
                found = first_found(page_refs(page), lambda ref: raw_version(engine, ref, version))
            except UnknownRecordError as exc:  # a wrong argument, not a broken database
                raise CommandError(exc.detail, EXIT_USAGE) from exc
    finally:
        engine.dispose()
    click.echo(
        f"{found.url} version {found.version}, fetched {found.fetched_at:%Y-%m-%d %H:%M} UTC, "
        f"{len(found.data)} bytes, sha256 {found.raw_hash}, "
        f"content-type {found.content_type or '-'}, decoded as {found.encoding or '-'}",
        err=True,
    )
    if out is None:
        sys.stdout.buffer.write(found.data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(found.data)
