"""scraper.fetching.ratelimit: request spacing per host."""

from __future__ import annotations

import pytest

from scraper.fetching.ratelimit import HostRateLimiter, min_interval


@pytest.mark.parametrize(
    ("rps", "crawl_delay", "expected"),
    [
        (1.0, None, 1.0),
        (4.0, None, 0.25),
        (1.0, 5.0, 5.0),  # robots.txt may slow us down
        (1.0, 0.2, 1.0),  # but never speed us up
        (float("inf"), None, 0.0),  # politeness off (benchmark)
        (float("inf"), 2.0, 2.0),
        (0.0, None, 0.0),
    ],
)
def test_min_interval(rps: float, crawl_delay: float | None, expected: float) -> None:
    assert min_interval(rps, crawl_delay) == expected


def test_wait_time_per_host() -> None:
    limiter = HostRateLimiter()
    assert limiter.wait_time("a.gov.cn", 10.0) == 0.0
    limiter.take("a.gov.cn", 10.0, 2.0)
    assert limiter.wait_time("a.gov.cn", 10.5) == 1.5
    assert limiter.wait_time("a.gov.cn", 12.0) == 0.0
    assert limiter.wait_time("a.gov.cn", 13.0) == 0.0
    assert limiter.wait_time("b.gov.cn", 10.5) == 0.0  # hosts are independent
    limiter.take("a.gov.cn", 13.0, 0.5)
    assert limiter.wait_time("a.gov.cn", 13.25) == 0.25


def test_the_interval_also_counts_from_the_end_of_a_request() -> None:
    """A request that took its slot at 10.0 but ended at 10.8 (sent late, or slow to
    answer): the next one waits a whole interval from 10.8, so the server never sees two
    requests closer than the interval, however late the first was sent."""
    limiter = HostRateLimiter()
    limiter.take("a.gov.cn", 10.0, 1.0)
    limiter.finished("a.gov.cn", 10.8, 1.0)
    assert limiter.wait_time("a.gov.cn", 11.0) == pytest.approx(0.8)
    # an earlier end never shortens the wait another request's start asked for
    limiter.take("a.gov.cn", 12.0, 1.0)
    limiter.finished("a.gov.cn", 11.5, 1.0)
    assert limiter.wait_time("a.gov.cn", 12.0) == 1.0
