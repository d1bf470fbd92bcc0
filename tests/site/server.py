"""A real HTTP/1.1 server on 127.0.0.1 with a mutable route table, for tests and benchmarks.

Start one with :func:`serve` (a context manager; pytest's ``site`` fixture wraps
it) and describe pages with :meth:`TestSite.add` and friends. Routes can change
between two crawls (``add`` again, ``remove``). Every request is logged
(:attr:`TestSite.requests`) with its headers and arrival time, and the number of
requests being handled at once is tracked (:attr:`TestSite.max_in_flight`), so
tests can assert conditional requests, the User-Agent, robots.txt fetched once,
and concurrency limits.

A route is a static :class:`Response` or a handler ``(Request) -> Response``
called in the server's thread (it may sleep, count, or change its answer).
Lookup tries the exact path with its query string first, then the path alone,
then the :meth:`~TestSite.fallback` handler; unknown paths answer 404.
Built-in faults: :meth:`~TestSite.flaky` (503 + Retry-After N times, then
200), ``delay=`` (slow), :meth:`~TestSite.redirect`, :meth:`~TestSite.robots`,
``gzip=True``, :meth:`~TestSite.gzip_bomb`,
``truncate_to=`` (Content-Length larger than what is sent, then close),
:meth:`~TestSite.block` (瑞数 412, 加速乐 521, 云锁, WAF 403), and ETag /
Last-Modified with 304 answers (``etag=``, ``last_modified=``).
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

from tests.site import pages

BlockKind = Literal["ruishu", "jiasule", "yunsuo", "waf"]


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str  # path and query, as sent
    headers: Mapping[str, str]  # lower-case names
    at: float  # time.monotonic() on arrival
    client_port: int = 0  # the client's source port: one per TCP connection


@dataclass
class Response:
    """What to answer. ``body`` is sent as is unless ``gzip`` asks to compress it."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    gzip: bool = False  # compress body, send Content-Encoding: gzip
    truncate_to: int | None = None  # announce len(body), send this many bytes, close
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    chunks: Iterable[bytes] | None = None  # stream these instead of body (chunked)


Handler = Callable[[Request], Response]


