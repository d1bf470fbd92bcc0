"""Search benchmark: query times of ``storage.search`` on a large archive, against the
same question asked as a plain substring scan, on SQLite and PostgreSQL.

Run by hand (never in the test suite)::

    .venv/bin/python bench/search.py                    # 100,000 versions, both databases
    .venv/bin/python bench/search.py --versions 20000 --repeat 9 --postgres ''

What it does, on each database migrated to head through the real migrations:
1. fills an archive with ``--versions`` versions (two per page: a page's second version
   rewrites some of its text) of report-like Chinese prose, 25 % of them progress
   reports with 4–9 task sections and 5 % with an attachment's text. Rows are inserted
   in bulk (``INSERT … VALUES`` batches, not ``archive_page``: the write path has its own
   bench, bench/storage.py), so the full-text triggers and indexes of revision 0006 do
   their real work on every row. Every version points at one shared raw blob;
2. runs each query of :data:`QUERIES` ``--repeat`` times through
   :func:`storage.search.search` (default limit, latest versions unless the query says
   otherwise) and reports the median (p50) and 95th percentile of the wall time;
3. asks the same question without the indexes — a ``LIKE`` (``ILIKE`` for a term with
   Latin letters on PostgreSQL, as search does) over the same
   columns of the same three tables, every term required, newest publication first,
   the same limit (on PostgreSQL with bitmap and index scans turned off, since pg_trgm
   would otherwise answer it) — and reports its p50 as the floor the index is measured
   against: "speed-up" is scan p50 / search p50.

The text is drawn from the vocabulary of bench/storage.py (two-character report words
with a Zipf-like weighting, department and place names, real report phrases), so
trigram frequencies resemble real report text; a few rare terms are planted in a known
number of versions to measure selective queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import DEFAULT_POSTGRES, temporary_postgres
from bench.storage import DEPTS, PHRASES, STATUSES, sentence
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import ATTACHMENTS, BLOBS, PAGE_VERSIONS, PAGES, SOURCES, TASK_SECTIONS
from storage.search import query_terms, search

T0 = datetime(2024, 5, 1, tzinfo=UTC)

#: (label, query, rare term planted in this many versions or 0, search options).
#: The rare terms are absent from the generated vocabulary, so their hit counts are
#: exactly the planted ones.
QUERIES: tuple[tuple[str, str, int, dict[str, Any]], ...] = (
    ("common phrase (4 chars)", "城市大脑", 0, {}),
    ("long phrase (12 chars)", "完成与省江淮大数据中心平台级联", 0, {}),
    ("rare term (planted ×20)", "量子通信干线", 20, {}),
    ("absent term", "不存在的检索词语", 0, {}),
    ("two words, 4 + 2 chars", "城市大脑 滞后", 0, {}),
    ("2-char word alone (scan)", "滞后", 0, {}),
    ("rare term, all versions", "量子通信干线", 0, {"all_versions": True}),
    ("common, published since 2026", "营商环境", 0, {"published_since": date(2026, 1, 1)}),
)


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    hits: int
    p50: float
    p95: float
    scan_p50: float


def sentences(rng: random.Random, count: int) -> list[str]:
    """A pool of prose sentences; bodies are drawn from it (generating every sentence
    afresh costs minutes at 100k versions and changes no trigram statistics)."""
    return [sentence(rng) for _ in range(count)]


def body(rng: random.Random, pool: list[str], chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        s = rng.choice(pool)
        if rng.random() < 0.15:
            s = rng.choice(PHRASES) + "，" + s
        out.append(s)
        size += len(s)
    return "".join(out)


def rows(
    versions: int, seed: int
) -> Iterator[
    tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
]:
    """Yield per page (page row, its version rows, section rows, attachment rows), with
    version/section ids assigned here so batches need no round trip per row."""
    rng = random.Random(seed)
    pool = sentences(rng, 20_000)
    planted = {name: count for _, name, count, _ in QUERIES if count}
    plant_at = {term: set(rng.sample(range(versions), count)) for term, count in planted.items()}
    version_id = section_id = attachment_id = 0
    pages = (versions + 1) // 2
    for page_no in range(1, pages + 1):
        published = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 8 * 365))
        report = rng.random() < 0.25
        title = rng.choice(PHRASES) + ("工作进展情况" if report else "的通知")
        page = {
            "id": page_no,
            "source_id": 1 + page_no % 4,
            "url": f"https://www.example.gov.cn/xxgk/{page_no}.html",
            "first_seen_at": T0,
            "last_fetched_at": T0,
            "last_changed_at": T0,
        }
        text_ = body(rng, pool, rng.randint(2000, 3200) if report else rng.randint(600, 1500))
        version_rows: list[dict[str, Any]] = []
        section_rows: list[dict[str, Any]] = []
        attachment_rows: list[dict[str, Any]] = []
        for number in (1, 2):
            if version_id >= versions:
                break
            version_id += 1
            if number == 2:
                # A republished version: a paragraph rewritten.
                cut = rng.randrange(len(text_))
                text_ = text_[:cut] + body(rng, pool, 120) + text_[cut + 60 :]
            planted_text = "".join(
                f"开展{term}试点。" for term, at in plant_at.items() if version_id - 1 in at
            )
            version_rows.append(
                {
                    "id": version_id,
                    "page_id": page_no,
                    "version": number,
                    "fetched_at": T0 + timedelta(days=number),
                    "content_hash": f"{version_id:064x}",
                    "raw_hash": "0" * 64,
                    "title": title,
                    "publisher": rng.choice(DEPTS),
                    "published_date": published,
                    "metadata_extra": {},
                    "body_text": text_ + planted_text,
                    "encoding": "utf-8",
                    "encoding_source": "meta",
                    "warnings": [],
                    "parser_version": "bench",
                }
            )
            if report:
                for n in range(1, rng.randint(4, 9) + 1):
                    section_id += 1
                    section_rows.append(
                        {
                            "id": section_id,
                            "version_id": version_id,
                            "number": n,
                            "title": rng.choice(PHRASES),
                            "status": rng.choice(STATUSES),
                            "progress": body(rng, pool, 200),
                            "next_steps": body(rng, pool, 60),
                            "extra": {},
                        }
                    )
            if rng.random() < 0.05:
                attachment_id += 1
                attachment_rows.append(
                    {
                        "id": attachment_id,
                        "version_id": version_id,
                        "position": 1,
                        "url": f"https://www.example.gov.cn/upload/{attachment_id}.pdf",
                        "link_text": "附件：" + rng.choice(PHRASES) + ".pdf",
                        "filename": rng.choice(PHRASES) + ".pdf",
                        "kind": "pdf",
                        "text": body(rng, pool, 3000),
                    }
                )
        yield page, version_rows, section_rows, attachment_rows


def fill(engine: Engine, versions: int, seed: int) -> float:
    """Insert the archive; return the seconds it took (triggers and indexes included)."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(BLOBS), [{"hash": "0" * 64, "size": 0, "codec": "zstd", "data": b""}])
        conn.execute(
            insert(SOURCES),
            [{"id": i, "name": f"来源{i}", "created_at": T0} for i in range(1, 5)],
        )
    batch: tuple[list[Any], list[Any], list[Any], list[Any]] = ([], [], [], [])
    for page, version_rows, section_rows, attachment_rows in rows(versions, seed):
        batch[0].append(page)
        batch[1].extend(version_rows)
        batch[2].extend(section_rows)
        batch[3].extend(attachment_rows)
        if len(batch[1]) >= 2000:
            _flush(engine, batch)
            batch = ([], [], [], [])
    _flush(engine, batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _flush(engine: Engine, batch: tuple[list[Any], list[Any], list[Any], list[Any]]) -> None:
    with engine.begin() as conn:
        for table, values in zip(
            (PAGES, PAGE_VERSIONS, TASK_SECTIONS, ATTACHMENTS), batch, strict=True
        ):
            if values:
                conn.execute(insert(table), values)


def scan(conn: Connection, query: str, options: dict[str, Any], limit: int = 50) -> int:
    """The floor: the same question as a substring scan over the same columns, without
    the full-text indexes. Returns the rows found (up to ``limit`` per table)."""
    terms = query_terms(query)
    # As storage.search does: ILIKE on PostgreSQL only for a term with cased letters.
    ops = [
        "ILIKE" if conn.dialect.name == "postgresql" and t.lower() != t.upper() else "LIKE"
        for t in terms
    ]
    latest = (
        ""
        if options.get("all_versions")
        else " AND NOT EXISTS (SELECT 1 FROM page_versions l"
        " WHERE l.page_id = v.page_id AND l.version > v.version)"
    )
    since = " AND v.published_date >= :since" if options.get("published_since") else ""
    params: dict[str, Any] = {f"t{i}": f"%{t}%" for i, t in enumerate(terms)}
    if since:
        params["since"] = options["published_since"]
    found = 0
    for table, alias, columns in (
        ("page_versions", "v", ("title", "body_text")),
        ("task_sections", "s", ("title", "status", "progress", "problems", "next_steps")),
        ("attachments", "a", ("filename", "link_text", "text")),
    ):
        where = " AND ".join(
            "(" + " OR ".join(f"{alias}.{c} {op} :t{i}" for c in columns) + ")"
            for i, op in enumerate(ops)
        )
        join = "" if alias == "v" else f" JOIN page_versions v ON v.id = {alias}.version_id"
        sql = (
            f"SELECT {alias}.id FROM {table} {alias}{join} WHERE {where}{latest}{since}"
            f" ORDER BY v.published_date DESC, v.page_id, v.version DESC LIMIT {limit}"
        )
        found += len(conn.execute(text(sql), params).all())
    return found


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    fn()  # warm the caches: every figure is a warm-cache figure
    times: list[float] = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(engine: Engine, versions: int, seed: int, repeat: int, label: str) -> list[Timing]:
    upgrade(engine)
    seconds = fill(engine, versions, seed)
    print(
        f"{label}: {versions:,} versions inserted in {seconds:.0f} s"
        f" ({versions / seconds:.0f}/s, indexes included)"
    )
    out: list[Timing] = []
    for name, query, _, options in QUERIES:

        def indexed(q: str = query, o: dict[str, Any] = options) -> list[Any]:
            return search(engine, q, **o)

        times, hits = timed(indexed, repeat)

        def floor(q: str = query, o: dict[str, Any] = options) -> int:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
                    conn.execute(text("SET LOCAL enable_indexscan = off"))
                return scan(conn, q, o)

        scan_times, _ = timed(floor, max(3, repeat // 3))
        out.append(
            Timing(
                name, len(hits), statistics.median(times), p95(times), statistics.median(scan_times)
            )
        )
    return out


def print_table(label: str, timings: list[Timing]) -> None:
    print(f"\n{label}")
    print(
        f"  {'query':34} {'hits':>5} {'p50 ms':>9} {'p95 ms':>9}"
        f" {'scan p50 ms':>12} {'speed-up':>9}"
    )
    for t in timings:
        print(
            f"  {t.label:34} {t.hits:>5} {t.p50 * 1e3:>9.1f} {t.p95 * 1e3:>9.1f}"
            f" {t.scan_p50 * 1e3:>12.1f} {t.scan_p50 / t.p50:>8.1f}×"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20211011)
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="server URL used to create a temporary database ('' to skip PostgreSQL)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            print_table("SQLite", run(engine, args.versions, args.seed, args.repeat, "SQLite"))
            engine.dispose()
    if args.postgres:
        with temporary_postgres(args.postgres) as pg:
            if pg is not None:
                print_table(
                    "PostgreSQL", run(pg, args.versions, args.seed, args.repeat, "PostgreSQL")
                )


if __name__ == "__main__":
    main()
