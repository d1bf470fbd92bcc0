"""storage.reparse and `govarchive reparse`: a parser change fixes rows in place, creates
no versions, reports identical neighbours, and survives being killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text, update

from scraper.cli import cli
from scraper.commands import reparse as reparse_command_module
from storage.archive import load_raw
from storage.content import ParsedDoc, content_hash
from storage.models import Blob, Page, PageVersion, TaskSection
from storage.reparse import reparse
from tests.research_archive import (
    REPORT_URL,
    SECTION_A,
    Archive,
    build,
    doc,
    parse_v2,
    section,
    three_versions,
)

REPO = Path(__file__).resolve().parent.parent


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything reparse may touch, keyed by stable ids."""
    with engine.connect() as conn:
        versions = {
            row.id: (
                row.page_id,
                row.version,
                row.parser_version,
                row.content_hash,
                row.metadata_extra,
                row.title,
            )
            for row in conn.execute(
                select(
                    PageVersion.id,
                    PageVersion.page_id,
                    PageVersion.version,
                    PageVersion.parser_version,
                    PageVersion.content_hash,
                    PageVersion.metadata_extra,
                    PageVersion.title,
                )
            )
        }
        sections = {
            row.id: (row.version_id, row.number, row.status, row.progress)
            for row in conn.execute(
                select(
                    TaskSection.id,
                    TaskSection.version_id,
                    TaskSection.number,
                    TaskSection.status,
                    TaskSection.progress,
                )
            )
        }
    return {"versions": versions, "sections": sections}


