"""WARC files for the import tests, written by warcio's own writer (another tool's files,
as a colleague's crawl or a web archive would hand them over)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 521: "Origin Down"}


@dataclass(frozen=True)
class Rec:
    """One capture to write: a response, or a revisit of the earlier response of the same
    URL with the same body (``revisit``: written as identical-payload-digest)."""

    url: str
    at: datetime
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: Sequence[tuple[str, str]] = field(default_factory=tuple)
    revisit: bool = False


def warc_date(at: datetime) -> str:
    """WARC/1.1's WARC-Date with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_warc(path: Path, records: Sequence[Rec], *, gzip: bool = True) -> Path:
    """Write ``records`` (after a warcinfo record and each response's request record) to
    ``path`` and return it."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip, warc_version="WARC/1.1")
        writer.write_record(
            writer.create_warcinfo_record(path.name, {"software": "warcio test writer"})
        )
        digests: dict[tuple[str, bytes], tuple[str, str]] = {}
        for rec in records:
            http = StatusAndHeaders(
                f"{rec.status} {_REASONS.get(rec.status, 'Status')}",
                [("Content-Type", rec.content_type), *rec.headers],
                protocol="HTTP/1.1",
            )
            warc_headers = {"WARC-Date": warc_date(rec.at)}
            if rec.revisit:
                digest, first_date = digests[(rec.url, rec.body)]
                record = writer.create_revisit_record(
                    rec.url, digest, rec.url, first_date, http_headers=http,
                    warc_headers_dict=warc_headers,
                )  # fmt: skip
            else:
                record = writer.create_warc_record(
                    rec.url, "response", payload=io.BytesIO(rec.body), http_headers=http,
                    warc_headers_dict=warc_headers,
                )  # fmt: skip
            writer.write_record(record)
            if not rec.revisit:
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                digests[(rec.url, rec.body)] = (digest, warc_date(rec.at))
    return path
