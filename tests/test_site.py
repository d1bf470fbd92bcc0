"""The local test site itself (tests/site/server.py): what the crawl tests rely on."""

from __future__ import annotations

import http.client
import socket

import pytest

from tests.site.server import Request, Response, TestSite, serve


def get(
    site: TestSite, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_serve_outside_pytest_and_clean_shutdown() -> None:
    with serve() as site:
        site.add("/", "home")
        port = site.port
        assert site.url("/a?b=1") == f"http://127.0.0.1:{port}/a?b=1"
        assert site.host == f"127.0.0.1:{port}"
        # a keep-alive connection left open must not block shutdown
        lingering = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        lingering.request("GET", "/")
        assert lingering.getresponse().read() == b"home"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    lingering.close()


def test_routes_change_between_requests(site: TestSite) -> None:
    site.add("/p", "v1")
    assert get(site, "/p").status == 200
    site.add("/p", "v2", status=410)
    assert get(site, "/p").status == 410
    site.remove("/p")
    assert get(site, "/p").status == 404
    site.remove("/never-added")  # ignored


def test_query_routes_and_log(site: TestSite) -> None:
    site.add("/list?pageIndex=2", "page 2")
    site.add("/list", "any page")
    site.add_handler("/echo", lambda r: Response(r.headers.get("x-probe", "").encode()))
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    for path in ("/list?pageIndex=2", "/list?pageIndex=3", "/echo"):
        conn.request("GET", path, headers={"X-Probe": "hi"})
        bodies = conn.getresponse().read()
    conn.close()
    assert bodies == b"hi"
    assert [r.path for r in site.requests] == ["/list?pageIndex=2", "/list?pageIndex=3", "/echo"]
    assert site.requests[0].headers["x-probe"] == "hi"
    assert site.hits("/list?pageIndex=3") == 1
    site.clear_log()
    assert site.requests == []


def test_flaky_then_good(site: TestSite) -> None:
    site.flaky("/f", "ok", failures=2, status=503, retry_after="3")
    first, second, third = (get(site, "/f") for _ in range(3))
    assert (first.status, second.status, third.status) == (503, 503, 200)
    assert first.getheader("Retry-After") == "3"


def test_conditional_answers(site: TestSite) -> None:
    stamp = "Mon, 06 May 2024 08:00:00 GMT"
    site.add("/d", "doc", etag='"x"', last_modified=stamp)
    assert get(site, "/d", {"If-None-Match": 'W/"x"'}).status == 304
    assert get(site, "/d", {"If-None-Match": '"y"'}).status == 200
    assert get(site, "/d", {"If-Modified-Since": stamp}).status == 304
    assert get(site, "/d", {"If-Modified-Since": "Sun, 05 May 2024 08:00:00 GMT"}).status == 200
    # If-None-Match wins over If-Modified-Since
    assert get(site, "/d", {"If-None-Match": '"y"', "If-Modified-Since": stamp}).status == 200


def test_in_flight_is_counted(site: TestSite) -> None:
    seen: list[int] = []

    def handler(request: Request) -> Response:
        seen.append(site.in_flight)
        return Response(b"x")

    site.add_handler("/c", handler)
    get(site, "/c")
    assert seen == [1]
    assert site.max_in_flight == 1


def test_unknown_block_kind_is_refused(site: TestSite) -> None:
    with pytest.raises(ValueError, match="unknown block kind"):
        site.block("/x", "cloudflare")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must start with"):
        site.url("relative")
