"""``govarchive check-source NAME``: try a source's selectors against the live site.

Writes nothing to the archive: it fetches a few list pages and one detail page and
shows what a crawl would see, so a user on a connected machine can confirm or fix a
source in a minute (docs/config.md, "Finding the selectors of a new site").
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scraper.commands.common import (
    WorkFailed,
    config_option,
    read_config,
    translated_errors,
)
from scraper.config import SourceConfig
from scraper.crawling.discover import Discovery, discover_detail_urls
from scraper.fetching.fetch import Fetcher
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urls import host_of
from scraper.reader import read_page


@dataclasses.dataclass(frozen=True)
class SourceCheck:
    """What check-source found: robots verdict, list pages, links, one parsed page."""

    source: str
    robots: dict[str, Any]
    discovery: Discovery
    detail: FetchResult | None
    record: dict[str, Any] | None


def network_failure(check: SourceCheck) -> str | None:
    """Return why nothing could be read when the network (or the site) is to blame, not
    the selectors: no list page got an HTTP answer. None when one did. Pure."""
    pages = check.discovery.list_pages
    if not pages or any(p.status is not None for p in pages):
        return None
    hosts = ", ".join(dict.fromkeys(host_of(p.url) for p in pages))
    reason = pages[0].error or "no answer"
    message = f"nothing could be fetched from {hosts} ({reason}): the network or the site "
    message += "is down, not the selectors; check the connection and the start URL"
    if any(p.unresolved for p in pages):
        message += " (offline? to try govarchive without a network: govarchive demo)"
    return message


async def check_source(
    source: SourceConfig,
    *,
    list_pages: int,
    transport: Any = None,
    progress: Callable[[str], None] = lambda _message: None,
) -> SourceCheck:
    """Fetch up to ``list_pages`` list pages and the first detail page of ``source``.

    Returns what was found; writes nothing. ``progress`` is told, before each request,
    what is being fetched (the command shows it on stderr).
    """
    settings = dataclasses.replace(source.settings, max_list_pages=list_pages)
    probe = dataclasses.replace(source, settings=settings)
    allowed = settings.allowed_hosts
    async with Fetcher(
        user_agent=settings.user_agent, max_concurrency=1, transport=transport
    ) as fetcher:
        start = source.start_urls[0]
        progress(f"checking robots.txt of {host_of(start)}")
        rules = await fetcher.robots(start, settings)
        robots = {
            "checked": settings.respect_robots_txt,
            "start_url_allowed": rules.allowed(start),
            "crawl_delay": rules.crawl_delay,
            "note": rules.note,
        }

        async def fetch(url: str, what: str = "list page") -> FetchResult:
            progress(f"fetching {what} {url}")
            return await fetcher.fetch(url, settings, allowed_hosts=allowed)

        discovery = await discover_detail_urls(probe, fetch)
        detail: FetchResult | None = None
        record: dict[str, Any] | None = None
        if discovery.detail_urls:
            detail = await fetch(discovery.detail_urls[0], "detail page")
            if detail.kind is FetchKind.OK and detail.body is not None:
                parsed = read_page(detail.body, url=detail.final_url, headers=detail.headers)
                record = parsed.to_dict()
    return SourceCheck(source.name, robots, discovery, detail, record)


def _report(check: SourceCheck, links: int) -> None:
    echo = click.echo
    echo(f"source {check.source}")
    r = check.robots
    verdict = "allowed" if r["start_url_allowed"] else "DISALLOWED"
    echo(f"  robots.txt: start URL {verdict}; crawl-delay {r['crawl_delay']}; {r['note'] or ''}")
    if not r["checked"]:
        echo("  (respect_robots_txt is false for this source: robots.txt is not obeyed)")
    d = check.discovery
    echo(f"  list pages fetched: {len(d.list_pages)} (stopped: {d.stop_reason})")
    for page in d.list_pages:
        status = page.status if page.status is not None else "-"
        echo(
            f"    [{page.kind}] {status} {page.final_url}  encoding {page.encoding or '?'}  "
            f"links {page.links_found} (new {page.new_links}, off-site {page.offsite_links})"
            + (f"  error: {page.error}" if page.error else "")
        )
    echo(f"  detail links found: {len(d.detail_urls)}")
    for url in d.detail_urls[:links]:
        echo(f"    {url}")
    if len(d.detail_urls) > links:
        echo(f"    … {len(d.detail_urls) - links} more")
    if check.detail is None:
        blame = network_failure(check)
        if blame is not None:
            echo(f"  {blame}")
        else:
            echo("  no detail page to try: check detail_links (the CSS selector of document links)")
        return
    det = check.detail
    echo(f"  detail page: [{det.kind}] {det.status} {det.final_url}")
    if check.record is None:
        echo(f"    not parsed: {det.error or det.kind}")
        return
    rec = check.record
    echo(f"    encoding {rec['encoding']} (from {rec['encoding_source']})")
    for key, value in rec["metadata"].items():
        if key != "metadata_extra" and value is not None:
            echo(f"    {key}: {value}")
    for key, value in rec["metadata"]["metadata_extra"].items():
        echo(f"    extra {key}: {value}")
    echo(f"    task sections: {len(rec['sections'])}")
    echo(f"    body_text: {len(rec['body_text'])} characters")
    for warning in rec["warnings"]:
        echo(f"    warning: {warning}")


@click.command("check-source")
@click.argument("name")
@config_option
@click.option(
    "--list-pages", type=click.IntRange(1, 20), default=2, help="List pages to fetch (default 2)."
)
@click.option("--links", type=click.IntRange(0), default=10, help="Detail links to print.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
def check_source_command(
    name: str, config_path: Path | None, list_pages: int, links: int, as_json: bool
) -> None:
    """Fetch a source's first list pages and one detail page, and show what was found.

    Shows the robots.txt verdict, each list page with its encoding and link counts,
    the detail links, and the parsed record of the first detail page; says so when
    nothing could be fetched at all (the network, not the selectors). Each request is
    announced on stderr while it runs. Writes nothing to the archive. Exit status 1
    when no detail page could be parsed.
    """
    config = read_config(config_path)
    with translated_errors():
        source = config.source(name)

    def progress(message: str) -> None:
        click.echo(f"check-source: {message} …", err=True)

    check = asyncio.run(check_source(source, list_pages=list_pages, progress=progress))
    blame = network_failure(check)
    if as_json:
        payload = {
            "source": check.source,
            "robots": check.robots,
            "stop_reason": str(check.discovery.stop_reason),
            "list_pages": [
                {**dataclasses.asdict(p), "kind": str(p.kind), "origin": str(p.origin),
                 "stop": str(p.stop) if p.stop else None}
                for p in check.discovery.list_pages
            ],
            "detail_urls": list(check.discovery.detail_urls),
            "detail": None if check.detail is None else {
                "url": check.detail.final_url, "kind": str(check.detail.kind),
                "status": check.detail.status, "error": check.detail.error,
            },
            "record": check.record,
            "network_error": blame,
        }  # fmt: skip
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _report(check, links)
    if blame is not None:
        raise WorkFailed(f"{name}: no list page could be fetched: the network, not the selectors")
    if check.record is None:
        raise WorkFailed(f"{name}: no detail page could be fetched and parsed")
