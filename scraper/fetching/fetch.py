"""Polite fetching over httpx clients: with :mod:`scraper.fetching.transport` (the
connections under them), the only module that imports httpx.

A :class:`Fetcher` lives for one crawl, or for the life of a daemon or queue worker
whose crawls all share it. It keeps, per host (``host:port``): a rate limit
(``requests_per_second``, slowed further by robots.txt Crawl-delay up to
``max_crawl_delay``), a concurrency limit (``per_host_concurrency``) and the
robots.txt rules (its first 500 KiB, fetched once and again after a day). Across
hosts it caps requests in flight at ``max_concurrency``. Sharing one Fetcher is what
makes a host's rate hold across every source that crawls it. Pausing a failing host
(``host_failure_threshold``) is the pipeline's decision, made from the results.

Long waits are said: a wait before a retry longer than :data:`LONG_WAIT_SECONDS`
and a Crawl-delay over ``max_crawl_delay`` are logged at WARNING with the URL (or
host) and the delay, so a crawl's output shows why it is slow.

:meth:`Fetcher.fetch` never raises for network or HTTP trouble: every outcome is
a :class:`~scraper.fetching.response.FetchResult` whose ``kind`` says what happened and
whose ``error`` says why. httpx exceptions are translated here and nowhere else.

Decisions live in pure modules: :mod:`scraper.fetching.retry` (wait or give up),
:mod:`scraper.fetching.challenge` (block / gone pages), :mod:`scraper.fetching.robots`,
:mod:`scraper.fetching.ratelimit`, :mod:`scraper.fetching.decompression` (bounded decompression) and
:mod:`scraper.fetching.urls` (normal forms, allowed hosts).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Self

import httpx

from scraper.errors import FetchError, TooLargeError, TruncatedError
from scraper.fetching import challenge
from scraper.fetching.decompression import ACCEPT_ENCODING, BodyDecoder
from scraper.fetching.ratelimit import HostRateLimiter, min_interval
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.retry import is_retryable, parse_retry_after, retry_delay
from scraper.fetching.robots import MAX_ROBOTS_BYTES, RobotsRules, robots_url, rules_from_response
from scraper.fetching.transport import AiohttpTransport
from scraper.fetching.urls import host_of, is_allowed, normalize_url
from scraper.settings import CrawlSettings

logger = logging.getLogger(__name__)

#: Redirect hops followed for one page before giving up.
MAX_REDIRECTS = 10
#: Redirect hops followed for robots.txt (RFC 9309 asks for at least five).
MAX_ROBOTS_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: A host's client (and its idle connections) is closed after this many seconds unused.
IDLE_CLIENT_SECONDS = 120.0
#: Seconds a host's robots.txt rules are used before they are fetched again.
ROBOTS_MAX_AGE_SECONDS = 24 * 3600.0
#: A wait before a retry longer than this many seconds is logged at WARNING, not INFO.
LONG_WAIT_SECONDS = 5.0
#: A whole response (headers and body) must arrive within this many ``timeout``s;
#: httpx's timeouts are per network read, so a server dripping a byte at a time
#: would otherwise hold a slot for hours.
RESPONSE_DEADLINE_FACTOR = 4
#: An attachment (its own, larger size cap) gets at least the time its whole cap takes
#: at this many bytes per second: a big file from a slow government server is no drip.
MIN_TRANSFER_RATE = 100 * 1024

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
WallClock = Callable[[], datetime]

_DEFAULT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
    "Accept-Encoding": ACCEPT_ENCODING,
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Exchange:
    """One HTTP request's outcome, before the fetch decides what it means."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    header_lines: tuple[tuple[str, str], ...] = ()  # as served: order, case, repeats
    body: bytes | None = None
    kind: FetchKind | None = None  # decided already: BLOCKED, GONE, TOO_LARGE, ERROR
    error: str | None = None
    retryable: bool = False  # a connection-level failure worth another attempt
    unresolved: bool = False  # the host name did not resolve: no attempt can succeed
    truncated: bool = False  # body is the first ``limit`` bytes of a longer one (keep_prefix)
    set_cookies: list[str] = field(default_factory=list)  # raw Set-Cookie values

    def fail(self, kind: FetchKind, error: str, *, retryable: bool = False) -> _Exchange:
        """Record a failed exchange (dropping any partial body) and return it."""
        self.kind, self.error, self.retryable, self.body = kind, error, retryable, None
        return self


