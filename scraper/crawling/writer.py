"""Archive writes off the event loop: the crawl's database calls run in threads.

A crawl's event loop serves every source of a daemon or worker at once, and a page's
archive write (hash, compress, one transaction with several statements) takes a few
milliseconds; made on the loop, it stalls every fetch and rate-limit timer meanwhile.
:class:`ArchiveWriter` runs each storage call in a thread of its own small pool and
hands the result back to the loop. Each call is still one :mod:`storage` function, so
each page is still written in one transaction: this moves the transaction, it never
splits it.

Why threads and not an async driver: storage is synchronous SQLAlchemy, shared with
the CLI, re-parse and export, and SQLite has no async driver worth the name. Why a
small pool and not ``asyncio.to_thread``: the default executor is shared with
everything else, and the number of concurrent writers is a property of the database —
SQLite takes one writer at a time (more threads would only wait on its lock), while a
PostgreSQL archive takes several (bounded below the engine's connection pool).

A caller cancelled while its write runs does not cancel the write: the thread finishes
the transaction (committed or rolled back as a whole), and :meth:`ArchiveWriter.drain`
waits for such writes before a run is closed or the writer shut down.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine

P = ParamSpec("P")
T = TypeVar("T")

#: Threads writing to a PostgreSQL archive at once (the engine's pool holds 5 + 10).
POSTGRES_WRITERS = 4


def writer_threads(engine: Engine) -> int:
    """Return how many threads should write to ``engine``'s database at once. Pure.

    One for SQLite (it has a single writer; more threads would queue on its lock),
    :data:`POSTGRES_WRITERS` for PostgreSQL.
    """
    return 1 if engine.dialect.name == "sqlite" else POSTGRES_WRITERS


class ArchiveWriter:
    """Runs storage calls in ``threads`` threads; ``threads=0`` runs them on the loop.

    ``threads=0`` is the old behaviour (the call blocks the loop), kept for the bench
    that measures what the threads buy and for callers without a loop to protect.
    Use :meth:`call` from the event loop; :meth:`close` (or ``with``) when done.
    """

    def __init__(self, threads: int) -> None:
        if threads < 0:
            raise ValueError(f"threads must be >= 0, not {threads}")
        self.threads = threads
        self._pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="govarchive-writer") if threads else None
        )
        self._pending: set[asyncio.Future[Any]] = set()

    @classmethod
    def for_engine(cls, engine: Engine) -> ArchiveWriter:
        """Return a writer sized for ``engine``'s database (:func:`writer_threads`)."""
        return cls(writer_threads(engine))

    def start(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Start ``fn(*args, **kwargs)`` in a writer thread; return its future.

        Await it through :func:`asyncio.shield` (as :meth:`call` does), so a cancelled
        caller leaves the write to finish in its thread. With ``threads=0`` the call
        runs now, on the loop, and the future is already done.
        """
        loop = asyncio.get_running_loop()
        if self._pool is None:
            done: asyncio.Future[T] = loop.create_future()
            try:
                done.set_result(fn(*args, **kwargs))
            except Exception as exc:
                done.set_exception(exc)
            return done
        future = loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        self._pending.add(future)
        future.add_done_callback(self._settled)
        return future

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Return ``fn(*args, **kwargs)``, run in a writer thread.

        Raises what ``fn`` raises. If the awaiting task is cancelled, the call still
        runs to its end in its thread (see :meth:`drain`).
        """
        return await asyncio.shield(self.start(fn, *args, **kwargs))

    async def drain(self, futures: Iterable[asyncio.Future[Any]] | None = None) -> None:
        """Wait for ``futures`` (default: every write started so far), including those
        whose caller was cancelled. Their errors are not raised here: their callers saw
        them, or were cancelled and gave them up."""
        while True:
            waiting = {f for f in (self._pending if futures is None else futures) if not f.done()}
            if not waiting:
                return
            await asyncio.wait(waiting)

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if not future.cancelled():
            future.exception()  # marks it seen: a cancelled caller's error is not "lost"

    def close(self) -> None:
        """Wait for the threads' writes to end and stop the threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
