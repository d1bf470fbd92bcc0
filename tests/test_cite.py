"""storage.citation and `govarchive cite`: the three styles, exactly, and the export's
citation column."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from scraper import __version__
from scraper.cli import cli
from storage.citation import citation_bibtex, citation_csl, citation_text, cited_version
from storage.export import export
from tests.changes_archive import NEW, REPORT, build
from tests.storage.factories import make_doc, raw_page

GENERATOR = f"govarchive {__version__}"
V1 = hashlib.sha256(raw_page(make_doc(doc_number="宣数据〔2024〕3号"))).hexdigest()
NEW_HASH = "ad42f383aac0beffdb2a429eff004bb21ea6a8a03ec458be67f7b20f79cb0490"
TITLE = "2021年度三季度政府工作报告任务进展情况"
PUBLISHER = "市数据资源局(市政务服务局)"

REPORT_V1_TEXT = (
    f"{PUBLISHER}. {TITLE}: 宣数据〔2024〕3号[EB/OL]. (2021-10-11)[2024-05-01]. {REPORT}. "
    "Archived version 1, first seen 2024-05-01 16:00 UTC+8, last confirmed 2024-05-01 "
    f"16:00 UTC+8; raw page SHA-256 {V1}; archived with {GENERATOR}."
)
NEW_NOTE = (
    "Archived version 1, first seen 2024-05-02 09:01 UTC+8, last confirmed 2024-05-02 "
    f"09:01 UTC+8; raw page SHA-256 {NEW_HASH}; archived with {GENERATOR}."
)


def test_text_style_follows_gb_t_7714(engine: Engine) -> None:
    build(engine)
    assert citation_text(cited_version(engine, REPORT, 1), GENERATOR) == REPORT_V1_TEXT
    newest = citation_text(cited_version(engine, REPORT), GENERATOR)
    # version 2 was first seen at 09:00 and confirmed by the 09:04 recrawl
    assert newest.startswith(f"{PUBLISHER}. {TITLE}（更新）: 宣数据〔2024〕3号[EB/OL]. ")
    assert "Archived version 2, first seen 2024-05-02 09:00 UTC+8, last confirmed " in newest
    assert "2024-05-02 09:04 UTC+8" in newest


def test_missing_fields_are_left_out(engine: Engine) -> None:
    build(engine)
    cited = cited_version(engine, NEW, 1)  # no publisher, 文号 or publication date
    assert citation_text(cited, GENERATOR) == (
        f"2024年一季度重点工作进展[EB/OL]. [2024-05-02]. {NEW}. {NEW_NOTE}"
    )
    assert citation_csl(cited, GENERATOR) == {
        "id": f"govarchive-{NEW_HASH[:12]}",
        "type": "webpage",
        "URL": NEW,
        "accessed": {"date-parts": [[2024, 5, 2]]},
        "archive": GENERATOR,
        "archive_location": f"version 1, sha256 {NEW_HASH}",
        "note": NEW_NOTE,
        "title": "2024年一季度重点工作进展",
    }
    assert citation_bibtex(cited, GENERATOR) == (
        f"@misc{{govarchive-{NEW_HASH[:12]},\n"
        "  title = {2024年一季度重点工作进展},\n"
        f"  url = {{{NEW}}},\n"
        "  urldate = {2024-05-02},\n"
        f"  note = {{{NEW_NOTE}}}\n"
        "}"
    )
    for text in (citation_text(cited, GENERATOR), citation_bibtex(cited, GENERATOR)):
        assert "None" not in text


def test_csl_and_bibtex_of_a_full_version(engine: Engine) -> None:
    build(engine)
    cited = cited_version(engine, REPORT, 1)
    note = REPORT_V1_TEXT.split(f"{REPORT}. ", 1)[1]
    assert citation_csl(cited, GENERATOR) == {
        "id": f"govarchive-{V1[:12]}",
        "type": "webpage",
        "URL": REPORT,
        "accessed": {"date-parts": [[2024, 5, 1]]},
        "archive": GENERATOR,
        "archive_location": f"version 1, sha256 {V1}",
        "note": note,
        "title": TITLE,
        "author": [{"literal": PUBLISHER}],
        "publisher": PUBLISHER,
        "number": "宣数据〔2024〕3号",
        "issued": {"date-parts": [[2021, 10, 11]]},
    }
    assert citation_bibtex(cited, GENERATOR) == (
        f"@misc{{govarchive-{V1[:12]},\n"
        f"  author = {{{{{PUBLISHER}}}}},\n"
        f"  title = {{{TITLE}}},\n"
        "  number = {宣数据〔2024〕3号},\n"
        "  date = {2021-10-11},\n"
        "  year = {2021},\n"
        f"  url = {{{REPORT}}},\n"
        "  urldate = {2024-05-01},\n"
        f"  note = {{{note}}}\n"
        "}"
    )


def test_bibtex_escapes_special_characters(engine: Engine) -> None:
    build(engine)
    cited = cited_version(engine, REPORT, 1)
    odd = dataclasses.replace(cited, title="50% & #1_{x}")
    assert r"  title = {50\% \& \#1\_\{x\}}," in citation_bibtex(odd, GENERATOR)


def test_cite_command_in_three_styles(engine: Engine, database_url: str) -> None:
    build(engine)
    runner = CliRunner()
    base = ["cite", "--database", database_url, REPORT, "--version", "1"]
    result = runner.invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert result.output == REPORT_V1_TEXT + "\n"
    result = runner.invoke(cli, [*base, "--style", "csl-json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output)
    assert item["type"] == "webpage" and item["number"] == "宣数据〔2024〕3号"
    result = runner.invoke(cli, [*base, "--style", "bibtex"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"@misc{{govarchive-{V1[:12]},\n")
    # by page id, the newest version
    result = runner.invoke(cli, ["cite", "--database", database_url, "1"])
    assert result.exit_code == 0, result.output
    assert "Archived version 2" in result.output


def test_cite_refuses_an_unknown_page_or_version(engine: Engine, database_url: str) -> None:
    build(engine)
    runner = CliRunner()
    result = runner.invoke(cli, ["cite", "--database", database_url, REPORT + "x"])
    assert result.exit_code == 2
    assert f"no page with URL {REPORT}x in the archive" in result.output
    result = runner.invoke(cli, ["cite", "--database", database_url, REPORT, "--version", "9"])
    assert result.exit_code == 2
    assert "no version 9; it has versions 1 to 2" in result.output


def test_latest_export_cites_each_page_as_cite_does(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    export(engine, tmp_path, datasets=["latest"], fmt="csv", generator=GENERATOR)
    with (tmp_path / "latest.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["url"]: row for row in csv.DictReader(handle)}
    for url in rows:
        expected = citation_text(cited_version(engine, url), GENERATOR)
        assert rows[url]["citation"] == expected
    assert list(rows[REPORT])[-1] == "citation"
