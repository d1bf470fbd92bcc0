"""One crawl: discover → fetch → parse → archive, for each configured source.

This is the only module that composes the I/O owners: :mod:`scraper.fetching.fetch` (HTTP),
:mod:`scraper.parse` (pure parsing) and :mod:`storage` (the database). Decisions are
pure functions here or in those modules (:func:`fetch_outcome`, :func:`run_status`,
:func:`revisit_due`); the coroutine :func:`crawl_source` only sequences them.

What a crawl writes: a ``crawl_runs`` row per source, a ``fetches`` row per request
(list pages included, outcome ``list_page``; always under the URL requested), and through
:func:`storage.archive.archive_page` a new ``page_versions`` row only when a page's
parsed content changed (a change that looks like a bad moment of the site is a
``suspect`` fetch until the next crawl confirms it). It never deletes anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from sqlalchemy import Engine

from scraper.config import Config, SourceConfig
from scraper.crawling.discover import Discovery, discover_detail_urls
from scraper.crawling.filefetch import (
    AttachmentCollector,
    changed_files,
    choose_attachments,
    wanted_again,
)
from scraper.crawling.parsepool import ParserPool, ParseTimeout
from scraper.crawling.writer import ArchiveWriter
from scraper.fetching.fetch import Fetcher
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urls import host_of
from scraper.parse import PARSER_VERSION, PageRecord
from scraper.reader import read_page
from scraper.settings import CrawlSettings
from storage import archive
from storage.archive import PageState, RunSummary
from storage.attachments import AttachmentFile, previous_attachments
from storage.content import ParsedDoc
from storage.errors import DatabaseUnavailableError, SchemaError
from storage.models import FetchOutcome, RunStatus

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

#: Storage errors that no page or source can work around (the database is gone or is
#: not at this code's schema): they end the whole crawl instead of being recorded.
FATAL_STORAGE_ERRORS: tuple[type[Exception], ...] = (DatabaseUnavailableError, SchemaError)

#: Seconds the pages in hand get to finish after a stop request before they are cancelled.
STOP_GRACE = 5.0

T = TypeVar("T")

# FetchKind → fetches.outcome for everything but OK (which becomes new_version/unchanged).
_OUTCOMES: dict[FetchKind, FetchOutcome] = {
    FetchKind.NOT_MODIFIED: FetchOutcome.NOT_MODIFIED,
    FetchKind.GONE: FetchOutcome.GONE,
    FetchKind.BLOCKED: FetchOutcome.BLOCKED,
    FetchKind.ROBOTS: FetchOutcome.SKIPPED_ROBOTS,
    FetchKind.OFFSITE: FetchOutcome.OFFSITE,
    FetchKind.TOO_LARGE: FetchOutcome.TOO_LARGE,
    FetchKind.ERROR: FetchOutcome.ERROR,
}

# Outcomes that show the server answered us properly (used to tell "some pages
# failed" from "every request of this source failed").
_ANSWERED = frozenset(
    {
        FetchOutcome.NEW_VERSION,
        FetchOutcome.UNCHANGED,
        FetchOutcome.NOT_MODIFIED,
        FetchOutcome.GONE,
        FetchOutcome.LIST_PAGE,
    }
)

# Tallied (not stored) for a list page answering 404/410: the end of template paging,
# neither an answer nor a failure when deciding whether the whole source failed.
_LIST_END = "list_end"


def fetch_outcome(kind: FetchKind) -> FetchOutcome:
    """Return the ``fetches.outcome`` for a non-OK fetch kind. Pure."""
    return _OUTCOMES[kind]


def run_status(outcomes: Iterable[str], *, interrupted: bool) -> RunStatus:
    """Return a run's status from its fetch outcomes. Pure.

    ``interrupted`` when stopped early; ``blocked`` when nothing was answered and at
    least one request hit a block page; ``failed`` when requests were made and none
    was answered (a ``suspect`` answer is no answer); else ``completed`` (individual
    failures are in ``fetches``).
    """
    seen = list(outcomes)
    if interrupted:
        return RunStatus.INTERRUPTED
    if not seen or any(o in _ANSWERED for o in seen):
        return RunStatus.COMPLETED
    if FetchOutcome.BLOCKED in seen:
        return RunStatus.BLOCKED
    return RunStatus.FAILED


def revisit_due(page: PageState, now: datetime, revisit_after_hours: float | None) -> bool:
    """Return True when a known page should be re-checked in this crawl. Pure."""
    if revisit_after_hours is None or page.last_fetched_at is None:
        return True
    return now - page.last_fetched_at >= timedelta(hours=revisit_after_hours)


class Reporter(Protocol):
    """Receives progress; the CLI draws bars or log lines from it."""

    def source_started(self, source: str) -> None: ...
    def pages_found(self, source: str, total: int) -> None: ...
    def page_done(self, source: str, outcome: FetchOutcome) -> None: ...
    def source_finished(self, run: SourceRun) -> None: ...


class _NullReporter:
    def source_started(self, source: str) -> None:
        pass

    def pages_found(self, source: str, total: int) -> None:
        pass

    def page_done(self, source: str, outcome: FetchOutcome) -> None:
        pass

    def source_finished(self, run: SourceRun) -> None:
        pass


@dataclass(frozen=True, slots=True)
class SourceRun:
    """How one source's crawl ended: its ``crawl_runs`` row, summarised."""

    source: str
    run_id: int
    status: RunStatus
    summary: RunSummary
    list_pages: int = 0
    stop_reason: str = ""
    paused_hosts: tuple[str, ...] = ()
    unresolved_hosts: tuple[str, ...] = ()
    """Hosts whose name did not resolve (offline, or no such host); also paused."""
    error: str | None = None


