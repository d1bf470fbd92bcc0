"""scraper.fetching.decompression: bounded decompression, fed chunk by chunk as from the network."""

from __future__ import annotations

import gzip
import zlib

import pytest

from scraper.errors import FetchError, TooLargeError, TruncatedError
from scraper.fetching.decompression import BodyDecoder
from tests.site import pages

URL = "http://a.gov.cn/x"


def decode(
    data: bytes,
    encoding: str | None,
    *,
    limit: int = 10_000_000,
    piece: int = 1000,
    length: int | None = None,
) -> bytes:
    decoder = BodyDecoder(url=URL, limit=limit, content_encoding=encoding, content_length=length)
    for start in range(0, len(data), piece):
        decoder.feed(data[start : start + piece])
    return decoder.finish()


BODY = pages.document(encoding="gbk")


@pytest.mark.parametrize("encoding", [None, "", "identity", "gzip", "x-gzip", "GZIP", "deflate"])
def test_round_trip(encoding: str | None) -> None:
    if encoding and encoding.lower() in ("gzip", "x-gzip"):
        data = gzip.compress(BODY)
    elif encoding == "deflate":
        data = zlib.compress(BODY)
    else:
        data = BODY
    assert decode(data, encoding) == BODY
    assert decode(data, encoding, piece=7) == BODY


def test_raw_deflate_from_old_servers() -> None:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = compressor.compress(BODY) + compressor.flush()
    assert decode(data, "deflate") == BODY


def test_multi_member_gzip_and_trailing_padding() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second") + b"\0\0\0"
    assert decode(data, "gzip", piece=7) == b"first second"


def test_stacked_encodings_are_undone_last_first() -> None:
    data = gzip.compress(zlib.compress(BODY))
    assert decode(data, "deflate, gzip") == BODY


def test_limit_counts_raw_bytes() -> None:
    with pytest.raises(TooLargeError, match="body over 1000 bytes"):
        decode(b"x" * 1001, None, limit=1000)
    assert decode(b"x" * 1000, None, limit=1000) == b"x" * 1000


def test_limit_counts_decoded_bytes() -> None:
    data = gzip.compress(b"a" * 5000)
    assert len(data) < 1000
    with pytest.raises(TooLargeError, match="decoded body over 4999 bytes"):
        decode(data, "gzip", limit=4999)
    assert decode(data, "gzip", limit=5000) == b"a" * 5000


def test_bomb_is_stopped_without_inflating_it() -> None:
    bomb = pages.gzip_bomb(64 * 1024 * 1024)
    decoder = BodyDecoder(url=URL, limit=1024 * 1024, content_encoding="gzip")
    with pytest.raises(TooLargeError) as caught:
        decoder.feed(bomb)  # the whole bomb in one chunk
    assert caught.value.url == URL
    # at most one byte over the budget was ever inflated
    assert decoder._size == 1024 * 1024 + 1


def test_content_length_shortfall_is_truncated() -> None:
    with pytest.raises(TruncatedError, match="body ended after 500 of 1000 bytes"):
        decode(b"x" * 500, None, length=1000)


def test_cut_gzip_stream_is_truncated() -> None:
    with pytest.raises(TruncatedError, match="gzip stream ended early"):
        decode(gzip.compress(BODY)[:-50], "gzip")


def test_corrupt_and_unknown_encodings() -> None:
    with pytest.raises(FetchError, match="corrupt gzip body"):
        decode(b"definitely not gzip", "gzip")
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        BodyDecoder(url=URL, limit=10, content_encoding="br")


def test_empty_body() -> None:
    assert decode(b"", "gzip") == b""
    assert decode(b"", None) == b""
