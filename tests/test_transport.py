"""scraper.fetching.transport: aiohttp's connections under httpx keep httpx's contract.

The fetcher's own tests (tests/test_fetch.py, tests/hostile/) run through this transport
end to end; these pin what the fetcher relies on directly, against raw socket servers
on 127.0.0.1 that answer exactly the bytes each test gives them.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from scraper.fetching.transport import AiohttpTransport


class RawServer:
    """A TCP server on 127.0.0.1 whose connections ``handler`` serves; it records every
    request head it reads (``read_request``) and counts connections."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        return head


#: One connection's handler: reads requests from the client, writes answers.
Handler = Callable[[RawServer, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[RawServer]:
    """Serve each connection to a new 127.0.0.1 port with ``handler``."""
    state = RawServer()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            await handler(state, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def client(timeout: float = 5.0) -> httpx.AsyncClient:
    transport = AiohttpTransport(ssl_context=ssl.create_default_context(), max_connections=4)
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))


def answer(body: bytes = b"ok", *, head: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + head + b"\r\n" + body


async def keep_answering(
    state: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> None:
    while True:
        await state.read_request(reader)
        writer.write(data)
        await writer.drain()


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_headers_come_back_raw_in_order_case_and_repeats() -> None:
    head = b"X-Zeta: 1\r\nx-alpha: two\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nSERVER: odd\r\n"

    async def main() -> None:
        async with (
            raw_server(lambda s, r, w: keep_answering(s, r, w, answer(head=head))) as srv,
            client() as c,
        ):
            response = await c.get(f"http://127.0.0.1:{srv.port}/")
        assert response.headers.raw == [
            (b"Content-Length", b"2"),
            (b"X-Zeta", b"1"),
            (b"x-alpha", b"two"),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
            (b"SERVER", b"odd"),
        ]
        assert response.http_version == "HTTP/1.1"
        assert response.reason_phrase == "OK"

    run(main())


def test_the_url_is_sent_exactly_as_httpx_encoded_it() -> None:
    path = "/a%2Fb/%E4%B8%AD%E6%96%87.html?q=%20x&y=a+b&z=%7e"

    async def main() -> None:
        async with (
            raw_server(lambda s, r, w: keep_answering(s, r, w, answer())) as srv,
            client() as c,
        ):
            await c.get(f"http://127.0.0.1:{srv.port}{path}")
        assert srv.heads[0].split(b"\r\n")[0] == f"GET {path} HTTP/1.1".encode()

    run(main())


def test_only_the_request_s_own_headers_are_sent() -> None:
    async def main() -> None:
        async with (
            raw_server(lambda s, r, w: keep_answering(s, r, w, answer())) as srv,
            client() as c,
        ):
            await c.get(
                f"http://127.0.0.1:{srv.port}/",
                headers={"User-Agent": "govarchive-test", "Accept-Encoding": "gzip"},
            )
        lines = srv.heads[0].decode().split("\r\n")[1:]
        names = [line.split(":")[0].lower() for line in lines if line]
        assert sorted(names) == sorted(
            ["host", "accept", "accept-encoding", "connection", "user-agent"]
        )
        assert "User-Agent: govarchive-test" in lines
        assert "Accept-Encoding: gzip" in lines

    run(main())


def test_a_compressed_body_arrives_as_sent() -> None:
    packed = gzip.compress(b"<html>" + "中文".encode() * 100 + b"</html>")

    async def main() -> None:
        data = answer(packed, head=b"Content-Encoding: gzip\r\n")
        async with raw_server(lambda s, r, w: keep_answering(s, r, w, data)) as srv, client() as c:
            response = await c.send(
                c.build_request("GET", f"http://127.0.0.1:{srv.port}/"), stream=True
            )
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        assert raw == packed

    run(main())


def test_connections_are_reused_and_a_half_read_one_is_dropped() -> None:
    big = b"x" * 2_000_000

    async def main() -> None:
        async def handler(s: RawServer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while True:
                head = await s.read_request(r)
                w.write(answer(big if b"/big" in head else b"small"))
                await w.drain()

        async with raw_server(handler) as srv, client() as c:
            for _ in range(3):
                assert (await c.get(f"http://127.0.0.1:{srv.port}/small")).content == b"small"
            assert srv.connections == 1
            async with c.stream("GET", f"http://127.0.0.1:{srv.port}/big") as response:
                async for _chunk in response.aiter_raw():
                    break  # stop early: the rest of the body is never read
            assert (await c.get(f"http://127.0.0.1:{srv.port}/small")).content == b"small"
            assert srv.connections == 2

    run(main())


def test_a_long_header_line_is_accepted() -> None:
    cookie = b"Set-Cookie: big=" + b"v" * 12_000 + b"\r\n"

    async def main() -> None:
        data = answer(head=cookie)
        async with raw_server(lambda s, r, w: keep_answering(s, r, w, data)) as srv, client() as c:
            response = await c.get(f"http://127.0.0.1:{srv.port}/")
        assert len(response.headers["set-cookie"]) == 12_004

    run(main())


async def _once(data: bytes, *, hold: float = 0.0) -> Exception:
    """Answer one request with ``data`` (then wait ``hold`` s and hang up); return what
    the client raised."""

    async def handler(s: RawServer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await s.read_request(r)
        w.write(data)
        await w.drain()
        await asyncio.sleep(hold)

    async with raw_server(handler) as srv, client(timeout=0.5) as c:
        with pytest.raises(httpx.HTTPError) as caught:
            await c.get(f"http://127.0.0.1:{srv.port}/")
    return caught.value


def test_a_body_cut_short_is_a_remote_protocol_error() -> None:
    error = asyncio.run(_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"))
    assert isinstance(error, httpx.RemoteProtocolError)


def test_a_hang_up_before_any_answer_is_a_remote_protocol_error() -> None:
    error = asyncio.run(_once(b""))
    assert isinstance(error, httpx.RemoteProtocolError)


def test_a_garbled_status_line_is_a_remote_protocol_error() -> None:
    error = asyncio.run(_once(b"HTP/9 banana\r\n\r\n"))
    assert isinstance(error, httpx.RemoteProtocolError)


def test_silence_is_a_read_timeout() -> None:
    error = asyncio.run(_once(b"", hold=3.0))
    assert isinstance(error, httpx.ReadTimeout)


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def main() -> None:
        async with client() as c:
            with pytest.raises(httpx.ConnectError):
                await c.get(f"http://127.0.0.1:{port}/")

    run(main())


def test_a_name_that_does_not_resolve_keeps_the_gaierror_as_its_cause() -> None:
    async def main() -> None:
        async with client() as c:
            with pytest.raises(httpx.ConnectError) as caught:
                await c.get("http://no-such-host.invalid/")
        seen: BaseException | None = caught.value
        chain: list[type[BaseException]] = []
        while seen is not None and len(chain) < 10:
            chain.append(type(seen))
            seen = seen.__cause__ or seen.__context__
        assert socket.gaierror in chain

    run(main())


def test_closing_the_client_closes_its_connections() -> None:
    async def main() -> None:
        closed = asyncio.Event()

        async def handler(s: RawServer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await s.read_request(r)
            w.write(answer())
            await w.drain()
            assert await r.read() == b""  # the client hung up
            closed.set()

        async with raw_server(handler) as srv:
            c = client()
            await c.get(f"http://127.0.0.1:{srv.port}/")
            await c.aclose()
            await asyncio.wait_for(closed.wait(), 5)

    run(main())