@dataclass
class _HostHealth:
    """Consecutive connection errors / 5xx per host, to pause a host that is down."""

    threshold: int
    failures: dict[str, int] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)

    def observe(self, result: FetchResult) -> None:
        host = host_of(result.url)
        if result.unresolved and host not in self.unresolved:
            # No name, no page: every other URL of the host would fail the same way.
            log.warning("%s does not resolve: pausing it for the rest of this run", host)
            self.unresolved.add(host)
            self.paused.add(host)
            return
        failed = result.kind is FetchKind.ERROR and (result.status is None or result.status >= 500)
        if not failed:
            self.failures[host] = 0
            return
        self.failures[host] = self.failures.get(host, 0) + 1
        if self.threshold > 0 and self.failures[host] >= self.threshold and host not in self.paused:
            log.warning(
                "pausing %s for the rest of this run after %d consecutive failures",
                host,
                self.failures[host],
            )
            self.paused.add(host)


def parsed_doc(record: PageRecord) -> ParsedDoc:
    """Return the parser's record as storage's ParsedDoc. Pure.

    ``PageRecord.to_dict()`` and ``ParsedDoc`` are the same shape by contract
    (tests/storage asserts the field lists match); this is the one crossing point
    between the parser's types and storage's.
    """
    return cast(ParsedDoc, record.to_dict())


def reparse_raw(raw: bytes, content_type: str | None) -> ParsedDoc:
    """Read stored raw bytes as the crawl reads a response (:func:`scraper.reader.read_page`);
    what storage's re-parse callbacks take."""
    headers = {"content-type": content_type} if content_type else None
    return parsed_doc(read_page(raw, headers=headers))


