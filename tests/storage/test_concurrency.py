"""Two real processes writing one page; a process killed inside the transaction."""

from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from storage.models import Blob, BlobDict, Fetch, FetchOutcome, Page, PageVersion, TaskSection
from tests.storage import workers
from tests.storage.factories import Crawl, make_doc

URL = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html"
SPAWN = multiprocessing.get_context("spawn")
EDITS = 8


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            model.__tablename__: int(
                conn.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (Page, PageVersion, TaskSection, Fetch, Blob, BlobDict)
        }


def run_children(target: Any, args_per_child: list[tuple[Any, ...]]) -> None:
    children = [SPAWN.Process(target=target, args=args) for args in args_per_child]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0, f"worker exited with {child.exitcode}"


def test_two_writers_never_duplicate_or_skip_version_numbers(
    engine: Engine, database_url: str
) -> None:
    crawl = Crawl.start(engine)
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    run_children(
        workers.archive_edits,
        [
            (database_url, crawl.source_id, crawl.run_id, URL, worker, EDITS, barrier, results)
            for worker in (1, 2)
        ],
    )
    got = [results.get(timeout=10) for _ in range(2 * EDITS)]
    assert all(outcome == "new_version" for _, outcome, _ in got)
    assert sorted(version for _, _, version in got) == list(range(1, 2 * EDITS + 1))
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT version, body_text FROM page_versions ORDER BY version")
        ).all()
    assert [v for v, _ in stored] == list(range(1, 2 * EDITS + 1))
    # Each worker's edits appear in its own order.
    for worker in (1, 2):
        mine = [body for _, body in stored if body.startswith(f"worker {worker} ")]
        assert mine == [f"worker {worker} edit {i}" for i in range(EDITS)]


def test_two_writers_of_the_same_new_content_make_one_version(
    engine: Engine, database_url: str
) -> None:
    crawl = Crawl.start(engine)
    urls = [f"{URL}?race={i}" for i in range(5)]
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    run_children(
        workers.archive_same,
        [(database_url, crawl.source_id, crawl.run_id, urls, barrier, results) for _ in (1, 2)],
    )
    got = [results.get(timeout=10) for _ in range(2 * len(urls))]
    for url in urls:
        outcomes = sorted((o, v, new) for u, o, v, new in got if u == url)
        assert outcomes == [("new_version", 1, True), ("unchanged", 1, False)]
    assert counts(engine)["pages"] == len(urls)
    assert counts(engine)["page_versions"] == len(urls)
    assert counts(engine)["fetches"] == 2 * len(urls)


@pytest.mark.parametrize(
    ("new_page", "where"),
    [(True, "sections"), (False, "sections"), (False, "reparse")],
    ids=["new-page-inside-writes", "existing-page-inside-writes", "existing-page-inside-reparse"],
)
def test_killed_transaction_leaves_nothing_and_a_rerun_writes_once(
    engine: Engine, database_url: str, new_page: bool, where: str
) -> None:
    crawl = Crawl.start(engine)
    if not new_page:
        crawl.page(URL, make_doc(body="A"))
    before = counts(engine)
    with engine.connect() as conn:
        pages_before = conn.execute(text("SELECT * FROM pages")).all()
        sources_before = conn.execute(text("SELECT * FROM sources")).all()

    inside = SPAWN.Event()
    child = SPAWN.Process(
        target=workers.archive_and_hang,
        args=(database_url, crawl.source_id, crawl.run_id, URL, where, inside),
    )
    child.start()
    try:
        assert inside.wait(timeout=60), "the child never reached the transaction"
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL

    engine.dispose()  # fresh connections, as a new process would have
    assert counts(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM pages")).all() == pages_before
        assert conn.execute(text("SELECT * FROM sources")).all() == sources_before

    rerun = crawl.page(URL, make_doc(body="B"))
    assert (rerun.outcome, rerun.version, rerun.new_page) == ("new_version", 2 - new_page, new_page)
    after = counts(engine)
    assert after["page_versions"] == before["page_versions"] + 1
    assert after["fetches"] == before["fetches"] + 1
    assert crawl.page(URL, make_doc(body="B")).outcome == FetchOutcome.UNCHANGED
