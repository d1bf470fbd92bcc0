"""Every SQL recipe in docs/schema.md runs unchanged on SQLite and PostgreSQL and returns
the right rows for a small archive built here; the queries on the job queue (PostgreSQL
only) return the right rows for a queue procrastinate filled."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage.archive import finish_run, start_run
from storage.content import ParsedSection
from storage.engine import make_engine
from storage.models import RunStatus
from tests.storage.factories import Crawl, attachment, make_doc
from tests.storage.jobs import build_queue

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
BASE = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/"
Q2, Q3, GONE = BASE + "2336931.html", BASE + "2405711.html", BASE + "2200001.html"
NOTICE = "https://www.anqing.gov.cn/xxgk/show-385009.html"
PUBLISHER = "市数据资源局(市政务服务局)"
FILES = "https://sjzy.xuancheng.gov.cn/uploadfiles/"
Q2_PDF, Q3_PDF, Q3_DOCX = FILES + "q2.pdf", FILES + "q3.pdf", FILES + "q3.docx"


def recipes() -> dict[str, str]:
    """Return heading → SQL of every recipe (the first ```sql block under each heading)."""
    section = DOC.read_text(encoding="utf-8").split("\n## Recipes\n", 1)[1]
    found: dict[str, str] = {}
    for chunk in section.split("\n### ")[1:]:
        heading, body = chunk.split("\n", 1)
        match = re.search(r"```sql\n(.*?)```", body, re.S)
        assert match, f"recipe {heading!r} has no sql block"
        found[heading.strip()] = match.group(1).strip().rstrip(";")
    return found


def at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").astimezone(UTC)


def tasks(*statuses: str) -> list[ParsedSection]:
    return [
        {
            "number": n,
            "title": f"任务{n}",
            "status": status,
            "progress": f"进展{n}",
            "problems": None,
            "next_steps": None,
            "extra": {},
        }
        for n, status in enumerate(statuses, start=1)
    ]


# The reports' attachments: Q2 links one PDF; Q3 a PDF (replaced between its versions:
# only the old one mentions 一网通办) and a .docx. No request is recorded for them, so the
# recipes on fetches and runs count what they did before attachments existed.
Q2_FILES = [attachment(1, Q2_PDF, b"%PDF q2", text="推进长三角“一网通办”，完成。")]
Q3_DOCX_FILE = attachment(2, Q3_DOCX, b"PK docx", kind="docx", text="任务表，一网通办")
Q3_FILES_V1 = [attachment(1, Q3_PDF, b"%PDF q3 v1", text="一网通办覆盖面"), Q3_DOCX_FILE]
Q3_FILES_V2 = [attachment(1, Q3_PDF, b"%PDF q3 v2", text="城市大脑"), Q3_DOCX_FILE]


def build(engine: Engine) -> None:
    xc = Crawl.start(engine, "xuancheng-sjzy")
    report: dict[str, Any] = {"publisher": PUBLISHER, "published_date": "2021-07-09"}
    xc.page(
        Q2,
        make_doc(
            title="2021年度二季度政府工作报告任务进展情况",
            sections=tasks("持续推进", "滞后", "已完成"),
            **report,
        ),
        at=at("2024-05-01"),
        attachments=Q2_FILES,
    )
    q3: dict[str, Any] = {
        **report,
        "title": "2021年度三季度政府工作报告任务进展情况",
        "published_date": "2021-10-11",
    }
    xc.page(
        Q3,
        make_doc(sections=tasks("已完成", "滞后", "已完成"), **q3),
        at=at("2024-05-02"),
        attachments=Q3_FILES_V1,
    )
    xc.page(
        GONE,
        make_doc(title="已撤下的通知", sections=[], published_date="2020-03-01"),
        at=at("2024-05-03"),
    )
    finish_run(engine, xc.run_id, RunStatus.COMPLETED, now=at("2024-05-03", 9))

    xc.run_id = start_run(engine, xc.source_id, now=at("2024-06-15"))
    xc.page(
        Q3,
        make_doc(sections=tasks("已完成", "持续推进", "已完成"), body="更新", **q3),
        at=at("2024-06-15"),
        attachments=Q3_FILES_V2,
    )
    xc.page(
        Q2,
        make_doc(
            title="2021年度二季度政府工作报告任务进展情况",
            sections=tasks("持续推进", "滞后", "已完成"),
            **report,
        ),
        at=at("2024-06-15"),
        attachments=Q2_FILES,
    )
    xc.fetch(GONE, "gone", http_status=404, at=at("2024-06-20"))
    xc.fetch(BASE + "1.html", "error", error="timeout", at=at("2024-06-20"))
    xc.fetch(BASE + "2.html", "blocked", http_status=412, at=at("2024-06-20"))
    xc.fetch(BASE + "list_1.html", "list_page", http_status=200, at=at("2024-06-20"))
    finish_run(engine, xc.run_id, RunStatus.COMPLETED, now=at("2024-06-20", 9))

    aq = Crawl.start(engine, "anqing-xxgk")
    aq.page(
        NOTICE,
        make_doc(
            title="安庆市通知", publisher="安庆市人民政府", sections=[], published_date="2023-01-05"
        ),
        at=at("2024-05-25"),
    )
    aq.fetch(NOTICE + "?2", "error", error="connection reset", at=at("2024-05-25"))


EXPECTED: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
    "What a page said on a given date": lambda rows: (
        [(r["version"], r["title"]) for r in rows]
        == [(1, "2021年度三季度政府工作报告任务进展情况")]
    ),
    "Every task whose status changed between two quarters' reports of one publisher": lambda rows: (
        [(r["number"], r["status_q2"], r["status_q3"]) for r in rows]
        == [(1, "持续推进", "已完成"), (2, "滞后", "持续推进")]
    ),
    "All tasks still 滞后 or 持续推进 in the latest versions": lambda rows: (
        [(r["url"], r["number"], r["status"]) for r in rows]
        == [(Q3, 2, "持续推进"), (Q2, 1, "持续推进"), (Q2, 2, "滞后")]
    ),
    "Pages that disappeared, and when": lambda rows: (
        [(r["source_name"], r["url"], r["title"], str(r["gone_at"])[:19]) for r in rows]
        == [("xuancheng-sjzy", GONE, "已撤下的通知", "2024-06-20 08:00:00")]
    ),
    "Failure rate per source over the last month": lambda rows: (
        [(r["source"], r["fetches"], r["failures"], Decimal(str(r["failure_pct"]))) for r in rows]
        == [("anqing-xxgk", 2, 1, Decimal("50.0")), ("xuancheng-sjzy", 5, 2, Decimal("40.0"))]
    ),
    "The history of one report's tasks": lambda rows: (
        [
            (
                r["number"],
                r["change"],
                r["old_version"],
                r["new_version"],
                r["old_status"],
                r["new_status"],
            )
            for r in rows
        ]
        == [(2, "changed", 1, 2, "滞后", "持续推进")]
    ),
    "Pages whose content changed in a period": lambda rows: (
        [(r["url"], r["version"]) for r in rows] == [(Q3, 2)]
    ),
    "The latest run of every source": lambda rows: (
        [(r["name"], r["status"], r["pages_seen"], r["new_versions"], r["errors"]) for r in rows]
        == [("anqing-xxgk", "running", 0, 0, 0), ("xuancheng-sjzy", "completed", 5, 1, 2)]
    ),
    "Documents per publisher and year": lambda rows: (
        [(r["publisher"], r["year"], r["documents"]) for r in rows]
        == [
            ("安庆市人民政府", "2023", 1),
            (PUBLISHER, "2021", 2),
            (PUBLISHER, "2020", 1),
        ]
    ),
    "All PDFs of one publisher in a year": lambda rows: (
        [
            (
                r["url"],
                str(r["published_date"]),
                r["filename"],
                r["first_version"],
                r["last_version"],
            )
            for r in rows
        ]
        == [
            (Q2, "2021-07-09", "q2.pdf", 1, 1),
            (Q3, "2021-10-11", "q3.pdf", 1, 1),
            (Q3, "2021-10-11", "q3.pdf", 2, 2),
        ]
    ),
    "Attachments replaced after publication": lambda rows: (
        [(r["url"], r["file_url"], r["old_version"], r["new_version"]) for r in rows]
        == [(Q3, Q3_PDF, 1, 2)]
        and str(rows[0]["old_fetched_at"])[:10] == "2024-05-02"
        and str(rows[0]["new_fetched_at"])[:10] == "2024-06-15"
        and rows[0]["old_sha256"] == Q3_FILES_V1[0].sha256
        and rows[0]["new_sha256"] == Q3_FILES_V2[0].sha256
    ),
    "Attachments whose text contains a phrase": lambda rows: (
        [(r["url"], r["position"], r["filename"]) for r in rows]
        == [(Q2, 1, "q2.pdf"), (Q3, 2, "q3.docx")]
    ),
}


def test_every_recipe_has_an_expectation_and_there_are_at_least_six() -> None:
    assert set(recipes()) == set(EXPECTED)
    assert len(EXPECTED) >= 6


@pytest.mark.parametrize("heading", sorted(EXPECTED))
def test_recipe_runs_and_returns_the_right_rows(engine: Engine, heading: str) -> None:
    build(engine)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(recipes()[heading]))]
    assert EXPECTED[heading](rows), rows


def queue_queries() -> dict[str, str]:
    """Return heading → SQL of the queries on the job queue (its #### headings)."""
    doc = DOC.read_text(encoding="utf-8")
    section = doc.split("\n### Queries on the job queue\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for chunk in section.split("\n#### ")[1:]:
        heading, body = chunk.split("\n", 1)
        match = re.search(r"```sql\n(.*?)```", body, re.S)
        assert match, f"query {heading!r} has no sql block"
        found[heading.strip()] = match.group(1).strip().rstrip(";")
    return found


QUEUE_EXPECTED: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
    "Jobs per source and status": lambda rows: (
        [(r["source"], r["status"], r["jobs"]) for r in rows]
        == [
            ("alpha", "succeeded", 1),
            ("delta", "doing", 1),
            ("epsilon", "todo", 1),
            ("fail-beta", "todo", 1),
            ("fail-gamma", "failed", 1),
            ("zeta", "cancelled", 1),
        ]
    ),
    "Failed jobs this week": lambda rows: (
        [(r["source"], r["attempts"]) for r in rows] == [("fail-gamma", 1)]
        and rows[0]["failed_at"] is not None
    ),
    "Jobs waiting for a retry": lambda rows: (
        [(r["source"], r["attempts"]) for r in rows] == [("fail-beta", 1)]
    ),
}


def test_every_queue_query_has_an_expectation() -> None:
    assert set(queue_queries()) == set(QUEUE_EXPECTED)


@pytest.mark.postgres
@pytest.mark.parametrize("heading", sorted(QUEUE_EXPECTED))
def test_queue_query_runs_and_returns_the_right_rows(postgres_url: str, heading: str) -> None:
    build_queue(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(text(queue_queries()[heading]))]
    finally:
        engine.dispose()
    assert QUEUE_EXPECTED[heading](rows), rows