class _SourceCrawl:
    """The state of one source's crawl: its run, known pages and counters."""

    def __init__(
        self,
        source: SourceConfig,
        engine: Engine,
        fetcher: Fetcher,
        parser: ParserPool,
        writer: ArchiveWriter,
        reporter: Reporter,
        stop: asyncio.Event,
    ) -> None:
        self.source = source
        self.settings = source.settings
        self.engine = engine
        self.fetcher = fetcher
        self.parser = parser
        self.writer = writer
        self._writes: set[asyncio.Future[Any]] = set()
        self.reporter = reporter
        self.stop = stop
        self.allowed = frozenset(source.settings.allowed_hosts)
        self.outcomes: list[str] = []
        self.health = _HostHealth(self.settings.host_failure_threshold)
        self.source_id = 0
        self.run_id = 0
        self.known: dict[str, PageState] = {}

    async def fetch_list_page(self, url: str) -> FetchResult:
        """Fetch one list page for discovery and record the attempt (none is made to a
        host whose name did not resolve earlier in this run)."""
        host = host_of(url)
        if host in self.health.unresolved:
            skipped = FetchResult(
                url=url, final_url=url, kind=FetchKind.ERROR, requested_at=datetime.now(UTC),
                attempts=0, error=f"{host} paused: it does not resolve", unresolved=True,
            )  # fmt: skip
            await self._record(skipped, FetchOutcome.LIST_PAGE)
            self.outcomes.append(FetchOutcome.SKIPPED_HOST_PAUSED)
            return skipped
        result = await self.fetcher.fetch(url, self.settings, allowed_hosts=self.allowed)
        if result.unresolved:
            self.health.observe(result)
        outcome: FetchOutcome
        tally: str
        if result.kind is FetchKind.OK:
            outcome = tally = FetchOutcome.LIST_PAGE
        elif result.kind is FetchKind.GONE:
            # A 404 past the last list page is how template paging ends, not a missing
            # document: a list_page row (its http_status says 404), not counted as gone
            # and not as an answer when deciding whether the whole source failed.
            outcome, tally = FetchOutcome.LIST_PAGE, _LIST_END
        else:
            # A list page that failed is still a list page, not a page of the source: a
            # list_page row whose error says why, so that it counts neither as a page
            # seen nor as a page that errored. The tally keeps the failure for run_status.
            outcome, tally = FetchOutcome.LIST_PAGE, fetch_outcome(result.kind)
            error = result.error or f"list page not read: {result.kind}"
            await self._record(result, outcome, error=error)
            self.outcomes.append(tally)
            return result
        await self._record(result, outcome)
        self.outcomes.append(tally)
        return result

    async def _db(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Return ``fn(self.engine, *args, **kwargs)`` (a :mod:`storage` call), run in a
        writer thread: the event loop keeps fetching for every source meanwhile. Each call
        is one storage function, so a page's write stays one transaction."""
        future = self.writer.start(fn, self.engine, *args, **kwargs)
        self._writes.add(future)
        future.add_done_callback(self._writes.discard)
        return await asyncio.shield(future)

    async def visit(self, url: str) -> None:
        """Fetch, parse and archive one detail page; every path writes a fetches row."""
        host = host_of(url)
        now = datetime.now(UTC)
        if host in self.health.paused:
            await self._db(
                archive.record_fetch,
                run_id=self.run_id,
                source_id=self.source_id,
                url=url,
                requested_at=now,
                outcome=FetchOutcome.SKIPPED_HOST_PAUSED,
                error=f"{host} paused: it does not resolve"
                if host in self.health.unresolved
                else f"{host} paused after repeated failures",
            )
            self._done(FetchOutcome.SKIPPED_HOST_PAUSED)
            return
        page = self.known.get(url)
        result = await self.fetcher.fetch(
            url,
            self.settings,
            allowed_hosts=self.allowed,
            etag=page.etag if page else None,
            last_modified=page.last_modified if page else None,
        )
        self.health.observe(result)
        done: dict[str, AttachmentFile] = {}
        if result.kind is FetchKind.NOT_MODIFIED and page is not None and page.has_attachments:
            # The page is the same, but a file it links may have been replaced.
            rechecked = await self._recheck_attachments(result)
            if rechecked is None:
                return
            done = rechecked
            result = await self.fetcher.fetch(url, self.settings, allowed_hosts=self.allowed)
            self.health.observe(result)
        if result.kind is not FetchKind.OK or result.body is None:
            ok = result.kind is FetchKind.OK  # an OK without a body: nothing to archive
            outcome = FetchOutcome.ERROR if ok else fetch_outcome(result.kind)
            await self._record(result, outcome)
            self._done(outcome)
            return
        try:
            doc = await self._parse(result)
            files = await self._attachments(result.url, doc, done)
            written = await self._db(
                archive.archive_page,
                run_id=self.run_id,
                source_id=self.source_id,
                url=result.url,
                final_url=result.final_url,
                requested_at=result.requested_at,
                http_status=result.status,
                response_headers=result.header_lines,
                raw=result.body,
                content_type=result.content_type,
                doc=doc,
                parser_version=PARSER_VERSION,
                reparse=reparse_raw,
                etag=result.etag,
                last_modified=result.last_modified,
                elapsed_ms=result.elapsed_ms,
                attachments=files,
            )
        except FATAL_STORAGE_ERRORS:
            raise
        except ParseTimeout as exc:  # a page that would hold the crawl: stopped, recorded
            log.warning("%s", exc)
            await self._record(result, FetchOutcome.ERROR, error=str(exc))
            self._done(FetchOutcome.ERROR)
            return
        except Exception as exc:  # one bad page never stops the crawl
            log.exception("could not archive %s", result.url)
            error = f"archive failed: {type(exc).__name__}: {exc}"
            await self._record(result, FetchOutcome.ERROR, error=error)
            self._done(FetchOutcome.ERROR)
            return
        self._done(written.outcome)

    async def _attachments(
        self, url: str, doc: ParsedDoc, done: dict[str, AttachmentFile]
    ) -> list[AttachmentFile]:
        """Return the page's attachments as this visit finds them (``done``: files
        already fetched in it). A cap that left links out is said in ``doc``'s warnings
        (which are not part of its content)."""
        wanted, over = choose_attachments(doc.get("attachments", []), self.settings)
        if over:
            doc["warnings"].append(
                f"{over} attachment link(s) past max_attachments_per_page "
                f"({self.settings.max_attachments_per_page}) not archived"
            )
        if not wanted:
            return []
        previous = await self._db(previous_attachments, url) if url in self.known else {}
        collector = AttachmentCollector(self.fetcher, self.parser, self.settings)
        try:
            return await collector.collect(wanted, previous, done)
        finally:
            for result in collector.results:
                self.health.observe(result)

    async def _recheck_attachments(self, result: FetchResult) -> dict[str, AttachmentFile] | None:
        """Check again the files of a page that answered 304 (``result``). Returns None
        when none changed (the not-modified fetch and the files' requests are then
        recorded); otherwise the files fetched, by URL, for the visit that fetches the
        page again."""
        previous = await self._db(previous_attachments, result.url)
        collector = AttachmentCollector(self.fetcher, self.parser, self.settings)
        try:
            files = await collector.collect(wanted_again(list(previous.values())), previous)
        finally:
            for checked in collector.results:
                self.health.observe(checked)
        if changed_files(files, previous):
            return {file.url: file for file in files}
        await self._record(result, FetchOutcome.NOT_MODIFIED, attachments=files)
        self._done(FetchOutcome.NOT_MODIFIED)
        return None

    async def _parse(self, result: FetchResult) -> ParsedDoc:
        """Read a complete response into its record (pages parsed, documents extracted),
        in a worker process within ``parse_timeout`` seconds (:class:`ParserPool`): the
        event loop serves the other pages meanwhile, and a runaway page is stopped
        (:class:`ParseTimeout`)."""
        assert result.body is not None  # only OK results with a body are parsed
        doc = await self.parser.parse(
            result.body,
            url=result.final_url,
            headers=result.headers,
            timeout=self.settings.parse_timeout,
        )
        return cast(ParsedDoc, doc)

    async def _record(
        self,
        result: FetchResult,
        outcome: FetchOutcome,
        *,
        error: str | None = None,
        attachments: Sequence[AttachmentFile] = (),
    ) -> None:
        """Write the fetches row of a request that produced no version: under the URL
        requested (so a known page redirected to an error page is the page marked gone),
        with where the redirects led as ``final_url``; ``error`` overrides the fetch's;
        ``attachments`` (of a 304 page, checked again) add their requests' rows."""
        await self._db(
            archive.record_fetch,
            run_id=self.run_id,
            source_id=self.source_id,
            url=result.url,
            final_url=result.final_url,
            requested_at=result.requested_at,
            outcome=outcome,
            http_status=result.status,
            error=error or result.error,
            elapsed_ms=result.elapsed_ms,
            nbytes=len(result.body) if result.body is not None else None,
            attachments=attachments,
        )

    def _done(self, outcome: FetchOutcome) -> None:
        self.outcomes.append(outcome)
        self.reporter.page_done(self.source.name, outcome)

    def targets(self, discovery: Discovery, limit: int | None) -> list[str]:
        """Return the detail URLs to visit: those found on the list pages (in list order),
        then the other known pages. A known page, listed or not, is revisited only
        when due (``revisit_after_hours``); a new one always is."""
        now = datetime.now(UTC)
        hours = self.settings.revisit_after_hours
        urls: list[str] = []
        for url in (*discovery.detail_urls, *self.known):
            page = self.known.get(url)
            if page is None or revisit_due(page, now, hours):
                urls.append(url)
        urls = list(dict.fromkeys(urls))
        return urls if limit is None else urls[:limit]

    async def run(self, limit: int | None) -> SourceRun:
        self.source_id = await self._db(archive.ensure_source, self.source.name)
        stale = await self._db(archive.mark_stale_runs, self.source_id)
        if stale:
            log.info(
                "%s: %d earlier run(s) left unfinished marked interrupted", self.source.name, stale
            )
        self.run_id = await self._db(archive.start_run, self.source_id)
        self.reporter.source_started(self.source.name)
        self.known = {p.url: p for p in await self._db(archive.known_pages, self.source_id)}
        error: str | None = None
        discovery: Discovery | None = None
        try:
            discovery = await self._unless_stopped(
                discover_detail_urls(
                    self.source, self.fetch_list_page, is_archived=self.known.__contains__
                )
            )
            if discovery is not None:
                urls = self.targets(discovery, limit)
                self.reporter.pages_found(self.source.name, len(urls))
                await self._unless_stopped(self._visit_all(urls))
        except FATAL_STORAGE_ERRORS:
            raise
        except Exception as exc:  # a failing source never stops the others
            log.exception("%s: crawl failed", self.source.name)
            error = f"{type(exc).__name__}: {exc}"
        status = run_status(self.outcomes, interrupted=self.stop.is_set())
        if error is not None and status is RunStatus.COMPLETED:
            status = RunStatus.FAILED
        # writes whose page was cancelled by a stop still finish in their thread: the
        # run's counts must include them
        await self.writer.drain(set(self._writes))
        summary = await self._db(archive.finish_run, self.run_id, status)
        run = SourceRun(
            source=self.source.name,
            run_id=self.run_id,
            status=status,
            summary=summary,
            list_pages=len(discovery.list_pages) if discovery else 0,
            stop_reason=discovery.stop_reason if discovery else "",
            paused_hosts=tuple(sorted(self.health.paused)),
            unresolved_hosts=tuple(sorted(self.health.unresolved)),
            error=error,
        )
        self.reporter.source_finished(run)
        return run

    async def _unless_stopped(self, work: Coroutine[Any, Any, T]) -> T | None:
        """Await ``work``; once ``stop`` is set, give it STOP_GRACE seconds, then cancel it.

        Returns its result, or None when it was cancelled. Cancelling is safe: an
        archive write runs in a writer thread behind a shield, so a cancellation lands
        in a fetch, a retry wait or a parse, and a write in progress finishes (as one
        transaction) before the run is closed.
        """
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if task.done():
            return task.result()
        try:
            return await asyncio.wait_for(task, STOP_GRACE)
        except TimeoutError:
            log.warning("%s: stopped with requests still in flight", self.source.name)
            return None

    async def _visit_all(self, urls: Sequence[str]) -> None:
        # A fixed pool of workers pulling from a queue keeps memory flat however
        # many pages a source has; the Fetcher enforces the politeness limits.
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)

        async def worker() -> None:
            while not self.stop.is_set():
                try:
                    url = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await self.visit(url)

        await asyncio.gather(*(worker() for _ in range(visitors(self.settings, len(urls)))))


