"""Test WARC and ARC files, written with warcio's own writer (and ARC by hand), with the
records each holds so tests can compare what the reader finds against what was written."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PAGE = "<html><head><title>关于印发通知</title></head><body><p>正文</p></body></html>".encode()
OTHER = b"<html><body>other page</body></html>"
URL = "http://www.example.gov.cn/zwgk/art_1.html"
CHUNKED_URL = "http://www.example.gov.cn/zwgk/chunked.html"
GZIP_URL = "http://www.example.gov.cn/zwgk/gzip.html"
DATE = "2024-05-01T08:00:00.123456Z"
REVISIT_DATE = "2024-06-01T08:00:00Z"
ORIGINAL_ID = "<urn:uuid:00000000-0000-0000-0000-000000000001>"
REVISIT_ID = "<urn:uuid:00000000-0000-0000-0000-000000000002>"


@dataclass(frozen=True)
class Written:
    """A test archive: its file, and the record ids of its responses and revisits in order."""

    path: Path
    ids: tuple[str, ...]


def chunked(data: bytes, size: int = 7) -> bytes:
    """``data`` in HTTP/1.1 chunked transfer encoding, ``size`` bytes a chunk."""
    out = b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    )
    return out + b"0\r\n\r\n"


def _http(headers: list[tuple[str, str]], status: str = "200 OK") -> StatusAndHeaders:
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


def _response(
    writer: WARCWriter, url: str, body: bytes, headers: list[tuple[str, str]], record_id: str
) -> Any:
    return writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=_http(headers),
        warc_headers_dict={"WARC-Date": DATE, "WARC-Record-ID": record_id},
    )


def write_warc(path: Path, *, gzip_records: bool, version: str = "1.1") -> Written:
    """A warcinfo, a request, three responses (plain, chunked, gzip Content-Encoding) and
    a revisit of the first (identical-payload-digest), in that order."""
    with path.open("wb") as file:
        writer = WARCWriter(file, gzip=gzip_records, warc_version=version)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        request = _http([("Host", "www.example.gov.cn")], status="GET /zwgk/art_1.html")
        writer.write_record(
            writer.create_warc_record(
                URL,
                "request",
                payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(
                    "GET /zwgk/art_1.html",
                    request.headers,
                    protocol="HTTP/1.1",
                    is_http_request=True,
                ),
            )
        )
        plain = _response(
            writer, URL, PAGE, [("Content-Type", "text/html; charset=utf-8")], ORIGINAL_ID
        )
        writer.write_record(plain)
        writer.write_record(
            _response(
                writer,
                CHUNKED_URL,
                chunked(OTHER),
                [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
                "<urn:uuid:00000000-0000-0000-0000-000000000003>",
            )
        )
        writer.write_record(
            _response(
                writer,
                GZIP_URL,
                gzip.compress(PAGE),
                [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                "<urn:uuid:00000000-0000-0000-0000-000000000004>",
            )
        )
        digest = plain.rec_headers.get_header("WARC-Payload-Digest")
        revisit = writer.create_revisit_record(
            URL,
            digest,
            URL,
            DATE,
            http_headers=_http([("Content-Type", "text/html; charset=utf-8")]),
            warc_headers_dict={"WARC-Date": REVISIT_DATE, "WARC-Record-ID": REVISIT_ID},
        )
        writer.write_record(revisit)
    return Written(
        path,
        (
            ORIGINAL_ID,
            "<urn:uuid:00000000-0000-0000-0000-000000000003>",
            "<urn:uuid:00000000-0000-0000-0000-000000000004>",
            REVISIT_ID,
        ),
    )


ARC_RECORDS = [
    (URL, "10.0.0.1", "20240501080000", "text/html", PAGE),
    (GZIP_URL, "10.0.0.2", "20240502090000", "text/html", OTHER),
]


def _arc_http(body: bytes) -> bytes:
    head = f"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def arc_members(name: str) -> list[bytes]:
    """An ARC v1 file's records (the filedesc:// header block first), each with its
    trailing newline."""
    meta = b"1 0 govarchive-tests\nURL IP-address Archive-date Content-type Archive-length\n"
    members = [
        f"filedesc://{name} 0.0.0.0 20240501080000 text/plain {len(meta)}\n".encode() + meta + b"\n"
    ]
    for url, ip, date, content_type, body in ARC_RECORDS:
        block = _arc_http(body)
        header = f"{url} {ip} {date} {content_type} {len(block)}\n".encode()
        members.append(header + block + b"\n")
    return members


def write_arc(path: Path, *, gzip_records: bool) -> Path:
    """An ARC file of two HTTP responses, each record its own gzip member if asked."""
    members = arc_members(path.name)
    data = b"".join(gzip.compress(m) for m in members) if gzip_records else b"".join(members)
    path.write_bytes(data)
    return path
