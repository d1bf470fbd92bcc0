"""storage.history, storage.textdiff and `govarchive history` on a page with three versions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update

from scraper.cli import cli
from storage.content import CANONICAL_FIELDS, DATE_FIELDS, DATETIME_FIELDS
from storage.errors import UnknownRecordError
from storage.history import OTHER_FIELDS, SECTION_KEYS, page_history, version_diff
from storage.models import PAGE_VERSIONS, TASK_SECTIONS, Page, PageVersion
from storage.textdiff import inline_diff, text_diff
from tests.research_archive import REPORT_URL, T0, build


def report_page_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(Page.id).where(Page.url == REPORT_URL)).scalar_one())


def test_history_of_three_versions(engine: Engine) -> None:
    build(engine)
    history = page_history(engine, REPORT_URL)
    assert history.page.url == REPORT_URL
    assert history.page.source_name == "xuancheng-sjzy"
    assert [e.snapshot.version for e in history.entries] == [1, 2, 3]
    first, second, third = history.entries

    assert first.change is None
    assert first.snapshot.fetched_at == T0 + timedelta(minutes=1)
    assert first.snapshot.fetches == 1

    # v2: section 1 finished and its progress rewritten; the body moved with it
    assert second.change is not None
    assert second.change.fields == ("body_text",)
    [change] = second.change.sections
    assert (change.number, change.kind, change.keys) == (1, "changed", ("status", "progress"))
    assert (change.status_before, change.status_after) == ("持续推进。", "已完成。")
    assert change.status_changed

    # v3: new title, section 2 gone, section 3 new; seen twice (one unchanged recrawl)
    assert third.change is not None
    assert third.change.fields == ("title", "body_text")
    assert [(c.number, c.kind, c.status_before, c.status_after) for c in third.change.sections] == [
        (2, "removed", "滞后。", None),
        (3, "added", None, "持续推进。"),
    ]
    assert third.snapshot.fetches == 2
    assert third.snapshot.last_seen_at - third.snapshot.fetched_at == timedelta(days=1, minutes=1)

    # by page id too
    assert page_history(engine, report_page_id(engine)).page.url == REPORT_URL


def test_diff_of_two_versions(engine: Engine) -> None:
    build(engine)
    diff = version_diff(engine, REPORT_URL, 1, 3)
    assert not diff.identical
    fields = {v.name: v for v in diff.fields}
    assert set(fields) == {"title", "body_text"}
    assert fields["title"].lines == ("~ 2021年度三季度政府工作报告任务进展情况{+（更新）+}",)
    assert fields["title"].new == "2021年度三季度政府工作报告任务进展情况（更新）"
    sections = {(s.number, s.kind): s for s in diff.sections}
    assert set(sections) == {(1, "changed"), (2, "removed"), (3, "added")}
    status, progress = sections[(1, "changed")].values
    # too different to mark in-line: shown as the old and the new value
    assert (status.name, status.lines) == ("status", ("- 持续推进。", "+ 已完成。"))
    assert progress.name == "progress"
    assert progress.lines == ("  一是印发《实施方案》。", "~ 二是确认[-63-]{+75+}个事项。")
    removed = {v.name: v for v in sections[(2, "removed")].values}
    assert removed["problems"].old == "场馆选址尚未确定。"
    assert removed["problems"].lines == ("- 场馆选址尚未确定。",)
    assert version_diff(engine, REPORT_URL, 3, 3).identical

    as_json = diff.to_dict()
    assert as_json["old_version"] == 1 and as_json["new_version"] == 3
    assert json.dumps(as_json, ensure_ascii=False)


def test_unknown_page_and_version(engine: Engine) -> None:
    build(engine)
    with pytest.raises(UnknownRecordError, match="similar archived URLs: " + REPORT_URL):
        page_history(engine, "http://elsewhere.example/OpennessContent/show/2149331.html")
    with pytest.raises(UnknownRecordError, match="no page id 9999"):
        page_history(engine, 9999)
    with pytest.raises(UnknownRecordError, match="has no version 7; it has versions 1 to 3"):
        version_diff(engine, REPORT_URL, 1, 7)


def test_text_diff_notation() -> None:
    assert text_diff("同", "同") == []
    assert text_diff(None, "新\n行") == ["+ 新", "+ 行"]
    assert text_diff("旧", None) == ["- 旧"]
    assert text_diff("完成状态：持续推进", "完成状态：已完成") == [
        "~ 完成状态：[-持续推进-]{+已完成+}"
    ]
    # unrelated lines are not marked character by character
    assert text_diff("甲乙丙丁", "子丑寅卯") == ["- 甲乙丙丁", "+ 子丑寅卯"]
    many = "\n".join(f"第{i}项任务" for i in range(10))
    assert text_diff(many, many.replace("第5项任务", "第5项任务已完成")) == [
        "  … (4 unchanged lines)",
        "  第4项任务",
        "~ 第5项任务{+已完成+}",
        "  第6项任务",
        "  … (3 unchanged lines)",
    ]
    long_old = "一" * 100 + "63" + "二" * 100
    marked = inline_diff(long_old, long_old.replace("63", "75"))
    assert marked == "…" + "一" * 24 + "[-63-]{+75+}" + "二" * 24 + "…"


def test_cli_history_and_diff(database_url: str, engine: Engine) -> None:
    build(engine)
    runner = CliRunner()
    text = runner.invoke(cli, ["history", "--database", database_url, REPORT_URL])
    assert text.exit_code == 0, text.output
    assert "3 version(s)" in text.output
    finished = "section 1 深化服务共享，扩大“一网通办”覆盖面: status 持续推进。 → 已完成。"
    assert f"{finished}; progress changed" in text.output
    assert "section 2 建设城市大脑运营指挥中心: disappeared (status was 滞后。)" in text.output
    assert "section 3 推动数据资源融合开发利用: appeared (status 持续推进。)" in text.output

    as_json = runner.invoke(
        cli, ["history", "--database", database_url, str(report_page_id(engine)), "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [v["version"] for v in data["versions"]] == [1, 2, 3]
    assert data["versions"][1]["changes"]["sections"][0]["status_after"] == "已完成。"

    diff = runner.invoke(
        cli, ["history", "--database", database_url, REPORT_URL, "--diff", "1", "2"]
    )
    assert diff.exit_code == 0, diff.output
    assert "      - 持续推进。\n      + 已完成。\n" in diff.output
    assert "~ 二是确认[-63-]{+75+}个事项。" in diff.output
    diff_json = json.loads(
        runner.invoke(
            cli, ["history", "--database", database_url, REPORT_URL, "--diff", "1", "2", "--json"]
        ).output
    )
    assert diff_json["sections"][0]["values"][0]["old"] == "持续推进。"

    # the URL as typed in a browser (no normal form difference needed): unknown → exit 2
    missing = runner.invoke(cli, ["history", "--database", database_url, "https://x.example/a"])
    assert missing.exit_code == 2
    assert "no page with URL https://x.example/a" in missing.output
    no_version = runner.invoke(
        cli, ["history", "--database", database_url, REPORT_URL, "--diff", "1", "9"]
    )
    assert no_version.exit_code == 2
    assert "has no version 9" in no_version.output


#: page_versions columns that are not a version's content: identity, provenance and how it
#: was read. Every other column is compared by history (and covered by the content hash).
NOT_CONTENT = {
    "id",
    "page_id",
    "version",
    "fetched_at",
    "content_hash",
    "raw_hash",
    "content_type",
    "encoding",
    "encoding_source",
    "warnings",
    "parser_version",
    "http_status",
    "response_headers",
}


def test_history_compares_every_content_column() -> None:
    """A column added to page_versions or task_sections is compared without being listed
    in storage/history.py; a new column that is not content must be added to NOT_CONTENT."""
    compared = [*CANONICAL_FIELDS, *OTHER_FIELDS]
    assert set(compared) == {c.name for c in PAGE_VERSIONS.columns} - NOT_CONTENT
    assert set(SECTION_KEYS) == {c.name for c in TASK_SECTIONS.columns} - {
        "id",
        "version_id",
        "number",
    }


def test_a_field_change_is_reported_and_diffed(engine: Engine) -> None:
    """Every metadata field reaches history from the model: one changed in the database
    shows in the page's history and in the diff, by its column name."""
    build(engine)
    page_id = report_page_id(engine)
    for name in CANONICAL_FIELDS:
        value: object = "改"
        if name in DATE_FIELDS:
            value = date(1999, 1, 2)
        elif name in DATETIME_FIELDS:
            value = datetime(1999, 1, 2, 3, 4, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                update(PageVersion)
                .where(PageVersion.page_id == page_id, PageVersion.version == 3)
                .values({name: value})
            )
        history = page_history(engine, page_id)
        change = history.entries[-1].change
        assert change is not None and name in change.fields, name
        diff = version_diff(engine, page_id, 2, 3)
        assert name in [v.name for v in diff.fields], name


def test_json_never_names_two_sources_alike(database_url: str, engine: Engine) -> None:
    """``history --json`` names the configured source ``source_name``, as the views and
    exports do, and the page's 来源 the field ``info_source``: no key is plain ``source``."""
    build(engine)
    page_id = report_page_id(engine)
    with engine.begin() as conn:
        conn.execute(
            update(PageVersion)
            .where(PageVersion.page_id == page_id, PageVersion.version == 3)
            .values(info_source="宣城市人民政府办公室")
        )
    runner = CliRunner()
    result = runner.invoke(cli, ["history", "--database", database_url, str(page_id), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["source_name"] == "xuancheng-sjzy" and "source" not in data
    assert "info_source" in data["versions"][2]["changes"]["fields"]
    diff = runner.invoke(
        cli, ["history", "--database", database_url, str(page_id), "--diff", "2", "3", "--json"]
    )
    names = [v["name"] for v in json.loads(diff.output)["fields"]]
    assert "info_source" in names and "source" not in names
