"""WARC reading benchmark: scraper.warc (warcio) against FastWARC, on real pages.

Run by hand (never in the test suite); FastWARC comes with the ``bench`` extra::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/warc_read.py                # 3,000 records, 5 rounds
    .venv/bin/python bench/warc_read.py --records 10000 --rounds 3

It writes, in a temporary directory, one WARC of ``--records`` response records (gzip
per record, as wget and Heritrix write) whose bodies are the real and builder pages of
tests/fixtures/real/ and tests/fixtures/pages/, under varied URLs; one in eight is sent
with chunked transfer encoding and one in eight gzip-encoded, as servers do. Then it
times the scan alone, then a full read, scan plus every payload's decoded body:

- ``WarcReader``: what ``govarchive import-warc`` does, :meth:`WarcReader.scan` then
  :meth:`WarcReader.payload` for each ref (a seek and a gzip member per payload);
- ``warcio, one pass``: warcio's ArchiveIterator reading each ``content_stream()`` in
  the same pass (the least warcio can do);
- ``FastWARC``: its ArchiveIterator with ``parse_http`` and ``auto_decode="all"``
  (de-chunking and Content-Encoding decoding, as warcio's ``content_stream``).

Times are CPU time of this thread, the best of ``--rounds``. ``--check`` then prints
what each library makes of an ARC file, a revisit, and chunked and gzip payloads.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator as WarcioIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.warc import WarcReader  # noqa: E402
from tests.warc.archives import chunked, write_arc, write_warc  # noqa: E402

CORPORA = (ROOT / "tests" / "fixtures" / "real", ROOT / "tests" / "fixtures" / "pages")
HOSTS = ("www.gov.cn", "www.beijing.gov.cn", "www.sh.gov.cn", "fgw.gd.gov.cn", "gjj.hz.gov.cn")


def load_bodies() -> list[bytes]:
    """Every ``*.html`` page of the fixture corpora."""
    return [path.read_bytes() for corpus in CORPORA for path in sorted(corpus.glob("*.html"))]


def write_bench_warc(path: Path, bodies: list[bytes], count: int) -> int:
    """Write ``count`` response records to ``path``; return the bytes of decoded bodies."""
    total = 0
    with path.open("wb") as file:
        writer = WARCWriter(file, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "bench"}))
        for n in range(count):
            body = bodies[n % len(bodies)]
            total += len(body)
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")]
            if n % 8 == 3:
                sent = chunked(body, 4096)
                headers.append(("Transfer-Encoding", "chunked"))
            elif n % 8 == 5:
                sent = gzip.compress(body, 6)
                headers.append(("Content-Encoding", "gzip"))
            else:
                sent = body
            url = f"http://{HOSTS[n % len(HOSTS)]}/zwgk/{n // 100:03d}/art_{n}.html"
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(sent),
                    http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                )
            )
    return total


def read_with_reader(path: Path) -> int:
    with WarcReader([path]) as reader:
        return sum(len(reader.payload(ref).body) for ref in reader.scan(path).refs)


def scan_only(path: Path) -> int:
    """WarcReader.scan alone (what the importer does before reading any payload); returns
    the number of refs, not bytes."""
    with WarcReader([path]) as reader:
        return len(reader.scan(path).refs)


def read_with_warcio(path: Path) -> int:
    total = 0
    with path.open("rb") as file:
        for record in WarcioIterator(file):
            if record.rec_type == "response":
                total += len(record.content_stream().read())
    return total


def read_with_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    total = 0
    with path.open("rb") as file:
        records = ArchiveIterator(
            file, record_types=WarcRecordType.response, parse_http=True, auto_decode="all"
        )
        for record in records:
            total += len(record.reader.read())
    return total


def best_seconds(work: Callable[[Path], int], path: Path, rounds: int, expected: int) -> float:
    """The best CPU seconds of ``rounds`` full reads; each must return ``expected`` (bytes
    of bodies, or refs for the scan alone)."""
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.thread_time()
        read = work(path)
        best = min(best, time.thread_time() - start)
        if read != expected:
            raise SystemExit(f"{work.__name__} returned {read:,}, not {expected:,}")
    return best


def check(directory: Path) -> None:
    """Print what FastWARC makes of what scraper.warc reads: ARC, revisits, encodings."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    arc = write_arc(directory / "old.arc.gz", gzip_records=True)
    try:
        found = [r.record_type for r in ArchiveIterator(arc.open("rb"))]
        print(f"ARC, FastWARC: {len(found)} records {found}")
    except OSError as exc:
        print(f"ARC, FastWARC: {type(exc).__name__}: {exc}")
    with WarcReader([arc]) as reader:
        print(f"ARC, WarcReader: {len(reader.scan(arc).refs)} responses")

    warc = write_warc(directory / "cases.warc.gz", gzip_records=True).path
    for decode in ("none", "all"):
        records = ArchiveIterator(warc.open("rb"), parse_http=True, auto_decode=decode)
        kinds = {
            (r.headers.get("WARC-Target-URI") or "").rsplit("/", 1)[-1]
            + f" {str(r.record_type).rsplit('.', 1)[-1]}": r.reader.read()[:12]
            for r in records
            if r.record_type in (WarcRecordType.response, WarcRecordType.revisit)
        }
        print(f"FastWARC auto_decode={decode!r}: {kinds}")
    with WarcReader([warc]) as reader:
        refs = reader.scan(warc).refs
        kinds = {
            f"{ref.url.rsplit('/', 1)[-1]} {ref.kind}": reader.payload(ref).body[:12]
            for ref in refs
        }
    print(f"WarcReader: {kinds}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=3_000, help="response records")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one counts")
    parser.add_argument("--check", action="store_true", help="compare ARC/revisit/encodings")
    args = parser.parse_args(argv)

    bodies = load_bodies()
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as temp:
        path = Path(temp) / "bench.warc.gz"
        body_bytes = write_bench_warc(path, bodies, args.records)
        size = path.stat().st_size
        print(
            f"{args.records:,} responses of {len(bodies)} pages: {body_bytes / 1e6:.1f} MB of "
            f"bodies, {size / 1e6:.1f} MB gzipped per record"
        )
        scan_seconds = best_seconds(scan_only, path, args.rounds, args.records)
        print(
            f"{'WarcReader.scan alone':27s} {scan_seconds:7.3f} s"
            f"  {args.records / scan_seconds:9,.0f} records/s"
            f"  {'':24s}  {size / scan_seconds / 1e6:6.1f} MB/s of file"
        )
        readers: list[tuple[str, Callable[[Path], int]]] = [
            ("WarcReader (scan+payload)", read_with_reader),
            ("warcio, one pass", read_with_warcio),
        ]
        try:
            import fastwarc  # noqa: F401

            readers.append(("FastWARC, one pass", read_with_fastwarc))
        except ImportError:
            print("FastWARC is not installed (pip install -e '.[bench]'): skipped")
        times = {}
        for name, work in readers:
            work(path)  # warm up
            seconds = best_seconds(work, path, args.rounds, body_bytes)
            times[name] = seconds
            print(
                f"{name:27s} {seconds:7.3f} s  {args.records / seconds:9,.0f} records/s"
                f"  {body_bytes / seconds / 1e6:6.1f} MB/s of bodies"
                f"  {size / seconds / 1e6:6.1f} MB/s of file"
            )
        if "FastWARC, one pass" in times:
            fast = times["FastWARC, one pass"]
            for name, seconds in times.items():
                if name != "FastWARC, one pass":
                    print(f"{name} / FastWARC: {seconds / fast:.1f}x the time")
        if args.check:
            check(Path(temp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
