"""A source's scope is host AND port (issue 16, finding 6).

A start URL on the default port (``http://gov.test/``) used to let redirects and
discovered links reach any other port of that host (``http://gov.test:81/``),
because a bare host name in the allowed hosts matched every port. Now a bare host
means its default ports (80 for http, 443 for https; so ``http://gov.test/``,
``http://gov.test:80/`` and the usual upgrade to ``https://gov.test/`` are in
scope) and any other port must be listed as ``host:port``.

The hosts are served by ``httpx.MockTransport`` (no socket: a test cannot bind port
80), which records every request it is asked to make.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scraper.config import SourceConfig, config_from_mapping
from scraper.crawling.discover import discover_detail_urls
from scraper.errors import ConfigError
from scraper.fetching.fetch import Fetcher
from scraper.fetching.response import FetchKind, FetchResult
from tests.test_fetch import FakeTime, Streamed, run

LIST = b"""<html><body><ul class="docs">
<li><a href="/doc/1.html">1</a></li>
<li><a href="http://gov.test:81/doc/2.html">2</a></li>
<li><a href="http://gov.test:80/doc/3.html">3</a></li>
<li><a href="https://gov.test/doc/4.html">4</a></li>
<li><a href="https://gov.test:8443/doc/5.html">5</a></li>
</ul></body></html>"""


def answer(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    # streamed, as from the network: the Fetcher reads raw chunks
    return httpx.Response(status, headers=headers, stream=Streamed(body))


def page(body: bytes) -> httpx.Response:
    return answer(200, body, content_type="text/html")


class Hosts:
    """Every port of gov.test answers; /doc/1.html redirects to port 81."""

    def __init__(self) -> None:
        self.requested: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requested.append(url)
        path = request.url.path
        if path == "/robots.txt":
            return answer(404)
        if path == "/list.html":
            return page(LIST)
        if url == "http://gov.test/doc/1.html":
            return answer(302, location="http://gov.test:81/doc/1.html")
        if url == "http://gov.test/doc/6.html":
            return answer(302, location="https://gov.test/doc/6.html")
        if url == "http://gov.test/doc/7.html":
            return answer(302, location="http://gov.test:80/doc/7b.html")
        return page(b"<p>doc</p>")


def source(**extra: Any) -> SourceConfig:
    document = {
        "crawl": {"requests_per_second": 1000, "respect_robots_txt": True},
        "sources": [
            {
                "name": "gov",
                "start_urls": ["http://gov.test/list.html"],
                "detail_links": "ul.docs a",
                "schedule": "0 6 * * *",
                **extra,
            }
        ],
    }
    return config_from_mapping(document).sources[0]


def crawl(
    src: SourceConfig, hosts: Hosts, *extra_urls: str
) -> tuple[tuple[str, ...], list[FetchResult]]:
    """Discover the source's detail URLs and fetch them (and ``extra_urls``) as a crawl does."""
    fake = FakeTime()

    async def go() -> tuple[tuple[str, ...], list[FetchResult]]:
        async with Fetcher(
            user_agent="govarchive-test/1.0",
            max_concurrency=1,
            transport=httpx.MockTransport(hosts),
            sleep=fake.sleep,
            clock=fake.clock,
            wall_clock=fake.wall,
        ) as f:
            allowed = src.settings.allowed_hosts

            async def fetch(url: str) -> FetchResult:
                return await f.fetch(url, src.settings, allowed_hosts=allowed)

            found = await discover_detail_urls(src, fetch)
            results = [await fetch(u) for u in (*found.detail_urls, *extra_urls)]
            return found.detail_urls, results

    return run(go())


def test_the_default_scope_is_the_start_urls_host_on_its_default_ports() -> None:
    assert source().settings.allowed_hosts == ("gov.test",)
    hosts = Hosts()
    details, results = crawl(source(), hosts)
    assert details == (
        "http://gov.test/doc/1.html",
        "http://gov.test/doc/3.html",  # :80 is the default port of http
        "https://gov.test/doc/4.html",  # https on its default port: the same site upgraded
    )
    first = results[0]
    assert first.kind is FetchKind.OFFSITE
    assert first.error == "redirected to a host not allowed: http://gov.test:81/doc/1.html"
    assert [r.kind for r in results[1:]] == [FetchKind.OK, FetchKind.OK]
    assert not any(":81/" in u or ":8443/" in u for u in hosts.requested)


def test_redirects_within_the_default_ports_are_followed() -> None:
    hosts = Hosts()
    _, results = crawl(source(), hosts, "http://gov.test/doc/6.html", "http://gov.test/doc/7.html")
    upgraded, explicit_80 = results[-2:]
    assert (upgraded.kind, upgraded.final_url) == (FetchKind.OK, "https://gov.test/doc/6.html")
    assert (explicit_80.kind, explicit_80.final_url) == (
        FetchKind.OK,
        "http://gov.test/doc/7b.html",
    )


def test_another_port_is_in_scope_only_when_listed() -> None:
    hosts = Hosts()
    src = source(allowed_hosts=["gov.test", "gov.test:81"])
    details, results = crawl(src, hosts)
    assert "http://gov.test:81/doc/2.html" in details
    assert "https://gov.test:8443/doc/5.html" not in details
    assert results[0].kind is FetchKind.OK
    assert results[0].final_url == "http://gov.test:81/doc/1.html"


def test_a_bare_host_in_allowed_hosts_no_longer_admits_other_ports() -> None:
    with pytest.raises(ConfigError, match=r"does not include 'gov\.test:8080'"):
        config_from_mapping(
            {
                "sources": [
                    {
                        "name": "gov",
                        "start_urls": ["http://gov.test:8080/list.html"],
                        "detail_links": "a",
                        "schedule": "0 6 * * *",
                        "allowed_hosts": ["gov.test"],
                    }
                ]
            }
        )
