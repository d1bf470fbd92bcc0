"""Re-parse benchmark: versions re-parsed per second, on SQLite.

Run by hand (never in the test suite)::

    .venv/bin/python bench/reparse.py                 # 3,000 versions in a temp dir
    .venv/bin/python bench/reparse.py --versions 10000 --batch-size 1000

What it does, through the real migrations, storage.archive and the real parser:
1. archives ``--versions`` versions, each a fixture page from tests/fixtures/pages/
   (builder pages: progress reports with task sections, notices, GBK and UTF-8) or
   tests/fixtures/real/ (saved real pages with their sites' chrome), made distinct by
   a page-generation stamp, parsed by
   ``scraper.parse.parse_page`` and stored with an older parser version;
2. times three passes of ``storage.reparse.reparse`` over all of them, resetting
   ``parser_version`` in between:

   - ``parser bumped, output unchanged`` — the real parser; the usual case after a
     release whose changes do not touch these pages (only parser_version is written);
   - ``storage only`` — a parse function that returns precomputed records (copies):
     the cost of reading blobs, comparing and writing, without the parser;
   - ``every version changed`` — the real parser with every section status and one
     metadata label altered, so every version row and section row is rewritten;
3. times the parser alone over the same bytes, for comparison.

Last, the first pass again with each batch parsed in ``--workers`` processes
(:class:`scraper.crawling.batchparse.BatchParser`, as ``govarchive reparse`` does).

Targets: at least 1,000 versions/s on one core on SQLite (issue 6); at least 2,000
versions/s (issue 15, "faster than Scrapy at half its CPU", on this 2-core machine).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.commands.reparse import current_parser  # noqa: E402
from scraper.crawling.batchparse import BatchParser  # noqa: E402
from storage.archive import archive_page, ensure_source, start_run  # noqa: E402
from storage.content import ParsedDoc  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import PageVersion  # noqa: E402
from storage.reparse import ParseManyFn, ReparseReport, reparse  # noqa: E402

#: The parser's builder pages (23) and the saved real pages with their sites' chrome (87).
CORPORA = (ROOT / "tests" / "fixtures" / "pages", ROOT / "tests" / "fixtures" / "real")
OLD = "bench-old"
T0 = datetime(2024, 5, 1, tzinfo=UTC)
CONTENT_TYPE = "text/html"


def variants(count: int) -> list[bytes]:
    """Return ``count`` distinct page bodies cycling over the fixture pages."""
    templates = [p.read_bytes() for corpus in CORPORA for p in sorted(corpus.glob("*.html"))]
    if not templates:
        raise SystemExit(f"no fixture pages in {CORPORA}")
    out = []
    for i in range(count):
        stamp = f"<!-- HtmlGenerateTime {T0 + timedelta(seconds=i)} page {i} -->".encode()
        out.append(templates[i % len(templates)] + stamp)
    return out


def build(
    engine: Engine, bodies: list[bytes], parse: Callable[[bytes, str | None], ParsedDoc]
) -> None:
    """Archive one version per body (distinct URLs) with parser version OLD."""
    source_id = ensure_source(engine, "bench")
    run_id = start_run(engine, source_id, now=T0)
    for i, raw in enumerate(bodies):
        archive_page(
            engine,
            run_id=run_id,
            source_id=source_id,
            url=f"https://bench.example.gov.cn/OpennessContent/show/{i}.html",
            requested_at=T0 + timedelta(seconds=i),
            http_status=200,
            raw=raw,
            content_type=CONTENT_TYPE,
            doc=parse(raw, CONTENT_TYPE),
            parser_version=OLD,
            reparse=parse,
            etag=None,
            last_modified=None,
            elapsed_ms=100,
        )


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(PageVersion).values(parser_version=OLD))


def timed(
    engine: Engine,
    parse: Callable[[bytes, str | None], ParsedDoc],
    version: str,
    batch: int,
    parse_many: ParseManyFn | None = None,
) -> tuple[float, ReparseReport]:
    reset(engine)
    start = time.perf_counter()
    report = reparse(engine, parse, version, batch_size=batch, parse_many=parse_many)
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=3000, help="versions to archive")
    parser.add_argument("--batch-size", type=int, default=500, help="reparse batch size")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for the last row"
    )
    args = parser.parse_args()

    parse, _ = current_parser()
    bodies = variants(args.versions)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        print(f"archiving {args.versions} versions of the fixture pages …", flush=True)
        build(engine, bodies, parse)

        def altered(raw: bytes, content_type: str | None) -> ParsedDoc:
            doc = parse(raw, content_type)
            for section in doc["sections"]:
                section["status"] = f"{section['status'] or ''}（复核）"
            doc["metadata"]["metadata_extra"]["基准"] = "是"
            return doc

        precomputed = {raw: parse(raw, CONTENT_TYPE) for raw in bodies}

        def cached(raw: bytes, content_type: str | None) -> ParsedDoc:
            return copy.deepcopy(precomputed[raw])

        rows = []
        # first, while every stored row matches the parser: only parser_version is written
        with BatchParser(args.workers, parse) as parse_many:
            seconds, report = timed(engine, parse, "bench-new", args.batch_size, parse_many)
        assert report.examined == args.versions and report.failed == 0, report.to_dict()
        label = f"output unchanged, {args.workers} workers"
        workers_row = (label, args.versions / seconds, report.changed)
        for label, fn in (
            ("parser bumped, output unchanged", parse),
            ("storage only (precomputed parse)", cached),
            ("every version changed", altered),
        ):
            seconds, report = timed(engine, fn, "bench-new", args.batch_size)
            assert report.examined == args.versions and report.failed == 0, report.to_dict()
            rows.append((label, args.versions / seconds, report.changed))
        rows.append(workers_row)

        start = time.perf_counter()
        for raw in bodies:
            parse(raw, CONTENT_TYPE)
        parse_rate = args.versions / (time.perf_counter() - start)
        engine.dispose()

    print(
        f"\nSQLite, {args.versions} versions of {len(CORPORA)} corpora, batch size "
        f"{args.batch_size}; one process unless said (`govarchive reparse` uses one per CPU)"
    )
    for label, rate, changed in rows:
        print(f"  {label:<34} {rate:8,.0f} versions/s   ({changed} rewritten)")
    print(f"  {'parser alone (parse_page)':<34} {parse_rate:8,.0f} pages/s")


if __name__ == "__main__":
    main()
