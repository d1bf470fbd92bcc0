"""Workers benchmark: many polite hosts, one PostgreSQL job queue, 1, 2 and 4 workers.

Run by hand (not part of the test suite); needs the PostgreSQL server of the test suite
(``GOVARCHIVE_TEST_POSTGRES_URL``, default postgresql+psycopg://postgres@127.0.0.1:5432/test)::

    .venv/bin/python bench/workers.py [--hosts 200] [--pages 20] [--rate 1.0] [--workers 1,2,4]

A separate process (:mod:`bench.sites`, one event loop) serves ``--hosts`` sites, one
per loopback address (127.0.0.2, 127.0.0.3, …, as distinct government sites would be),
each with one list page and ``--pages`` detail pages: the parser's fixture pages,
builder and saved real ones (real CMS chrome: navigation, scripts, stylesheets), each
copy made distinct, never padded.
Every site is one source crawled at ``--rate`` requests per second, so the politeness
ceiling of the whole cluster is ``hosts × rate`` pages per second, whatever the workers
do.

For each worker count, in a fresh archive: ``govarchive crawl --enqueue`` queues every
source, then that many ``govarchive worker --burst`` processes crawl the queue until it
is empty. Printed per run: pages archived, the crawl's span (first to last request the
sites saw) and its rate as a ratio to the ceiling, the CPU time of the workers (their
parser processes included) per archived page, the steady-state rate (requests a second
from when every host has started to when the first is done) and how long the workers
took to start every source, and politeness as the sites saw it: the smallest gap
between two requests to one host, how many gaps were shorter than 1/rate (less 5%), and
the TCP connections opened (one per host when keep-alive holds).
"""

from __future__ import annotations

import argparse
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

from bench.sites import GAP_TOLERANCE, LIST_PATH, host_address, serve_sites  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _config(path: Path, bases: list[str], rate: float, database: str, parse_workers: int) -> None:
    sources = [
        {"name": f"host{h}", "start_urls": [base + LIST_PATH],
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
    ours, theirs = ctx.Pipe()
    server = ctx.Process(
        target=serve_sites, args=(args.hosts, args.pages, 1 / args.rate, theirs), daemon=True
    )
    server.start()
    bases = [f"http://{host_address(h)}:{port}" for h, port in enumerate(ours.recv())]
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
                ours.send("report")
                rows.append({**result, **ours.recv()})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        ours.send("stop")
        server.join(30)
    print()
    short = f"gaps < {(1 - GAP_TOLERANCE) / args.rate:.3g} s"
    print("workers  pages  span s  pages/s  ÷ ceiling  steady req/s  ÷ ceiling  "
          f"CPU ms/page  start spread s  min gap s  {short}  connections")  # fmt: skip
    for r in rows:
        rate = r["versions"] / r["span"] if r["span"] else 0.0
        steady = r["steady_rate"] or 0.0
        print(f"{r['workers']:>7}  {r['versions']:>5}  {r['span']:>6.1f}  {rate:>7.1f}  "
              f"{rate / ceiling:>9.2f}  {steady:>12.1f}  {steady / ceiling:>9.2f}  "
              f"{1000 * r['cpu'] / max(1, r['versions']):>11.2f}  "
              f"{r['start_spread']:>14.1f}  {r['min_gap']:>9.3f}  {r['short_gaps']:>{len(short)}}  "
              f"{r['connections']:>11}")  # fmt: skip


if __name__ == "__main__":
    main()
