"""Many sources in one process: hundreds of polite crawls sharing one event loop.

Run by hand (never in the test suite)::

    .venv/bin/python bench/daemon.py [--hosts 200] [--pages 15] [--rate 1.0]
        [--parse-workers 1] [--max-concurrency 100]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]

It answers, with numbers, "does one process keep hundreds of sources in flight at
polite rates, and do archive writes stall its loop?".

A separate process serves ``--hosts`` sites, one per loopback address (127.0.0.2,
127.0.0.3, …, each on a port of its own), from one event loop: each a list page
linking ``--pages`` detail pages, the fixture pages of bench/crawl.py, each copy made
distinct (not padded: the builder and saved real pages, 7–305 KB). Each site is one
source, crawled at ``--rate``
requests per second and one request at a time (the defaults' politeness; robots.txt
is not asked for, so every request is a list or a detail page). All sources are
crawled at once through one :func:`~scraper.crawling.service.shared_means` in one
event loop, as the daemon's CrawlService runs them, into a fresh archive: a SQLite
file, or, with ``--database``, a scratch database created on that PostgreSQL server
and dropped afterwards. The other crawl settings are the defaults
(``--max-concurrency`` changes the one that also sizes the HTTP connection pool).

It crawls twice, each time in a fresh process and a fresh archive:

- ``threads``: archive writes in the writer's threads (``ArchiveWriter.for_engine``:
  one thread for SQLite, four for PostgreSQL), as the daemon writes;
- ``inline``: every write made on the loop (``ArchiveWriter(0)``, the old way).

For each it prints:

- pages archived, wall time (from the sources' start to the last one's end), pages/s
  and their ratio to the politeness ceiling, ``hosts × rate`` pages/s. A host's first
  request (its list page) may go at once and its detail pages one per 1/rate seconds
  after it, so ``pages / rate`` seconds ("polite floor", from the most requests the
  server saw to one host) is as fast as a polite crawl can be: at a ratio of 1.0 the
  crawl took no longer than that.
- CPU seconds (user + sys) per archived page over the crawl only: the crawl process's,
  and its child processes' (the parser workers and their fork server). The parser
  processes are started before the clock (a pool starts them on first use) and read
  from /proc while they run: a pool worker's rusage reaches the crawl process's
  ``RUSAGE_CHILDREN`` only through the fork server, when that exits.
- how late the loop ran its timers during the crawl (a
  :class:`~scraper.crawling.looplag.LagMonitor` started with it: p50, p99 and max).
- politeness as the server saw it: the smallest gap between two requests to one host
  (and which request of its host came after it), how many gaps were shorter than
  1/rate less :data:`bench.sites.GAP_TOLERANCE`, and how many TCP connections the crawl opened
  (as many as hosts when keep-alive holds; as many as requests when every request
  opened a new one). The server stamps a request when its first bytes arrive, in a
  loop that does nothing else, so a short gap is the crawler's.

The crawl process can have one of this 2-core machine's cores; the parser worker and
the server share the other (the server's CPU is printed: about a second per crawl).
The README's performance section has the figures and what they show.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/, whose storage.py would shadow the storage
# package: put the project root there instead.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.crawl import detail_pages  # noqa: E402 - needs the path set above
from bench.sites import GAP_TOLERANCE, LIST_PATH, host_address, serve_sites  # noqa: E402
from scraper.settings import CrawlSettings  # noqa: E402

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from scraper.config import Config
    from scraper.crawling.parsepool import ParserPool
    from scraper.crawling.writer import ArchiveWriter

#: The two ways of writing the archive, in the order they run.
WRITE_MODES = {"threads": "writes in threads", "inline": "writes on the loop"}
# -- the crawl process ---------------------------------------------------------------


def _config(spec: dict[str, Any]) -> Config:
    from scraper.config import config_from_mapping

    return config_from_mapping(
        {
            "database": spec["database"],
            "crawl": {
                "requests_per_second": spec["rate"],
                "per_host_concurrency": 1,
                "respect_robots_txt": False,
                "parse_workers": spec["parse_workers"],
                "max_concurrency": spec["max_concurrency"],
            },
            "sources": [
                {
                    "name": f"host-{h:04d}",
                    "start_urls": [base + LIST_PATH],
                    "detail_links": "ul.doc_list a",
                    "schedule": "0 6 * * *",
                }
                for h, base in enumerate(spec["bases"])
            ],
        },
        origin="bench",
    )


def _descendants_cpu() -> float:
    """Return the user + sys CPU seconds of this process's live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            line = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        fields = line[line.rindex(")") + 2 :].split()  # after "pid (comm) "
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    ours = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, ppid in parent.items() if ppid in ours} - ours
        grew = bool(found)
        ours |= found
    return sum(cpu[pid] for pid in ours if pid != os.getpid())