def check_matches_parser(engine: Engine, parse: Any, parser_version: str) -> None:
    """Every version's stored hash and sections are what ``parse`` makes of its raw bytes."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                PageVersion.id,
                PageVersion.raw_hash,
                PageVersion.content_hash,
                PageVersion.parser_version,
            )
        ).all()
        for version_id, raw_hash, stored_hash, stored_version in rows:
            parsed: ParsedDoc = parse(load_raw(engine, raw_hash), "text/html")
            assert stored_version == parser_version
            assert stored_hash == content_hash(parsed)
            statuses = conn.execute(
                select(TaskSection.number, TaskSection.status)
                .where(TaskSection.version_id == version_id)
                .order_by(TaskSection.number)
            ).all()
            assert [tuple(s) for s in statuses] == [
                (s["number"], s["status"]) for s in parsed["sections"]
            ]


def test_parser_change_fixes_rows_in_place(engine: Engine) -> None:
    build(engine)
    before = snapshot(engine)
    report = reparse(engine, parse_v2, "2")

    assert (report.candidates, report.examined, report.changed, report.failed) == (6, 6, 6, 0)
    # every version gains 信息格式; the five with sections lose the status's "。"
    assert dict(report.fields) == {"metadata_extra": 6, "sections": 5}
    assert dict(report.section_values) == {"status": 8}
    assert report.identical == []

    after = snapshot(engine)
    # no version created or deleted, none renumbered; sections rewritten in place
    assert after["versions"].keys() == before["versions"].keys()
    assert after["sections"].keys() == before["sections"].keys()
    for vid, (page_id, version, *_rest) in before["versions"].items():
        assert after["versions"][vid][:2] == (page_id, version)
        assert after["versions"][vid][4]["信息格式"] == "中文"
    assert {s[2] for s in after["sections"].values()} == {"持续推进", "滞后", "已完成"}
    assert [s[3] for s in after["sections"].values()] == [s[3] for s in before["sections"].values()]
    check_matches_parser(engine, parse_v2, "2")

    # a second run finds nothing to do
    again = reparse(engine, parse_v2, "2")
    assert (again.candidates, again.already_current, again.examined, again.changed) == (0, 6, 0, 0)

    # and the next crawl under the new parser sees the report as unchanged
    crawl = Archive(engine)
    result = crawl.fetch(REPORT_URL, three_versions()[2], views=500, parser="2", parse=parse_v2)
    assert (result.outcome, result.version) == ("unchanged", 3)


def test_dry_run_writes_nothing(engine: Engine) -> None:
    build(engine)
    before = snapshot(engine)
    report = reparse(engine, parse_v2, "2", dry_run=True, batch_size=4)
    assert (report.examined, report.changed, report.batches) == (6, 6, 2)
    assert report.dry_run
    assert snapshot(engine) == before


def test_listed_changes_are_named_in_every_batch(engine: Engine) -> None:
    build(engine)
    report = reparse(engine, parse_v2, "2", dry_run=True, batch_size=4, list_changes=True)
    assert report.batches == 2 and report.changes is not None and len(report.changes) == 6
    with engine.connect() as conn:
        named = {
            (id_, url, number)
            for id_, url, number in conn.execute(
                text(
                    "SELECT v.id, p.url, v.version FROM page_versions v"
                    " JOIN pages p ON p.id = v.page_id"
                )
            )
        }
    assert {(c.version_id, c.url, c.version) for c in report.changes} == named


def test_versions_that_become_identical_are_reported_not_merged(engine: Engine) -> None:
    archive = Archive(engine)
    # The site once printed the status with a doubled "。"; the old parser kept it, so
    # the two fetches became two versions. The new parser strips trailing "。".
    plain = doc("2022年度一季度任务进展情况", [SECTION_A])
    doubled = doc(
        "2022年度一季度任务进展情况",
        [
            section(
                1,
                SECTION_A["title"],
                "持续推进。。",
                SECTION_A["progress"] or "",
                责任单位="市数据资源局",
            )
        ],
        body=plain["body_text"],
    )
    archive.fetch(REPORT_URL, plain)
    archive.fetch(REPORT_URL, doubled)
    archive.fetch(REPORT_URL, doc("2022年度一季度任务进展情况", [dict(SECTION_A, status="已完成")]))  # type: ignore[list-item]

    preview = reparse(engine, parse_v2, "2", dry_run=True)
    assert [(p.url, p.older, p.newer) for p in preview.identical] == [(REPORT_URL, 1, 2)]

    report = reparse(engine, parse_v2, "2")
    assert [(p.url, p.older, p.newer) for p in report.identical] == [(REPORT_URL, 1, 2)]
    with engine.connect() as conn:
        hashes = conn.execute(
            select(PageVersion.version, PageVersion.content_hash).order_by(PageVersion.version)
        ).all()
    assert [v for v, _ in hashes] == [1, 2, 3]
    assert hashes[0][1] == hashes[1][1] != hashes[2][1]


def test_source_and_since_filters(engine: Engine) -> None:
    build(engine)
    report = reparse(engine, parse_v2, "2", sources=["xuancheng-gov"])
    assert (report.candidates, report.examined) == (2, 2)
    with engine.connect() as conn:
        by_source = conn.execute(
            select(Page.source_id, PageVersion.parser_version, func.count())
            .join(Page, Page.id == PageVersion.page_id)
            .group_by(Page.source_id, PageVersion.parser_version)
            .order_by(Page.source_id)
        ).all()
    assert [(v, n) for _, v, n in by_source] == [("1", 4), ("2", 2)]
    with pytest.raises(Exception, match="no source named 'nope'"):
        reparse(engine, parse_v2, "2", sources=["nope"])


def test_a_failing_page_is_reported_and_retried(engine: Engine) -> None:
    build(engine)

    def flaky(raw: bytes, content_type: str | None) -> ParsedDoc:
        if "场馆选址尚未确定".encode() in raw:
            raise ValueError("unreadable table")
        return parse_v2(raw, content_type)

    report = reparse(engine, flaky, "2")
    assert (report.examined, report.failed, report.changed) == (6, 2, 4)
    assert {f.error for f in report.failures} == {"ValueError: unreadable table"}
    retry = reparse(engine, parse_v2, "2")
    assert (retry.candidates, retry.examined, retry.changed) == (2, 2, 2)
    check_matches_parser(engine, parse_v2, "2")


def test_interrupted_mid_batch_then_resumed(engine: Engine) -> None:
    build(engine)
    calls = 0

    def interrupted(raw: bytes, content_type: str | None) -> ParsedDoc:
        nonlocal calls
        calls += 1
        if calls == 4:  # in the second batch of two
            raise KeyboardInterrupt
        return parse_v2(raw, content_type)

    with pytest.raises(KeyboardInterrupt):
        reparse(engine, interrupted, "2", batch_size=2)
    state = snapshot(engine)
    versions = sorted(state["versions"].items())
    # the first batch (the two lowest ids) was committed; the second rolled back whole
    assert [v[2] for _, v in versions] == ["2", "2", "1", "1", "1", "1"]

    resumed = reparse(engine, parse_v2, "2", batch_size=2)
    assert (resumed.candidates, resumed.already_current, resumed.examined) == (4, 2, 4)
    check_matches_parser(engine, parse_v2, "2")


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from storage.engine import make_engine
    from storage.reparse import reparse
    from tests.research_archive import parse_v2

    calls = 0
    def dying(raw, content_type):
        global calls
        calls += 1
        if calls == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        return parse_v2(raw, content_type)

    reparse(make_engine(sys.argv[1]), dying, "2", batch_size=2)
    """
)


def test_killed_process_then_resumed(database_url: str, engine: Engine) -> None:
    build(engine)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, database_url, "5"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    versions = sorted(snapshot(engine)["versions"].items())
    assert [v[2] for _, v in versions] == ["2", "2", "2", "2", "1", "1"]
    resumed = reparse(engine, parse_v2, "2")
    assert (resumed.candidates, resumed.examined, resumed.failed) == (2, 2, 0)
    check_matches_parser(engine, parse_v2, "2")