def visitors(settings: CrawlSettings, pages: int) -> int:
    """Return how many pages of one source are visited at once. Pure.

    Enough to keep each of its hosts' request slots busy while earlier pages wait for a
    parser process and a writer thread (three per slot: with two, a loaded worker's
    hosts fell to 0.8 request a second of their 1.0 in bench/workers.py), and no more:
    hundreds of sources share one loop and one Fetcher, and a visitor beyond that would
    only wait on its host's rate limit.
    """
    hosts = max(1, len(settings.allowed_hosts))
    depth = 3 * max(1, settings.per_host_concurrency) * hosts
    return max(1, min(settings.max_concurrency, depth, pages))


async def crawl_source(
    source: SourceConfig,
    engine: Engine,
    *,
    fetcher: Fetcher,
    parser: ParserPool,
    writer: ArchiveWriter,
    stop: asyncio.Event,
    reporter: Reporter | None = None,
    limit: int | None = None,
) -> SourceRun:
    """Crawl one source with shared means: the ``fetcher`` (whose per-host limits then
    hold across every source using it), the ``parser`` pool and the archive ``writer``.

    What long-lived crawlers (the daemon's loop, a queue worker) call once per run;
    :func:`crawl` is this for a list of sources with means of its own. Returns the run;
    writes its ``crawl_runs`` row, fetches and versions. Raises only for the storage
    errors no page can work around (:data:`FATAL_STORAGE_ERRORS`).
    """
    job = _SourceCrawl(source, engine, fetcher, parser, writer, reporter or _NullReporter(), stop)
    return await job.run(limit)


