"""Parsing off the event loop, with a time limit per page: worker processes.

One crawl's event loop serves every source. The parser is pure Python on its walks, so a
page that costs it seconds (a hostile page at the size cap) would stall every source for
as long; in a thread it would still hold the GIL. :class:`ParserPool` hands each page to a
worker process (``multiprocessing`` with the ``forkserver`` start method, ``spawn`` where
that is missing: the crawl's threads and sockets are never forked) and gives it
``timeout`` seconds. A page that takes longer raises :class:`ParseTimeout`; the pool's
processes are terminated (``Pool.terminate``) and a new pool serves the next page, so the
runaway work does not go on.

What crosses the process boundary: the page's bytes, URL and headers one way, the
parser's JSON-ready record (``PageRecord.to_dict()``) the other; nothing else is shared.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Mapping
from multiprocessing.pool import Pool
from types import TracebackType
from typing import Any

from scraper.errors import GovarchiveError
from scraper.parse import parse_page

#: A picklable, module-level function: (bytes, url, headers) → the record's to_dict().
ParseFunction = Callable[[bytes, str | None, Mapping[str, str] | None], dict[str, Any]]


class ParseTimeout(GovarchiveError):
    """A page took the parser longer than its time limit; its work was stopped."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        super().__init__(f"{url}: parsing took longer than {seconds:g} s; stopped")


def parse_to_dict(
    data: bytes, url: str | None, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """Parse one page and return ``PageRecord.to_dict()``: what a worker sends back."""
    return parse_page(data, url=url, headers=headers).to_dict()


class ParserPool:
    """Worker processes that parse pages, each within ``timeout`` seconds.

    Use as a context manager (``with ParserPool(2, 30.0) as pool``) so the processes end
    with the crawl. The pool starts on the first page. ``parse`` is the function the
    workers run (tests pass a slow one); it must be importable by name.
    """

    def __init__(
        self, workers: int, timeout: float, *, parse: ParseFunction = parse_to_dict
    ) -> None:
        if workers < 1 or timeout <= 0:
            raise ValueError(f"workers must be >= 1 and timeout > 0, not {workers}, {timeout}")
        self.workers = workers
        self.timeout = timeout
        self._parse = parse
        self._pool: Pool | None = None

    async def parse(
        self, data: bytes, *, url: str, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Return the parser's record (``to_dict()``) for one page.

        Raises :class:`ParseTimeout` when the worker needs more than ``timeout`` seconds
        (the pool is then replaced), and re-raises what the worker raised otherwise.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()

        def resolve(result: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(_settle, done, result, None)

        def fail(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, None, error)

        self._started().apply_async(
            self._parse,
            (data, url, dict(headers) if headers else None),
            callback=resolve,
            error_callback=fail,
        )
        try:
            return await asyncio.wait_for(done, self.timeout)
        except TimeoutError:
            self._stop()
            raise ParseTimeout(url, self.timeout) from None

    def close(self) -> None:
        """End the worker processes (pages in flight are abandoned)."""
        self._stop()

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _started(self) -> Pool:
        if self._pool is None:
            self._pool = _context().Pool(self.workers)
        return self._pool

    def _stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()
            pool.join()


def _settle(
    done: asyncio.Future[dict[str, Any]],
    result: dict[str, Any] | None,
    error: BaseException | None,
) -> None:
    if done.done():  # timed out meanwhile
        return
    if error is not None:
        done.set_exception(error)
    else:
        assert result is not None
        done.set_result(result)


def _context() -> Any:
    """``forkserver`` (a clean server process, the parser preloaded) where available,
    else ``spawn``: never ``fork``, which would copy the crawl's threads and sockets."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["scraper.parse"])
        return context
    return multiprocessing.get_context("spawn")
