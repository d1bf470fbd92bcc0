"""``govarchive parse PATH|URL...``: run the page parser on pages, print what it read.

No database: a way to check the parser on a page before crawling a site. An input
is a saved file, ``-`` for stdin, or an http(s) URL, fetched once politely (robots.txt
obeyed, the default user agent). Inputs are read through :func:`read_input` (name →
bytes, URL, headers), every one to ``max_page_bytes`` at most, as a crawl reads a page.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import click

from scraper.errors import InputError
from scraper.fetching.challenge import classify
from scraper.fetching.fetch import fetch_once
from scraper.fetching.response import FetchKind
from scraper.parse import CANONICAL_FIELDS, PageRecord
from scraper.parse.page import LIST_PAGE_WARNING
from scraper.reader import read_page
from scraper.settings import CrawlSettings

#: Exit code when at least one input could not be read (the others were printed).
EXIT_UNREADABLE = 1
#: How much of the body the readable summary shows.
_BODY_PREVIEW_CHARS = 120
#: Seconds ``parse URL`` waits in all, between retries and for a robots.txt Crawl-delay: a
#: person is waiting, so a server asking for longer gets a message instead of a hang.
PARSE_WAIT_BUDGET = 10.0
#: Bytes read of a file or stdin at a time.
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PageInput:
    """One page to parse: its bytes, and the URL and HTTP headers it came with, if known."""

    name: str
    data: bytes
    url: str | None = None
    headers: Mapping[str, str] | None = None


def read_input(
    name: str,
    stdin: BinaryIO | None = None,
    *,
    max_bytes: int = CrawlSettings().max_page_bytes,
) -> PageInput:
    """Return the page named on the command line: a file path, ``-`` for stdin, or a URL.

    Reads the file (or stdin) to its end, or fetches the URL once; writes nothing.
    Reads ``max_bytes`` at most (the crawl's ``max_page_bytes``, so ``/dev/zero`` or
    an endless pipe stops there). Raises :class:`InputError` naming the input when it
    cannot be read or is larger than ``max_bytes``.
    """
    if name.startswith(("http://", "https://")):
        return _fetch_input(name, max_bytes)
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            return PageInput(name=name, data=_read_capped(stream, name, max_bytes))
        except OSError as exc:
            raise InputError(f"cannot read stdin: {exc.strerror or exc}", input_name=name) from exc
    try:
        with Path(name).open("rb") as file:
            return PageInput(name=name, data=_read_capped(file, name, max_bytes))
    except IsADirectoryError as exc:
        raise InputError("is a directory, not a saved page", input_name=name) from exc
    except FileNotFoundError as exc:
        raise InputError("no such file", input_name=name) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", input_name=name) from exc


def _read_capped(stream: BinaryIO, name: str, max_bytes: int) -> bytes:
    """Return all of ``stream``; InputError as soon as it passes ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    while True:
        # a pipe may hand out less than asked: read until EOF, one byte past the cap at most
        chunk = stream.read(min(_READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InputError(_too_large(max_bytes), input_name=name)


def _too_large(max_bytes: int) -> str:
    return f"larger than max_page_bytes ({max_bytes} bytes); not read further"


def _fetch_input(url: str, max_bytes: int) -> PageInput:
    # Same-host redirects only, robots.txt obeyed: the crawler's politeness, once. A
    # person is waiting: retries and Crawl-delay share a short budget, and a server
    # asking for more (Retry-After: 100000) gets a message, not a silent wait.
    settings = replace(CrawlSettings(), max_page_bytes=max_bytes, max_crawl_delay=PARSE_WAIT_BUDGET)
    result = fetch_once(url, settings, retry_budget=PARSE_WAIT_BUDGET)
    if result.kind is FetchKind.TOO_LARGE:
        raise InputError(_too_large(max_bytes), input_name=url)
    if result.kind is not FetchKind.OK or result.body is None:
        reason = result.error or (f"HTTP {result.status}" if result.status else "no answer")
        raise InputError(f"not fetched ({result.kind}): {reason}", input_name=url)
    return PageInput(name=url, data=result.body, url=result.final_url, headers=result.headers)


class PageKind(StrEnum):
    """What an input is, as ``--json`` reports it in ``kind`` (docs/parsing.md)."""

    DOCUMENT = "document"
    CHALLENGE = "challenge"
    NOT_FOUND = "not_found"
    LIST = "list"


_KIND_NOTES = {
    PageKind.CHALLENGE: "NOT A DOCUMENT: an anti-crawler challenge or block page (瑞数, 加速乐, "
    "云锁, WAF); a crawl files it as blocked and never archives it",
    PageKind.NOT_FOUND: "NOT A DOCUMENT: a 'page not found' page; a crawl files it as gone",
    PageKind.LIST: "NOT A DOCUMENT: a list of documents (paging, rows of links, no article); "
    "point detail_links at its links instead",
}


def page_kind(page: PageInput, record: PageRecord) -> PageKind:
    """Return what the input is: a document, a challenge page, a "not found" page or a list
    page. Decided from the bytes as the crawler decides (scraper.fetching.challenge) and
    from the parser's list-page warning; pure."""
    verdict = classify(200, page.headers or {}, page.data)
    if verdict is FetchKind.BLOCKED:
        return PageKind.CHALLENGE
    if verdict is FetchKind.GONE:
        return PageKind.NOT_FOUND
    if any(warning.startswith(LIST_PAGE_WARNING) for warning in record.warnings):
        return PageKind.LIST
    return PageKind.DOCUMENT


def record_json(name: str, record: PageRecord, kind: PageKind = PageKind.DOCUMENT) -> str:
    """Return the one-line JSON object ``--json`` prints for one input."""
    return json.dumps({"input": name, "kind": kind, **record.to_dict()}, ensure_ascii=False)


def record_summary(name: str, record: PageRecord, kind: PageKind = PageKind.DOCUMENT) -> str:
    """Return the readable multi-line summary printed without ``--json``."""
    lines = [f"== {name} ({record.encoding}, from {record.encoding_source})"]
    if kind in _KIND_NOTES:
        lines.append(f"  {_KIND_NOTES[kind]}")
    metadata = record.metadata
    for field in CANONICAL_FIELDS:
        value = getattr(metadata, field)
        if value is not None:
            lines.append(f"  {field}: {value}")
    for label, value in metadata.metadata_extra.items():
        lines.append(f"  [{label}]: {value}")
    lines.append(f"  sections: {len(record.sections)}")
    for section in record.sections:
        status = f" [{section.status}]" if section.status else ""
        lines.append(f"    {section.number}. {section.title}{status}")
    body = record.body_text
    preview = body[:_BODY_PREVIEW_CHARS].replace("\n", " / ")
    more = "…" if len(body) > _BODY_PREVIEW_CHARS else ""
    lines.append(f"  body: {body.count(chr(10)) + 1 if body else 0} lines, {len(body)} chars")
    if body:
        lines.append(f"    {preview}{more}")
    for warning in record.warnings:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


@click.command("parse")
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URL...")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per input, one per line, in input order.",
)
def parse_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Parse pages (saved files, - for stdin, or http(s) URLs fetched once) and
    print their metadata, task sections and body text (a PDF, .docx, text or JSON
    document: its text, as a crawl archives it). Writes no database.

    An input that is not a document (an anti-crawler challenge page, a 'page not
    found' page, a list of documents) is said to be one; --json gives it as "kind".

    An input that cannot be read is reported on stderr; the others are still
    printed, and the exit code is 1.
    """
    unreadable = 0
    for name in paths:
        try:
            page = read_input(name)
        except InputError as exc:
            click.echo(f"govarchive parse: {exc}", err=True)
            unreadable += 1
            continue
        record = read_page(page.data, url=page.url, headers=page.headers)
        kind = page_kind(page, record)
        show = record_json if as_json else record_summary
        click.echo(show(page.name, record, kind))
    if unreadable:
        click.echo(
            f"govarchive parse: {unreadable} of {len(paths)} inputs could not be read", err=True
        )
        raise click.exceptions.Exit(EXIT_UNREADABLE)
