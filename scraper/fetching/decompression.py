"""Decoding a response body chunk by chunk within a byte budget. No I/O.

httpx would decompress for us, but its decoders inflate each network chunk
without a size limit, so one 64 KiB chunk of a gzip bomb can become 64 MiB in
memory before any check runs. Here the fetcher streams raw bytes in and every
``decompress`` call is bounded by what is left of ``max_page_bytes``.
"""

from __future__ import annotations

import zlib

from scraper.errors import FetchError, TooLargeError, TruncatedError

#: Content-Encodings we ask for (Accept-Encoding) and can undo.
ACCEPT_ENCODING = "gzip, deflate"


class BodyDecoder:
    """Undoes ``Content-Encoding`` and counts bytes; :meth:`finish` returns the body.

    Raises :class:`TooLargeError` as soon as the raw or the decoded size passes
    ``limit``, :class:`TruncatedError` when a compressed stream or a body with a
    ``Content-Length`` ends early, and :class:`FetchError` for an encoding it
    cannot undo or a corrupt stream.
    """

    def __init__(
        self,
        *,
        url: str,
        limit: int,
        content_encoding: str | None = None,
        content_length: int | None = None,
    ) -> None:
        self.url = url
        self.limit = limit
        self.content_length = content_length
        self.raw_size = 0
        self._parts: list[bytes] = []
        self._size = 0
        self._stages = [_Stage(coding, url) for coding in _codings(content_encoding, url)]

    def feed(self, raw: bytes) -> None:
        """Take the next raw chunk from the network."""
        self.raw_size += len(raw)
        if self.raw_size > self.limit:
            raise TooLargeError(f"body over {self.limit} bytes", url=self.url)
        data = raw
        # Content-Encoding lists codings in the order applied; undo them last first.
        for stage in reversed(self._stages):
            data = stage.decompress(data, self.limit - self._size)
        self._add(data)

    def finish(self) -> bytes:
        """Return the complete decoded body once the network stream has ended."""
        if self.content_length is not None and self.raw_size < self.content_length:
            raise TruncatedError(
                f"body ended after {self.raw_size} of {self.content_length} bytes", url=self.url
            )
        data = b""
        for stage in reversed(self._stages):
            data = stage.decompress(data, self.limit - self._size) + stage.finish()
        self._add(data)
        return b"".join(self._parts)

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.limit:
            raise TooLargeError(f"decoded body over {self.limit} bytes", url=self.url)
        if data:
            self._parts.append(data)


def _codings(header: str | None, url: str) -> list[str]:
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {coding!r}", url=url)
    return codings


class _Stage:
    """One decompressor; restarts on a following gzip member, as gzip(1) does."""

    def __init__(self, coding: str, url: str) -> None:
        self.coding = coding
        self.url = url
        self.seen_input = False
        self.raw_deflate = False
        self._obj = self._new()

    def _new(self) -> zlib._Decompress:
        if self.coding == "deflate":
            # "deflate" should be zlib-wrapped; some IIS-era servers send it raw.
            return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def decompress(self, data: bytes, budget: int) -> bytes:
        out: list[bytes] = []
        if self._obj.eof and data.strip(b"\0") == b"":
            return b""  # padding after the last member
        while data:
            if self._obj.eof:  # a further gzip member starts in this chunk
                self._obj = self._new()
            try:
                piece = self._obj.decompress(data, budget + 1)
            except zlib.error as exc:
                if self.coding == "deflate" and not self.seen_input and not self.raw_deflate:
                    self.raw_deflate = True
                    self._obj = self._new()
                    continue
                raise FetchError(f"corrupt {self.coding} body: {exc}", url=self.url) from exc
            self.seen_input = True
            budget -= len(piece)
            out.append(piece)
            if budget < 0:  # more output than allowed: stop inflating now
                break
            if self._obj.eof:
                data = self._obj.unused_data
                if data.strip(b"\0") == b"":  # padding after the last member
                    break
            else:
                data = self._obj.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        if not self.seen_input:
            return b""  # an empty body (e.g. HEAD-like answers) is not a truncated stream
        if not self._obj.eof:
            raise TruncatedError(f"{self.coding} stream ended early", url=self.url)
        return b""