def test_cli_reparse(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    build(engine)
    monkeypatch.setattr(reparse_command_module, "current_parser", lambda: (parse_v2, "2"))
    runner = CliRunner()
    dry = runner.invoke(cli, ["reparse", "--database", database_url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "6 version(s) re-parsed in 1 batch(es), 6 would change" in dry.output
    assert "metadata_extra   6" in dry.output

    real = runner.invoke(
        cli,
        [
            "reparse",
            "--database",
            database_url,
            "--source",
            "xuancheng-sjzy",
            "--since",
            "2024-01-01",
            "--json",
        ],
    )
    assert real.exit_code == 0, real.output
    data = json.loads(real.output)
    assert (data["examined"], data["changed"], data["fields"]["sections"]) == (4, 4, 3)
    assert data["section_values"]["status"] == 6

    unknown = runner.invoke(cli, ["reparse", "--database", database_url, "--source", "nope"])
    assert unknown.exit_code == 2
    assert "no source named 'nope'" in unknown.output


def test_cli_reparse_on_a_terminal_draws_a_bar(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the same single reparse runs with a progress bar on stderr."""
    build(engine)
    monkeypatch.setattr(reparse_command_module, "current_parser", lambda: (parse_v2, "2"))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats stderr as a terminal
    result = CliRunner().invoke(cli, ["reparse", "--database", database_url, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "re-parsing" in result.stderr and "6/6" in result.stderr
    assert "6 version(s) re-parsed in 1 batch(es), 6 would change" in result.stdout


def test_current_parser_is_the_real_one(engine: Engine) -> None:
    """The command's parser gives exactly PageRecord.to_dict() of the real parser, and
    re-reads a page as the crawl stored it."""
    from scraper.parse import PARSER_VERSION, parse_page

    parse, version = reparse_command_module.current_parser()
    assert version == PARSER_VERSION
    pages = sorted((REPO / "tests/fixtures/pages").glob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        raw = page.read_bytes()
        expected = parse_page(raw, headers={"content-type": "text/html"}).to_dict()
        assert parse(raw, "text/html") == expected, page.name
    raw = (REPO / "tests/fixtures/pages/01_xuancheng_seed_2021q3.html").read_bytes()
    assert parse(raw, None)["sections"][0]["status"] == "持续推进"

    archive = Archive(engine)
    archive.fetch_raw(REPORT_URL, raw, parse=parse, parser="0")
    report = reparse(engine, parse, version)
    # same bytes, same parser output: only the parser version moves
    assert (report.examined, report.changed) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(select(PageVersion.parser_version)).scalar_one() == PARSER_VERSION


def test_corrupt_blob_is_reported(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        raw_hash = conn.execute(
            select(PageVersion.raw_hash).order_by(PageVersion.id).limit(1)
        ).scalar_one()
        conn.execute(update(Blob).where(Blob.hash == raw_hash).values(data=b"not zstd"))
    report = reparse(engine, parse_v2, "2")
    assert (report.examined, report.failed, report.changed) == (6, 1, 5)
    [failure] = report.failures
    assert failure.error.startswith("BlobError:") and "cannot be decompressed" in failure.error


def test_cli_reparse_dry_run_list(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine)
    before = snapshot(engine)
    monkeypatch.setattr(reparse_command_module, "current_parser", lambda: (parse_v2, "2"))
    runner = CliRunner()
    args = ["reparse", "--database", database_url, "--dry-run", "--list"]
    as_json = runner.invoke(cli, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    changes = json.loads(as_json.output)["changes"]
    assert len(changes) == 6
    report = [c for c in changes if c["url"] == REPORT_URL]
    assert [c["version"] for c in report] == [1, 2, 3]
    first = report[0]["values"]
    assert set(first) >= {"metadata_extra"}
    assert "信息格式" not in first["metadata_extra"]["old"]
    assert first["metadata_extra"]["new"]["信息格式"] == "中文"
    statuses = {k: v for k, v in first.items() if k.startswith("section ")}
    assert statuses and all(k.endswith(" status") for k in statuses)
    assert all(v["old"] == v["new"] + "。" for v in statuses.values())

    text = runner.invoke(cli, args)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    at = lines.index("versions would change, with their values old → new:")
    assert lines[at + 1].startswith("  http") and " version " in lines[at + 1]
    assert any(line.startswith("    metadata_extra: {") and " → {" in line for line in lines)
    assert snapshot(engine) == before  # a dry run with a list writes nothing either

    plain = runner.invoke(cli, ["reparse", "--database", database_url, "--dry-run", "--json"])
    assert "changes" not in json.loads(plain.output)
