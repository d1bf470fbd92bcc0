"""``govarchive cite``: a citation of one archived version of a page."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scraper import __version__
from scraper.commands.common import config_option, database_option, open_archive, translated_errors
from scraper.commands.history import VERSION_NUMBER, first_found, page_refs
from storage.citation import citation_bibtex, citation_csl, citation_text, cited_version

STYLES = ("text", "csl-json", "bibtex")


@click.command("cite")
@config_option
@database_option
@click.argument("page", metavar="URL_OR_PAGE_ID")
@click.option(
    "--version",
    "version",
    type=VERSION_NUMBER,
    default=None,
    help="Version number (1, 2, 3 …); default the newest.",
)
@click.option(
    "--style",
    type=click.Choice(STYLES),
    default="text",
    show_default=True,
    help="text: GB/T 7714-2015 with the archive's record after it; csl-json and bibtex: "
    "for Zotero and other reference managers.",
)
def cite_command(
    config_path: Path | None, database: str | None, page: str, version: int | None, style: str
) -> None:
    """Print a citation of a version of URL_OR_PAGE_ID (a URL as archived or a page id).

    It names the publisher (发布机构), title, 文号, publication date and URL, then the
    archive's record: the version number, when it was first seen and last confirmed
    (UTC+8), the SHA-256 of the raw page as served, and this govarchive's version.
    Fields the page does not state are left out. A page or version the archive does
    not hold is refused (exit 2). Reads the archive only.
    """
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            cited = first_found(page_refs(page), lambda ref: cited_version(engine, ref, version))
    finally:
        engine.dispose()
    generator = f"govarchive {__version__}"
    if style == "csl-json":
        click.echo(json.dumps([citation_csl(cited, generator)], ensure_ascii=False, indent=2))
    elif style == "bibtex":
        click.echo(citation_bibtex(cited, generator))
    else:
        click.echo(citation_text(cited, generator))
