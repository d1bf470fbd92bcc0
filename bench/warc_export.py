"""WARC export benchmark: MB/s `export --format warc` writes, against warcio alone.

Run by hand (never in the test suite)::

    .venv/bin/python bench/warc_export.py                  # 3,000 versions, SQLite
    .venv/bin/python bench/warc_export.py --versions 600 --repeat 5

What it does, on an SQLite archive in a temporary folder built through the real
migrations and storage.archive:

1. archives ``--versions`` versions: real pages (tests/fixtures/real/ and
   tests/fixtures/pages/), three versions per URL (the body text changes each time), two
   thirds of them with served response headers (gzip, chunked, cookies: the headers the
   export rewrites) and a third without (archived "before 0008": headers synthesized);
2. times :func:`storage.warcexport.export_warc` into a folder (best of ``--repeat``);
3. as the floor, times warcio writing the same records (same URLs, dates, headers and
   bodies, all held in memory beforehand) to one .warc.gz with the same settings.

MB/s is the .warc.gz bytes written per second (and the raw body bytes per second);
the ratio of the two runs is the export's own cost: reading and decompressing the
blobs, the query, the header rewriting, the manifest and the SHA-256 of each file.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from sqlalchemy import Engine, select
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.commands.reparse import current_parser  # noqa: E402
from storage.archive import archive_page, ensure_source, start_run  # noqa: E402
from storage.blobs import read_blob  # noqa: E402
from storage.content import ParsedDoc  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Page, PageVersion  # noqa: E402
from storage.warcexport import export_warc, http_headers, warc_date  # noqa: E402

FIXTURES = (ROOT / "tests" / "fixtures" / "real", ROOT / "tests" / "fixtures" / "pages")
T0 = datetime(2024, 5, 1, tzinfo=UTC)
CONTENT_TYPE = "text/html; charset=utf-8"
SERVED = (
    ("Server", "nginx"),
    ("Date", "Wed, 01 May 2024 00:00:00 GMT"),
    ("Content-Type", CONTENT_TYPE),
    ("Transfer-Encoding", "chunked"),
    ("Connection", "keep-alive"),
    ("Vary", "Accept-Encoding"),
    ("Set-Cookie", "JSESSIONID=0A1B2C3D4E5F; Path=/; HttpOnly"),
    ("Content-Encoding", "gzip"),
)
MB = 1_000_000
#: One record as held in memory for the warcio-alone run: URL, date, HTTP head, body,
#: WARC fields.
Record = tuple[str, datetime, object, bytes, dict[str, str]]


def templates() -> list[bytes]:
    """The real pages the archive is built from, in name order."""
    found = [p.read_bytes() for folder in FIXTURES for p in sorted(folder.glob("*.html"))]
    if not found:
        raise SystemExit(f"no fixture pages in {FIXTURES}")
    return found


def build(engine: Engine, count: int) -> int:
    """Archive ``count`` versions (three per URL); return the raw body bytes stored."""
    parse, _ = current_parser()
    pages = templates()
    parsed: dict[int, ParsedDoc] = {}
    source_id = ensure_source(engine, "bench", config_json={"base_url": "https://bench"})
    run_id = start_run(engine, source_id, now=T0)
    total = 0
    for i in range(count):
        page, version = divmod(i, 3)
        template = page % len(pages)
        base = pages[template]
        stamp = f"<!-- HtmlGenerateTime {T0 + timedelta(seconds=i)} v{version} -->".encode()
        raw = base + stamp
        if template not in parsed:
            parsed[template] = parse(base, CONTENT_TYPE)
        doc = copy.deepcopy(parsed[template])
        doc["body_text"] += f"\n第{version + 1}版"  # a new version each time, not unchanged

        def reparse(raw: bytes, content_type: str | None, doc: ParsedDoc = doc) -> ParsedDoc:
            return doc

        archive_page(
            engine,
            run_id=run_id,
            source_id=source_id,
            url=f"https://bench.example.gov.cn/OpennessContent/show/{page}.html",
            # microseconds, as a crawl's clock gives them
            requested_at=T0 + timedelta(days=version, seconds=page, microseconds=i),
            http_status=200,
            raw=raw,
            content_type=CONTENT_TYPE,
            doc=doc,
            parser_version="bench",
            reparse=reparse,
            etag=None,
            last_modified=None,
            elapsed_ms=100,
            response_headers=SERVED if i % 3 else (),
        )
        total += len(raw)
    return total


def in_memory(engine: Engine) -> list[Record]:
    """Every version's record as the export writes it, loaded into memory beforehand."""
    records = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Page.url,
                PageVersion.fetched_at,
                PageVersion.raw_hash,
                PageVersion.http_status,
                PageVersion.response_headers,
                PageVersion.content_type,
            )
            .join(Page, Page.id == PageVersion.page_id)
            .order_by(PageVersion.fetched_at, PageVersion.page_id, PageVersion.version)
        ).all()
        for row in rows:
            body = read_blob(conn, row.raw_hash)
            head, _ = http_headers(
                row.http_status,
                row.response_headers,
                content_type=row.content_type,
                length=len(body),
            )
            fields = {"WARC-Date": warc_date(row.fetched_at)}
            records.append((row.url, row.fetched_at, head, body, fields))
    return records


def warcio_alone(
    records: list[tuple[str, datetime, object, bytes, dict[str, str]]], path: Path
) -> float:
    """Seconds warcio takes to write ``records`` to ``path`` (gzip per record, WARC/1.1)."""
    start = time.perf_counter()
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True, warc_version="1.1")
        for url, _, head, body, fields in records:
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict=fields,
                    http_headers=head,
                )
            )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=3000, help="versions to archive")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        print(f"archiving {args.versions} versions of {len(templates())} real pages …", flush=True)
        raw_bytes = build(engine, args.versions)

        export_seconds = []
        written = 0
        for n in range(args.repeat):
            out = folder / f"export-{n}"
            start = time.perf_counter()
            result = export_warc(engine, out)
            export_seconds.append(time.perf_counter() - start)
            written = sum(f.bytes for f in result.files)
            assert result.versions == args.versions, result.versions

        records = in_memory(engine)
        peer_seconds = []
        peer_written = 0
        for n in range(args.repeat):
            path = folder / f"peer-{n}.warc.gz"
            peer_seconds.append(warcio_alone(records, path))
            peer_written = path.stat().st_size
        engine.dispose()

    best, peer = min(export_seconds), min(peer_seconds)
    print(f"raw bodies: {raw_bytes / MB:.1f} MB in {args.versions} versions")
    print(
        f"export_warc:  {best:6.2f} s  {written / MB / best:6.1f} MB/s written "
        f"({written / MB:.1f} MB .warc.gz), {raw_bytes / MB / best:6.1f} MB/s of bodies, "
        f"{args.versions / best:,.0f} versions/s"
    )
    print(
        f"warcio alone: {peer:6.2f} s  {peer_written / MB / peer:6.1f} MB/s written "
        f"({peer_written / MB:.1f} MB .warc.gz, records in memory), "
        f"{raw_bytes / MB / peer:6.1f} MB/s of bodies"
    )
    print(f"export / warcio alone: {best / peer:.2f}x the time")


if __name__ == "__main__":
    main()
