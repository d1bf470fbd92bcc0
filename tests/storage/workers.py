"""Child-process bodies for the concurrency tests (spawned, so they open their own engines)."""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from sqlalchemy import event

from storage.content import ParsedDoc
from storage.engine import make_engine
from tests.storage.factories import Crawl, make_doc, no_reparse


def archive_edits(
    database_url: str,
    source_id: int,
    run_id: int,
    url: str,
    worker: int,
    edits: int,
    barrier: Barrier,
    results: Queue[tuple[int, str, int]],
) -> None:
    """Archive ``edits`` different contents of one page, racing the other worker."""
    engine = make_engine(database_url)
    crawl = Crawl(engine, source_id, run_id)
    barrier.wait()
    for edit in range(edits):
        result = crawl.page(url, make_doc(body=f"worker {worker} edit {edit}"))
        results.put((worker, result.outcome, result.version))
    engine.dispose()


def archive_same(
    database_url: str,
    source_id: int,
    run_id: int,
    urls: list[str],
    barrier: Barrier,
    results: Queue[tuple[str, str, int, bool]],
) -> None:
    """Archive the same content of each new page at the same moment as the other worker."""
    engine = make_engine(database_url)
    crawl = Crawl(engine, source_id, run_id)
    for url in urls:
        barrier.wait()
        result = crawl.page(url, make_doc())
        results.put((url, result.outcome, result.version, result.new_page))
    engine.dispose()


def archive_and_hang(
    database_url: str,
    source_id: int,
    run_id: int,
    url: str,
    where: str,
    inside: Event,
) -> None:
    """Start archiving a changed page and block inside the transaction until killed.

    ``where`` is ``sections`` (after the blob, page and version rows were written, while
    the sections are inserted) or ``reparse`` (while holding the page's lock).
    """
    engine = make_engine(database_url)
    crawl = Crawl(engine, source_id, run_id)

    def hang(*_: Any) -> None:
        inside.set()
        time.sleep(600)

    if where == "sections":

        def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if statement.startswith("INSERT INTO task_sections"):
                hang()

        event.listen(engine, "before_cursor_execute", before)
        crawl.page(url, make_doc(body="B"), reparse=no_reparse)
    else:

        def reparse(raw: bytes, content_type: str | None) -> ParsedDoc:
            hang()
            raise AssertionError("killed before this")

        crawl.page(url, make_doc(body="B"), parser_version="2", reparse=reparse)