class Fetcher:
    """Fetches pages politely for one crawl. Use as ``async with Fetcher(...) as f:``.

    ``user_agent`` is the client's default; each request sends its settings'
    ``user_agent`` (a source may override it). ``transport`` replaces the network
    (tests pass ``httpx.MockTransport``); ``sleep``, ``clock`` (monotonic seconds)
    and ``wall_clock`` (aware datetimes, for ``requested_at`` and Retry-After
    dates) are injectable so tests never wait.

    ``retry_budget`` bounds the seconds one :meth:`fetch` spends waiting between
    retries, in all: a retry that would pass it is not made and the result says
    what the server asked for. A crawl leaves it None (each wait is already capped
    by ``max_retry_after``); ``govarchive parse`` sets a short one, since a person
    is waiting.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        max_concurrency: int,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: WallClock = _utcnow,
        retry_budget: float | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.user_agent = user_agent
        self.max_concurrency = max_concurrency
        self.retry_budget = retry_budget
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._open = False
        self._clients: dict[str, httpx.AsyncClient] = {}  # per host ("" = the shared one)
        self._in_use: dict[str, int] = {}  # requests in flight per client
        self._last_used: dict[str, float] = {}
        self._swept = clock()
        self._ssl: ssl.SSLContext | None = None
        self._global = asyncio.Semaphore(max_concurrency)
        self._limiter = HostRateLimiter()
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[tuple[str, str], tuple[RobotsRules, float]] = {}  # rules, read at
        self._robots_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._delay_capped: set[tuple[str, float]] = set()  # (robots URL, cap) logged once

    async def __aenter__(self) -> Self:
        # One TLS context for every client: building one reads the CA bundle (tens of
        # milliseconds and a few hundred KB each), and a daemon meets thousands of hosts.
        self._ssl = httpx.create_ssl_context()
        self._open = True
        return self

    async def __aexit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._open = False
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _new_client(self, key: str) -> httpx.AsyncClient:
        """Return a new client for the host ``key``, with a connection pool of its own
        (:class:`~scraper.fetching.transport.AiohttpTransport`).

        One pool per host keeps each pool to the few connections the host's
        ``per_host_concurrency`` allows, and lets a host unused for
        IDLE_CLIENT_SECONDS give its sockets back (:meth:`_close_idle_clients`): a
        daemon meets thousands of hosts. An injected transport (tests) serves every
        host through one client.
        """
        # No cookie jar: every fetch stands alone, so a page's answer never depends
        # on what was fetched before it (cookies live only within one redirect chain).
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        assert self._ssl is not None  # made on entering the Fetcher
        transport = self._transport or AiohttpTransport(
            ssl_context=self._ssl, max_connections=self.max_concurrency
        )
        client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            headers={**_DEFAULT_HEADERS, "User-Agent": self.user_agent},
            cookies=no_cookies,
            trust_env=False,
        )
        return client

    @asynccontextmanager
    async def _client(self, host: str) -> AsyncIterator[httpx.AsyncClient]:
        """Lend the client of ``host`` for one request (created on first use)."""
        if not self._open:
            raise RuntimeError("Fetcher used outside 'async with'")
        key = "" if self._transport is not None else host
        await self._close_idle_clients()
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(key)
        self._in_use[key] = self._in_use.get(key, 0) + 1
        try:
            yield client
        finally:
            self._in_use[key] -= 1
            self._last_used[key] = self._clock()

    async def _close_idle_clients(self) -> None:
        """Close the clients of hosts not asked for IDLE_CLIENT_SECONDS: a long-lived
        Fetcher meets thousands of hosts, and each client may hold idle sockets."""
        now = self._clock()
        if now - self._swept < IDLE_CLIENT_SECONDS / 4:
            return
        self._swept = now
        idle = [
            key
            for key, used in self._last_used.items()
            if key and not self._in_use.get(key) and now - used > IDLE_CLIENT_SECONDS
        ]
        for key in idle:
            client = self._clients.pop(key, None)
            del self._last_used[key]
            self._in_use.pop(key, None)
            if client is not None:
                await client.aclose()

    # -- public API ---------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        settings: CrawlSettings,
        *,
        allowed_hosts: Collection[str],
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url`` and return what happened. Never raises for network/HTTP problems.

        ``allowed_hosts`` are the hosts the URL and its redirects may be on (see
        :func:`scraper.fetching.urls.is_allowed`); empty means ``settings.allowed_hosts``,
        and if that is empty too, the URL's own host. ``etag`` / ``last_modified``
        are the stored validators: they are sent as If-None-Match /
        If-Modified-Since and a 304 answer is ``NOT_MODIFIED``. ``max_bytes`` caps the
        body (after decompression too) instead of ``settings.max_page_bytes``, for
        attachments, and gives the response at least ``max_bytes /``
        :data:`MIN_TRANSFER_RATE` seconds to arrive; a larger body is ``TOO_LARGE``.
        ``attempts`` counts every request made (retries and redirect hops, not
        robots.txt); it is 0 when none was made (ROBOTS, OFFSITE, bad URL).
        ``final_url`` is the last URL requested: after same-site redirects the page's
        canonical URL; for a redirect that was not followed (OFFSITE, ROBOTS) the
        URL that redirected, with ``error`` naming the target.
        """
        started = self._clock()
        requested_at = self._wall_clock()
        normal = normalize_url(url)
        if normal is None:
            return FetchResult(
                url=url,
                final_url=url,
                kind=FetchKind.ERROR,
                requested_at=requested_at,
                attempts=0,
                error="not an http(s) URL",
            )
        allowed = tuple(allowed_hosts) or settings.allowed_hosts or (host_of(normal),)
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified

        current = answered = normal
        attempts = 0
        ex = _Exchange(url=current)
        chain_cookies: dict[str, str] = {}

        def result(kind: FetchKind, error: str | None = None) -> FetchResult:
            keep_body = kind in (FetchKind.OK, FetchKind.GONE, FetchKind.BLOCKED)
            return FetchResult(
                url=normal,
                final_url=answered,
                kind=kind,
                requested_at=requested_at,
                status=ex.status,
                headers=ex.headers,
                header_lines=ex.header_lines,
                body=ex.body if keep_body else None,
                elapsed_ms=round((self._clock() - started) * 1000),
                attempts=attempts,
                error=error,
                unresolved=ex.unresolved,
            )

        for hop in range(MAX_REDIRECTS + 1):
            if not is_allowed(current, allowed):
                what = "redirected to" if hop else "URL on"
                return result(FetchKind.OFFSITE, f"{what} a host not allowed: {current}")
            crawl_delay: float | None = None
            if settings.respect_robots_txt:
                rules = await self.robots(current, settings)
                if not rules.allowed(current):
                    return result(
                        FetchKind.ROBOTS, f"{current} disallowed by robots.txt ({rules.note})"
                    )
                crawl_delay = rules.crawl_delay
            headers = dict(conditional)
            if chain_cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in chain_cookies.items())
            ex, tries = await self._request_with_retries(
                current,
                settings,
                headers=headers,
                limit=max_bytes or settings.max_page_bytes,
                crawl_delay=crawl_delay,
                min_deadline=max_bytes / MIN_TRANSFER_RATE if max_bytes else 0.0,
            )
            attempts += tries
            answered = current
            if ex.kind is not None:
                return result(ex.kind, ex.error)
            assert ex.status is not None  # no kind and no status only with an error kind
            if ex.status == 304:
                return result(FetchKind.NOT_MODIFIED)
            if ex.status in REDIRECT_STATUSES:
                location = ex.headers.get("location")
                target = normalize_url(location, current) if location else None
                if target is None:
                    return result(
                        FetchKind.ERROR, f"HTTP {ex.status} with bad Location {location!r}"
                    )
                logger.debug("%s: HTTP %s to %s", current, ex.status, target)
                # Some CMSs redirect a page to itself to set a session cookie and
                # loop without it; cookies live for one redirect chain, no longer.
                chain_cookies.update(_cookie_pairs(ex.set_cookies))
                current = target
                continue
            if 200 <= ex.status < 300:
                return result(FetchKind.OK)
            return result(FetchKind.ERROR, f"HTTP {ex.status}")
        return result(FetchKind.ERROR, f"more than {MAX_REDIRECTS} redirects")

    def rate_wait(self, hosts: Iterable[str]) -> float:
        """Return the seconds until each of ``hosts`` (``host`` or ``host:port``, as in
        ``allowed_hosts``) may be asked again under its rate limit; 0 when all may be now.

        A crawl handing a host over to another process (a queue worker ending its job)
        waits this long first: the other process's Fetcher does not know when this one
        last asked the host.
        """
        now = self._clock()
        return max((self._limiter.wait_time(host, now) for host in hosts), default=0.0)

    async def robots(self, url: str, settings: CrawlSettings) -> RobotsRules:
        """Return the robots.txt rules for ``url``'s host, fetching them once per crawl.

        Used by :meth:`fetch` and by ``check-source`` to show the verdict
        (``rules.allowed(url)``, ``rules.crawl_delay``, ``rules.note``). Never raises
        for network trouble: an unreachable robots.txt allows everything and logs a
        warning (see :mod:`scraper.fetching.robots` for why). A Crawl-delay over
        ``settings.max_crawl_delay`` comes back capped, with a note, and is logged
        at WARNING once per host and cap.
        """
        where = robots_url(url)
        key = (where, settings.user_agent)
        lock = self._robots_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._robots.get(key)
            # A Fetcher shared by a daemon lives for weeks: rules older than a day are
            # read again (RFC 9309 2.4 asks crawlers not to keep them longer).
            if cached is None or self._clock() - cached[1] > ROBOTS_MAX_AGE_SECONDS:
                cached = (await self._load_robots(where, settings), self._clock())
                self._robots[key] = cached
            rules = cached[0]
        capped = rules.capped(settings.max_crawl_delay)
        if capped is not rules and (where, settings.max_crawl_delay) not in self._delay_capped:
            self._delay_capped.add((where, settings.max_crawl_delay))
            logger.warning(
                "%s: robots.txt asks for Crawl-delay %g s; waiting max_crawl_delay %g s "
                "between requests to %s instead",
                where,
                rules.crawl_delay,
                settings.max_crawl_delay,
                host_of(where),
            )
        return capped

    # -- internals ----------------------------------------------------------------

    async def _load_robots(self, where: str, settings: CrawlSettings) -> RobotsRules:
        current = where
        for _ in range(MAX_ROBOTS_REDIRECTS + 1):
            # Uncompressed, so that a file over the cap can be cut at it (a compressed
            # stream cannot be) and its first MAX_ROBOTS_BYTES read and obeyed.
            ex, _tries = await self._request_with_retries(
                current,
                settings,
                headers={"Accept-Encoding": "identity"},
                limit=MAX_ROBOTS_BYTES,
                crawl_delay=None,
                keep_prefix=True,
            )
            if ex.status in REDIRECT_STATUSES:
                target = normalize_url(ex.headers.get("location") or "", current)
                # robots.txt may move to https or another port, never to another host
                if target is None or _hostname(target) != _hostname(where):
                    rules = RobotsRules.allow_all(
                        f"robots.txt redirects off the host ({target}): everything allowed"
                    )
                    break
                current = target
                continue
            if ex.kind is FetchKind.BLOCKED:
                rules = RobotsRules.allow_all(
                    f"robots.txt answered with a block page (HTTP {ex.status}): everything allowed"
                )
            elif ex.kind is FetchKind.TOO_LARGE:
                # sent compressed despite "identity": what it says is unknown, and the
                # size of a file must never turn its refusals into permissions
                rules = RobotsRules.disallow_all(
                    f"robots.txt compressed and too large to read ({ex.error}): "
                    "everything disallowed"
                )
            elif ex.status is None or (ex.kind is FetchKind.ERROR and ex.status < 400):
                rules = rules_from_response(None, None, settings.user_agent, error=ex.error)
            else:
                rules = rules_from_response(
                    ex.status, ex.body, settings.user_agent, truncated=ex.truncated
                )
            break
        else:
            rules = RobotsRules.allow_all("robots.txt redirects too often: everything allowed")
        unusual = ex.kind is FetchKind.TOO_LARGE or (ex.truncated and ex.kind is None)
        if ex.status is None or ex.status >= 500 or unusual:
            logger.warning("%s: %s", where, rules.note)
        else:
            logger.info("%s: %s", where, rules.note)
        return rules

    async def _request_with_retries(
        self,
        url: str,
        settings: CrawlSettings,
        *,
        headers: Mapping[str, str],
        limit: int,
        crawl_delay: float | None,
        keep_prefix: bool = False,
        min_deadline: float = 0.0,
    ) -> tuple[_Exchange, int]:
        """Return the last exchange for ``url`` and how many requests it took.

        Logs each wait before a retry (at WARNING when longer than
        :data:`LONG_WAIT_SECONDS`); gives up instead of passing ``retry_budget``.
        """
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            ex = await self._request(
                url,
                settings,
                headers=headers,
                limit=limit,
                crawl_delay=crawl_delay,
                keep_prefix=keep_prefix,
                min_deadline=min_deadline,
            )
            if ex.kind is not None and not ex.retryable:
                return ex, attempt  # BLOCKED, GONE, TOO_LARGE, or an error not worth repeating
            now = self._wall_clock()
            wait = retry_delay(
                attempt=attempt,
                status=ex.status,
                error=ex.retryable,
                retry_after=ex.headers.get("retry-after"),
                settings=settings,
                now=now,
            )
            if wait is None:
                if (
                    ex.kind is None
                    and ex.status is not None
                    and is_retryable(ex.status, error=False)
                ):
                    ex.kind, ex.error = (
                        FetchKind.ERROR,
                        f"HTTP {ex.status} after {attempt} attempts",
                    )
                elif ex.retryable and attempt > 1:
                    ex.error = f"{ex.error} (after {attempt} attempts)"
                return ex, attempt
            reason = ex.error or f"HTTP {ex.status}"
            # what the server asked for, before max_retry_after capped it (for messages)
            retry_after = None if ex.retryable else ex.headers.get("retry-after")
            asked = parse_retry_after(retry_after, now=now)
            if self.retry_budget is not None and waited + wait > self.retry_budget:
                ex.kind = ex.kind or FetchKind.ERROR
                ex.error = _gave_up(reason, attempt, wait, asked, self.retry_budget)
                return ex, attempt
            logger.log(
                logging.WARNING if wait > LONG_WAIT_SECONDS else logging.INFO,
                "%s: %s; waiting %.1f s before retry %d/%d%s",
                url,
                reason,
                wait,
                attempt,
                settings.retries,
                f" (Retry-After asked {asked:g} s; capped at max_retry_after)"
                if asked is not None and asked > wait
                else "",
            )
            await self._sleep(wait)
            waited += wait

    async def _request(
        self,
        url: str,
        settings: CrawlSettings,
        *,
        headers: Mapping[str, str],
        limit: int,
        crawl_delay: float | None,
        keep_prefix: bool = False,
        min_deadline: float = 0.0,
    ) -> _Exchange:
        """Make one GET request within the host's and the global limits; never raises httpx.

        The body may be ``limit`` bytes at most: a larger one is TOO_LARGE, or with
        ``keep_prefix`` (and no Content-Encoding) cut at ``limit`` and marked ``truncated``.
        """
        host = host_of(url)
        async with self._client(host) as client:
            return await self._request_with(client, host, url, settings, headers=headers,
                                            limit=limit, crawl_delay=crawl_delay,
                                            keep_prefix=keep_prefix,
                                            min_deadline=min_deadline)  # fmt: skip

    async def _request_with(
        self,
        client: httpx.AsyncClient,
        host: str,
        url: str,
        settings: CrawlSettings,
        *,
        headers: Mapping[str, str],
        limit: int,
        crawl_delay: float | None,
        keep_prefix: bool,
        min_deadline: float = 0.0,
    ) -> _Exchange:
        interval = min_interval(settings.requests_per_second, crawl_delay)
        ex = _Exchange(url=url)
        try:
            request = client.build_request(
                "GET",
                url,
                headers={**headers, "User-Agent": settings.user_agent},
                timeout=httpx.Timeout(settings.timeout),
            )
        except (httpx.InvalidURL, httpx.HTTPError) as exc:
            return ex.fail(FetchKind.ERROR, _describe("invalid URL", exc))
        deadline = max(settings.timeout * RESPONSE_DEADLINE_FACTOR, min_deadline)
        async with self._slot(host, interval, settings):
            logger.debug("GET %s", url)
            try:
                async with asyncio.timeout(deadline):
                    await self._exchange(client, request, ex, limit, keep_prefix)
            # httpx and body errors are translated here, once, into the exchange
            except TimeoutError:
                message = f"timeout: no complete response within {deadline:g}s"
                return ex.fail(FetchKind.ERROR, message, retryable=True)
            except httpx.TimeoutException as exc:
                return ex.fail(FetchKind.ERROR, _describe("timeout", exc), retryable=True)
            except httpx.RemoteProtocolError as exc:
                # after the headers this is a body cut short of its Content-Length
                what = "truncated body" if ex.status is not None else "protocol"
                return ex.fail(FetchKind.ERROR, _describe(what, exc), retryable=True)
            except httpx.ConnectError as exc:
                if not _does_not_resolve(exc):
                    return ex.fail(FetchKind.ERROR, _describe("connection", exc), retryable=True)
                # Offline, or no such host: retrying will not make the name resolve.
                ex.unresolved = True
                return ex.fail(FetchKind.ERROR, f"host {host} does not resolve: {exc}")
            except httpx.TransportError as exc:
                return ex.fail(FetchKind.ERROR, _describe("connection", exc), retryable=True)
            except httpx.HTTPError as exc:
                return ex.fail(FetchKind.ERROR, _describe("HTTP", exc))
            except httpx.InvalidURL as exc:
                # httpx prepares the next request even when not following redirects,
                # and a Location like "javascript:void(0)" fails there
                return ex.fail(FetchKind.ERROR, _describe("bad redirect Location", exc))
            except TooLargeError as exc:
                return ex.fail(FetchKind.TOO_LARGE, _without_url(exc))
            except TruncatedError as exc:
                return ex.fail(FetchKind.ERROR, _without_url(exc), retryable=True)
            except FetchError as exc:  # an unsupported or corrupt Content-Encoding
                return ex.fail(FetchKind.ERROR, _without_url(exc))
        if ex.status is None or ex.status == 304 or ex.status in REDIRECT_STATUSES:
            return ex
        ex.kind = challenge.classify(ex.status, ex.headers, ex.body or b"")
        if ex.kind is FetchKind.BLOCKED:
            ex.error = f"block or challenge page (HTTP {ex.status})"
        return ex

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        ex: _Exchange,
        limit: int,
        keep_prefix: bool,
    ) -> None:
        """Send ``request`` and fill ``ex`` with status, headers and the bounded body."""
        response = await client.send(request, stream=True)
        try:
            ex.status = response.status_code
            ex.headers = {k.lower(): v for k, v in response.headers.items()}
            charset = response.headers.encoding  # httpx's guess: ascii, utf-8 or latin-1
            ex.header_lines = tuple(
                (name.decode(charset), value.decode(charset))
                for name, value in response.headers.raw
            )
            ex.set_cookies = response.headers.get_list("set-cookie")
            encoding = (response.headers.get("content-encoding") or "").strip().lower()
            if keep_prefix and encoding in ("", "identity"):
                body, ex.truncated = await self._read_prefix(response, ex.url, limit)
            else:
                body = await self._read_body(response, ex.url, limit)
            # The body of a redirect or a 304 is of no use, but it is read to its end
            # (bounded like any body): closing a response mid-message makes httpcore
            # drop the connection, and an unchanged recrawl is mostly 304s.
            if ex.status != 304 and ex.status not in REDIRECT_STATUSES:
                ex.body = body
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response, url: str, limit: int) -> bytes:
        length = response.headers.get("content-length")
        decoder = BodyDecoder(
            url=url,
            limit=limit,
            content_encoding=response.headers.get("content-encoding"),
            content_length=int(length) if length and length.isdigit() else None,
        )
        async for chunk in response.aiter_raw():
            decoder.feed(chunk)
        return decoder.finish()

    async def _read_prefix(
        self, response: httpx.Response, url: str, limit: int
    ) -> tuple[bytes, bool]:
        """Return the first ``limit`` bytes of an uncompressed body and whether there was more.

        Stops reading at ``limit``: the rest is never downloaded (the connection is
        dropped when the response closes).
        """
        decoder = BodyDecoder(url=url, limit=limit)  # no Content-Length: a cut is expected
        async for chunk in response.aiter_raw():
            room = limit - decoder.raw_size
            decoder.feed(chunk[:room])
            if len(chunk) > room:
                return decoder.finish(), True
        return decoder.finish(), False

    def _host_slot(self, host: str, settings: CrawlSettings) -> asyncio.Semaphore:
        semaphore = self._host_slots.get(host)
        if semaphore is None:
            # the first source to reach a host sets its concurrency for the crawl
            semaphore = asyncio.Semaphore(max(1, settings.per_host_concurrency))
            self._host_slots[host] = semaphore
        return semaphore

    def _slot(self, host: str, interval: float, settings: CrawlSettings) -> _Slot:
        return _Slot(self, host, interval, settings)


