"""Walk a source's list pages and return the detail URLs they link to.

Fetching is injected (``fetch(url) -> FetchResult``), so this module decides
only which list page comes next and when to stop; :mod:`scraper.fetching.fetch` does the
requests and :mod:`scraper.parse.links` reads the pages. It writes nothing.

Order of the walk: every start URL, then pages found through ``list_links``
(breadth first), then the generated pages — ``list_url_template`` for n = 1, 2,
…, or, without a template, the TRS ``createPageHTML``/``countPage`` script of
the first start page (``index_1.html`` … ``index_{count-1}.html``). Each page
belongs to the *chain* of the start URL it was reached from (generated pages to
the first); a stop rule ends its chain, the start URLs are always all walked:

- ``max_list_pages`` list pages fetched, or a blocked page: the walk ends;
- a generated page answering 404/410 (the end of the column) or failing after
  retries: the generated pages end;
- a list page yielding no detail link not already seen in this crawl (sites
  that answer a page past the end with the last page again): its chain ends;
- with ``incremental``, a list page whose detail links are all archived already
  (``is_archived``): its chain ends.

A linked page (start URL or ``list_links``) that fails is recorded and the walk
goes on: one broken link says nothing about the pages the others lead to.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

from scraper.config import SourceConfig
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urllimit import drop_long_urls
from scraper.fetching.urls import host_of, is_allowed, normalize_url
from scraper.parse.encoding import Decoded, decode_html
from scraper.parse.links import extract_links, list_paging

Fetch = Callable[[str], Awaitable[FetchResult]]

# A TRS page's own file name gives the names of its siblings: index.html → index_1.html.
_TRS_NAME = re.compile(r"^(?P<stem>.+?)(?:_\d+)?\.(?P<ext>s?html?)$", re.IGNORECASE)


class PageOrigin(StrEnum):
    """How a list page was reached."""

    START = "start"  # one of the source's start_urls
    LINK = "link"  # matched list_links on a walked list page
    TEMPLATE = "template"  # list_url_template with n = 1, 2, …
    SCRIPT = "script"  # named by the first start page's TRS paging script


class StopReason(StrEnum):
    """Why paging ended (for a chain, or for the whole walk)."""

    EXHAUSTED = "exhausted"  # every linked and generated list page was walked
    MAX_LIST_PAGES = "max_list_pages"  # max_list_pages list pages were fetched
    NOT_FOUND = "not_found"  # a generated list page answered 404/410
    ERROR = "error"  # a generated list page could not be fetched
    NO_NEW_LINKS = "no_new_links"  # a list page brought no detail link not seen before
    ALL_ARCHIVED = "all_archived"  # incremental: every detail link was archived already
    BLOCKED = "blocked"  # a WAF or script-challenge page: the source is blocked


@dataclass(frozen=True, slots=True)
class ListPage:
    """One list page fetched during discovery, and what it gave.

    ``links_found`` counts its detail links on allowed hosts, ``new_links`` those
    not seen earlier in this walk, ``offsite_links`` the detail and list links it
    had to other hosts (dropped). ``stop`` is set when this page ended paging.
    """

    url: str
    final_url: str
    origin: PageOrigin
    kind: FetchKind
    status: int | None
    links_found: int = 0
    new_links: int = 0
    offsite_links: int = 0
    encoding: str | None = None
    stop: StopReason | None = None
    error: str | None = None
    unresolved: bool = False  # its host name did not resolve (FetchResult.unresolved)


@dataclass(frozen=True, slots=True)
class Discovery:
    """The result of walking one source's list pages.

    ``detail_urls`` are normalised, on allowed hosts, each once, in the order
    found. ``stop_reason`` is why the walk ended: ``max_list_pages`` or
    ``blocked`` if it was cut short, else the last stop rule that fired, else
    ``exhausted``.
    """

    source: str
    detail_urls: tuple[str, ...]
    list_pages: tuple[ListPage, ...]
    stop_reason: StopReason
    offsite_links: int


def _never_archived(url: str) -> bool:
    return False


@dataclass(slots=True)
class _Item:
    url: str
    origin: PageOrigin
    chain: int


async def discover_detail_urls(
    source: SourceConfig,
    fetch: Fetch,
    *,
    is_archived: Callable[[str], bool] = _never_archived,
    decode: Callable[[bytes, str | None], Decoded] = decode_html,
) -> Discovery:
    """Walk ``source``'s list pages with ``fetch`` and return the detail URLs found.

    Fetches list pages one at a time (paging decisions depend on the page
    before); ``is_archived(url)`` is asked only with ``incremental``. Writes
    nothing; a fetch failure is recorded in ``list_pages``, never raised.
    """
    walk = _Walk(source, is_archived, decode)
    while True:
        item = walk.next_item()
        if item is None:
            break
        if len(walk.pages) >= source.settings.max_list_pages:
            walk.end(StopReason.MAX_LIST_PAGES)
            break
        walk.record(item, await fetch(item.url))
        if walk.ended is not None:
            break
    return walk.result()


class _Walk:
    """The state of one discovery walk; every decision, none of the I/O."""

    def __init__(
        self,
        source: SourceConfig,
        is_archived: Callable[[str], bool],
        decode: Callable[[bytes, str | None], Decoded],
    ) -> None:
        self.source = source
        self.settings = source.settings
        self.allowed = self.settings.allowed_hosts or tuple(
            dict.fromkeys(host_of(u) for u in source.start_urls)
        )
        self.is_archived = is_archived
        self.decode = decode
        self.queue: deque[_Item] = deque(
            _Item(url, PageOrigin.START, i) for i, url in enumerate(source.start_urls)
        )
        self.walked: set[str] = set(source.start_urls)  # fetched or queued list URLs
        self.details: dict[str, None] = {}
        self.pages: list[ListPage] = []
        self.offsite = 0
        self.stopped_chains: set[int] = set()
        self.last_stop: StopReason | None = None
        self.ended: StopReason | None = None
        self.generated: Iterator[str] | None = None
        self.generated_origin = PageOrigin.TEMPLATE
        if source.list_url_template is not None and source.start_urls:
            self.generated = self._template_urls(source.list_url_template, source.start_urls[0])

    def next_item(self) -> _Item | None:
        """Return the next list page to fetch, or None when there is none."""
        while self.queue:
            item = self.queue.popleft()
            if item.origin is PageOrigin.START or item.chain not in self.stopped_chains:
                return item
        while self.generated is not None:
            url = next(self.generated, None)
            if url is None:
                self.generated = None
            elif not is_allowed(url, self.allowed):
                self.offsite += 1
                self.generated = None
            elif url not in self.walked:  # page 1 of a template is often the start URL
                self.walked.add(url)
                return _Item(url, self.generated_origin, 0)
        return None

    def end(self, reason: StopReason) -> None:
        """Stop the whole walk."""
        self.ended = reason

    def record(self, item: _Item, result: FetchResult) -> None:
        """Take in one fetched list page: collect its links, queue pages, apply stop rules."""
        final = normalize_url(result.final_url) or item.url
        self.walked.add(final)
        generated = item.origin in (PageOrigin.TEMPLATE, PageOrigin.SCRIPT)
        page = ListPage(
            item.url,
            final,
            item.origin,
            result.kind,
            result.status,
            error=result.error,
            unresolved=result.unresolved,
        )

        if result.kind is FetchKind.BLOCKED:
            self.pages.append(replace(page, stop=StopReason.BLOCKED))
            self.end(StopReason.BLOCKED)
            return
        if result.kind is not FetchKind.OK or result.body is None:
            stop = None
            if generated:  # past the end of the column, or a column we cannot read on
                stop = StopReason.NOT_FOUND if result.kind is FetchKind.GONE else StopReason.ERROR
                self._stop_chain(item.chain, stop)
            self.pages.append(replace(page, stop=stop))
            return

        decoded = self.decode(result.body, result.content_type)
        links = extract_links(decoded.text, final, self.source.detail_links)
        links = drop_long_urls(links, found_on=final)
        on_site = [u for u in links if is_allowed(u, self.allowed)]
        offsite = len(links) - len(on_site)
        new = [u for u in on_site if u not in self.details]
        self.details.update(dict.fromkeys(new))

        stop = None
        if not new:
            stop = StopReason.NO_NEW_LINKS
        elif self.settings.incremental and all(self.is_archived(u) for u in on_site):
            stop = StopReason.ALL_ARCHIVED
        if stop is not None:
            self._stop_chain(item.chain, stop)
        else:
            offsite += self._queue_list_links(decoded.text, final, item.chain)
            if item.origin is PageOrigin.START and item.chain == 0 and self.generated is None:
                self._start_script_paging(decoded.text, final)
        self.offsite += offsite
        self.pages.append(
            replace(
                page,
                links_found=len(on_site),
                new_links=len(new),
                offsite_links=offsite,
                encoding=decoded.encoding,
                stop=stop,
            )
        )

    def result(self) -> Discovery:
        """Return what the walk found."""
        reason = self.ended or self.last_stop or StopReason.EXHAUSTED
        return Discovery(
            source=self.source.name,
            detail_urls=tuple(self.details),
            list_pages=tuple(self.pages),
            stop_reason=reason,
            offsite_links=self.offsite,
        )

    def _stop_chain(self, chain: int, reason: StopReason) -> None:
        """End the chain of pages reached from start URL ``chain`` (and the generated pages)."""
        self.stopped_chains.add(chain)
        if chain == 0:
            self.generated = None
        self.last_stop = reason

    def _queue_list_links(self, html: str, base: str, chain: int) -> int:
        """Queue the page's unseen list_links on allowed hosts; return how many were off-site."""
        if self.source.list_links is None:
            return 0
        offsite = 0
        for url in drop_long_urls(extract_links(html, base, self.source.list_links), found_on=base):
            if not is_allowed(url, self.allowed):
                offsite += 1
            elif url not in self.walked:
                self.walked.add(url)
                self.queue.append(_Item(url, PageOrigin.LINK, chain))
        return offsite

    def _start_script_paging(self, html: str, base: str) -> None:
        """Generate the TRS sibling pages the first start page's paging script names."""
        paging = list_paging(html)
        if paging is None or paging.style != "trs" or paging.count < 2:
            return
        stem, ext = paging.stem, paging.ext
        if stem is None or ext is None:
            name = _TRS_NAME.match(urlsplit(base).path.rsplit("/", 1)[-1])
            stem, ext = (name["stem"], name["ext"]) if name else ("index", "html")
        # TRS numbers pages from 0: index.html is page 1, index_1.html page 2 …
        urls = (normalize_url(f"{stem}_{i}.{ext}", base) for i in range(1, paging.count))
        self.generated = (u for u in urls if u is not None)
        self.generated_origin = PageOrigin.SCRIPT

    def _template_urls(self, template: str, base: str) -> Iterator[str]:
        """Yield the template's list pages n = 1, 2, … resolved against ``base``.

        Each n either is fetched or was walked already, and every fetched page
        counts towards max_list_pages, so n never needs to pass max_list_pages + 1.
        """
        for n in range(1, self.settings.max_list_pages + 2):
            url = normalize_url(template.replace("{n}", str(n)), base)
            if url is not None:
                yield url
