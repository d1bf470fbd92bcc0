"""``Crawl-delay: 100000`` is bounded by ``max_crawl_delay``, and says so (issue 16, finding 9).

A site's Crawl-delay is obeyed up to ``max_crawl_delay`` (default 60 s); above it
the cap is used and a WARNING names the host, the delay asked and the cap. Time is
fake: nothing here waits.
"""

from __future__ import annotations

import logging

import pytest

from scraper.settings import CrawlSettings
from tests.site.server import TestSite
from tests.test_fetch import ROBOTS, FakeTime, Recording, fetch_all, fetcher, run, with_


def starts(recording: Recording) -> list[tuple[float, str]]:
    return [(t - 1000.0, url.rsplit("/", 1)[1]) for t, url in recording.starts]


@pytest.mark.timeout(30)
def test_a_huge_crawl_delay_is_capped_at_the_default(
    site: TestSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.robots("User-agent: *\nCrawl-delay: 100000\n")
    for i in range(3):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    settings = with_(ROBOTS, requests_per_second=1.0, per_host_concurrency=1)
    assert settings.max_crawl_delay == CrawlSettings().max_crawl_delay == 60.0
    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        fetch_all(site, [f"/p{i}" for i in range(3)], settings, fake=fake, transport=recording)
    assert starts(recording) == [(0.0, "robots.txt"), (1.0, "p0"), (61.0, "p1"), (121.0, "p2")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{site.url('/robots.txt')}: robots.txt asks for Crawl-delay 100000 s; waiting "
        f"max_crawl_delay 60 s between requests to {site.host} instead"
    ]


def test_the_cap_is_a_setting(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 100000\n")
    for i in range(2):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    settings = with_(ROBOTS, requests_per_second=1.0, max_crawl_delay=5.0)
    fetch_all(site, ["/p0", "/p1"], settings, fake=fake, transport=recording)
    assert starts(recording) == [(0.0, "robots.txt"), (1.0, "p0"), (6.0, "p1")]


def test_an_infinite_crawl_delay_is_capped_too(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 1e999\n")
    for i in range(2):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    fetch_all(site, ["/p0", "/p1"], ROBOTS, fake=fake, transport=recording)
    times = [t for t, _ in starts(recording)]
    assert times[-1] - times[-2] == 60.0


def test_the_verdict_shows_the_cap(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 100000\nDisallow: /x\n")

    async def go() -> tuple[float | None, str]:
        async with fetcher(FakeTime()) as f:
            rules = await f.robots(site.url("/a"), ROBOTS)
            return rules.crawl_delay, rules.note

    assert run(go()) == (
        60.0,
        "robots.txt 200; Crawl-delay 100000 s capped at max_crawl_delay 60 s",
    )


def test_a_delay_under_the_cap_is_obeyed_as_asked(
    site: TestSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.robots("User-agent: *\nCrawl-delay: 30\n")
    for i in range(2):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    with caplog.at_level(logging.WARNING, logger="scraper.fetching.fetch"):
        fetch_all(site, ["/p0", "/p1"], ROBOTS, fake=fake, transport=recording)
    assert starts(recording)[-1][0] - starts(recording)[-2][0] == 30.0
    assert not caplog.records
