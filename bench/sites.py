"""The benches' many-host site: one server process, one event loop, a site per loopback address.

Used by bench/daemon.py and bench/workers.py. ``serve_sites`` (run it in a child
process) serves ``hosts`` sites on 127.0.0.2, 127.0.0.3, … (each on a port of its own),
each a list page at :data:`LIST_PATH` linking ``pages`` detail pages: bench/crawl.py's
fixture pages (real CMS chrome), each copy made distinct, never padded. Every request is
stamped when its first bytes arrive, in a loop that does nothing else, so a short gap
between two requests to one host is the crawler's, not the server's: a threaded
``tests.site`` server per host (400 threads for 200 hosts) stamped requests late and
showed false short gaps.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from typing import TYPE_CHECKING, Any

from bench.crawl import detail_pages

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: How far below 1/rate (as a fraction of it) a gap between two requests to one host may
#: be and still count as polite: a crawler that sends each request within a few ms of
#: its turn stays well inside it.
GAP_TOLERANCE = 0.05
LIST_PATH = "/list/index.html"


def host_address(index: int) -> str:
    """Return the loopback address of site ``index``: 127.0.0.2 … 127.0.0.254, then
    127.0.1.2 … (no .0, .1 or .255 in any /24). Pure."""
    block, offset = divmod(index, 253)
    return f"127.0.{block}.{offset + 2}"


# -- the server process ---------------------------------------------------------------


class _Site:
    """One host's pages and what it saw: each request's arrival time, each connection."""

    def __init__(self, pages: dict[bytes, bytes]) -> None:
        self.pages = pages  # path → the whole response (head and body)
        self.arrivals: list[float] = []
        self.connections = 0


class _SiteProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, GET only, as much as the crawler needs. A request is
    stamped when its first bytes arrive: no queue of the server's own comes before it."""

    def __init__(self, site: _Site) -> None:
        self._site = site
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._site.connections += 1

    def data_received(self, data: bytes) -> None:
        if not self._buffer:
            self._site.arrivals.append(time.monotonic())
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
            assert self._transport is not None
            self._transport.write(self._site.pages.get(path, NOT_FOUND))
            if self._buffer:  # a pipelined request (httpx does not pipeline)
                self._site.arrivals.append(time.monotonic())


NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def _response(body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _make_sites(hosts: int, pages: int) -> list[_Site]:
    """Return each host's list page and detail pages (bench/crawl.py's, not padded)."""
    bodies = detail_pages(hosts * pages)
    sites = []
    for h in range(hosts):
        ids = range(h * pages, (h + 1) * pages)
        routes = {f"/show/{i}.html".encode(): _response(*bodies[i]) for i in ids}
        links = "".join(f'<li><a href="/show/{i}.html">文件 {i}</a></li>' for i in ids)
        page = f"<html><body><ul class='doc_list'>{links}</ul></body></html>"
        routes[LIST_PATH.encode()] = _response(page.encode(), "text/html; charset=utf-8")
        sites.append(_Site(routes))
    return sites


def serve_sites(hosts: int, pages: int, interval: float, conn: Connection) -> None:
    """Child process: serve the sites, one event loop listening on every host's address;
    on each "report" received on ``conn``, send back what the sites saw since the last
    one (:func:`request_report`); end on "stop"."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sites = _make_sites(hosts, pages)
        ports = []
        for h, site in enumerate(sites):
            protocol = functools.partial(_SiteProtocol, site)
            server = await loop.create_server(protocol, host_address(h), 0)
            ports.append(server.sockets[0].getsockname()[1])
        conn.send(ports)
        cpu = time.process_time()
        while await loop.run_in_executor(None, conn.recv) == "report":
            report = request_report(sites, interval)
            report["server_cpu"], cpu = time.process_time() - cpu, time.process_time()
            conn.send(report)

    asyncio.run(main())


def request_report(sites: list[_Site], interval: float) -> dict[str, Any]:
    """Return what the sites saw about politeness, and forget it.

    Gaps are those between two requests to one host; the n-th request is the one after
    the gap.
    """
    counts: list[int] = []
    gaps: list[tuple[float, int]] = []
    connections = 0
    firsts: list[float] = []
    lasts: list[float] = []
    everything: list[float] = []
    for site in sites:
        times, site.arrivals = sorted(site.arrivals), []
        counts.append(len(times))
        if times:
            firsts.append(times[0])
            lasts.append(times[-1])
            everything.extend(times)
        gaps.extend((b - a, n) for n, (a, b) in enumerate(itertools.pairwise(times), start=2))
        connections, site.connections = connections + site.connections, 0
    least = min(gaps, default=None)
    short = [n for gap, n in gaps if gap < interval * (1 - GAP_TOLERANCE)]
    # Steady state: from when every host has had its first request to when the first
    # host has had its last; the requests in that window over its length.
    begin, end = max(firsts, default=0.0), min(lasts, default=0.0)
    steady = sum(1 for t in everything if begin <= t <= end)
    return {
        "span": max(lasts) - min(firsts) if firsts else 0.0,
        "start_spread": begin - min(firsts) if firsts else 0.0,
        "steady_rate": steady / (end - begin) if end > begin else None,
        "requests": sum(counts),
        "most_per_host": max(counts),
        "min_gap": least[0] if least else None,
        "min_gap_before": least[1] if least else None,
        "short_gaps": len(short),
        "short_gaps_before_2nd": short.count(2),
        "gaps": len(gaps),
        "connections": connections,
    }
