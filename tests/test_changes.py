"""storage.changes, storage.changereport and `govarchive changes` on a small archive
(tests/changes_archive.py): exact Markdown, CSV and JSON, period bounds, --source."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from scraper.commands.dates import parse_span
from storage.changereport import CSV_COLUMNS, report_csv, report_json, report_markdown
from storage.changes import changes_between
from storage.errors import UnknownRecordError
from tests.changes_archive import DAY2, NEW, NOTICE, REPORT, SINCE, UNTIL, WUHU, build

SHANGHAI = ZoneInfo("Asia/Shanghai")
OLD_PDF = "a38b2ba825962eb8b4496d0193c120cef67a830ebcbb290d0058f9a63e36237c"
NEW_PDF = "9252c8a8ba8cf422c32ec842f9171013adccca02fa7df4cbfd02d44dda17f92c"
PDFS = f"{OLD_PDF},{NEW_PDF}"
TITLE = "2021年度三季度政府工作报告任务进展情况"
V2 = f"xuancheng-sjzy,2024-05-02T09:00:00+08:00,{REPORT},1,2,{TITLE}（更新）"
TASK = "1 深化服务共享，扩大与沪苏浙城市政务服务“一网通办”覆盖面"

MARKDOWN = f"""\
govarchive changes, 2024-05-02 08:00 to 2024-05-03 08:00 (Asia/Shanghai): 2 new pages, \
1 page changed, 1 task status change, 1 attachment changed, 1 page gone, 2 failed fetches

## wuhu-gk

### New pages
- 2024-05-02 09:05 芜湖市政务公开工作要点
  {WUHU}

## xuancheng-sjzy

### New pages
- 2024-05-02 09:01 2024年一季度重点工作进展
  {NEW}

### Changed
- 2024-05-02 09:00 v2 {TITLE}（更新）
  {REPORT}
  - title: {TITLE} → {TITLE}（更新）
  - body_text changed:
    ~ 完成状态：[-持续推进-]{{+已完成+}}
  - task {TASK}: 持续推进 → 已完成
  - attachment 1 附件1.pdf: replaced

### Gone
- 2024-05-02 09:02 关于调整政务服务大厅办公时间的通知
  {NOTICE}

