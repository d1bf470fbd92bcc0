"""WARC in and out: ``import-warc`` records/s and ``export --format warc`` MB/s.

Run by hand (never in the test suite)::

    .venv/bin/python bench/warc.py                    # 1,000 documents × 3 captures
    .venv/bin/python bench/warc.py --documents 300 --captures 2

It writes, in a temporary directory, the WARC a colleague's crawl of one disclosure column
would hand over: on each of ``--captures`` days a capture of the column's list pages and
of every document, whose bodies are the real and builder pages of tests/fixtures/real/
and tests/fixtures/pages/ (real chrome, no padding); between two days one document in
ten changes its text. Then, each in a fresh SQLite archive:

- **import**: ``import_warc`` as the command runs it (list pages walked in the file,
  documents parsed in the parser workers, one transaction per capture), against the
  floor of parsing the same captures' bodies in this process alone: the import's cost
  beyond reading the pages at all;
- **export**: ``export --format warc`` of the imported archive, against warcio writing
  the same bodies from memory into a gzip-per-record WARC: our cost beyond the writer.

Rates are wall time (the import's parsing runs in worker processes); CPU of this process
is shown beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.warc_export import in_memory, warcio_alone  # noqa: E402
from scraper.config import SourceConfig, config_from_mapping  # noqa: E402
from scraper.crawling.parsepool import ParserPool  # noqa: E402
from scraper.reader import read_page  # noqa: E402
from scraper.warc import WarcReader  # noqa: E402
from scraper.warc.importer import import_warc  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import ensure_current  # noqa: E402
from storage.warcexport import export_warc  # noqa: E402

CORPORA = (ROOT / "tests" / "fixtures" / "real", ROOT / "tests" / "fixtures" / "pages")
HOST = "https://www.example-zwgk.gov.cn"
LIST = HOST + "/zwgk/jcbs/index_{n}.html"
PER_LIST = 20
DAY0 = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
CONTENT_TYPE = "text/html; charset=utf-8"


def bodies() -> list[bytes]:
    """Every ``*.html`` page of the fixture corpora, real chrome included."""
    return [path.read_bytes() for corpus in CORPORA for path in sorted(corpus.glob("*.html"))]


def doc_url(i: int) -> str:
    return f"{HOST}/zwgk/jcbs/art_{1000 + i}.html"


def list_page(n: int, ids: list[int]) -> bytes:
    links = "".join(
        f'<li><a href="{doc_url(i)}">文件 {i}</a><span>2021-03-01</span></li>' for i in ids
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>决策部署落实情况</title></head>"
        f"<body><div class='nav'><a href='/'>首页</a></div><ul class='doc_list'>{links}</ul>"
        f"<div class='page'>第{n}页</div></body></html>"
    ).encode()


def write_site_warc(path: Path, documents: int, captures: int) -> tuple[int, int]:
    """Write the column's captures to ``path``; return (response records, body bytes)."""
    pages = bodies()
    records = size = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        for day in range(captures):
            at = DAY0 + timedelta(days=30 * day)
            ids = list(range(documents))
            lists = [ids[k : k + PER_LIST] for k in range(0, documents, PER_LIST)]
            answers = [(LIST.format(n=n), list_page(n, ids)) for n, ids in enumerate(lists, 1)]
            for i in range(documents):
                body = pages[i % len(pages)]
                if day and i % 10 == day:  # one in ten edited since the last capture
                    cut = body.rfind("。".encode())  # the article's last sentence, as a rule
                    body = body[:cut] + f"（第{day}次修订）".encode() + body[cut:]
                answers.append((doc_url(i), body))
            for k, (url, body) in enumerate(answers):
                http = StatusAndHeaders(
                    "200 OK", [("Content-Type", CONTENT_TYPE)], protocol="HTTP/1.1"
                )
                stamp = (at + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
                record = writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=http,
                    warc_headers_dict={"WARC-Date": stamp},
                )  # fmt: skip
                writer.write_record(record)
                records += 1
                size += len(body)
    return records, size


def source_config(database: str) -> SourceConfig:
    """The column as a configured source."""
    return config_from_mapping(
        {
            "database": database,
            "sources": [
                {
                    "name": "bench",
                    "start_urls": [LIST.format(n=1)],
                    "detail_links": "ul.doc_list a",
                    "list_url_template": "index_{n}.html",
                }
            ],
        },
        origin="bench",
    ).sources[0]


def parse_only(warc: Path) -> int:
    """Read every response of ``warc`` and parse it in this process; return how many."""
    count = 0
    with WarcReader([warc]) as reader:
        for ref in reader.scan(warc).refs:
            payload = reader.payload(ref)
            read_page(payload.body, url=ref.url, headers={"content-type": CONTENT_TYPE})
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--captures", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        warc = work / "column.warc.gz"
        records, body_bytes = write_site_warc(warc, args.documents, args.captures)
        print(
            f"WARC: {records:,} response records, {body_bytes / 1e6:.1f} MB of bodies, "
            f"{warc.stat().st_size / 1e6:.1f} MB on disk"
        )
        database = f"sqlite:///{work / 'archive.db'}"
        engine = make_engine(database)
        ensure_current(engine, create=True)
        wall, cpu = time.perf_counter(), time.process_time()
        with ParserPool(2, 30.0) as pool:
            report = asyncio.run(import_warc(engine, source_config(database), [warc], pool))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        floor = time.perf_counter()
        parsed = parse_only(warc)
        floor = time.perf_counter() - floor
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(report.outcomes.items()))
        print(
            f"import: {report.captures:,} captures in {wall:.1f} s = "
            f"{report.captures / wall:,.0f} captures/s (CPU of this process {cpu:.1f} s); "
            f"{outcomes}"
        )
        print(
            f"floor: read and parse the same {parsed:,} records in one process: {floor:.1f} s = "
            f"{parsed / floor:,.0f} records/s; import time / floor {wall / floor:.2f}×"
        )
        start = time.perf_counter()
        result = export_warc(engine, work / "export")
        seconds = time.perf_counter() - start
        written = sum(f.bytes for f in result.files)
        peer = warcio_alone(in_memory(engine), work / "peer.warc.gz")
        peer_written = (work / "peer.warc.gz").stat().st_size
        print(
            f"export: {result.versions:,} versions in {seconds:.1f} s = "
            f"{written / 1e6 / seconds:.1f} MB/s of .warc.gz ({written / 1e6:.1f} MB); "
            f"warcio alone from memory {peer_written / 1e6 / peer:.1f} MB/s; "
            f"export time / warcio's {seconds / peer:.2f}×"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
