"""scraper.scheduling.tasks: the pure decisions behind crawl jobs (no database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from procrastinate.jobs import Job

from scraper.config import config_from_mapping
from scraper.errors import ConfigError
from scraper.scheduling.tasks import (
    CRAWL_TASK,
    CrawlInterrupted,
    CrawlRetry,
    SourceRunFailed,
    UnknownSource,
    conninfo,
    host_groups,
    host_lock,
    queueing_lock,
    retry_wait,
)
from scraper.settings import WorkerSettings
from storage.runs import utcnow


def _config(sources: list[dict[str, Any]], **top: Any) -> Any:
    document = {
        "sources": [{"detail_links": "a", "schedule": "0 3 * * *", **s} for s in sources],
        **top,
    }
    return config_from_mapping(document)


def _hosts(names: str) -> list[str]:
    return [f"{name}.gov.cn" for name in names.split()]


def test_sources_sharing_a_host_directly_or_through_others_share_one_lock() -> None:
    config = _config(
        [
            {"name": "a", "start_urls": ["http://b.gov.cn/1"]},
            {"name": "b", "start_urls": ["http://b.gov.cn/2"]},
            # c reaches z.gov.cn and c.gov.cn; d reaches c.gov.cn: all one group with a, b?
            # no: a and b are on b.gov.cn only
            {
                "name": "c",
                "start_urls": ["http://z.gov.cn/1"],
                "allowed_hosts": ["z.gov.cn", "c.gov.cn"],
            },
            {"name": "d", "start_urls": ["http://c.gov.cn/1"]},
            {"name": "e", "start_urls": ["http://e.gov.cn/1"]},
        ]
    )
    groups = host_groups(config.sources)
    assert groups == {"a": "b.gov.cn", "b": "b.gov.cn", "c": "c.gov.cn", "d": "c.gov.cn",
                      "e": "e.gov.cn"}  # fmt: skip


def test_a_chain_of_shared_hosts_is_one_group_named_by_its_smallest_host() -> None:
    config = _config(
        [
            {
                "name": "x",
                "start_urls": ["http://m.gov.cn/"],
                "allowed_hosts": ["m.gov.cn", "q.gov.cn"],
            },
            {
                "name": "y",
                "start_urls": ["http://q.gov.cn/"],
                "allowed_hosts": ["q.gov.cn", "k.gov.cn"],
            },
            {
                "name": "w",
                "start_urls": ["http://k.gov.cn/"],
                "allowed_hosts": ["k.gov.cn", "a.gov.cn"],
            },
        ]
    )
    # every process reading the same config names the group alike, in any source order
    assert set(host_groups(config.sources).values()) == {"a.gov.cn"}
    assert host_groups(reversed(config.sources)) == host_groups(config.sources)


def test_lock_names() -> None:
    assert queueing_lock("xuancheng-ndzdgz") == "source:xuancheng-ndzdgz"
    assert host_lock("www.xuancheng.gov.cn") == "host:www.xuancheng.gov.cn"


def test_retry_waits_double_until_the_attempts_are_used() -> None:
    settings = WorkerSettings(max_attempts=4, retry_wait_seconds=60)
    assert [retry_wait(n, settings) for n in range(4)] == [60.0, 120.0, 240.0, None]
    assert retry_wait(0, WorkerSettings(max_attempts=1)) is None


def test_conninfo_drops_the_sqlalchemy_driver_and_keeps_the_password() -> None:
    url = "postgresql+psycopg://crawler:s3cret@db.example:5433/archive?sslmode=require"
    assert conninfo(url) == "postgresql://crawler:s3cret@db.example:5433/archive?sslmode=require"


def _job(attempts: int) -> Job:
    return Job(id=7, queue="crawl", lock=None, queueing_lock=None, task_name=CRAWL_TASK,
               attempts=attempts, task_kwargs={"source": "s"})  # fmt: skip


def test_retry_decisions() -> None:
    strategy = CrawlRetry(WorkerSettings(max_attempts=3, retry_wait_seconds=30))
    before = utcnow()
    failed = strategy.get_retry_decision(exception=SourceRunFailed("x"), job=_job(0))
    assert failed is not None and failed.retry_at is not None
    assert timedelta(seconds=29) < failed.retry_at - before < timedelta(seconds=40)
    later = strategy.get_retry_decision(exception=SourceRunFailed("x"), job=_job(1))
    assert later is not None and later.retry_at is not None
    assert timedelta(seconds=59) < later.retry_at - before < timedelta(seconds=70)
    assert strategy.get_retry_decision(exception=SourceRunFailed("x"), job=_job(2)) is None
    # a stopping worker's job goes back at once, however often it was interrupted
    interrupted = strategy.get_retry_decision(exception=CrawlInterrupted("x"), job=_job(9))
    assert interrupted is not None and interrupted.retry_at is not None
    assert interrupted.retry_at - before < timedelta(seconds=5)
    # a source the worker's config lacks will not appear by retrying
    assert strategy.get_retry_decision(exception=UnknownSource("x"), job=_job(0)) is None


def test_workers_section_is_validated() -> None:
    base = [{"name": "a", "start_urls": ["http://a.gov.cn/"]}]
    config = _config(base, workers={"enabled": True, "concurrency": 50})
    assert config.workers == WorkerSettings(enabled=True, concurrency=50)
    with pytest.raises(ConfigError, match="workers: concurrency: must be >= 1"):
        _config(base, workers={"concurrency": 0})
    with pytest.raises(ConfigError, match="did you mean 'max_attempts'"):
        _config(base, workers={"max_attempt": 2})
    with pytest.raises(ConfigError, match="stalled_after_seconds: must be longer than"):
        _config(base, workers={"heartbeat_seconds": 30, "stalled_after_seconds": 30})
