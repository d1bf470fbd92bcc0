"""The views latest_versions and section_changes mean the same on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from storage.content import ParsedSection
from tests.storage.factories import SECTION_ONE, SECTION_TWO, Crawl, make_doc

A = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/1.html"
B = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2.html"


def query(engine: Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def section(number: int, **changes: Any) -> ParsedSection:
    base = SECTION_ONE if number == 1 else SECTION_TWO
    return {**base, "number": number, **changes}  # type: ignore[typeddict-item]


def test_latest_versions_has_one_row_per_page_with_its_newest_fields(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(A, make_doc(title="旧标题"))
    newest = crawl.page(A, make_doc(title="新标题", published_date="2021-10-12"))
    crawl.page(B, make_doc(title="第二页"))
    crawl.fetch(B, "gone", http_status=404)
    rows = query(
        engine,
        "SELECT url, source_name, version, version_id, title, published_date, gone_at"
        " FROM latest_versions ORDER BY url",
    )
    assert [(r["url"], r["source_name"], r["version"], r["title"]) for r in rows] == [
        (A, "xuancheng-sjzy", 2, "新标题"),
        (B, "xuancheng-sjzy", 1, "第二页"),
    ]
    assert rows[0]["version_id"] == newest.version_id
    assert str(rows[0]["published_date"]) == "2021-10-12"
    assert rows[0]["gone_at"] is None
    assert str(rows[1]["gone_at"]).startswith("2024-05-01 08:04:00")


def test_section_changes_pairs_consecutive_versions(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(A, make_doc(sections=[section(1), section(2), section(3, title="三、旧任务")]))
    # v2: section 1 status changes, 2 only its title, 3 removed, 4 added.
    crawl.page(
        A,
        make_doc(
            sections=[
                section(1, status="已完成", progress="全部完成。"),
                section(2, title="建设城市大脑（标题改写）"),
                section(4, title="新增任务", status="滞后"),
            ]
        ),
    )
    # v3: nothing in the sections changes, only the body.
    crawl.page(
        A,
        make_doc(
            body="正文改动",
            sections=[
                section(1, status="已完成", progress="全部完成。"),
                section(2, title="建设城市大脑（标题改写）"),
                section(4, title="新增任务", status="滞后"),
            ],
        ),
    )
    crawl.page(B, make_doc(sections=[section(1)]))  # only one version: no pairs
    rows = query(
        engine,
        "SELECT url, number, change, old_version, new_version, old_status, new_status,"
        " old_progress, new_progress, new_title FROM section_changes ORDER BY number",
    )
    assert rows == [
        {
            "url": A,
            "number": 1,
            "change": "changed",
            "old_version": 1,
            "new_version": 2,
            "old_status": "持续推进",
            "new_status": "已完成",
            "old_progress": SECTION_ONE["progress"],
            "new_progress": "全部完成。",
            "new_title": SECTION_ONE["title"],
        },
        {
            "url": A,
            "number": 3,
            "change": "removed",
            "old_version": 1,
            "new_version": 2,
            "old_status": "滞后",
            "new_status": None,
            "old_progress": SECTION_TWO["progress"],
            "new_progress": None,
            "new_title": None,
        },
        {
            "url": A,
            "number": 4,
            "change": "added",
            "old_version": 1,
            "new_version": 2,
            "old_status": None,
            "new_status": "滞后",
            "old_progress": None,
            "new_progress": SECTION_TWO["progress"],
            "new_title": "新增任务",
        },
    ]


def test_section_changes_sees_a_field_becoming_null(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(A, make_doc(sections=[section(2)]))
    crawl.page(A, make_doc(sections=[section(2, problems=None)]))
    rows = query(engine, "SELECT change, old_problems, new_problems FROM section_changes")
    assert rows == [
        {"change": "changed", "old_problems": SECTION_TWO["problems"], "new_problems": None}
    ]