class TestSite:
    """A running local site: route table, request log and in-flight counter."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = host
        self._routes: dict[str, Handler] = {}
        self._fallback: Handler | None = None
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._max_in_flight = 0
        self._connections: set[socket.socket] = set()
        self._server = _Server((host, port), _RequestHandler)
        self._server.site = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- addresses --------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the host as :func:`scraper.fetching.urls.host_of` names it."""
        return f"{self._address}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}"

    def url(self, path: str = "/") -> str:
        """Return the absolute URL of ``path`` (which starts with ``/``) on this site."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        return self.base_url + path

    # -- routes -----------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "text/html; charset=utf-8",
        delay: float = 0.0,
        gzip: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
        truncate_to: int | None = None,
        chunked: bool = False,
    ) -> None:
        """Serve ``body`` at ``path`` (replacing any route there).

        With ``etag`` / ``last_modified`` the validators are sent and a request
        carrying a matching If-None-Match (or an If-Modified-Since not older than
        ``last_modified``) gets a 304 without body.
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        if etag:
            all_headers["ETag"] = etag
        if last_modified:
            all_headers["Last-Modified"] = last_modified
        response = Response(
            body=data,
            status=status,
            headers=all_headers,
            delay=delay,
            gzip=gzip,
            truncate_to=truncate_to,
            chunked=chunked,
        )

        def handler(request: Request) -> Response:
            if _not_modified(request, etag, last_modified):
                validators = {
                    k: v for k, v in all_headers.items() if k in ("ETag", "Last-Modified")
                }
                return Response(status=304, headers=validators, delay=delay)
            return response

        self.add_handler(path, handler)

    def add_handler(self, path: str, handler: Handler) -> None:
        """Answer requests to ``path`` with ``handler(request)`` (called in the server thread)."""
        with self._lock:
            self._routes[path] = handler

    def fallback(self, handler: Handler | None) -> None:
        """Answer every path without a route with ``handler`` (None: 404 again).

        Lets a benchmark or a large crawl test generate thousands of pages from
        their paths instead of registering each one.
        """
        with self._lock:
            self._fallback = handler

    def remove(self, path: str) -> None:
        """Stop serving ``path``: it answers 404 from now on. Unknown paths are ignored."""
        with self._lock:
            self._routes.pop(path, None)

    def redirect(self, path: str, location: str, *, status: int = 301) -> None:
        """Answer ``path`` with a redirect to ``location`` (absolute or relative)."""
        self.add(path, b"", status=status, headers={"Location": location}, content_type=None)

    def flaky(
        self,
        path: str,
        body: bytes | str,
        *,
        failures: int = 1,
        status: int = 503,
        retry_after: str | None = "1",
        **kwargs: object,
    ) -> None:
        """Answer the first ``failures`` requests with ``status`` (and Retry-After), then ``body``.

        ``kwargs`` go to :meth:`add` for the good answer.
        """
        self.add(path, body, **kwargs)  # type: ignore[arg-type]
        good = self._routes[path]
        count = 0
        lock = threading.Lock()

        def handler(request: Request) -> Response:
            nonlocal count
            with lock:
                count += 1
                failing = count <= failures
            if failing:
                headers = {"Content-Type": "text/html"}
                if retry_after is not None:
                    headers["Retry-After"] = retry_after
                return Response(f"<h1>{status}</h1>".encode(), status=status, headers=headers)
            return good(request)

        self.add_handler(path, handler)

    def robots(self, text: str, *, status: int = 200) -> None:
        """Serve ``text`` as /robots.txt (text/plain)."""
        self.add("/robots.txt", text, status=status, content_type="text/plain")

    def gzip_bomb(self, path: str, decompressed_size: int = 200 * 1024 * 1024) -> None:
        """Serve a small gzip body that inflates to ``decompressed_size`` zero bytes."""
        self.add(
            path,
            pages.gzip_bomb(decompressed_size),
            headers={"Content-Encoding": "gzip"},
        )

    def block(self, path: str, kind: BlockKind) -> None:
        """Serve a block / challenge page as the real products do."""
        if kind == "ruishu":
            self.add(path, pages.ruishu_challenge(), status=412)
        elif kind == "jiasule":
            cookie = "__jsluid_h=0e2d7c9f8b0a4c1e; max-age=31536000; path=/; HttpOnly"
            self.add(path, pages.jiasule_challenge(), status=521, headers={"Set-Cookie": cookie})
        elif kind == "yunsuo":
            cookie = "security_session_verify=6f1c4e0b7a; path=/; HttpOnly"
            self.add(path, pages.yunsuo_challenge(), headers={"Set-Cookie": cookie})
        elif kind == "waf":
            self.add(path, pages.waf_403(), status=403)
        else:
            raise ValueError(f"unknown block kind {kind!r}")

    # -- what happened ----------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[Request]:
        """The requests whose path (with query) is exactly ``path``."""
        return [r for r in self.requests if r.path == path]

    def hits(self, path: str) -> int:
        """How many requests ``path`` received."""
        return len(self.requests_to(path))

    def clear_log(self) -> None:
        """Forget logged requests and reset :attr:`max_in_flight` (e.g. between two crawls)."""
        with self._lock:
            self._log.clear()
            self._max_in_flight = self._in_flight

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at once since start (or :meth:`clear_log`)."""
        with self._lock:
            return self._max_in_flight

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving, drop open keep-alive connections and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    # -- used by the request handler ---------------------------------------------------

    def _begin(self, request: Request) -> Handler | None:
        with self._lock:
            self._log.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            path = request.path
            return (
                self._routes.get(path) or self._routes.get(path.split("?", 1)[0]) or self._fallback
            )

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1


@contextlib.contextmanager
def serve(host: str = "127.0.0.1", port: int = 0) -> Iterator[TestSite]:
    """Run a :class:`TestSite` for the duration of the ``with`` block."""
    site = TestSite(host, port)
    site.start()
    try:
        yield site
    finally:
        site.close()


NOT_FOUND = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>404 Not Found</h1></body></html>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: TestSite

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that drops a connection (our fetcher cutting an oversized body,
        # or giving up on a slow answer) is normal here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    # Headers and body leave in one segment: separate small writes meet the
    # client's delayed ACK and cost ~40 ms a response (Nagle), which would make
    # the benchmark measure TCP rather than the crawler.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.site._lock:
            self.server.site._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.site._lock:
            self.server.site._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean; the site's request log has everything

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        request = Request(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            at=time.monotonic(),
            client_port=int(self.client_address[1]),
        )
        handler = site._begin(request)
        try:
            if handler is None:
                response = Response(NOT_FOUND, status=404, headers={"Content-Type": "text/html"})
            else:
                response = handler(request)
            if response.delay:
                time.sleep(response.delay)
            self._write(response, head=head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout)
        finally:
            site._end()

    def _write(self, response: Response, *, head: bool) -> None:
        body = response.body
        headers = dict(response.headers)
        if response.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        no_body = head or response.status in (204, 304) or response.status < 200
        if response.chunks is not None or response.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not no_body:
                for chunk in response.chunks if response.chunks is not None else [body]:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()  # a streamed chunk leaves now, not at the end
                self.wfile.write(b"0\r\n\r\n")
        elif response.truncate_to is not None:
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: response.truncate_to])
            self.wfile.flush()
            self.close_connection = True
        else:
            if response.status not in (204, 304):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not no_body:
                self.wfile.write(body)
        self.wfile.flush()


def _not_modified(request: Request, etag: str | None, last_modified: str | None) -> bool:
    """Return whether ``request``'s validators match (If-None-Match takes precedence)."""
    if_none_match = request.headers.get("if-none-match")
    if etag and if_none_match is not None:
        wanted = {_weak(tag) for tag in if_none_match.split(",")}
        return "*" in wanted or _weak(etag) in wanted
    since = request.headers.get("if-modified-since")
    if last_modified and since:
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            return False
    return False


def _weak(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag
