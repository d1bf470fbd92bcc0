"""The connection layer under httpx: aiohttp's client behind httpx's transport API.

:class:`scraper.fetching.fetch.Fetcher` speaks httpx (requests, responses, its
exception tree, ``MockTransport`` in tests); this module only moves the bytes.
httpx's own transport, httpcore on anyio, spent ~1 ms of CPU per 46 KB page on a
local site (bench/crawl.py's bare loop: 1.05 ms at 16 requests in flight, about
40% of a whole Scrapy crawl's 2.6 ms per page): cancel scopes, async-library
detection and an idle check (a ``getpeername`` and a ``poll``) of every pooled
connection on every request. httpx with this transport spent 0.35 ms, aiohttp alone
0.21 ms, in the same run. httpx documents custom transports
(``httpx.AsyncBaseTransport``), so nothing here reaches into either library.

What this layer keeps as httpx had it, because the fetcher depends on it:

- the body arrives as sent (``auto_decompress=False``): the fetcher's
  :class:`~scraper.fetching.decompression.BodyDecoder` bounds decompression;
- headers arrive as raw byte pairs, in the server's order and case, repeats kept
  (``page_versions.response_headers`` stores them so);
- the URL is sent exactly as httpx encoded it (no re-quoting), no cookie jar, no
  redirects followed, no proxy from the environment;
- a response closed before its end drops its connection (as httpcore did), so a
  half-read body never poisons the next request;
- aiohttp's errors come back as the httpx exceptions httpcore would have raised
  (:func:`_translated`), with the original as ``__cause__`` (the fetcher looks for a
  ``socket.gaierror`` there to tell a name that does not resolve).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from yarl import URL

#: Bytes of one header line and of one header field a response may have, and how many
#: header fields: aiohttp's defaults (8 KB, 128) are below what httpcore accepted
#: (h11: 16 KB of headers in all), and government sites send long Set-Cookie lines.
MAX_HEADER_LINE = 16 * 1024
MAX_HEADERS = 256
#: Seconds an idle connection is kept for the next request (httpcore's default).
KEEPALIVE_SECONDS = 5.0


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends requests with one aiohttp session.

    ``ssl_context`` verifies HTTPS; ``max_connections`` bounds open connections (the
    fetcher's own slots bound requests in flight). The session is made on the first
    request (aiohttp wants a running loop) and closed by :meth:`aclose`, which
    ``httpx.AsyncClient.aclose`` calls.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        self._ssl = ssl_context
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; return the response with its body still to be streamed.

        Raises the httpx exception matching what went wrong (ConnectError,
        ConnectTimeout, ReadTimeout, RemoteProtocolError, ReadError …).
        """
        session = self._session or self._open_session()
        timeouts = request.extensions.get("timeout", {})
        with _translated(request):
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=request.content or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read"),
                ),
            )
        version = response.version or aiohttp.HttpVersion11
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode(),
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        """Close the session and every connection it holds."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=self._max_connections,
            keepalive_timeout=KEEPALIVE_SECONDS,
            # getaddrinfo in a thread, like httpcore: the system's resolver and
            # /etc/hosts, whatever else happens to be installed
            resolver=aiohttp.ThreadedResolver(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            # httpx has set every header the request carries; add none of aiohttp's
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
            trust_env=False,
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADERS,
        )
        return self._session


class _Body(httpx.AsyncByteStream):
    """A response body read from aiohttp chunk by chunk, as the network hands it over."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _translated(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # A body not read to its end leaves its connection unusable: release()
        # closes it then, and returns it to the pool otherwise.
        self._response.release()


@contextmanager
def _translated(request: httpx.Request) -> Iterator[None]:
    """Raise aiohttp's errors as the httpx exceptions the fetcher handles."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
    except TimeoutError as exc:  # aiohttp's read timeouts are TimeoutErrors too
        raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # DNS, refused, TLS handshake
        # the socket's own words, as httpcore gave them ("[Errno -2] Name or service not
        # known"), not aiohttp's "Cannot connect to host …" around them
        raise httpx.ConnectError(str(exc.os_error) or str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # a status line or header it cannot read
        raise httpx.RemoteProtocolError(exc.message, request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.InvalidURL(str(exc)) from exc
    except (aiohttp.ClientOSError, aiohttp.ClientConnectionError) as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc) or type(exc).__name__, request=request) from exc
