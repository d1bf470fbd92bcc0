"""``govarchive search``: find text in the archive's titles, bodies, sections and files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from scraper.commands.common import (
    BadUsage,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from storage.search import DEFAULT_LIMIT, SearchHit, query_terms, search

#: Marks around a match when the output is not a terminal (and so has no colour).
PLAIN_MARKS = ("【", "】")

#: How a piece of text is written out: (text, is it a match?) → output.
Writer = Callable[[str, bool], str]


def _plain(text: str, match: bool) -> str:
    return f"{PLAIN_MARKS[0]}{text}{PLAIN_MARKS[1]}" if match else text


def _rich(text: str, match: bool) -> str:
    return f"[bold yellow]{escape(text)}[/]" if match else escape(text)


def _snippet(hit: SearchHit, write: Writer) -> str:
    snippet = hit.snippet
    pieces: list[str] = []
    done = 0
    for start, end in snippet.marks:
        pieces.extend(
            (write(snippet.text[done:start], False), write(snippet.text[start:end], True))
        )
        done = end
    pieces.append(write(snippet.text[done:], False))
    return "".join(pieces)


def render_hits(hits: list[SearchHit], write: Writer) -> list[str]:
    """Return the text lines of ``govarchive search``: per hit its title, source and
    publication date; the version and where in it the terms are; the snippet; the URL."""
    lines: list[str] = []
    for n, hit in enumerate(hits, 1):
        published = hit.published_date.isoformat() if hit.published_date else "no date"
        where = hit.where if hit.where in ("title", "body") else f"{hit.where} ({hit.field})"
        lines += [
            write(
                f"{n}. {hit.title or '(no title)'}  [{hit.source}, published {published}]", False
            ),
            write(f"   v{hit.version} of page {hit.page_id} (version id {hit.version_id}), ", False)
            + write(where, False),
            "   " + _snippet(hit, write),
            write(f"   {hit.url}", False),
            "",
        ]
    return lines


@click.command("search")
@config_option
@database_option
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Only pages of this source (repeatable).",
)
@click.option(
    "--published-since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="DATE",
    help="Only versions published (published_date) on or after DATE (YYYY-MM-DD).",
)
@click.option(
    "--all-versions",
    is_flag=True,
    help="Search every version of each page, not only its latest.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many hits.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search_command(
    config_path: Path | None,
    database: str | None,
    query: tuple[str, ...],
    sources: tuple[str, ...],
    published_since: datetime | None,
    all_versions: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Find pages whose title, body text, task sections or attachment text contain
    every word of QUERY.

    QUERY is literal text: its words (split at spaces) must all occur in one part of a
    version (its title and body, one task section, or one attachment), anywhere, in any
    case for Latin letters; quotes, %, * or OR are searched for as typed. Words of three
    characters or more are looked up in the full-text index; shorter ones (滞后, 完成) are
    matched by scanning, which takes longer on a large archive when no longer word comes
    with them. Each hit shows the version it comes from, where the words are, a snippet
    with the words marked (【】 when not on a terminal) and the page URL; newest
    publication first. Reads the archive only.
    """
    text = " ".join(query)
    if not query_terms(text):
        raise BadUsage("the query is empty: give at least one word to search for")
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            hits = search(
                engine,
                text,
                sources=sources,
                published_since=published_since.date() if published_since else None,
                all_versions=all_versions,
                limit=limit,
            )
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps([hit.to_dict() for hit in hits], ensure_ascii=False, indent=2))
        return
    more = " (the limit: --limit N for more)" if len(hits) == limit else ""
    summary = f"{len(hits)} hit{'s' if len(hits) != 1 else ''}{more}"
    if sys.stdout.isatty():
        console = Console(highlight=False)
        for line in render_hits(hits, _rich):
            console.print(line, soft_wrap=True)
        console.print(summary)
        return
    click.echo("\n".join([*render_hits(hits, _plain), summary]))
