"""``govarchive raw``: write the stored raw HTML of a page's version, or one of its
attachments, for audit."""

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
from storage.audit import RawAttachment, RawVersion, raw_attachment, raw_version
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
    "--attachment",
    "attachment",
    type=VERSION_NUMBER,
    default=None,
    metavar="N",
    help="Write the version's attachment N (1, 2, 3 … in the order the page linked them; "
    "`govarchive history` lists them) instead of the page.",
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
    page: str,
    version: int | None,
    attachment: int | None,
    out: Path | None,
    config_path: Path | None,
    database: str | None,
) -> None:
    """Write the raw response body archived for PAGE (a URL or page id), byte for byte.

    The bytes are those the site served for that version (checked against their
    SHA-256), in the site's own encoding: open them in a browser, diff two versions,
    or re-parse them with `govarchive parse`. With --attachment N, the bytes of the
    version's attachment N instead (a PDF, Word file …), as downloaded. Where they came
    from is printed on standard error.

    A page, version or attachment that does not exist is refused (exit 2), and so is an
    attachment whose file was never downloaded (exit 1, with the reason recorded). A
    file that cannot be written ends with a message naming it and the problem: exit 2
    for a path that cannot be a file here, 1 when writing failed (a full disk, a
    read-only folder); an older file of that name is left as it was.
    """
    if out is not None:
        _check_output_path(out)
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            refs = page_refs(page)
            if attachment is None:
                data = _version_bytes(first_found(refs, lambda r: raw_version(engine, r, version)))
            else:
                position = attachment
                file = first_found(refs, lambda r: raw_attachment(engine, r, version, position))
                data = _attachment_bytes(file)
    finally:
        engine.dispose()
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            write_atomic(out, data)
        except OSError as exc:
            error = BadUsage if os_error_number(exc) in PATH_ERRORS else WorkFailed
            raise error(f"cannot write {out}: {os_problem(exc)}") from exc


def _version_bytes(found: RawVersion) -> bytes:
    """Say on standard error where the version's bytes came from and return them."""
    click.echo(
        f"{found.url} version {found.version}, fetched {found.fetched_at:%Y-%m-%d %H:%M} UTC, "
        f"{len(found.data)} bytes, sha256 {found.raw_hash}, "
        f"content-type {found.content_type or '-'}, decoded as {found.encoding or '-'}",
        err=True,
    )
    return found.data


def _attachment_bytes(file: RawAttachment) -> bytes:
    """Say on standard error what the attachment is and return its bytes; WorkFailed
    (exit 1) with the recorded reason when they were never downloaded."""
    where = f"{file.page_url} version {file.version} attachment {file.position}"
    if file.data is None:
        raise WorkFailed(
            f"{where} ({file.url}) was never downloaded: "
            f"{file.download_error or 'no reason recorded'}; the archive holds no bytes of it"
        )
    fetched = f"{file.fetched_at:%Y-%m-%d %H:%M} UTC" if file.fetched_at else "-"
    click.echo(
        f"{where}: {file.url}, file name {file.filename or '-'}, fetched {fetched}, "
        f"{len(file.data)} bytes, sha256 {file.sha256}, kind {file.kind or '-'}, "
        f"content-type {file.content_type or '-'}",
        err=True,
    )
    if file.download_error is not None:
        click.echo(
            f"note: this version's download failed ({file.download_error}); these are the "
            "bytes of an earlier version's file at the same URL",
            err=True,
        )
    return file.data


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
