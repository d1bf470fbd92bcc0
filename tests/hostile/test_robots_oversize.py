"""A robots.txt larger than the robots.txt cap is read, not waved through (issue 16, finding 5).

RFC 9309 section 2.5: a crawler must parse at least the first 500 KiB. Whatever the
file's size, a refusal in the part that was kept is obeyed; a file that cannot be
cut (compressed past the cap) disallows everything rather than allowing it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from scraper.fetching.response import FetchKind
from scraper.fetching.robots import MAX_ROBOTS_BYTES
from tests.site.server import Request, Response, TestSite
from tests.test_fetch import ROBOTS, FakeTime, fetch_one, fetcher, run

PADDING_LINE = b"# " + b"x" * 97 + b"\n"  # 100 bytes


def oversized(head: bytes, size: int = MAX_ROBOTS_BYTES + 100 * 1024) -> bytes:
    """Return ``head`` followed by comment lines up to ``size`` bytes."""
    lines = (size - len(head)) // len(PADDING_LINE) + 1
    return head + PADDING_LINE * lines


@pytest.mark.timeout(30)
def test_disallow_all_at_the_top_of_a_huge_robots_txt_is_obeyed(site: TestSite) -> None:
    site.add("/robots.txt", oversized(b"User-agent: *\nDisallow: /\n"), content_type="text/plain")
    site.add("/a", "a")
    result = fetch_one(site, "/a", ROBOTS)
    assert result.kind is FetchKind.ROBOTS
    assert site.hits("/a") == 0
    assert "first 512000 bytes" in (result.error or "")


@pytest.mark.timeout(30)
def test_an_endless_robots_txt_is_cut_and_obeyed(site: TestSite) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b"User-agent: *\nDisallow: /private/\n"
        for _ in range(40_000):  # 4 MB at most: bounded, far past the cap
            sent += len(PADDING_LINE)
            yield PADDING_LINE

    def handler(request: Request) -> Response:
        return Response(headers={"Content-Type": "text/plain"}, chunked=True, chunks=chunks())

    site.add_handler("/robots.txt", handler)
    site.add("/private/x", "x")
    site.add("/public/x", "x")
    assert fetch_one(site, "/private/x", ROBOTS).kind is FetchKind.ROBOTS
    assert fetch_one(site, "/public/x", ROBOTS).kind is FetchKind.OK
    assert site.hits("/private/x") == 0


def test_a_rule_cut_at_the_cap_is_dropped_not_shortened(site: TestSite) -> None:
    # "Allow: /publications" cut after "Allow: /pub" would allow /pubs/…; the
    # half-line at the cap is dropped, so the Disallow above it decides.
    head = b"User-agent: *\nDisallow: /\n"
    filler = MAX_ROBOTS_BYTES - len(head) - len(b"Allow: /pub")
    body = head + b"#" + b"x" * (filler - 2) + b"\n" + b"Allow: /publications\n"
    body += PADDING_LINE * 2000
    assert body[:MAX_ROBOTS_BYTES].endswith(b"\nAllow: /pub")
    site.add("/robots.txt", body, content_type="text/plain")
    site.add("/pubs/x", "x")
    assert fetch_one(site, "/pubs/x", ROBOTS).kind is FetchKind.ROBOTS


def test_robots_txt_is_asked_for_uncompressed(site: TestSite) -> None:
    site.robots("User-agent: *\nDisallow: /x\n")
    site.add("/a", "a")
    fetch_one(site, "/a", ROBOTS)
    (request,) = site.requests_to("/robots.txt")
    assert request.headers["accept-encoding"] == "identity"


def test_compressed_robots_txt_past_the_cap_disallows_everything(
    site: TestSite, caplog: pytest.LogCaptureFixture
) -> None:
    # The server ignores Accept-Encoding: identity; a compressed stream cannot be cut
    # at the cap, so nothing of it is known: refuse rather than allow.
    big = oversized(b"User-agent: *\nAllow: /\n")
    site.add("/robots.txt", big, content_type="text/plain", gzip=True)
    site.add("/a", "a")
    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        result = fetch_one(site, "/a", ROBOTS)
    assert result.kind is FetchKind.ROBOTS
    assert "everything disallowed" in (result.error or "")
    assert any(
        r.levelno == logging.WARNING and "everything disallowed" in r.getMessage()
        for r in caplog.records
    )


def test_small_compressed_robots_txt_still_works(site: TestSite) -> None:
    site.add(
        "/robots.txt",
        "User-agent: *\nDisallow: /x\n",
        content_type="text/plain",
        gzip=True,
    )
    site.add("/x", "x")
    assert fetch_one(site, "/x", ROBOTS).kind is FetchKind.ROBOTS


def test_cut_robots_txt_is_reported(site: TestSite, caplog: pytest.LogCaptureFixture) -> None:
    site.add("/robots.txt", oversized(b"User-agent: *\nDisallow: /x\n"), content_type="text/plain")

    async def go() -> str:
        async with fetcher(FakeTime()) as f:
            return (await f.robots(site.url("/a"), ROBOTS)).note

    with caplog.at_level(logging.INFO, logger="scraper.fetching.fetch"):
        note = run(go())
    assert note == f"robots.txt 200 (only its first {MAX_ROBOTS_BYTES} bytes read)"
    assert any(r.levelno == logging.WARNING and note in r.getMessage() for r in caplog.records)
