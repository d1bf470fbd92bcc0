"""Sources and crawl runs: counts come from the run's fetches rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from storage.archive import ensure_source, finish_run, mark_stale_runs, run_summary, start_run
from storage.errors import UnknownRecordError
from storage.models import RunStatus, Source
from tests.storage.factories import T0, Crawl, make_doc

BASE = "https://www.xuancheng.gov.cn/OpennessContent/show/"


def test_ensure_source_is_idempotent_and_updates_config(engine: Engine) -> None:
    first = ensure_source(engine, "xuancheng", config_json={"start_urls": ["a"]})
    again = ensure_source(engine, "xuancheng")
    updated = ensure_source(engine, "xuancheng", config_json={"start_urls": ["b"]})
    other = ensure_source(engine, "anqing")
    assert first == again == updated != other
    with engine.connect() as conn:
        stored = conn.execute(select(Source.config_json).where(Source.id == first)).scalar_one()
    assert stored == {"start_urls": ["b"]}
    with pytest.raises(ValueError, match="must not be empty"):
        ensure_source(engine, "  ")


def test_finish_run_counts_the_runs_fetches(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    old = crawl.page(BASE + "1.html", make_doc())  # a new page (version 1)
    crawl.page(BASE + "1.html", make_doc(body="changed"))  # new version of it
    crawl.page(BASE + "1.html", make_doc(body="changed"))  # unchanged
    crawl.page(BASE + "2.html", make_doc(body="another"))  # second new page
    crawl.fetch(BASE + "2.html", "not_modified")
    crawl.fetch(BASE + "3.html", "gone", http_status=404)
    crawl.fetch(BASE + "4.html", "error", error="timeout")
    crawl.fetch(BASE + "5.html", "blocked", http_status=412)
    crawl.fetch(BASE + "6.html", "skipped_robots")
    crawl.fetch(BASE + "7.html", "skipped_host_paused")
    crawl.fetch("https://www.xuancheng.gov.cn/list/page_1.html", "list_page", http_status=200)
    # Another run's fetches never count here.
    other_run = start_run(engine, crawl.source_id, now=T0)
    crawl.run_id, own_run = other_run, crawl.run_id
    crawl.fetch(BASE + "8.html", "error")

    summary = finish_run(engine, own_run, RunStatus.COMPLETED, now=T0 + timedelta(hours=1))
    assert summary.run_id == own_run and old.page_id
    assert (summary.status, summary.started_at, summary.finished_at) == (
        "completed",
        T0,
        T0 + timedelta(hours=1),
    )
    counts = (
        summary.pages_seen,
        summary.new_pages,
        summary.new_versions,
        summary.unchanged,
        summary.not_modified,
        summary.gone,
        summary.errors,
        summary.skipped,
    )
    assert counts == (7, 2, 3, 1, 1, 1, 2, 2)
    assert run_summary(engine, own_run) == summary


def test_mark_stale_runs_interrupts_only_running_runs_of_the_source(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(BASE + "1.html", make_doc())
    last_fetch = crawl.clock
    empty_run = start_run(engine, crawl.source_id, now=T0 + timedelta(days=1))
    done_run = start_run(engine, crawl.source_id, now=T0)
    finish_run(engine, done_run, RunStatus.COMPLETED, now=T0)
    other = Crawl.start(engine, "other")

    assert mark_stale_runs(engine, crawl.source_id) == 2
    stale = run_summary(engine, crawl.run_id)
    assert (stale.status, stale.finished_at, stale.new_versions) == ("interrupted", last_fetch, 1)
    empty = run_summary(engine, empty_run)
    assert (empty.status, empty.finished_at) == ("interrupted", T0 + timedelta(days=1))
    assert run_summary(engine, done_run).status == "completed"
    assert run_summary(engine, other.run_id).status == "running"
    assert mark_stale_runs(engine, crawl.source_id) == 0


def test_finish_run_refuses_bad_status_and_unknown_run(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with pytest.raises(ValueError, match="a run finishes as one of completed, failed"):
        finish_run(engine, crawl.run_id, RunStatus.RUNNING)
    with pytest.raises(UnknownRecordError, match="crawl run 999 does not exist"):
        finish_run(engine, 999, RunStatus.FAILED)
    with pytest.raises(UnknownRecordError, match="source 999 does not exist"):
        start_run(engine, 999)
