"""Long waits before a retry are said, and ``parse URL`` does not wait them (issue 16, finding 10).

A 429 or 503 with ``Retry-After: 100000`` makes a crawl wait ``max_retry_after`` (it
always did); the wait is now logged at WARNING with the URL and the delay. A fetch
with a retry budget (``govarchive parse``) gives up instead of waiting past it, and
its error says what the server asked for. Time is fake except in the CLI test, which
must not wait at all.
"""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.fetching.fetch import LONG_WAIT_SECONDS, Fetcher
from scraper.fetching.response import FetchKind, FetchResult
from tests.site.server import TestSite
from tests.test_fetch import FAST, FakeTime, fetch_one, run


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_long_retry_wait_is_announced_with_url_and_delay(
    site: TestSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.flaky("/a", "ok", status=429, retry_after="100000")
    fake = FakeTime()
    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        result = fetch_one(site, "/a", FAST, fake=fake)
    assert result.kind is FetchKind.OK
    assert fake.sleeps == [300.0]  # max_retry_after, as before
    assert warnings(caplog) == [
        f"{site.url('/a')}: HTTP 429; waiting 300.0 s before retry 1/3 "
        "(Retry-After asked 100000 s; capped at max_retry_after)"
    ]


def test_a_short_retry_wait_is_not_a_warning(
    site: TestSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.flaky("/a", "ok", status=503, retry_after=f"{LONG_WAIT_SECONDS:g}")
    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        assert fetch_one(site, "/a", FAST).kind is FetchKind.OK
    assert warnings(caplog) == []
    assert any("waiting 5.0 s before retry 1/3" in r.getMessage() for r in caplog.records)


def budget_fetch(site: TestSite, path: str, budget: float, fake: FakeTime) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(
            user_agent=FAST.user_agent,
            max_concurrency=1,
            sleep=fake.sleep,
            clock=fake.clock,
            wall_clock=fake.wall,
            retry_budget=budget,
        ) as f:
            return await f.fetch(site.url(path), FAST, allowed_hosts=(site.host,))

    return run(go())


def test_a_retry_budget_gives_up_rather_than_wait_past_it(site: TestSite) -> None:
    site.flaky("/a", "ok", failures=10, status=429, retry_after="100000")
    fake = FakeTime()
    result = budget_fetch(site, "/a", 10.0, fake)
    assert result.kind is FetchKind.ERROR
    assert fake.sleeps == []
    assert site.hits("/a") == 1
    assert result.error == (
        "HTTP 429; gave up after 1 attempt rather than wait the 100000 s its Retry-After "
        "asks before a retry (this command waits 10 s at most)"
    )


def test_a_retry_budget_counts_every_wait(site: TestSite) -> None:
    site.flaky("/a", "ok", failures=10, status=503, retry_after="4")
    fake = FakeTime()
    result = budget_fetch(site, "/a", 10.0, fake)
    assert fake.sleeps == [4.0, 4.0]  # a third wait would make 12 s
    assert site.hits("/a") == 3
    assert result.kind is FetchKind.ERROR
    assert result.error == (
        "HTTP 503; gave up after 3 attempts rather than wait the 4 s its Retry-After "
        "asks before a retry (this command waits 10 s at most)"
    )


def test_short_waits_within_the_budget_are_made(site: TestSite) -> None:
    site.flaky("/a", "ok", failures=1, status=503, retry_after="2")
    fake = FakeTime()
    assert budget_fetch(site, "/a", 10.0, fake).kind is FetchKind.OK
    assert fake.sleeps == [2.0]


@pytest.mark.timeout(30)
def test_parse_url_of_a_429_with_a_huge_retry_after_does_not_wait(site: TestSite) -> None:
    site.flaky("/a.html", "<p>x</p>", failures=1000, status=429, retry_after="100000")
    result = CliRunner().invoke(cli, ["parse", site.url("/a.html")])
    assert result.exit_code == 1
    assert site.url("/a.html") in result.stderr
    assert "Retry-After" in result.stderr and "100000 s" in result.stderr
    assert "gave up" in result.stderr
    assert site.hits("/a.html") == 1
