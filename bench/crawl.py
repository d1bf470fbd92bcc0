"""Crawl benchmark: a local site of realistic detail pages, politeness off.

Run by hand (not part of the test suite; Scrapy comes with ``pip install -e '.[bench]'``)::

    .venv/bin/python bench/crawl.py [--pages 2000] [--concurrency 16]
    .venv/bin/python bench/crawl.py --memory-pages 20000   # peak RSS, 20,000 vs 2,000 pages

Serves ``--pages`` detail pages (the parser's builder pages and the saved real pages of
tests/fixtures/real, with their stylesheets, menus and scripts, served as they are: each
copy made distinct by one paragraph, never padded) plus list pages from a separate
process on 127.0.0.1, then, each in a fresh process so CPU time and peak memory are the
crawl's own:

1. bare loops that only download every detail page: httpx with its own transport
   (httpcore), and aiohttp (the transport govarchive runs under httpx): the site's
   ceiling and the HTTP clients' floors;
2. a plain Scrapy spider (the yardstick of the issue "faster than Scrapy at half its
   CPU") that follows the list pages and reads each detail page's ``td`` texts;
3. a first ``govarchive`` crawl into a new SQLite file (no attachments: Scrapy fetches
   none either);
4. an unchanged recrawl of the same archive (conditional requests → 304s);
5. a first crawl of a quarter of the pages, to show memory is flat in page count.

Politeness is off for both crawlers (no robots.txt, no delay, no autothrottle, Scrapy
retrying at most once, no HTTP cache) and ``--concurrency`` requests are in flight in each.
Prints pages/s, CPU seconds (user + sys, getrusage of the child and of the crawl's parser
workers, spawned as its own children so they are counted) per page, the ratios
to Scrapy the issue's targets are about (rate ≥ 1.5×, CPU per archived page ≤ 0.5×),
the recrawl's CPU per page (target ≤ 0.3 ms) and peak RSS. ``--memory-pages N`` measures
only the peak RSS of first crawls of N and N/10 pages (target: ≤ 1.2× for 10× the pages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/, whose storage.py would shadow the storage
# package: put the project root there instead.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

#: The parser's builder pages (23, 7–48 KB) and the saved real pages (87, 9–305 KB, with
#: the sites' stylesheets, menus and scripts), served as they are.
CORPORA = (ROOT / "tests" / "fixtures" / "pages", ROOT / "tests" / "fixtures" / "real")
PER_LIST_PAGE = 50
#: The issue's targets: govarchive's first crawl against Scrapy's spider on the same site.
TARGET_RATE_RATIO = 1.5
TARGET_CPU_RATIO = 0.5
TARGET_RECRAWL_CPU = 0.0003  # seconds of CPU per page of an unchanged (all 304) recrawl
TARGET_MEMORY_RATIO = 1.2  # peak RSS of a crawl of 20,000 pages against one of 2,000


def detail_pages(count: int) -> list[tuple[bytes, str]]:
    """Return ``count`` distinct detail pages with their content types: the builder and
    real fixture pages in turn, each copy given a paragraph of its own inside the
    article (before ``</body>``), nothing else added. Pure apart from reading the files."""
    corpus: list[tuple[bytes, str]] = []
    for directory in CORPORA:
        for html in sorted(directory.glob("*.html")):
            golden = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
            content_type = (golden.get("_input") or {}).get("content_type") or "text/html"
            corpus.append((html.read_bytes(), content_type))
    pages = []
    for i in range(count):
        body, content_type = corpus[i % len(corpus)]
        # A distinct paragraph per copy, ASCII so it fits every encoding.
        marker = f"<p>Document {i} of the benchmark site.</p>".encode()
        if b"</body>" in body:
            body = body.replace(b"</body>", marker + b"</body>", 1)
        else:
            body += marker
        pages.append((body, content_type))
    return pages


def _serve(count: int, port_out: Any, stop: Any) -> None:
    """Child process: serve the benchmark site until ``stop`` is set."""
    from tests.site.server import serve

    with serve() as site:
        for i, (body, content_type) in enumerate(detail_pages(count)):
            site.add(f"/show/{i}.html", body, content_type=content_type, etag=f'"v1-{i}"')
        lists = (count + PER_LIST_PAGE - 1) // PER_LIST_PAGE
        for n in range(1, lists + 1):
            ids = range((n - 1) * PER_LIST_PAGE, min(n * PER_LIST_PAGE, count))
            links = "".join(f'<li><a href="/show/{i}.html">文件 {i}</a></li>' for i in ids)
            # A "next" link for Scrapy's spider to follow; govarchive uses its template.
            after = f"<a class='next' href='page_{n + 1}.html'>下一页</a>" if n < lists else ""
            site.add(
                f"/list/page_{n}.html",
                f"<html><body><ul class='doc_list'>{links}</ul>{after}</body></html>",
            )
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        port_out.put(site.port)
        stop.wait()


def _usage() -> tuple[float, int]:
    """Return CPU seconds (user + sys) of this process and of its ended children (the
    crawl's parser worker processes, reaped when the crawl ends), and this process's
    peak RSS in KB."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime, ru.ru_maxrss


def _worker_bare(base: str, count: int, concurrency: int, client: str) -> dict[str, Any]:
    """Download every detail page with a bare loop of ``client`` ("httpx": its own
    transport, httpcore; "aiohttp"), nothing else done with them."""
    run = _bare_aiohttp if client == "aiohttp" else _bare_httpx
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    nbytes = asyncio.run(run(base, count, concurrency))
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    return {"wall": wall, "cpu": cpu1 - cpu0, "bytes": nbytes, "pages": count, "rss_kb": rss}


async def _bare_aiohttp(base: str, count: int, concurrency: int) -> int:
    import aiohttp

    total = 0
    queue = list(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal total
            while queue:
                async with session.get(f"{base}/show/{queue.pop()}.html") as response:
                    total += len(await response.read())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total


async def _bare_httpx(base: str, count: int, concurrency: int) -> int:
    import httpx

    total = 0
    queue = list(range(count))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal total
            while queue:
                response = await client.get(f"{base}/show/{queue.pop()}.html")
                total += len(response.content)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total


def _worker_crawl(
    base: str, count: int, concurrency: int, database: str, limit: int | None = None
) -> dict[str, Any]:
    import multiprocessing as mp

    from sqlalchemy import text

    from scraper.config import config_from_mapping
    from scraper.crawling import parsepool
    from scraper.crawling.pipeline import crawl
    from storage.engine import make_engine
    from storage.migrate import ensure_current

    # The parser workers are forkserver's children, whose CPU getrusage never shows us:
    # spawn them as our own children, reaped when the crawl ends, so RUSAGE_CHILDREN
    # counts their parsing (and their start-up, which forkserver would pay elsewhere).
    parsepool.process_context = lambda: mp.get_context("spawn")
    lists = (count + PER_LIST_PAGE - 1) // PER_LIST_PAGE
    config = config_from_mapping(
        {
            "database": database,
            "crawl": {
                "requests_per_second": 100_000,
                "per_host_concurrency": concurrency,
                "max_concurrency": concurrency,
                "respect_robots_txt": False,
                "max_list_pages": lists + 1,
                "retries": 0,
                # Scrapy's spider fetches no attachments either (the real pages link
                # .docx/.xlsx files this site does not serve): like for like.
                "max_attachments_per_page": 0,
            },
            "sources": [
                {
                    "name": "bench",
                    "start_urls": [f"{base}/list/page_1.html"],
                    "detail_links": "ul.doc_list a",
                    "list_url_template": "page_{n}.html",
                    "schedule": "0 6 * * *",
                }
            ],
        },
        origin="bench",
    )
    engine = make_engine(database)
    ensure_current(engine)
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    (run,) = asyncio.run(crawl(config, engine, limit=limit))
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    with engine.connect() as conn:
        sample = conn.execute(
            text("SELECT url, error FROM fetches WHERE error IS NOT NULL LIMIT 3")
        ).all()
    engine.dispose()
    s = run.summary
    return {
        "wall": wall,
        "cpu": cpu1 - cpu0,
        "pages": s.pages_seen,
        "new_versions": s.new_versions,
        "not_modified": s.not_modified,
        "errors": s.errors,
        "status": run.status,
        "rss_kb": rss,
        "error_sample": [list(r) for r in sample],
    }


def _worker_scrapy(base: str, count: int, concurrency: int) -> dict[str, Any]:
    """Crawl the site with a plain Scrapy spider, politeness off: follow the list pages'
    detail links and "next" links, and read each detail page's metadata table cells."""
    from scrapy import Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    seen = {"details": 0, "cells": 0}

    class BenchSpider(Spider):  # type: ignore[misc]
        name = "bench"
        start_urls: ClassVar[list[str]] = [f"{base}/list/page_1.html"]

        def parse(self, response: Response) -> Any:
            for href in response.css("ul.doc_list a::attr(href)").getall():
                yield response.follow(href, callback=self.parse_detail)
            for href in response.css("a.next::attr(href)").getall():
                yield response.follow(href, callback=self.parse)

        def parse_detail(self, response: Response) -> Any:
            cells = [" ".join(td.css("::text").getall()).strip() for td in response.css("td")]
            seen["details"] += 1
            seen["cells"] += len(cells)
            yield {"url": response.url, "cells": cells}

    process = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "CONCURRENT_REQUESTS_PER_IP": 0,
            "ROBOTSTXT_OBEY": False,
            "DOWNLOAD_DELAY": 0,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "RETRY_TIMES": 1,
            "HTTPCACHE_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        },
        install_root_handler=True,
    )
    process.crawl(BenchSpider)
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    process.start()
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    return {
        "wall": wall,
        "cpu": cpu1 - cpu0,
        "pages": seen["details"],
        "cells": seen["cells"],
        "rss_kb": rss,
    }


def _in_child(kind: str, *args: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, *map(str, args)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def _site(count: int) -> Iterator[str]:
    """Serve a site of ``count`` detail pages from a process of its own; yield its base URL."""
    ctx = multiprocessing.get_context("spawn")
    port_q = ctx.Queue()
    stop = ctx.Event()
    server = ctx.Process(target=_serve, args=(count, port_q, stop), daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port_q.get(timeout=120)}"
    finally:
        stop.set()
        server.join(timeout=10)


def _memory(pages: int, concurrency: int) -> None:
    """Print the peak RSS of first crawls of ``pages`` and of a tenth as many pages."""
    tenth = max(1, pages // 10)
    with _site(pages) as base, tempfile.TemporaryDirectory() as tmp:
        few = _in_child("crawl", base, pages, concurrency, f"sqlite:///{tmp}/few.db", tenth)
        many = _in_child("crawl", base, pages, concurrency, f"sqlite:///{tmp}/many.db")
    ratio = many["rss_kb"] / few["rss_kb"]
    print(
        f"peak RSS of a first crawl: {few['rss_kb'] / 1024:.0f} MB for {tenth} pages, "
        f"{many['rss_kb'] / 1024:.0f} MB for {pages} ({many['new_versions']} archived, "
        f"{many['wall']:.0f} s): {ratio:.2f}x (target <= {TARGET_MEMORY_RATIO}: "
        f"{'met' if ratio <= TARGET_MEMORY_RATIO else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--memory-pages",
        type=int,
        default=0,
        help="instead: peak RSS of first crawls of N pages and of N/10 (e.g. 20000)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, base, count, concurrency, *rest = args.worker
        if kind in ("httpx", "aiohttp"):
            result = _worker_bare(base, int(count), int(concurrency), kind)
        elif kind == "scrapy":
            result = _worker_scrapy(base, int(count), int(concurrency))
        else:
            limit = int(rest[1]) if len(rest) > 1 else None
            result = _worker_crawl(base, int(count), int(concurrency), rest[0], limit)
        print(json.dumps(result))
        return
    if args.memory_pages:
        _memory(args.memory_pages, args.concurrency)
        return

    scrapy: dict[str, Any] | None = None
    with _site(args.pages) as base, tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        small_db = f"sqlite:///{Path(tmp) / 'small.db'}"
        bare = _in_child("httpx", base, args.pages, args.concurrency)
        bare_aiohttp = _in_child("aiohttp", base, args.pages, args.concurrency)
        try:
            scrapy = _in_child("scrapy", base, args.pages, args.concurrency)
        except SystemExit as exc:  # Scrapy not installed or Twisted failing: say so
            print(f"Scrapy not measured: {exc}")
        first = _in_child("crawl", base, args.pages, args.concurrency, db)
        again = _in_child("crawl", base, args.pages, args.concurrency, db)
        quarter = max(1, args.pages // 4)
        small = _in_child("crawl", base, args.pages, args.concurrency, small_db, quarter)
        db_bytes = sum(f.stat().st_size for f in Path(tmp).glob("bench.db*"))

    for name, result in (("first", first), ("recrawl", again)):
        if result["error_sample"]:
            print(f"{name} crawl errors, e.g.: {result['error_sample']}")
    bare_rate = bare["pages"] / bare["wall"]
    first_rate = first["new_versions"] / first["wall"]
    first_cpu = first["cpu"] / max(1, first["new_versions"])
    recrawl_cpu = again["cpu"] / max(1, again["not_modified"])
    print(
        f"pages: {args.pages} detail pages (builder and real fixture pages, not padded), "
        f"~{bare['bytes'] / bare['pages'] / 1024:.1f} KB each, "
        f"{args.concurrency} requests in flight, server in its own process"
    )
    print(
        f"bare httpx loop:      {bare_rate:8.1f} pages/s  ({bare['wall']:.2f} s, "
        f"{bare['cpu'] / bare['pages'] * 1000:.2f} ms CPU per page; httpx's own transport)"
    )
    print(
        f"bare aiohttp loop:    {bare_aiohttp['pages'] / bare_aiohttp['wall']:8.1f} pages/s  "
        f"({bare_aiohttp['wall']:.2f} s, "
        f"{bare_aiohttp['cpu'] / bare_aiohttp['pages'] * 1000:.2f} ms CPU per page)"
    )
    if scrapy is not None:
        scrapy_rate = scrapy["pages"] / scrapy["wall"]
        scrapy_cpu = scrapy["cpu"] / max(1, scrapy["pages"])
        print(
            f"Scrapy spider:        {scrapy_rate:8.1f} pages/s  ({scrapy['wall']:.2f} s, "
            f"{scrapy['pages']} pages, {scrapy_cpu * 1000:.2f} ms CPU per page)"
        )
    print(
        f"first crawl (SQLite): {first_rate:8.1f} pages/s  ({first['wall']:.2f} s, "
        f"{first['new_versions']} versions, {first['errors']} errors, {first['status']}, "
        f"{first_cpu * 1000:.2f} ms CPU per archived page)"
    )
    print(f"  rate / bare loop's: {first_rate / bare_rate:8.2f}")
    if scrapy is not None:
        rate_ratio = first_rate / scrapy_rate
        cpu_ratio = first_cpu / scrapy_cpu
        print(
            f"  rate / Scrapy's:    {rate_ratio:8.2f}  (target >= {TARGET_RATE_RATIO}: "
            f"{'met' if rate_ratio >= TARGET_RATE_RATIO else 'MISSED'})"
        )
        print(
            f"  CPU / Scrapy's:     {cpu_ratio:8.2f}  (per page, target <= {TARGET_CPU_RATIO}: "
            f"{'met' if cpu_ratio <= TARGET_CPU_RATIO else 'MISSED'})"
        )
    print(
        f"unchanged recrawl:    {again['wall']:8.2f} s  ({again['not_modified']} not modified, "
        f"{recrawl_cpu * 1000:.2f} ms CPU per page, target <= {TARGET_RECRAWL_CPU * 1000} ms: "
        f"{'met' if recrawl_cpu <= TARGET_RECRAWL_CPU else 'MISSED'}); "
        f"time ratio to first crawl {again['wall'] / first['wall']:.3f}"
    )
    print(
        f"peak RSS: {first['rss_kb'] / 1024:.0f} MB for {args.pages} pages, "
        f"{small['rss_kb'] / 1024:.0f} MB for {quarter} pages, "
        f"bare loop {bare['rss_kb'] / 1024:.0f} MB"
        + (f", Scrapy {scrapy['rss_kb'] / 1024:.0f} MB" if scrapy is not None else "")
    )
    print(f"archive size after both crawls: {db_bytes / 1024 / 1024:.1f} MB")


if __name__ == "__main__":
    main()
