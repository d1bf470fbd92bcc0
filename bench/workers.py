"""Workers benchmark: many polite hosts, one PostgreSQL job queue, 1, 2 and 4 workers.

Run by hand (not part of the test suite); needs the PostgreSQL server of the test suite
(``GOVARCHIVE_TEST_POSTGRES_URL``, default postgresql+psycopg://postgres@127.0.0.1:5432/test)::

    .venv/bin/python bench/workers.py [--hosts 200] [--pages 20] [--rate 1.0] [--workers 1,2,4]

A separate process serves ``--hosts`` sites, one per loopback address (127.0.0.2,
127.0.0.3, …, as distinct government sites would be), each with one list page and
``--pages`` detail pages: the parser's fixture pages (real CMS chrome: navigation,
scripts, stylesheets), each copy made distinct by one paragraph, never padded. Every
site is one source crawled at ``--rate`` requests per second, so the politeness ceiling
of the whole cluster is ``hosts × rate`` pages per second, whatever the workers do.

For each worker count, in a fresh archive: ``govarchive crawl --enqueue`` queues every
source, then that many ``govarchive worker --burst`` processes crawl the queue until it
is empty. Printed per run: pages archived, the crawl's span (first to last request the
sites saw) and its rate as a ratio to the ceiling, the CPU time of the workers (their
parser processes included) per archived page, and politeness as the sites saw it: the
smallest gap between two requests to one host (must stay ≥ 1/rate) and the most requests
one host had in flight.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/, whose storage.py would shadow the storage
# package: put the project root there instead.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

FIXTURES = ROOT / "tests" / "fixtures" / "pages"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pages(count: int) -> list[tuple[bytes, str]]:
    """Return ``count`` distinct fixture pages (real chrome, no padding) with their types."""
    corpus: list[tuple[bytes, str]] = []
    for html in sorted(FIXTURES.glob("*.html")):
        golden = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        content_type = golden.get("_input", {}).get("content_type") or "text/html"
        corpus.append((html.read_bytes(), content_type))
    pages = []
    for i in range(count):
        body, content_type = corpus[i % len(corpus)]
        marker = f"<p>Document {i} of the benchmark cluster.</p>".encode()
        pages.append((body.replace(b"</body>", marker + b"</body>", 1), content_type))
    return pages


def _serve(hosts: int, pages: int, out: Any, stop: Any, report: Any) -> None:
    """Child process: serve the sites until ``stop`` is set, then report their logs."""
    from contextlib import ExitStack

    from tests.site.server import serve

    bodies = _pages(hosts * pages)
    with ExitStack() as stack:
        sites = [stack.enter_context(serve(_address(h))) for h in range(hosts)]
        for h, site in enumerate(sites):
            links = []
            for p in range(pages):
                body, content_type = bodies[h * pages + p]
                site.add(f"/show/{p}.html", body, content_type=content_type, etag=f'"v1-{p}"')
                links.append(f'<li><a href="/show/{p}.html">文件 {p}</a></li>')
            site.add("/list.html", f"<html><body><ul class='doc_list'>{''.join(links)}</ul>"
                                   "</body></html>")  # fmt: skip
            site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        out.put([site.base_url for site in sites])
        while True:
            command = stop.get()
            if command == "report":
                logs = [[r.at for r in site.requests if r.path != "/robots.txt"] for site in sites]
                report.put({"arrivals": logs, "in_flight": [s.max_in_flight for s in sites]})
                for site in sites:
                    site.clear_log()
            else:
                return


def _address(h: int) -> str:
    """The loopback address of host ``h`` (127.0.0.2 …, then 127.0.1.x past 253)."""
    return f"127.0.{h // 250}.{2 + h % 250}"


def _config(path: Path, bases: list[str], rate: float, database: str, parse_workers: int) -> None:
    sources = [
        {"name": f"host{h}", "start_urls": [f"{base}/list.html"],
         "detail_links": "ul.doc_list a", "schedule": "0 3 * * *"}
        for h, base in enumerate(bases)
    ]  # fmt: skip
    document = {
        "database": database,
        "crawl": {
            "requests_per_second": rate,
            "retries": 0,
            "timeout": 30,
            "parse_workers": parse_workers,
        },
        "workers": {"concurrency": len(bases)},
        "sources": sources,
    }
    path.write_text(json.dumps(document), encoding="utf-8")


def _govarchive(*args: str) -> list[str]:
    return [sys.executable, "-m", "scraper.cli", *args]


def _scratch_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _count(database: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    with engine.connect() as conn:
        value = int(conn.execute(text(sql)).scalar_one())
    engine.dispose()
    return value


def _run(workers: int, bases: list[str], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    name = f"govarchive_bench_workers_{os.getpid()}_{workers}"
    database = _scratch_database(args.postgres, name)
    try:
        config = tmp / f"config-{workers}.yaml"
        _config(config, bases, args.rate, database, args.parse_workers)
        subprocess.run(_govarchive("db", "upgrade", "--config", str(config)), check=True,
                       capture_output=True, cwd=ROOT)  # fmt: skip
        subprocess.run(_govarchive("crawl", "--enqueue", "--config", str(config)), check=True,
                       capture_output=True, cwd=ROOT)  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        concurrency = str(max(1, -(-len(bases) // workers)))  # the hosts, shared out
        logs = [(tmp / f"worker-{workers}-{n}.log").open("w") for n in range(workers)]
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                _govarchive(
                    "worker",
                    "--burst",
                    "--config",
                    str(config),
                    "--concurrency",
                    concurrency,
                    "--name",
                    f"bench-{n}",
                    "--log-format",
                    "json",
                ),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for n, log in enumerate(logs)
        ]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        for log in logs:
            log.close()
        starts = sorted(
            datetime.fromisoformat(record["time"]).timestamp()
            for n in range(workers)
            for record in _records(tmp / f"worker-{workers}-{n}.log")
            if record.get("event") == "run_started"
        )
        if any(codes):
            raise SystemExit(f"a worker failed ({codes}); see {tmp}")
        versions = _count(database, "SELECT count(*) FROM page_versions")
        failed = _count(
            database, "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'"
        )
    finally:
        _drop_database(args.postgres, name)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"workers": workers, "wall": wall, "versions": versions, "cpu": cpu,
            "jobs_not_succeeded": failed,
            "job_start_spread": starts[-1] - starts[0] if starts else None}  # fmt: skip


def _records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _politeness(report: dict[str, Any], rate: float) -> dict[str, Any]:
    arrivals: list[list[float]] = report["arrivals"]
    everything = sorted(t for host in arrivals for t in host)
    gaps = [b - a for host in arrivals for a, b in itertools.pairwise(host)]
    firsts = [host[0] for host in arrivals if host]
    lasts = [host[-1] for host in arrivals if host]
    # Steady state: from when every host has started to when the first one is done.
    begin, end = max(firsts, default=0.0), min(lasts, default=0.0)
    steady = sum(1 for t in everything if begin <= t <= end)
    return {
        "steady_rate": steady / (end - begin) if end > begin else None,
        "start_spread": max(firsts) - min(firsts) if firsts else 0.0,
        "requests": len(everything),
        "span": everything[-1] - everything[0] if everything else 0.0,
        "min_gap": min(gaps) if gaps else None,
        "max_in_flight": max(report["in_flight"]),
        "interval": 1 / rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--pages", type=int, default=40, help="detail pages per host")
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second per host")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure")
    parser.add_argument("--parse-workers", type=int, default=1, help="crawl.parse_workers")
    parser.add_argument("--logs", metavar="DIR", help="keep the configs and worker logs in DIR")
    parser.add_argument("--profile", metavar="DIR", help="record each worker with py-spy into DIR")
    parser.add_argument(
        "--postgres", default=os.environ.get("GOVARCHIVE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    out, stop, report = ctx.Queue(), ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.hosts, args.pages, out, stop, report))
    server.start()
    bases: list[str] = out.get(timeout=120)
    ceiling = args.hosts * args.rate
    print(f"{args.hosts} hosts × {args.pages} documents at {args.rate:g} req/s each: "
          f"ceiling {ceiling:g} pages/s; {os.cpu_count()} CPUs")  # fmt: skip
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            tmp = Path(args.logs or scratch)
            tmp.mkdir(parents=True, exist_ok=True)
            for workers in [int(w) for w in args.workers.split(",")]:
                result = _run(workers, bases, args, tmp)
                stop.put("report")
                seen = _politeness(report.get(timeout=60), args.rate)
                rows.append({**result, **seen})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        stop.put("stop")
        server.join(30)
    print()
    print("workers  pages  span s  pages/s  ÷ ceiling  steady req/s  ÷ ceiling  "
          "CPU ms/page  start spread s  min gap s  in flight/host")  # fmt: skip
    for r in rows:
        rate = r["versions"] / r["span"] if r["span"] else 0.0
        steady = r["steady_rate"] or 0.0
        print(f"{r['workers']:>7}  {r['versions']:>5}  {r['span']:>6.1f}  {rate:>7.1f}  "
              f"{rate / ceiling:>9.2f}  {steady:>12.1f}  {steady / ceiling:>9.2f}  "
              f"{1000 * r['cpu'] / max(1, r['versions']):>11.2f}  "
              f"{r['start_spread']:>14.1f}  {r['min_gap']:>9.3f}  "
              f"{r['max_in_flight']:>14}")  # fmt: skip


if __name__ == "__main__":
    main()