class _Slot:
    """Holds a host's and the global concurrency slot for one request, after its rate wait."""

    def __init__(
        self, fetcher: Fetcher, host: str, interval: float, settings: CrawlSettings
    ) -> None:
        self._fetcher = fetcher
        self._host = host
        self._interval = interval
        self._host_semaphore = fetcher._host_slot(host, settings)

    async def __aenter__(self) -> None:
        f = self._fetcher
        await self._host_semaphore.acquire()
        try:
            while True:
                wait = f._limiter.wait_time(self._host, f._clock())
                if wait > 0:
                    await f._sleep(wait)
                    continue
                await f._global.acquire()
                # another request to this host may have started while we queued
                if f._limiter.wait_time(self._host, f._clock()) <= 0:
                    break
                f._global.release()
            f._limiter.take(self._host, f._clock(), self._interval)
        except BaseException:
            self._host_semaphore.release()
            raise

    async def __aexit__(
        self,
        _exc_type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        f = self._fetcher
        # The interval counts from the end of this request too. Counted from its start
        # only, a request sent late (a loop busy with hundreds of sources) and the next
        # one sent on time reached the server closer than the rate allows
        # (bench/daemon.py saw 0.72 s at one request a second).
        f._limiter.finished(self._host, f._clock(), self._interval)
        f._global.release()
        self._host_semaphore.release()


def _does_not_resolve(exc: BaseException) -> bool:
    """Return whether a connection failed because the host name did not resolve: a
    ``socket.gaierror`` somewhere in the chain of causes httpx and httpcore keep."""
    seen: BaseException | None = exc
    for _ in range(10):  # chains are short; the bound guards against a cycle
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(what: str, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    if what in ("timeout", "truncated body", "bad redirect Location"):
        return f"{what}: {detail}"
    return f"{what} error: {detail}"


def _cookie_pairs(set_cookies: list[str]) -> dict[str, str]:
    """Return name → value of Set-Cookie header values (attributes ignored)."""
    pairs: dict[str, str] = {}
    for header in set_cookies:
        name, sep, value = header.split(";", 1)[0].partition("=")
        if sep and name.strip():
            pairs[name.strip()] = value.strip()
    return pairs


def _gave_up(reason: str, attempt: int, wait: float, asked: float | None, budget: float) -> str:
    """Return the error of a fetch that stopped retrying rather than pass its retry budget."""
    want = f"the {asked:g} s its Retry-After asks" if asked is not None else f"{wait:g} s"
    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
    return (
        f"{reason}; gave up after {tries} rather than wait {want} before a retry "
        f"(this command waits {budget:g} s at most)"
    )


def _without_url(exc: FetchError) -> str:
    """Return the error's message without the URL prefix (the result carries the URL)."""
    return str(exc).removeprefix(f"{exc.url}: ")


def _hostname(url: str) -> str:
    netloc = host_of(url)
    return netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc


def fetch_once(
    url: str, settings: CrawlSettings | None = None, *, retry_budget: float | None = None
) -> FetchResult:
    """Fetch one URL synchronously (for ``govarchive parse URL``); never raises for network trouble.

    Redirects may go to ``settings.allowed_hosts`` or, if empty, stay on the URL's host.
    ``retry_budget`` bounds the seconds spent waiting between retries (see :class:`Fetcher`).
    """
    settings = settings or CrawlSettings()

    async def run() -> FetchResult:
        async with Fetcher(
            user_agent=settings.user_agent, max_concurrency=1, retry_budget=retry_budget
        ) as fetcher:
            return await fetcher.fetch(url, settings, allowed_hosts=settings.allowed_hosts)

    return asyncio.run(run())
