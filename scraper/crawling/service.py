"""What long-lived crawlers share, and an event loop of their own to share it in.

A daemon or a queue worker crawls hundreds of sources over weeks. Giving each run its
own Fetcher would give each its own idea of a host's rate: two sources on one host
would each take the host's full rate. So every run of such a process goes through
one :class:`CrawlMeans` — one :class:`~scraper.fetching.fetch.Fetcher` (per-host
rate, Crawl-delay and robots.txt hold across all sources), one
:class:`~scraper.crawling.parsepool.ParserPool` and one
:class:`~scraper.crawling.writer.ArchiveWriter` (archive writes off the loop) — and
one :class:`~storage.locks.LockSession` for the crawl locks.

:class:`CrawlService` runs those means in an event loop on a thread of its own, for
callers that live in threads (APScheduler's jobs): :meth:`CrawlService.submit` hands
it a coroutine and returns a concurrent future; at most ``max_parallel`` of them run
at once. A queue worker, whose loop is procrastinate's, uses :func:`shared_means`
directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine

from scraper.config import SourceConfig
from scraper.crawling.looplag import LagMonitor, LagStats
from scraper.crawling.parsepool import ParserPool
from scraper.crawling.pipeline import Reporter, SourceRun, crawl_source
from scraper.crawling.writer import ArchiveWriter
from scraper.fetching.fetch import Fetcher
from scraper.settings import CrawlSettings
from storage.locks import LockSession

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CrawlMeans:
    """One process's shared crawl means (see the module docstring)."""

    engine: Engine
    fetcher: Fetcher
    parser: ParserPool
    writer: ArchiveWriter
    locks: LockSession
    lag: LagMonitor

    async def crawl(
        self,
        source: SourceConfig,
        *,
        stop: asyncio.Event,
        reporter: Reporter | None = None,
        limit: int | None = None,
    ) -> SourceRun:
        """Crawl ``source`` once with these means (:func:`crawl_source`)."""
        return await crawl_source(
            source,
            self.engine,
            fetcher=self.fetcher,
            parser=self.parser,
            writer=self.writer,
            stop=stop,
            reporter=reporter,
            limit=limit,
        )


@asynccontextmanager
async def shared_means(
    settings: CrawlSettings,
    engine: Engine,
    *,
    role: str,
    transport: httpx.AsyncBaseTransport | None = None,
    writer: ArchiveWriter | None = None,
) -> AsyncIterator[CrawlMeans]:
    """Open the means for the crawl-wide ``settings`` (the ``crawl:`` section); close
    them on exit. ``role`` names the process in the crawl locks' session (``daemon``,
    ``worker``). ``transport`` and ``writer`` stand in for the network and the writer
    (tests, benches)."""
    async with AsyncExitStack() as stack:
        parser = stack.enter_context(ParserPool(settings.parse_workers, settings.parse_timeout))
        if writer is None:
            writer = stack.enter_context(ArchiveWriter.for_engine(engine))
        locks = LockSession(engine, role)
        stack.callback(locks.close)
        fetcher = await stack.enter_async_context(
            Fetcher(
                user_agent=settings.user_agent,
                max_concurrency=settings.max_concurrency,
                transport=transport,
            )
        )
        lag = LagMonitor()
        sampler = asyncio.create_task(lag.run(), name="loop lag")
        stack.push_async_callback(_cancelled, sampler)
        yield CrawlMeans(engine, fetcher, parser, writer, locks, lag)


async def _cancelled(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


Work = Callable[[CrawlMeans], Coroutine[Any, Any, T]]


class CrawlService:
    """An event loop on its own thread, running coroutines over shared :class:`CrawlMeans`.

    ``start()`` opens the means (raising what opening raised); ``submit(work)`` runs
    ``work(means)`` on the loop once one of ``max_parallel`` slots is free and returns
    its future; ``request_stop()`` sets :attr:`stop` (crawls finish the page in hand
    and close their runs as interrupted); ``close()`` waits for submitted work, closes
    the means and ends the thread.
    """

    def __init__(
        self,
        settings: CrawlSettings,
        engine: Engine,
        *,
        max_parallel: int,
        role: str = "daemon",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be at least 1, not {max_parallel}")
        self.settings = settings
        self.engine = engine
        self.max_parallel = max_parallel
        self.role = role
        self._transport = transport
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._means: CrawlMeans | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._closing: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._working: set[asyncio.Task[Any]] = set()
        self.stop: asyncio.Event | None = None

    def start(self) -> None:
        """Start the loop thread and open the means; raises what opening them raised."""
        self._thread = threading.Thread(
            target=self._main, name="govarchive-crawl-loop", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            self._thread.join()
            raise self._failed

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start() when it happens while opening
            if not self._ready.is_set():
                self._failed = exc
                self._ready.set()
            else:
                log.exception("the crawl loop ended with an error")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        self.stop = asyncio.Event()
        self._slots = asyncio.Semaphore(self.max_parallel)
        async with shared_means(
            self.settings, self.engine, role=self.role, transport=self._transport
        ) as means:
            self._means = means
            self._ready.set()
            await self._closing.wait()
            if self._working:  # close() timed out: let the rest end before the means close
                await asyncio.gather(*self._working, return_exceptions=True)
            self._means = None

    def submit(self, work: Work[T]) -> concurrent.futures.Future[T]:
        """Run ``work(means)`` on the loop when a slot is free; return its future."""
        if self._loop is None or self._closing is None:
            raise RuntimeError("the crawl service is not running")
        future = asyncio.run_coroutine_threadsafe(self._slotted(work), self._loop)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    async def _slotted(self, work: Work[T]) -> T:
        task = asyncio.current_task()
        assert task is not None and self._slots is not None
        self._working.add(task)
        try:
            async with self._slots:
                assert self._means is not None
                return await work(self._means)
        finally:
            self._working.discard(task)

    def request_stop(self) -> None:
        """Tell running crawls to stop after the page in hand (safe from any thread)."""
        if self._loop is not None and self.stop is not None:
            self._loop.call_soon_threadsafe(self.stop.set)

    def lag(self) -> LagStats | None:
        """Return the loop's recent timer lag, or None when it is not running."""
        means = self._means
        return means.lag.stats() if means is not None else None

    def close(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` s for submitted work, then close the means and the
        loop. Returns False when work was still running at the deadline (it is then
        abandoned with the thread, which is a daemon thread)."""
        if self._loop is None or self._thread is None:
            return True
        _done, not_done = concurrent.futures.wait(set(self._futures), timeout=timeout)
        if self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        if not_done:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()
