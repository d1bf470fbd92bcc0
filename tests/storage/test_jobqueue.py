"""storage.jobqueue: the queue procrastinate itself filled, read back with our SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage.engine import make_engine
from storage.jobqueue import JobQueue, QueueCounts, read_job_queue
from storage.migrate import upgrade
from tests.plugins.db import PostgresServer
from tests.storage.jobs import QUEUE, TASK, build_queue


def read(engine: Engine, **options: Any) -> JobQueue:
    queue = read_job_queue(engine, **options)
    assert queue is not None
    return queue


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_an_archive_at_head_has_a_job_queue_on_postgresql_only(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        assert read_job_queue(engine) is None
    else:
        queue = read(engine)
        assert (queue.counts, queue.queued, queue.running, queue.workers) == ((), (), (), ())


@pytest.fixture
def at_0003(postgres_server: PostgresServer) -> Iterator[Engine]:
    url = postgres_server.create_database("at0003")
    engine = make_engine(url)
    upgrade(engine, "0003")
    yield engine
    engine.dispose()
    postgres_server.drop_database(url)


@pytest.mark.postgres
def test_postgresql_without_procrastinate_tables_has_no_job_queue(at_0003: Engine) -> None:
    assert read_job_queue(at_0003) is None


@pytest.mark.postgres
def test_counts_jobs_and_workers(pg: Engine, postgres_url: str) -> None:
    made = build_queue(postgres_url)
    queue = read(pg)

    assert queue.counts == (
        QueueCounts(QUEUE, todo=2, doing=1, succeeded=1, failed=1, cancelled=1, aborted=0),
    )
    assert [(j.job_id, j.source, j.attempts, j.worker_id) for j in queue.queued] == [
        (made.queued, "epsilon", 0, None)
    ]
    assert [(j.job_id, j.source, j.task, j.worker_id) for j in queue.running] == [
        (made.running, "delta", TASK, made.worker)
    ]
    assert [(f.job_id, f.source, f.attempts) for f in queue.failed] == [
        (made.failed, "fail-gamma", 1)
    ]
    assert [(w.worker_id, w.stale) for w in queue.workers] == [
        (made.worker, False),
        (made.stale_worker, True),
    ]
    for job in (*queue.queued, *queue.running):
        assert job.since is not None and job.since <= queue.checked_at
    failed_at = queue.failed[0].failed_at
    assert failed_at is not None and failed_at <= queue.checked_at


@pytest.mark.postgres
def test_a_retry_waits_as_todo_with_its_attempts_and_next_try(
    pg: Engine, postgres_url: str
) -> None:
    """procrastinate's worker put the failed attempt back (procrastinate_retry_job_v2):
    todo, attempts 1, scheduled an hour on (the test task's retry wait)."""
    made = build_queue(postgres_url)
    queue = read(pg)
    assert [(j.job_id, j.source, j.attempts) for j in queue.retrying] == [
        (made.retrying, "fail-beta", 1)
    ]
    retry = queue.retrying[0]
    assert retry.scheduled_at is not None and retry.since is not None
    wait = retry.scheduled_at - retry.since
    assert timedelta(minutes=59) < wait <= timedelta(hours=1)
    assert retry.job_id not in {j.job_id for j in queue.queued}
    with pg.connect() as conn:
        events = conn.execute(
            text("SELECT CAST(type AS text) FROM procrastinate_events WHERE job_id = :id"),
            {"id": made.retrying},
        ).scalars()
        assert "deferred_for_retry" in list(events)


@pytest.mark.postgres
def test_failures_are_limited_to_the_window_and_the_limit(pg: Engine, postgres_url: str) -> None:
    made = build_queue(postgres_url)
    assert read(pg, failed_limit=0).failed == ()
    with pg.begin() as conn:
        conn.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - interval '8 days' "
                "WHERE job_id = :id AND type = 'failed'"
            ),
            {"id": made.failed},
        )
    assert read(pg).failed == ()
    assert [f.job_id for f in read(pg, failed_within=timedelta(days=9)).failed] == [made.failed]


@pytest.mark.postgres
def test_staleness_follows_the_given_seconds(pg: Engine, postgres_url: str) -> None:
    made = build_queue(postgres_url)
    workers = read(pg, stale_after=600.0).workers
    assert [(w.worker_id, w.stale) for w in workers] == [
        (made.worker, False),
        (made.stale_worker, False),
    ]


@pytest.mark.postgres
def test_a_running_job_whose_worker_was_pruned_has_no_worker(pg: Engine, postgres_url: str) -> None:
    """A dead worker is deleted by the others (procrastinate_prune_stalled_workers_v1); its
    job stays doing with worker_id null (ON DELETE SET NULL): a stalled job."""
    made = build_queue(postgres_url)
    with pg.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_workers WHERE id = :id"), {"id": made.worker})
    queue = read(pg)
    assert [(j.job_id, j.worker_id) for j in queue.running] == [(made.running, None)]
    assert [w.worker_id for w in queue.workers] == [made.stale_worker]
