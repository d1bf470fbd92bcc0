"""Re-parsing many stored pages at once: a batch parsed across worker processes.

``govarchive reparse`` reads a batch of stored versions (500 by default) and must parse
every one before it can compare and write. The parser is pure Python and takes about a
millisecond a page, so one process re-parses at most ~1,000 versions a second however
many cores the machine has. :class:`BatchParser` is the ``parse_many`` of
:func:`storage.reparse.reparse`: it splits each batch over worker processes
(``concurrent.futures.ProcessPoolExecutor``, started on the first large batch, with
the same start method as the crawl's parser workers) and gives back the results in the
batch's order. Small batches, and ``workers=1``, are parsed in this process: starting
workers costs more than a few pages do.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from types import TracebackType
from typing import Any

from scraper.crawling.parsepool import process_context
from scraper.crawling.pipeline import reparse_raw
from storage.content import ParsedDoc
from storage.reparse import ParseFailed, ParseFn, parse_each

#: A batch smaller than this is parsed in this process.
MIN_PARALLEL_BATCH = 64


class BatchParser:
    """Parses batches of stored pages with ``parse`` (the crawl's
    :func:`~scraper.crawling.pipeline.reparse_raw` by default; a module-level function,
    so workers can import it) in up to ``workers`` processes. Use as a context manager,
    so the workers end with it."""

    def __init__(self, workers: int, parse: ParseFn = reparse_raw) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, not {workers}")
        self.workers = workers
        self._parse = parse
        self._pool: ProcessPoolExecutor | None = None
        self._here = parse_each(parse)

    def __call__(self, items: Sequence[tuple[bytes, str | None]]) -> list[ParsedDoc | Exception]:
        """Return each page's ParsedDoc, or the exception its parse raised (as
        :class:`~storage.reparse.ParseFailed` naming it, when raised in a worker), in
        the order of ``items``."""
        if self.workers == 1 or len(items) < MIN_PARALLEL_BATCH:
            return self._here(items)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=process_context())
        # A few chunks per worker: big enough that pickling is not per page, small
        # enough that a slow page does not leave the other workers idle at the end.
        chunk = max(1, len(items) // (self.workers * 4))
        outcomes = self._pool.map(partial(_parse_one, self._parse), items, chunksize=chunk)
        return [_result(outcome) for outcome in outcomes]

    def close(self) -> None:
        """Stop the worker processes (none were started for small batches)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> BatchParser:
        return self

    def __exit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


def _parse_one(parse: ParseFn, item: tuple[bytes, str | None]) -> tuple[bool, Any]:
    """In a worker: (True, the ParsedDoc) or (False, "ExceptionName: message"). The
    message travels instead of the exception: not every exception can be unpickled."""
    raw, content_type = item
    try:
        return True, parse(raw, content_type)
    except Exception as exc:  # reported per version by the re-parse, never raised
        return False, f"{type(exc).__name__}: {exc}"


def _result(outcome: tuple[bool, Any]) -> ParsedDoc | Exception:
    ok, value = outcome
    return value if ok else ParseFailed(value)
