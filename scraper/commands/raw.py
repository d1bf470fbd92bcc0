"""``govarchive raw``: write the stored raw HTML of a page's version, for audit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scraper.commands.common import (
    BadUsage,
    WorkFailed,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.commands.history import VERSION_NUMBER, first_found, page_refs
from storage.audit import raw_version
from storage.exportfiles import PATH_ERRORS, os_error_number, os_problem, write_atomic


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
    type=click.Path(path_type=Path),
    default=None,
    help="Write the bytes to this file instead of standard output (replaced only once "
    "complete; its folder must exist).",
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
    standard error. A file that cannot be written ends with a message naming it and
    the problem: exit 2 for a path that cannot be a file here, 1 when writing failed
    (a full disk, a read-only folder); an older file of that name is left as it was.
    """
    if out is not None:
        _check_output_path(out)
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            found = first_found(page_refs(page), lambda ref: raw_version(engine, ref, version))
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
        try:
            write_atomic(out, found.data)
        except OSError as exc:
            error = BadUsage if os_error_number(exc) in PATH_ERRORS else WorkFailed
            raise error(f"cannot write {out}: {os_problem(exc)}") from exc


def _check_output_path(out: Path) -> None:
    """Refuse (usage) an --out that cannot be a file: a folder, or a path whose folder
    is missing or is a file. Reads the file system only."""
    folder = out.parent
    if out.is_dir():
        problem = "it is a folder; give a file name"
    elif not folder.exists():
        problem = f"the folder {folder} does not exist"
    elif not folder.is_dir():
        problem = f"{folder} is not a folder"
    else:
        return
    raise BadUsage(f"cannot write {out}: {problem}")