async def crawl(
    config: Config,
    engine: Engine,
    *,
    sources: Sequence[SourceConfig] | None = None,
    limit: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    parser: ParserPool | None = None,
    writer: ArchiveWriter | None = None,
    stop: asyncio.Event | None = None,
    reporter: Reporter | None = None,
) -> list[SourceRun]:
    """Crawl ``sources`` (default: all configured) into the archive behind ``engine``.

    Sources run concurrently and share one :class:`~scraper.fetching.fetch.Fetcher`, so hosts
    shared by several sources keep one rate limit, one :class:`ParserPool` (pages are
    parsed in worker processes, each within its source's ``parse_timeout``) and one
    :class:`ArchiveWriter` (archive writes run in threads, off the event loop). Returns
    one :class:`SourceRun` per source, in config order. Writes runs, fetches and
    versions; deletes nothing. Setting ``stop`` makes workers finish the page in hand and
    close runs as ``interrupted``. ``transport``, ``parser`` and ``writer`` stand in for
    the HTTP transport, the parser pool and the writer (tests, benches).
    """
    chosen = list(sources) if sources is not None else list(config.sources)
    stop_event = stop or asyncio.Event()
    settings = config.crawl
    with ExitStack() as owned:  # what this call made, it closes; what it was given, not
        if parser is None:
            parser = owned.enter_context(ParserPool(settings.parse_workers, settings.parse_timeout))
        if writer is None:
            writer = owned.enter_context(ArchiveWriter.for_engine(engine))
        async with Fetcher(
            user_agent=settings.user_agent,
            max_concurrency=settings.max_concurrency,
            transport=transport,
        ) as fetcher:
            jobs = [
                crawl_source(
                    s,
                    engine,
                    fetcher=fetcher,
                    parser=parser,
                    writer=writer,
                    stop=stop_event,
                    reporter=reporter,
                    limit=limit,
                )
                for s in chosen
            ]
            return list(await asyncio.gather(*jobs))


def run_crawl(
    config: Config,
    engine: Engine,
    *,
    sources: Sequence[SourceConfig] | None = None,
    limit: int | None = None,
    reporter: Reporter | None = None,
    stop_when: Callable[[], bool] | None = None,
) -> list[SourceRun]:
    """Synchronous wrapper of :func:`crawl` for the CLI and the scheduler.

    ``stop_when`` is polled twice a second (signal handlers and scheduler threads
    set a flag); when it turns true the crawl stops as with ``crawl(stop=…)``.
    """

    async def main() -> list[SourceRun]:
        stop = asyncio.Event()
        watcher: asyncio.Task[None] | None = None
        if stop_when is not None:
            check = stop_when

            async def watch() -> None:
                while not stop.is_set():
                    if check():
                        stop.set()
                        return
                    await asyncio.sleep(0.5)

            watcher = asyncio.create_task(watch())
        try:
            return await crawl(
                config, engine, sources=sources, limit=limit, stop=stop, reporter=reporter
            )
        finally:
            if watcher is not None:
                watcher.cancel()

    return asyncio.run(main())
