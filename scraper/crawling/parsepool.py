"""Parsing off the event loop, with a time limit per page: worker processes.

One crawl's event loop serves every source. The parser is pure Python on its walks, so a
page that costs it seconds (a hostile page at the size cap) would stall every source for
as long; in a thread it would still hold the GIL. :class:`ParserPool` hands each page to a
worker process (``multiprocessing`` with the ``forkserver`` start method, ``spawn`` where
that is missing: the crawl's threads and sockets are never forked) and gives it
``timeout`` seconds. A page that takes longer raises :class:`ParseTimeout`; its worker is
terminated (``Pool.terminate``) and a new one serves the next page, so the runaway work
does not go on, and the pages other workers hold are not disturbed.

What crosses the process boundary: the page's bytes, URL and headers one way, the
record of :func:`scraper.reader.read_page` (``PageRecord.to_dict()``: the storage-ready
``ParsedDoc``) the other; for an attachment (:meth:`ParserPool.extract`), its bytes one
way and its text the other; nothing else is shared. A worker that dies (killed, out of
memory) fails the page it held with the pool's error, and the pool replaces it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Mapping
from multiprocessing.pool import Pool
from types import TracebackType
from typing import Any

from scraper.errors import GovarchiveError
from scraper.reader import read_page

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
    """Read one detail response (:func:`scraper.reader.read_page`: a page parsed, a
    document's text extracted) and return ``PageRecord.to_dict()``: what a worker sends
    back."""
    return read_page(data, url=url, headers=headers).to_dict()


class ParserPool:
    """Worker processes that parse pages, each within a time limit.

    Each worker is a pool of its own (``multiprocessing.Pool(1)``), so a page past its
    limit stops only its own worker: the pages the others hold go on. A page waits for a
    free worker first; its time limit counts from when a worker takes it. Use as a context
    manager (``with ParserPool(2, 30.0) as pool``) so the processes end with the crawl.
    Workers start on first use. ``parse`` is the function the workers run (tests pass a
    slow one); it must be importable by name.
    """

    def __init__(
        self, workers: int, timeout: float, *, parse: ParseFunction = parse_to_dict
    ) -> None:
        if workers < 1 or timeout <= 0:
            raise ValueError(f"workers must be >= 1 and timeout > 0, not {workers}, {timeout}")
        self.workers = workers
        self.timeout = timeout
        self._parse = parse
        self._idle: list[_Worker] = [_Worker() for _ in range(workers)]
        self._free: asyncio.Semaphore | None = None

    async def parse(
        self,
        data: bytes,
        *,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Return the record (``to_dict()``) for one page.

        Raises :class:`ParseTimeout` when its worker needs more than ``timeout`` seconds
        (default: the pool's; that worker is then replaced), and re-raises what the
        worker raised otherwise.
        """
        limit = self.timeout if timeout is None else timeout
        args = (data, url, dict(headers) if headers else None)
        return await self._run(self._parse, args, url, limit)

    async def extract(
        self,
        data: bytes,
        *,
        url: str,
        content_type: str | None,
        filename: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        """Return the text of one attachment
        (:func:`scraper.extract.files.read_file_to_dict`), read by a worker within
        ``timeout`` seconds; raises :class:`ParseTimeout` past it, as :meth:`parse` does."""
        from scraper.extract.files import read_file_to_dict

        return await self._run(read_file_to_dict, (data, content_type, filename), url, timeout)

    async def _run(
        self, work: Callable[..., dict[str, Any]], args: tuple[Any, ...], url: str, limit: float
    ) -> dict[str, Any]:
        """Run ``work(*args)`` on a free worker within ``limit`` seconds (waiting for one
        first; the limit counts from when it takes the work)."""
        if self._free is None:
            self._free = asyncio.Semaphore(self.workers)
        async with self._free:
            worker = self._idle.pop()
            try:
                return await worker.run(work, args, url, limit)
            finally:
                self._idle.append(worker)

    def close(self) -> None:
        """End the worker processes (pages in flight are abandoned)."""
        for worker in self._idle:
            worker.stop()

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


class _Worker:
    """One worker process (a one-process ``multiprocessing.Pool``), started on first use
    and replaced when a page overruns its limit."""

    def __init__(self) -> None:
        self._pool: Pool | None = None

    async def run(
        self, parse: Callable[..., dict[str, Any]], args: tuple[Any, ...], url: str, limit: float
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()

        def resolve(result: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(_settle, done, result, None)

        def fail(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, None, error)

        if self._pool is None:
            self._pool = process_context().Pool(1)
        self._pool.apply_async(parse, args, callback=resolve, error_callback=fail)
        try:
            return await asyncio.wait_for(done, limit)
        except TimeoutError:
            self.stop()
            raise ParseTimeout(url, limit) from None

    def stop(self) -> None:
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


def process_context() -> Any:
    """``forkserver`` (a clean server process, the parser preloaded) where available,
    else ``spawn``: never ``fork``, which would copy the crawl's threads and sockets."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["scraper.reader"])
        return context
    return multiprocessing.get_context("spawn")
