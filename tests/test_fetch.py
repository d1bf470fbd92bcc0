"""scraper.fetching.fetch against the real local test site (and httpx.MockTransport where clearer).

Waits never happen for real: the Fetcher gets a fake clock and a fake sleep that
only advances that clock, and a recording transport notes the fake time at which
each request starts. Only timeouts use real (sub-second) time.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import logging
import socket
import threading
import zlib
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from scraper.fetching.fetch import (
    IDLE_CLIENT_SECONDS,
    MAX_REDIRECTS,
    ROBOTS_MAX_AGE_SECONDS,
    Fetcher,
    fetch_once,
)
from scraper.fetching.response import FetchKind, FetchResult
from scraper.settings import CrawlSettings
from tests.site import pages
from tests.site.server import Request, Response, TestSite

T = TypeVar("T")
UA = "govarchive-test/1.0 (+https://example.org/)"
NOW = datetime(2024, 5, 6, 8, 0, 0, tzinfo=UTC)
FAST = CrawlSettings(
    user_agent=UA,
    requests_per_second=float("inf"),
    per_host_concurrency=8,
    timeout=5.0,
    retries=3,
    backoff_base=1.0,
    max_retry_after=300.0,
    respect_robots_txt=False,
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the network, noting (fake time, URL) as each one starts."""

    def __init__(self, clock: Callable[[], float], inner: httpx.AsyncBaseTransport | None = None):
        self.clock = clock
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.starts: list[tuple[float, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.starts.append((self.clock(), str(request.url)))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def fetcher(
    fake: FakeTime, *, max_concurrency: int = 8, transport: httpx.AsyncBaseTransport | None = None
) -> Fetcher:
    return Fetcher(
        user_agent=UA,
        max_concurrency=max_concurrency,
        transport=transport,
        sleep=fake.sleep,
        clock=fake.clock,
        wall_clock=fake.wall,
    )


def fetch_all(
    site: TestSite,
    paths: list[str],
    settings: CrawlSettings = FAST,
    *,
    fake: FakeTime | None = None,
    allowed: tuple[str, ...] = (),
    transport: httpx.AsyncBaseTransport | None = None,
    max_concurrency: int = 8,
    concurrent: bool = False,
    **kwargs: Any,
) -> list[FetchResult]:
    """Fetch the paths in order (or all at once) with one Fetcher; return the results."""
    fake = fake or FakeTime()

    async def go() -> list[FetchResult]:
        async with fetcher(fake, max_concurrency=max_concurrency, transport=transport) as f:
            calls = [
                f.fetch(site.url(p), settings, allowed_hosts=allowed or (site.host,), **kwargs)
                for p in paths
            ]
            if concurrent:
                return list(await asyncio.gather(*calls))
            return [await call for call in calls]

    return run(go())


def fetch_one(
    site: TestSite, path: str, settings: CrawlSettings = FAST, **kwargs: Any
) -> FetchResult:
    return fetch_all(site, [path], settings, **kwargs)[0]


def with_(settings: CrawlSettings = FAST, **changes: Any) -> CrawlSettings:
    from dataclasses import replace

    return replace(settings, **changes)


# -- plain fetches ----------------------------------------------------------------------


def test_ok_page(site: TestSite) -> None:
    body = pages.document(encoding="gbk")
    site.add("/art/2024/5/6/art_1_1.html", body, content_type="text/html", etag='"v1"')
    result = fetch_one(site, "/art/2024/5/6/art_1_1.html")
    assert result.kind is FetchKind.OK
    assert result.status == 200
    assert result.body == body
    assert result.url == result.final_url == site.url("/art/2024/5/6/art_1_1.html")
    assert result.attempts == 1
    assert result.error is None
    assert result.etag == '"v1"'
    assert result.content_type == "text/html"
    assert all(name == name.lower() for name in result.headers)
    assert result.requested_at == NOW
    (request,) = site.requests
    assert request.headers["user-agent"] == UA
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "cookie" not in request.headers


def test_url_is_normalised_before_fetching(site: TestSite) -> None:
    site.add("/a.html", "x")
    result = run(_fetch_url(f"HTTP://{site.host}/b/../a.html#top"))
    assert result.kind is FetchKind.OK
    assert result.url == site.url("/a.html")
    assert site.requests[0].path == "/a.html"


async def _fetch_url(url: str, settings: CrawlSettings = FAST) -> FetchResult:
    async with fetcher(FakeTime()) as f:
        return await f.fetch(url, settings, allowed_hosts=())


def test_source_user_agent_is_sent(site: TestSite) -> None:
    site.add("/", "home")
    fetch_one(site, "/", with_(user_agent="other-bot/2"))
    assert site.requests[0].headers["user-agent"] == "other-bot/2"


def test_cookies_are_not_replayed(site: TestSite) -> None:
    site.add("/a", "a", headers={"Set-Cookie": "JSESSIONID=abc; Path=/"})
    site.add("/b", "b")
    fetch_all(site, ["/a", "/b"])
    assert "cookie" not in site.requests_to("/b")[0].headers


def test_gzip_body_is_decompressed(site: TestSite) -> None:
    body = pages.document()
    site.add("/gz", body, gzip=True)
    result = fetch_one(site, "/gz")
    assert result.kind is FetchKind.OK
    assert result.body == body
    assert result.headers["content-encoding"] == "gzip"


def test_chunked_body(site: TestSite) -> None:
    site.add_handler(
        "/chunked", lambda r: Response(chunks=[b"<html>", "正文".encode(), b"</html>"])
    )
    result = fetch_one(site, "/chunked")
    assert result.kind is FetchKind.OK
    assert result.body == "<html>正文</html>".encode()


def test_fallback_route_serves_generated_pages(site: TestSite) -> None:
    site.fallback(lambda r: Response(f"page {r.path}".encode()))
    site.add("/fixed", "fixed")
    a, fixed = fetch_all(site, ["/gen/1.html?x=1", "/fixed"])
    assert a.body == b"page /gen/1.html?x=1"
    assert fixed.body == b"fixed"
    site.fallback(None)
    assert fetch_one(site, "/gen/2.html").kind is FetchKind.GONE


def test_bad_urls_make_no_request(site: TestSite) -> None:
    result = run(_fetch_url("javascript:void(0)"))
    assert result.kind is FetchKind.ERROR
    assert result.attempts == 0
    assert result.error == "not an http(s) URL"
    assert site.requests == []


def test_url_off_the_allowed_hosts_is_not_fetched(site: TestSite) -> None:
    site.add("/", "x")
    result = fetch_one(site, "/", allowed=("www.xuancheng.gov.cn",))
    assert result.kind is FetchKind.OFFSITE
    assert result.attempts == 0
    assert site.requests == []


def test_empty_allowed_hosts_fall_back_to_settings_then_own_host(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    other = site_factory()
    other.add("/x", "x")
    site.redirect("/r", other.url("/x"))

    async def go(settings: CrawlSettings) -> FetchResult:
        async with fetcher(FakeTime()) as f:
            return await f.fetch(site.url("/r"), settings, allowed_hosts=[])

    assert run(go(FAST)).kind is FetchKind.OFFSITE
    assert run(go(with_(allowed_hosts=(site.host, other.host)))).kind is FetchKind.OK


# -- conditional requests ---------------------------------------------------------------


def test_etag_gives_not_modified(site: TestSite) -> None:
    site.add("/doc", "v1", etag='"abc"')
    result = fetch_one(site, "/doc", etag='"abc"')
    assert result.kind is FetchKind.NOT_MODIFIED
    assert result.status == 304
    assert result.body is None
    assert result.etag == '"abc"'
    assert site.requests[0].headers["if-none-match"] == '"abc"'
    assert "if-modified-since" not in site.requests[0].headers


def test_last_modified_gives_not_modified(site: TestSite) -> None:
    stamp = "Mon, 06 May 2024 08:00:00 GMT"
    site.add("/doc", "v1", last_modified=stamp)
    result = fetch_one(site, "/doc", last_modified=stamp)
    assert result.kind is FetchKind.NOT_MODIFIED
    assert site.requests[0].headers["if-modified-since"] == stamp
    assert result.last_modified == stamp


def test_changed_page_answers_200_to_old_validators(site: TestSite) -> None:
    site.add("/doc", "v2", etag='"new"', last_modified="Tue, 07 May 2024 08:00:00 GMT")
    result = fetch_one(site, "/doc", etag='"old"', last_modified="Mon, 06 May 2024 08:00:00 GMT")
    assert result.kind is FetchKind.OK
    assert result.body == b"v2"
    assert result.etag == '"new"'


def test_no_validators_no_conditional_headers(site: TestSite) -> None:
    site.add("/doc", "v1", etag='"abc"')
    fetch_one(site, "/doc")
    headers = site.requests[0].headers
    assert "if-none-match" not in headers and "if-modified-since" not in headers


# -- robots.txt -------------------------------------------------------------------------

ROBOTS = with_(FAST, respect_robots_txt=True)


def test_robots_disallow_makes_no_request(site: TestSite) -> None:
    site.robots("User-agent: *\nDisallow: /admin/\n")
    site.add("/admin/secret.html", "no")
    site.add("/public.html", "yes")
    blocked, ok = fetch_all(site, ["/admin/secret.html", "/public.html"], ROBOTS)
    assert blocked.kind is FetchKind.ROBOTS
    assert blocked.attempts == 0
    assert blocked.body is None
    assert "disallowed by robots.txt" in (blocked.error or "")
    assert ok.kind is FetchKind.OK
    assert site.hits("/admin/secret.html") == 0
    assert [r.path for r in site.requests] == ["/robots.txt", "/public.html"]


def test_robots_fetched_once_per_host_even_concurrently(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    other = site_factory()
    for s in (site, other):
        s.robots("User-agent: *\nDisallow: /x\n")
        for i in range(5):
            s.add(f"/p{i}", "p")
    fake = FakeTime()

    async def go() -> list[FetchResult]:
        async with fetcher(fake) as f:
            allowed = (site.host, other.host)
            calls = [
                f.fetch(s.url(f"/p{i}"), ROBOTS, allowed_hosts=allowed)
                for i in range(5)
                for s in (site, other)
            ]
            first = await asyncio.gather(*calls)
            again = await f.fetch(site.url("/p0"), ROBOTS, allowed_hosts=allowed)
            return [*first, again]

    results = run(go())
    assert {r.kind for r in results} == {FetchKind.OK}
    assert site.hits("/robots.txt") == 1
    assert other.hits("/robots.txt") == 1


def test_robots_is_read_again_after_a_day_by_a_long_lived_fetcher(site: TestSite) -> None:
    """A daemon's Fetcher lives for weeks: a site that opens or closes a path is obeyed
    within a day (RFC 9309 2.4), not only after a restart."""
    site.robots("User-agent: *\nDisallow: /x\n")
    site.add("/x", "x")
    fake = FakeTime()

    async def go() -> list[FetchResult]:
        async with fetcher(fake) as f:
            first = await f.fetch(site.url("/x"), ROBOTS, allowed_hosts=(site.host,))
            fake.now += ROBOTS_MAX_AGE_SECONDS - 1
            still = await f.fetch(site.url("/x"), ROBOTS, allowed_hosts=(site.host,))
            site.robots("User-agent: *\nDisallow:\n")
            fake.now += 2
            later = await f.fetch(site.url("/x"), ROBOTS, allowed_hosts=(site.host,))
            return [first, still, later]

    first, still, later = run(go())
    assert (first.kind, still.kind, later.kind) == (
        FetchKind.ROBOTS,
        FetchKind.ROBOTS,
        FetchKind.OK,
    )
    assert site.hits("/robots.txt") == 2


def test_rate_wait_says_when_a_host_may_be_asked_again(site: TestSite) -> None:
    """What a queue worker waits before handing a host to another process's Fetcher."""
    site.add("/a", "a")
    fake = FakeTime()
    settings = with_(FAST, requests_per_second=2.0)

    async def go() -> list[float]:
        async with fetcher(fake) as f:
            before = f.rate_wait([site.host, "elsewhere.gov.cn"])
            await f.fetch(site.url("/a"), settings, allowed_hosts=(site.host,))
            after = f.rate_wait([site.host, "elsewhere.gov.cn"])
            fake.now += 0.5
            return [before, after, f.rate_wait([site.host])]

    assert run(go()) == [0.0, 0.5, 0.0]


def test_a_host_s_connections_are_kept_alive_then_closed_when_it_goes_idle(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    """Each host has a client (a connection pool) of its own, reused between requests;
    a long-lived Fetcher closes the client of a host unused for IDLE_CLIENT_SECONDS, so
    thousands of hosts do not leave thousands of idle sockets behind."""
    other = site_factory()
    site.add("/a", "a")
    other.add("/b", "b")
    fake = FakeTime()

    async def go() -> None:
        async with fetcher(fake) as f:
            for _ in range(2):
                await f.fetch(site.url("/a"), FAST, allowed_hosts=(site.host,))
            await fake.sleep(IDLE_CLIENT_SECONDS + 1)
            await f.fetch(other.url("/b"), FAST, allowed_hosts=(other.host,))
            await f.fetch(site.url("/a"), FAST, allowed_hosts=(site.host,))

    run(go())
    first, second, third = (r.client_port for r in site.requests_to("/a"))
    assert first == second  # kept alive between two requests
    assert third != second  # closed while idle, a new connection afterwards


def test_robots_ignored_when_disabled(site: TestSite) -> None:
    site.robots("User-agent: *\nDisallow: /\n")
    site.add("/a", "a")
    result = fetch_one(site, "/a", FAST)
    assert result.kind is FetchKind.OK
    assert site.hits("/robots.txt") == 0


def test_our_user_agent_group_is_used(site: TestSite) -> None:
    site.robots("User-agent: *\nDisallow: /\n\nUser-agent: govarchive-test\nDisallow: /private\n")
    site.add("/a", "a")
    site.add("/private/b", "b")
    a, b = fetch_all(site, ["/a", "/private/b"], ROBOTS)
    assert (a.kind, b.kind) == (FetchKind.OK, FetchKind.ROBOTS)


@pytest.mark.parametrize(("status", "level"), [(404, logging.INFO), (500, logging.WARNING)])
def test_robots_error_allows_all(
    site: TestSite, caplog: pytest.LogCaptureFixture, status: int, level: int
) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n", status=status)
    site.add("/a", "a")
    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        result = fetch_one(site, "/a", with_(ROBOTS, retries=0))
    assert result.kind is FetchKind.OK
    (record,) = [r for r in caplog.records if "robots.txt" in r.getMessage()]
    assert record.levelno == level
    assert f"robots.txt {status}" in record.getMessage()
    assert "everything allowed" in record.getMessage()


def test_robots_redirect_within_host_is_followed(site: TestSite) -> None:
    site.redirect("/robots.txt", "/real-robots.txt")
    site.add("/real-robots.txt", "User-agent: *\nDisallow: /a\n", content_type="text/plain")
    site.add("/a", "a")
    assert fetch_one(site, "/a", ROBOTS).kind is FetchKind.ROBOTS


def test_robots_behind_a_challenge_allows_all(site: TestSite) -> None:
    site.block("/robots.txt", "yunsuo")
    site.add("/a", "a")
    result = fetch_one(site, "/a", ROBOTS)
    assert result.kind is FetchKind.OK

    async def go() -> str:
        async with fetcher(FakeTime()) as f:
            return (await f.robots(site.url("/a"), ROBOTS)).note

    assert run(go()) == "robots.txt answered with a block page (HTTP 200): everything allowed"


def test_robots_accessor_reports_the_verdict(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 4\nDisallow: /admin\n")

    async def go() -> tuple[bool, bool, float | None, str]:
        async with fetcher(FakeTime()) as f:
            rules = await f.robots(site.url("/x"), ROBOTS)
            again = await f.robots(site.url("/y"), ROBOTS)
            assert again is rules
            return (
                rules.allowed(site.url("/x")),
                rules.allowed(site.url("/admin/1")),
                rules.crawl_delay,
                rules.note,
            )

    assert run(go()) == (True, False, 4.0, "robots.txt 200")
    assert site.hits("/robots.txt") == 1


def test_unreachable_robots_allows_all(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{closed_port()}/robots.txt"

    async def go() -> str:
        async with fetcher(FakeTime()) as f:
            rules = await f.robots(url, with_(ROBOTS, retries=0))
            assert rules.allowed(url.replace("robots.txt", "a"))
            return rules.note

    with caplog.at_level(logging.WARNING, logger="scraper.fetching.fetch"):
        note = run(go())
    assert note.startswith("robots.txt unreachable (connection error")
    assert any(r.levelno == logging.WARNING for r in caplog.records)


# -- politeness: rate and concurrency ---------------------------------------------------


def test_requests_to_a_host_are_spaced(site: TestSite) -> None:
    for i in range(4):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    settings = with_(requests_per_second=2.0, per_host_concurrency=1)
    fetch_all(site, [f"/p{i}" for i in range(4)], settings, fake=fake, transport=recording)
    starts = [t - 1000.0 for t, _ in recording.starts]
    assert starts == [0.0, 0.5, 1.0, 1.5]
    assert fake.sleeps == [0.5, 0.5, 0.5]


def test_spacing_holds_for_concurrent_requests(site: TestSite) -> None:
    for i in range(6):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    settings = with_(requests_per_second=4.0, per_host_concurrency=3)
    results = fetch_all(
        site,
        [f"/p{i}" for i in range(6)],
        settings,
        fake=fake,
        transport=recording,
        concurrent=True,
    )
    assert all(r.kind is FetchKind.OK for r in results)
    starts = sorted(t for t, _ in recording.starts)
    assert len(starts) == 6
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.25 - 1e-9


def test_crawl_delay_slows_the_rate(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 3\n")
    for i in range(3):
        site.add(f"/p{i}", "p")
    fake = FakeTime()
    recording = Recording(fake.clock)
    settings = with_(ROBOTS, requests_per_second=1.0, per_host_concurrency=1)
    fetch_all(site, [f"/p{i}" for i in range(3)], settings, fake=fake, transport=recording)
    starts = [(t - 1000.0, url.rsplit("/", 1)[1]) for t, url in recording.starts]
    # robots.txt at the plain rate, then its Crawl-delay between pages
    assert starts == [(0.0, "robots.txt"), (1.0, "p0"), (4.0, "p1"), (7.0, "p2")]


def test_crawl_delay_never_speeds_up(site: TestSite) -> None:
    site.robots("User-agent: *\nCrawl-delay: 0.1\n")
    site.add("/a", "a")
    site.add("/b", "b")
    fake = FakeTime()
    recording = Recording(fake.clock)
    fetch_all(
        site, ["/a", "/b"], with_(ROBOTS, requests_per_second=0.5), fake=fake, transport=recording
    )
    assert [t - 1000.0 for t, _ in recording.starts] == [0.0, 2.0, 4.0]


def test_hosts_are_rate_limited_independently(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    other = site_factory()
    for s in (site, other):
        s.add("/a", "a")
        s.add("/b", "b")
    fake = FakeTime()
    recording = Recording(fake.clock)

    async def go() -> None:
        async with fetcher(fake, transport=recording) as f:
            settings = with_(requests_per_second=1.0)
            for path in ("/a", "/b"):
                for s in (site, other):
                    await f.fetch(s.url(path), settings, allowed_hosts=(site.host, other.host))

    run(go())
    times = [(t - 1000.0, url.split("/")[2]) for t, url in recording.starts]
    assert times == [(0.0, site.host), (0.0, other.host), (1.0, site.host), (1.0, other.host)]


def _counting_handler(counter: InFlight, delay: float) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        with counter:
            threading.Event().wait(delay)
        return Response(b"ok")

    return handler


class InFlight:
    """Counts requests in flight across several sites' handler threads."""

    def __init__(self) -> None:
        self.now = 0
        self.max = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.max = max(self.max, self.now)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


@pytest.mark.parametrize("per_host", [1, 3])
def test_per_host_concurrency(site: TestSite, per_host: int) -> None:
    for i in range(6):
        site.add(f"/p{i}", "p", delay=0.25)
    settings = with_(per_host_concurrency=per_host)
    results = fetch_all(site, [f"/p{i}" for i in range(6)], settings, concurrent=True)
    assert all(r.kind is FetchKind.OK for r in results)
    assert site.max_in_flight == per_host


def test_global_concurrency_cap(site_factory: Callable[[], TestSite]) -> None:
    counter = InFlight()
    sites = [site_factory() for _ in range(3)]
    for s in sites:
        for i in range(4):
            s.add_handler(f"/p{i}", _counting_handler(counter, 0.25))
    settings = with_(per_host_concurrency=2)

    async def go() -> list[FetchResult]:
        async with fetcher(FakeTime(), max_concurrency=3) as f:
            allowed = tuple(s.host for s in sites)
            calls = [
                f.fetch(s.url(f"/p{i}"), settings, allowed_hosts=allowed)
                for i in range(4)
                for s in sites
            ]
            return list(await asyncio.gather(*calls))

    results = run(go())
    assert all(r.kind is FetchKind.OK for r in results)
    assert counter.max == 3
    assert all(s.max_in_flight <= 2 for s in sites)


# -- retries ----------------------------------------------------------------------------


def test_503_with_retry_after_then_ok(site: TestSite) -> None:
    site.flaky("/doc", "finally", failures=2, status=503, retry_after="7")
    fake = FakeTime()
    result = fetch_one(site, "/doc", fake=fake)
    assert result.kind is FetchKind.OK
    assert result.body == b"finally"
    assert result.attempts == 3
    assert fake.sleeps == [7.0, 7.0]
    assert result.elapsed_ms == 14_000  # measured on the (fake) monotonic clock
    assert site.hits("/doc") == 3


def test_retry_after_http_date(site: TestSite) -> None:
    fake = FakeTime()
    when = (fake.wall() + timedelta(seconds=42)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    site.flaky("/doc", "ok", failures=1, status=429, retry_after=when)
    result = fetch_one(site, "/doc", fake=fake)
    assert result.kind is FetchKind.OK
    assert fake.sleeps == [42.0]


def test_retry_after_is_capped(site: TestSite) -> None:
    site.flaky("/doc", "ok", failures=1, retry_after="86400")
    fake = FakeTime()
    assert fetch_one(site, "/doc", with_(max_retry_after=60.0), fake=fake).kind is FetchKind.OK
    assert fake.sleeps == [60.0]


def test_backoff_without_retry_after(site: TestSite) -> None:
    site.flaky("/doc", "ok", failures=3, status=502, retry_after=None)
    fake = FakeTime()
    result = fetch_one(site, "/doc", with_(backoff_base=2.0), fake=fake)
    assert result.kind is FetchKind.OK
    assert len(fake.sleeps) == 3
    for sleep, base in zip(fake.sleeps, (2.0, 4.0, 8.0), strict=True):
        assert base <= sleep <= base * 1.5


def test_gives_up_after_retries(site: TestSite) -> None:
    site.add("/down", "<h1>503</h1>", status=503, headers={"Retry-After": "1"})
    fake = FakeTime()
    result = fetch_one(site, "/down", with_(retries=2), fake=fake)
    assert result.kind is FetchKind.ERROR
    assert result.status == 503
    assert result.attempts == 3
    assert result.error == "HTTP 503 after 3 attempts"
    assert result.body is None
    assert fake.sleeps == [1.0, 1.0]
    assert site.hits("/down") == 3


@pytest.mark.parametrize("status", [501, 400, 405])
def test_permanent_errors_are_not_retried(site: TestSite, status: int) -> None:
    site.add("/x", "no", status=status)
    result = fetch_one(site, "/x")
    assert result.kind is FetchKind.ERROR
    assert result.status == status
    assert result.error == f"HTTP {status}"
    assert result.attempts == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_then_error() -> None:
    fake = FakeTime()
    url = f"http://127.0.0.1:{closed_port()}/a"

    async def go() -> FetchResult:
        async with fetcher(fake) as f:
            return await f.fetch(url, with_(retries=2), allowed_hosts=())

    result = run(go())
    assert result.kind is FetchKind.ERROR
    assert result.status is None
    assert result.attempts == 3
    assert (result.error or "").startswith("connection error")
    assert "after 3 attempts" in (result.error or "")
    assert len(fake.sleeps) == 2


def test_timeout_is_an_error(site: TestSite) -> None:
    site.add("/slow", "late", delay=0.6)
    result = fetch_one(site, "/slow", with_(timeout=0.15, retries=1))
    assert result.kind is FetchKind.ERROR
    assert (result.error or "").startswith("timeout")
    assert result.attempts == 2


def test_slow_page_within_timeout_is_fine(site: TestSite) -> None:
    site.add("/slow", "late", delay=0.2)
    assert fetch_one(site, "/slow", with_(timeout=2.0)).kind is FetchKind.OK


def test_dripping_body_hits_the_response_deadline(site: TestSite) -> None:
    def drip(request: Request) -> Response:
        def chunks() -> Any:
            for _ in range(40):
                threading.Event().wait(0.05)
                yield b"x"

        return Response(chunks=chunks())

    site.add_handler("/drip", drip)
    # every read arrives well within 0.3 s, but the whole body takes about 2 s
    result = fetch_one(site, "/drip", with_(timeout=0.3, retries=0))
    assert result.kind is FetchKind.ERROR
    assert result.error == "timeout: no complete response within 1.2s"


# -- size limits and broken bodies ------------------------------------------------------


def test_oversized_body_is_too_large(site: TestSite) -> None:
    site.add("/big", b"x" * 200_000)
    site.add("/fits", b"x" * 100_000)
    big, fits = fetch_all(site, ["/big", "/fits"], with_(max_page_bytes=100_000))
    assert big.kind is FetchKind.TOO_LARGE
    assert big.body is None
    assert big.attempts == 1
    assert big.error == "body over 100000 bytes"
    assert fits.kind is FetchKind.OK
    assert fits.body is not None and len(fits.body) == 100_000


def test_oversized_chunked_body_is_too_large(site: TestSite) -> None:
    site.add_handler("/big", lambda r: Response(chunks=(b"x" * 10_000 for _ in range(50))))
    result = fetch_one(site, "/big", with_(max_page_bytes=100_000))
    assert result.kind is FetchKind.TOO_LARGE


def test_gzip_bomb_is_too_large(site: TestSite) -> None:
    site.gzip_bomb("/bomb", 100 * 1024 * 1024)
    result = fetch_one(site, "/bomb", with_(max_page_bytes=1024 * 1024))
    assert result.kind is FetchKind.TOO_LARGE
    assert result.error == f"decoded body over {1024 * 1024} bytes"
    assert result.body is None


def test_gzip_within_limit_counts_decoded_bytes(site: TestSite) -> None:
    body = b"a" * 150_000  # compresses to a few hundred bytes
    site.add("/z", body, gzip=True)
    assert fetch_one(site, "/z", with_(max_page_bytes=100_000)).kind is FetchKind.TOO_LARGE
    assert fetch_one(site, "/z", with_(max_page_bytes=150_000)).body == body


def test_truncated_body_is_an_error_and_retried(site: TestSite) -> None:
    site.add("/cut", pages.document(), truncate_to=1000)
    fake = FakeTime()
    result = fetch_one(site, "/cut", with_(retries=2), fake=fake)
    assert result.kind is FetchKind.ERROR
    assert result.body is None
    assert (result.error or "").startswith("truncated body")
    assert result.attempts == 3
    assert site.hits("/cut") == 3


def test_truncated_then_complete(site: TestSite) -> None:
    body = pages.document()
    calls = 0

    def once_cut(request: Request) -> Response:
        nonlocal calls
        calls += 1
        return Response(body, truncate_to=500 if calls == 1 else None)

    site.add_handler("/doc", once_cut)
    result = fetch_one(site, "/doc")
    assert result.kind is FetchKind.OK
    assert result.body == body
    assert result.attempts == 2


class Streamed(httpx.AsyncByteStream):
    """A response body that arrives from the network in pieces, as real ones do."""

    def __init__(self, data: bytes, piece: int = 4096) -> None:
        self.data = data
        self.piece = piece

    async def __aiter__(self) -> Any:
        for start in range(0, len(self.data), self.piece):
            yield self.data[start : start + self.piece]


def mock(status: int, data: bytes, headers: dict[str, str]) -> httpx.MockTransport:
    """A transport answering every request with ``data`` streamed (not pre-read)."""
    return httpx.MockTransport(
        lambda r: httpx.Response(status, headers=headers, stream=Streamed(data))
    )


def _mock_fetch(transport: httpx.AsyncBaseTransport, settings: CrawlSettings = FAST) -> FetchResult:
    async def go() -> FetchResult:
        async with fetcher(FakeTime(), transport=transport) as f:
            return await f.fetch("http://mock.gov.cn/a", settings, allowed_hosts=())

    return run(go())


def test_truncated_gzip_stream_is_an_error() -> None:
    data = gzip.compress(pages.document())[:-100]
    transport = mock(200, data, {"Content-Encoding": "gzip"})
    result = _mock_fetch(transport, with_(retries=0))
    assert result.kind is FetchKind.ERROR
    assert result.error == "gzip stream ended early"


def test_content_length_shortfall_is_truncated() -> None:
    transport = mock(200, b"x" * 500, {"Content-Length": "1000"})
    result = _mock_fetch(transport, with_(retries=1))
    assert result.kind is FetchKind.ERROR
    assert result.error == "body ended after 500 of 1000 bytes (after 2 attempts)"
    assert result.attempts == 2


def test_corrupt_gzip_is_an_error_not_retried() -> None:
    transport = mock(200, b"not gzip at all", {"Content-Encoding": "gzip"})
    result = _mock_fetch(transport)
    assert result.kind is FetchKind.ERROR
    assert (result.error or "").startswith("corrupt gzip body")
    assert result.attempts == 1


def test_raw_deflate_is_accepted() -> None:
    body = pages.document()
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = compressor.compress(body) + compressor.flush()
    transport = mock(200, raw, {"Content-Encoding": "deflate"})
    assert _mock_fetch(transport).body == body


def test_unsupported_encoding_is_an_error() -> None:
    transport = mock(200, b"xx", {"Content-Encoding": "br"})
    result = _mock_fetch(transport)
    assert result.kind is FetchKind.ERROR
    assert result.error == "unsupported Content-Encoding 'br'"


# -- redirects --------------------------------------------------------------------------


def test_same_site_redirects_are_followed(site: TestSite) -> None:
    site.redirect("/old", "/middle", status=301)
    site.redirect("/middle", site.url("/new.html"), status=302)
    site.add("/new.html", "here")
    result = fetch_one(site, "/old")
    assert result.kind is FetchKind.OK
    assert result.body == b"here"
    assert result.url == site.url("/old")
    assert result.final_url == site.url("/new.html")
    assert result.attempts == 3


def test_conditional_headers_follow_redirects(site: TestSite) -> None:
    site.redirect("/old", "/new")
    site.add("/new", "v1", etag='"e"')
    result = fetch_one(site, "/old", etag='"e"')
    assert result.kind is FetchKind.NOT_MODIFIED
    assert result.final_url == site.url("/new")


def test_cookie_set_by_a_redirect_is_sent_along_the_chain(site: TestSite) -> None:
    # a CMS that redirects to the same URL to set its session cookie
    def self_redirect(request: Request) -> Response:
        if "JSESSIONID=abc" in request.headers.get("cookie", ""):
            return Response(b"content")
        headers = {"Location": "/doc", "Set-Cookie": "JSESSIONID=abc; Path=/; HttpOnly"}
        return Response(status=302, headers=headers)

    site.add_handler("/doc", self_redirect)
    first, second = fetch_all(site, ["/doc", "/doc"])
    assert first.kind is FetchKind.OK and first.body == b"content"
    assert first.attempts == 2
    # the cookie does not outlive its chain: the next fetch starts without it
    assert second.attempts == 2
    assert [r.headers.get("cookie") for r in site.requests] == [
        None,
        "JSESSIONID=abc",
        None,
        "JSESSIONID=abc",
    ]


def test_offsite_redirect_is_not_followed(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    other = site_factory()
    other.add("/landing", "elsewhere")
    site.redirect("/go", other.url("/landing"))
    result = fetch_one(site, "/go")
    assert result.kind is FetchKind.OFFSITE
    assert result.final_url == site.url("/go")
    assert result.error == f"redirected to a host not allowed: {other.url('/landing')}"
    assert result.body is None
    assert other.requests == []


def test_redirect_to_another_allowed_host(
    site: TestSite, site_factory: Callable[[], TestSite]
) -> None:
    other = site_factory()
    other.add("/landing", "there")
    site.redirect("/go", other.url("/landing"))
    result = fetch_one(site, "/go", allowed=(site.host, other.host))
    assert result.kind is FetchKind.OK
    assert result.final_url == other.url("/landing")


def test_redirect_loop_gives_up(site: TestSite) -> None:
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    result = fetch_one(site, "/a")
    assert result.kind is FetchKind.ERROR
    assert result.error == f"more than {MAX_REDIRECTS} redirects"
    assert result.attempts == MAX_REDIRECTS + 1


def test_redirect_to_nowhere_is_an_error(site: TestSite) -> None:
    site.redirect("/a", "javascript:void(0)")
    site.add("/b", "", status=302, content_type=None)
    a, b = fetch_all(site, ["/a", "/b"])
    assert a.kind is FetchKind.ERROR
    assert (a.error or "").startswith("bad redirect Location: ")
    assert b.kind is FetchKind.ERROR
    assert b.error == "HTTP 302 with bad Location None"


def test_redirect_into_a_robots_disallowed_path(site: TestSite) -> None:
    site.robots("User-agent: *\nDisallow: /private/\n")
    site.redirect("/go", "/private/x")
    site.add("/private/x", "secret")
    result = fetch_one(site, "/go", ROBOTS)
    assert result.kind is FetchKind.ROBOTS
    assert site.hits("/private/x") == 0


# -- blocks and gone pages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"), [("ruishu", 412), ("jiasule", 521), ("yunsuo", 200), ("waf", 403)]
)
def test_block_pages_are_blocked_not_retried(site: TestSite, kind: Any, status: int) -> None:
    site.block("/doc", kind)
    result = fetch_one(site, "/doc")
    assert result.kind is FetchKind.BLOCKED
    assert result.status == status
    assert result.body  # kept for the record
    assert result.error == f"block or challenge page (HTTP {status})"
    assert result.attempts == 1
    assert site.hits("/doc") == 1


@pytest.mark.parametrize("status", [404, 410])
def test_missing_pages_are_gone(site: TestSite, status: int) -> None:
    site.add("/gone", "<h1>gone</h1>", status=status)
    result = fetch_one(site, "/gone" if status == 410 else "/never-existed")
    assert result.kind is FetchKind.GONE
    assert result.status == status
    assert result.attempts == 1


def test_soft_404_is_gone(site: TestSite) -> None:
    site.add("/doc", pages.soft_404("gbk"), content_type="text/html")
    result = fetch_one(site, "/doc")
    assert result.kind is FetchKind.GONE
    assert result.status == 200


def test_page_that_disappears_and_comes_back(site: TestSite) -> None:
    site.add("/doc", "v1")
    assert fetch_one(site, "/doc").kind is FetchKind.OK
    site.remove("/doc")
    assert fetch_one(site, "/doc").kind is FetchKind.GONE
    site.add("/doc", "v2")
    assert fetch_one(site, "/doc").body == b"v2"


# -- the sync helper --------------------------------------------------------------------


def test_fetch_once(site: TestSite) -> None:
    site.redirect("/r", "/doc")
    site.add("/doc", "正文")
    result = fetch_once(site.url("/r"), with_(respect_robots_txt=True))
    assert result.kind is FetchKind.OK
    assert result.final_url == site.url("/doc")
    assert result.body == "正文".encode()
    assert site.hits("/robots.txt") == 1


def test_fetcher_needs_async_with() -> None:
    async def go() -> None:
        await Fetcher(user_agent=UA, max_concurrency=1).fetch(
            "http://127.0.0.1:1/", FAST, allowed_hosts=()
        )

    with pytest.raises(RuntimeError, match="async with"):
        run(go())


def test_not_modified_answers_keep_the_connection_alive(site: TestSite) -> None:
    # An unchanged recrawl is mostly 304s: closing each one mid-message used to make
    # httpcore open a new TCP connection for every page.
    for i in range(6):
        site.add(f"/doc/{i}.html", f"<p>{i}</p>", etag=f'"e{i}"')
    settings = CrawlSettings(requests_per_second=float("inf"), respect_robots_txt=False)

    async def run() -> list[FetchKind]:
        async with Fetcher(user_agent="t", max_concurrency=1) as fetcher:
            return [
                (await fetcher.fetch(site.url(f"/doc/{i}.html"), settings,
                                     allowed_hosts=(), etag=f'"e{i}"')).kind
                for i in range(6)
            ]  # fmt: skip

    assert asyncio.run(run()) == [FetchKind.NOT_MODIFIED] * 6
    assert len({r.client_port for r in site.requests}) == 1


# -- a host that does not resolve ----------------------------------------------------------


def _unresolvable(calls: list[str]) -> httpx.MockTransport:
    """A transport whose every request fails as httpx fails when DNS says no such host."""

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc

    return httpx.MockTransport(handler)


def test_a_host_that_does_not_resolve_is_not_retried() -> None:
    calls: list[str] = []
    fake = FakeTime()

    async def go() -> FetchResult:
        async with fetcher(fake, transport=_unresolvable(calls)) as f:
            settings = with_(retries=3, respect_robots_txt=False)
            return await f.fetch("http://nonexistent.invalid/list.html", settings, allowed_hosts=())

    result = run(go())
    assert result.kind is FetchKind.ERROR and result.unresolved
    assert result.error == (
        "host nonexistent.invalid does not resolve: [Errno -2] Name or service not known"
    )
    assert (result.attempts, calls, fake.sleeps) == (
        1,
        ["http://nonexistent.invalid/list.html"],
        [],
    )


def test_a_refused_connection_is_still_retried() -> None:
    fake = FakeTime()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    async def go() -> FetchResult:
        async with fetcher(fake, transport=httpx.MockTransport(refuse)) as f:
            settings = with_(retries=2, respect_robots_txt=False)
            return await f.fetch("http://127.0.0.1:9/x", settings, allowed_hosts=())

    result = run(go())
    assert result.kind is FetchKind.ERROR and not result.unresolved
    assert result.attempts == 3