### Failed fetches
- pages: 1 blocked
- attachments: 1 error
"""

CSV = f"""\
kind,source,at,url,page_id,version,title,item,change,old,new,count
new_page,wuhu-gk,2024-05-02T09:05:00+08:00,{WUHU},4,1,芜湖市政务公开工作要点,,,,,
field,{V2},title,,{TITLE},{TITLE}（更新）,
field,{V2},body_text,,"一、深化服务共享。
完成状态：持续推进","一、深化服务共享。
完成状态：已完成",
section,{V2},{TASK},changed,持续推进,已完成,
attachment,{V2},1 附件1.pdf,replaced,{PDFS},
new_page,xuancheng-sjzy,2024-05-02T09:01:00+08:00,{NEW},3,1,2024年一季度重点工作进展,,,,,
gone,xuancheng-sjzy,2024-05-02T09:02:00+08:00,{NOTICE},2,,关于调整政务服务大厅办公时间的通知,,,,,
failures,xuancheng-sjzy,,,,,,blocked,page,,,1
failures,xuancheng-sjzy,,,,,,error,attachment,,,1
"""


def test_markdown_of_a_day(engine: Engine) -> None:
    build(engine)
    report = changes_between(engine, SINCE, UNTIL)
    assert report_markdown(report, SHANGHAI, "Asia/Shanghai") == MARKDOWN


def test_csv_has_one_row_per_change(engine: Engine) -> None:
    build(engine)
    text = report_csv(changes_between(engine, SINCE, UNTIL), SHANGHAI)
    assert text == CSV
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["kind"] for r in rows] == [
        "new_page",
        "field",
        "field",
        "section",
        "attachment",
        "new_page",
        "gone",
        "failures",
        "failures",
    ]


def test_json_holds_the_summary_and_every_change(engine: Engine) -> None:
    build(engine)
    document = json.loads(report_json(changes_between(engine, SINCE, UNTIL), UTC, "UTC"))
    assert document["since"] == "2024-05-02T00:00:00+00:00"
    assert document["until"] == "2024-05-03T00:00:00+00:00"
    assert document["timezone"] == "UTC"
    assert document["summary"] == {
        "new_pages": 2,
        "changed_versions": 1,
        "status_changes": 1,
        "attachment_changes": 1,
        "gone": 1,
        "failed_fetches": 2,
    }
    rows = list(csv.DictReader(io.StringIO(CSV)))
    assert len(document["changes"]) == len(rows)
    section = document["changes"][3]
    assert section == {
        "kind": "section",
        "source": "xuancheng-sjzy",
        "at": "2024-05-02T01:00:00+00:00",
        "url": REPORT,
        "page_id": 1,
        "version": 2,
        "title": f"{TITLE}（更新）",
        "item": TASK,
        "change": "changed",
        "old": "持续推进",
        "new": "已完成",
        "count": None,
    }
    assert document["changes"][-1]["count"] == 1


def test_period_bounds_include_the_start_and_exclude_the_end(engine: Engine) -> None:
    build(engine)
    # the report's version 2 was fetched at DAY2 exactly
    starting = changes_between(engine, DAY2, DAY2 + timedelta(seconds=1))
    assert [(c.kind, c.url) for c in starting.changes][:1] == [("field", REPORT)]
    ending = changes_between(engine, SINCE, DAY2)
    assert ending.changes == ()
    # the next day holds the new page's version 2 only
    later = changes_between(engine, UNTIL, UNTIL + timedelta(days=1))
    assert {(c.kind, c.url, c.version) for c in later.changes} == {
        ("field", NEW, 2),
    }
    assert [c.item for c in later.changes] == ["title", "published_date", "published_at"]


def test_nothing_happened(engine: Engine) -> None:
    build(engine)
    quiet = changes_between(
        engine, datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 2, tzinfo=UTC)
    )
    assert report_markdown(quiet, SHANGHAI, "Asia/Shanghai") == (
        "govarchive changes, 2023-01-01 08:00 to 2023-01-02 08:00 (Asia/Shanghai): no changes\n"
    )
    assert report_csv(quiet, SHANGHAI) == ",".join(CSV_COLUMNS) + "\n"


def test_source_filter(engine: Engine) -> None:
    build(engine)
    report = changes_between(engine, SINCE, UNTIL, ["wuhu-gk"])
    assert [(c.kind, c.url) for c in report.changes] == [("new_page", WUHU)]
    assert report_markdown(report, SHANGHAI, "Asia/Shanghai").splitlines()[0] == (
        "govarchive changes in wuhu-gk, 2024-05-02 08:00 to 2024-05-03 08:00 "
        "(Asia/Shanghai): 1 new page"
    )
    with pytest.raises(UnknownRecordError, match="no source named 'nowhere'"):
        changes_between(engine, SINCE, UNTIL, ["nowhere"])


def test_command_prints_markdown_csv_and_json(engine: Engine, database_url: str) -> None:
    build(engine)
    runner = CliRunner()
    base = ["changes", "--database", database_url, "--since", "2024-05-02", "--until", "2024-05-02"]
    result = runner.invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert result.output == MARKDOWN
    result = runner.invoke(cli, [*base, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output == CSV
    result = runner.invoke(cli, [*base, "--format", "json", "--source", "wuhu-gk"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["new_pages"] == 1


def test_command_exits_0_when_nothing_changed(engine: Engine, database_url: str) -> None:
    build(engine)
    args = ["changes", "--database", database_url, "--since", "2023-01-01", "--until", "2023-01-01"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert result.output.endswith(": no changes\n")


def test_command_refuses_an_unknown_source_and_an_empty_period(
    engine: Engine, database_url: str
) -> None:
    build(engine)
    runner = CliRunner()
    result = runner.invoke(cli, ["changes", "--database", database_url, "--source", "nowhere"])
    assert result.exit_code == 2
    assert "no source named 'nowhere'" in result.output
    args = ["changes", "--database", database_url, "--since", "2024-05-03", "--until", "2024-05-01"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "is not before --until" in result.output
    result = runner.invoke(cli, ["changes", "--database", database_url, "--since", "7 days"])
    assert result.exit_code == 2
    assert "nor a span such as 7d" in result.output


def test_times_follow_the_configs_timezone(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build(engine)
    config = tmp_path / "config.yaml"
    config.write_text(
        "scheduler:\n  timezone: UTC\nsources:\n  - name: wuhu-gk\n"
        '    start_urls: ["https://www.wuhu.gov.cn/openness/public/"]\n'
        "    detail_links: a\n"
        '    schedule: "0 6 * * *"\n',
        encoding="utf-8",
    )
    args = ["changes", "--config", str(config), "--database", database_url]
    result = CliRunner().invoke(cli, [*args, "--since", "2024-05-02", "--until", "2024-05-02"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith(
        "govarchive changes, 2024-05-02 00:00 to 2024-05-03 00:00 (UTC): "
    )


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("7d", timedelta(days=7)),
        ("36h", timedelta(hours=36)),
        (" 2w ", timedelta(weeks=2)),
        ("2024-05-01", None),
        ("7", None),
        ("d7", None),
    ],
)
def test_spans(text: str, span: timedelta | None) -> None:
    assert parse_span(text) == span