def _own_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def _start_parsers(parser: ParserPool, workers: int) -> None:
    """Start the parser processes (the pool starts them on first use): one page each."""
    page, _content_type = detail_pages(1)[0]
    await asyncio.gather(
        *(parser.parse(page, url="http://127.0.0.1/warm-up.html") for _ in range(workers))
    )


async def _crawl_all(config: Config, engine: Engine, writer: ArchiveWriter) -> dict[str, Any]:
    """Crawl every source at once through one set of shared means; return the measures."""
    from scraper.crawling.looplag import LagMonitor
    from scraper.crawling.service import shared_means

    async with shared_means(config.crawl, engine, role="bench", writer=writer) as means:
        began = time.perf_counter()
        await _start_parsers(means.parser, config.crawl.parse_workers)
        warm_up = time.perf_counter() - began
        lag = LagMonitor()
        sampler = asyncio.create_task(lag.run(), name="bench loop lag")
        stop = asyncio.Event()
        own0, children0 = _own_cpu(), _descendants_cpu()
        t0 = time.perf_counter()
        runs = await asyncio.gather(*(means.crawl(s, stop=stop) for s in config.sources))
        wall = time.perf_counter() - t0
        own1, children1 = _own_cpu(), _descendants_cpu()
        sampler.cancel()
        with suppress(asyncio.CancelledError):
            await sampler
    stats = lag.stats()
    return {
        "wall": wall,
        "warm_up": warm_up,
        "own_cpu": own1 - own0,
        "children_cpu": children1 - children0,
        "lag": [stats.samples, stats.p50_ms, stats.p99_ms, stats.max_ms],
        "new_versions": sum(r.summary.new_versions for r in runs),
        "errors": sum(r.summary.errors for r in runs),
        "statuses": sorted({str(r.status) for r in runs}),
    }


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Crawl process: migrate the archive, crawl all sources once, return the measures."""
    from sqlalchemy import text

    from scraper.crawling.writer import ArchiveWriter
    from storage.engine import make_engine
    from storage.migrate import ensure_current

    config = _config(spec)
    engine = make_engine(spec["database"])
    ensure_current(engine)
    inline = spec["writes"] == "inline"
    with ArchiveWriter(0) if inline else ArchiveWriter.for_engine(engine) as writer:
        result = asyncio.run(_crawl_all(config, engine, writer))
    result["writer_threads"] = writer.threads
    with engine.connect() as conn:
        result["versions"] = conn.execute(text("SELECT COUNT(*) FROM page_versions")).scalar_one()
        result["error_sample"] = [
            list(row)
            for row in conn.execute(
                text("SELECT url, error FROM fetches WHERE error IS NOT NULL LIMIT 3")
            )
        ]
    engine.dispose()
    return result


def _in_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one crawl in a fresh interpreter and return its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{spec['writes']} crawl failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- archives ------------------------------------------------------------------------


@contextmanager
def _archive(server_url: str | None, tmp: Path, mode: str) -> Iterator[str]:
    """Yield the URL of a fresh, empty archive: a SQLite file in ``tmp``, or a database
    created on the PostgreSQL server ``server_url`` and dropped on exit."""
    if server_url is None:
        yield f"sqlite:///{tmp / f'{mode}.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.engine import normalise_url

    name = f"govarchive_bench_daemon_{os.getpid()}_{mode}"
    server = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield (
                make_url(normalise_url(server_url))
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


# -- report --------------------------------------------------------------------------


def _rows(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> list[list[str]]:
    interval = 1 / args.rate
    ceiling = args.hosts * args.rate
    rows = [["", *(WRITE_MODES[mode] for mode in results)]]

    def row(label: str, cell: Any) -> None:
        rows.append([label, *(cell(r) for r in results.values())])

    def per_page(r: dict[str, Any], key: str) -> float:
        return float(r[key]) / max(1, int(r["versions"])) * 1000

    def gap(r: dict[str, Any]) -> str:
        seen = r["server"]
        if seen["min_gap"] is None:
            return "-"
        verdict = "ok" if not seen["short_gaps"] else "TOO SHORT"
        return f"{seen['min_gap']:.3f} s {verdict} (before request {seen['min_gap_before']})"

    def short(r: dict[str, Any]) -> str:
        seen = r["server"]
        return f"{seen['short_gaps']} of {seen['gaps']} ({seen['short_gaps_before_2nd']} 1st→2nd)"

    row("writer threads", lambda r: str(r["writer_threads"]))
    row("pages archived", lambda r: f"{r['versions']} ({r['errors']} errors)")
    row("wall", lambda r: f"{r['wall']:.2f} s")
    row(
        "polite floor",
        lambda r: f"{(r['server']['most_per_host'] - 1) * interval:.2f} s",
    )
    row(
        "pages/s (× ceiling)",
        lambda r: f"{r['versions'] / r['wall']:.1f} ({r['versions'] / r['wall'] / ceiling:.2f})",
    )
    row(
        "CPU per page",
        lambda r: f"{per_page(r, 'own_cpu') + per_page(r, 'children_cpu'):.2f} ms",
    )
    row("  crawl process", lambda r: f"{per_page(r, 'own_cpu'):.2f} ms")
    row("  parser processes", lambda r: f"{per_page(r, 'children_cpu'):.2f} ms")
    row("loop lag p50 / p99 / max", lambda r: "{1:.1f} / {2:.1f} / {3:.1f} ms".format(*r["lag"]))
    row("smallest same-host gap", gap)
    row(f"gaps < {interval * (1 - GAP_TOLERANCE):.3g} s", short)
    row(
        "requests / connections",
        lambda r: f"{r['server']['requests']} / {r['server']['connections']}",
    )
    row("server CPU", lambda r: f"{r['server']['server_cpu']:.1f} s")
    return rows


def _print(args: argparse.Namespace, database: str, results: dict[str, dict[str, Any]]) -> None:
    print(
        f"{args.hosts} hosts × {args.pages} detail pages (+ a list page), {args.rate:g} "
        f"request/s and 1 at a time per host, max_concurrency {args.max_concurrency}, "
        f"{args.parse_workers} parser worker(s), {database}"
    )
    print(
        f"politeness ceiling: {args.hosts} × {args.rate:g} = {args.hosts * args.rate:g} pages/s; "
        f"polite floor = (most requests to one host − 1) / rate"
    )
    for mode, result in results.items():
        if result["error_sample"]:
            print(f"{mode}: crawl errors, e.g. {result['error_sample']}")
        if result["statuses"] != ["completed"]:
            print(f"{mode}: run statuses {result['statuses']}")
    rows = _rows(args, results)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    warm = ", ".join(f"{r['warm_up']:.2f} s" for r in results.values())
    print(f"(parser processes started before the clock, in {warm}; loop lag not sampled then)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=200, help="sites, one source each")
    parser.add_argument("--pages", type=int, default=15, help="detail pages per site")
    parser.add_argument("--rate", type=float, default=1.0, help="requests/s per host")
    parser.add_argument("--parse-workers", type=int, default=1, help="parser processes")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=CrawlSettings().max_concurrency,
        help="requests in flight at once, all hosts (also the HTTP client's connection "
        "pool size); default: the crawl setting's default",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a PostgreSQL server to crawl into (a scratch database is created and "
        "dropped for each crawl); default: SQLite files in a temporary folder",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(json.loads(sys.stdin.read()))))
        return
    if not 1 <= args.hosts <= 253 * 256 or args.pages < 1 or args.rate <= 0:
        parser.error("--hosts must be 1–64768, --pages at least 1, --rate above 0")
    if args.database is not None and not args.database.startswith("postgresql"):
        parser.error("--database takes a PostgreSQL server URL (SQLite is the default)")

    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    server = ctx.Process(
        target=serve_sites, args=(args.hosts, args.pages, 1 / args.rate, theirs), daemon=True
    )
    server.start()
    results: dict[str, dict[str, Any]] = {}
    try:
        if not ours.poll(120):
            raise SystemExit("the server process did not start")
        bases = [f"http://{host_address(h)}:{port}" for h, port in enumerate(ours.recv())]
        with tempfile.TemporaryDirectory() as tmp:
            for mode in WRITE_MODES:
                with _archive(args.database, Path(tmp), mode) as url:
                    spec = {
                        "bases": bases,
                        "rate": args.rate,
                        "parse_workers": args.parse_workers,
                        "max_concurrency": args.max_concurrency,
                        "database": url,
                        "writes": mode,
                    }
                    result = _in_child(spec)
                ours.send("report")
                result["server"] = ours.recv()
                results[mode] = result
    finally:
        ours.send("stop")
        server.join(timeout=10)
    _print(args, "PostgreSQL" if args.database else "SQLite", results)


if __name__ == "__main__":
    main()
