"""Parsing off the event loop, with a time limit per page: worker processes.

One crawl's event loop serves every source. The parser is pure Python on its walks, so a
page that costs it seconds (a hostile page at the size cap) would stall every source for
as long; in a thread it would still hold the GIL. :class:`ParserPool` hands each page to a
worker process (``multiprocessing`` with the ``forkserver`` start method, ``spawn`` where
that is missing: the crawl's threads and sockets are never forked) and gives it
``timeout`` seconds. A page that takes longer raises :class:`ParseTimeout`; its worker is
terminated and a new one serves the next page, so the runaway work does not go on, and
the pages other workers hold are not disturbed.

What crosses the process boundary: the page's bytes, URL and headers one way, the
record of :func:`scraper.reader.read_page` (``PageRecord.to_dict()``: the storage-ready
``ParsedDoc``) the other; for an attachment (:meth:`ParserPool.extract`), its bytes one
way and its text the other; nothing else is shared. A worker that dies (killed, out of
memory) fails the page it held with :class:`ParserWorkerDied`, and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import signal
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
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


class ParserWorkerDied(GovarchiveError):
    """A parser worker process ended (killed, out of memory) with a page in hand."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"{url}: the parser worker process died; it was replaced")


def parse_to_dict(
    data: bytes, url: str | None, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """Read one detail response (:func:`scraper.reader.read_page`: a page parsed, a
    document's text extracted) and return ``PageRecord.to_dict()``: what a worker sends
    back."""
    return read_page(data, url=url, headers=headers).to_dict()


class ParserPool:
    """Worker processes that parse pages, each within a time limit.

    Each worker is a process of its own, so a page past its limit stops only its own
    worker: the pages the others hold go on. A page waits for a
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
    """One worker process fed over a pipe: started on first use, replaced when a page
    overruns its limit, when it dies, or when the page it holds is abandoned.

    Not a ``multiprocessing.Pool``: a pool keeps three threads of its own, and with one
    page in flight each finished page woke its worker-handler thread into a poll of the
    pool's sentinels. That cost ~0.4 ms of the crawl process's CPU per page (a py-spy
    profile of bench/crawl.py); here the event loop reads the answer when the pipe is
    readable, with no thread at all.
    """

    def __init__(self) -> None:
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    async def run(
        self, work: Callable[..., dict[str, Any]], args: tuple[Any, ...], url: str, limit: float
    ) -> dict[str, Any]:
        """Return ``work(*args)`` as computed by the worker within ``limit`` seconds."""
        conn = self._conn if self._conn is not None else self._start()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        try:
            # A blocking send on the loop: the worker is idle and reading, so a page
            # within the pipe's buffer (~200 KB on Linux) goes at once, and a larger one
            # as fast as the worker copies it.
            conn.send((work, args))
        except (OSError, ValueError):  # the worker died while idle
            self.stop()
            raise ParserWorkerDied(url) from None
        loop.add_reader(conn.fileno(), _receive, conn, answer)
        try:
            ok, value = await asyncio.wait_for(answer, limit)
        except TimeoutError:
            self.stop()
            raise ParseTimeout(url, limit) from None
        except (EOFError, OSError):
            self.stop()
            raise ParserWorkerDied(url) from None
        except BaseException:  # the caller gave up: the page's answer must not be
            self.stop()  # read as the next page's
            raise
        finally:
            if self._conn is conn:
                loop.remove_reader(conn.fileno())
        if not ok:
            raise value
        result: dict[str, Any] = value
        return result

    def _start(self) -> Connection:
        context = process_context()
        ours: Connection
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()  # the child holds its end: EOF here when it dies
        self._conn = ours
        return ours

    def stop(self) -> None:
        """End the worker process (its work, if any, is abandoned)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: no loop
                asyncio.get_running_loop().remove_reader(conn.fileno())
            conn.close()
        if process is not None:
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()


def _receive(conn: Connection, answer: asyncio.Future[tuple[bool, Any]]) -> None:
    """On the loop, when the worker's pipe is readable: settle ``answer`` with what it
    sent, or with the EOFError/OSError that says it is gone."""
    if answer.done():
        return
    try:
        answer.set_result(conn.recv())
    except (EOFError, OSError) as exc:
        answer.set_exception(exc)
    except Exception as exc:  # an answer read whole but not rebuilt: fail the page now
        answer.set_exception(exc)


def _serve(conn: Connection) -> None:
    """A worker's life: answer each (work, args) with (True, result) or (False, the
    exception), until the crawl closes the pipe."""
    # Ctrl-C reaches the whole process group; the crawl decides when workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            work, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, work(*args))
        except Exception as exc:  # the crawl re-raises it for this page
            answer = (False, _portable(exc))
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an answer that cannot be pickled
            conn.send((False, RuntimeError(f"unpicklable parser answer: {exc!r}")))


def _portable(exc: Exception) -> Exception:
    """``exc`` if pickle can rebuild it in the crawl, else a RuntimeError naming it (an
    exception whose ``__init__`` takes other arguments than its ``args`` pickles but
    fails to unpickle)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def process_context() -> Any:
    """``forkserver`` (a clean server process, the parser preloaded) where available,
    else ``spawn``: never ``fork``, which would copy the crawl's threads and sockets."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["scraper.reader"])
        return context
    return multiprocessing.get_context("spawn")
