"""govarchive parse: readable summary, --json lines in input order, stdin, unreadable files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.commands.parse import read_input
from scraper.errors import InputError
from scraper.parse import parse_page
from tests.site.server import TestSite

FIXTURES = Path(__file__).parent / "fixtures" / "pages"

REPORT = """<html><head><meta charset="utf-8"><title>进展情况_宣城市</title></head><body>
<table><tr><th>索引号：</th><td>11341700744889543Y/202110-00006</td>
<th>发布机构：</th><td>市数据资源局</td></tr><tr><th>体裁分类：</th><td>报告</td>
<th>发布日期：</th><td>2021-10-11</td></tr></table>
<div class="j-fontContent"><p>一、深化服务共享</p><p>完成状态：持续推进</p>
<p>进展情况：印发方案。</p></div></body></html>"""
NOTICE = """<html><head><meta charset="gbk"><title>关于防汛的通知_县政府</title></head><body>
<div id="zoom"><p>一、总体要求</p><p>坚持人民至上。</p></div></body></html>"""


@pytest.fixture
def pages(tmp_path: Path) -> dict[str, Path]:
    report = tmp_path / "report.html"
    report.write_bytes(REPORT.encode("utf-8"))
    notice = tmp_path / "notice.html"
    notice.write_bytes(NOTICE.encode("gbk"))
    return {"report": report, "notice": notice}


def test_json_one_line_per_input_in_order(pages: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli, ["parse", "--json", str(pages["notice"]), str(pages["report"])]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    notice, report = (json.loads(line) for line in lines)
    assert notice["input"] == str(pages["notice"])
    assert notice["encoding"] == "gb18030"
    assert notice["sections"] == []
    assert notice["metadata"]["title"] == "关于防汛的通知"
    expected = parse_page(REPORT.encode()).to_dict()
    assert report == {"input": str(pages["report"]), "kind": "document", **expected}
    assert report["metadata"]["metadata_extra"] == {"体裁分类": "报告"}
    assert report["sections"][0] == {
        "number": 1,
        "title": "深化服务共享",
        "status": "持续推进",
        "progress": "印发方案。",
        "problems": None,
        "next_steps": None,
        "extra": {},
    }
    assert list(report) == [
        "input",
        "kind",
        "encoding",
        "encoding_source",
        "metadata",
        "sections",
        "body_text",
        "warnings",
        "attachments",
    ]


def test_stdin(pages: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["parse", "--json", "-"], input=REPORT.encode())
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["input"] == "-"
    assert record["metadata"]["index_no"] == "11341700744889543Y/202110-00006"


def test_readable_summary(pages: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["parse", str(pages["report"])])
    assert result.exit_code == 0, result.output
    assert f"== {pages['report']} (utf-8, from meta)" in result.output
    assert "  index_no: 11341700744889543Y/202110-00006" in result.output
    assert "  [体裁分类]: 报告" in result.output
    assert "    1. 深化服务共享 [持续推进]" in result.output
    assert "  body: 3 lines" in result.output


def test_unreadable_file_is_reported_and_others_still_printed(
    pages: dict[str, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.html"
    result = CliRunner().invoke(
        cli, ["parse", "--json", str(missing), str(pages["report"]), str(tmp_path)]
    )
    assert result.exit_code == 1
    assert [json.loads(line)["input"] for line in result.stdout.splitlines()] == [
        str(pages["report"])
    ]
    assert f"govarchive parse: {missing}: no such file" in result.stderr
    assert f"govarchive parse: {tmp_path}: is a directory, not a saved page" in result.stderr
    assert "2 of 3 inputs could not be read" in result.stderr


def test_paths_are_required() -> None:
    result = CliRunner().invoke(cli, ["parse"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_read_input(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_bytes(b"<p>x</p>")
    read = read_input(str(page))
    assert (read.name, read.data, read.url, read.headers) == (str(page), b"<p>x</p>", None, None)
    with pytest.raises(InputError, match="no such file"):
        read_input(str(tmp_path / "nope.html"))


def test_live_url_is_fetched_once_and_parsed(site: TestSite) -> None:
    page = (FIXTURES / "06_anqing_padded_labels_gb2312.html").read_bytes()
    site.add("/show.php", page, content_type="text/html")
    site.robots("User-agent: *\nDisallow: /private/\n")
    site.add("/private/x.html", page)

    result = CliRunner().invoke(
        cli, ["parse", "--json", site.url("/show.php"), site.url("/private/x.html")]
    )

    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1
    assert lines[0]["input"] == site.url("/show.php")
    assert lines[0]["encoding"] == "gb18030"
    assert lines[0]["metadata"]["index_no"] == "003110926/201510-00216"
    assert "robots" in result.stderr and site.url("/private/x.html") in result.stderr
    assert site.hits("/show.php") == 1
    assert site.hits("/private/x.html") == 0


def test_live_url_that_fails_names_the_reason(site: TestSite) -> None:
    result = CliRunner().invoke(cli, ["parse", site.url("/missing.html")])
    assert result.exit_code == 1
    assert "/missing.html" in result.stderr and "404" in result.stderr


SHARED = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def test_inputs_that_are_not_documents_say_so(tmp_path: Path) -> None:
    challenge = tmp_path / "challenge.html"
    # 瑞数's challenge: a script that sets a cookie and reloads, no content (nmpa.gov.cn).
    challenge.write_text(
        "<html><head><meta charset='utf-8'><meta id='9DhefwqGPrzGxEp9hPaoag'"
        " content='x'></head><body><script type='text/javascript' r='m'>"
        "$_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={};$_ts.nsd=12345;</script>"
        "</body></html>",
        encoding="utf-8",
    )
    listing = SHARED / "lists" / "handan_trs_list.html"
    document = SHARED / "real" / "cixi-h1p.html"
    result = CliRunner().invoke(
        cli, ["parse", "--json", str(challenge), str(listing), str(document)]
    )
    assert result.exit_code == 0, result.output
    kinds = [json.loads(line)["kind"] for line in result.output.splitlines()]
    assert kinds == ["challenge", "list", "document"]
    readable = CliRunner().invoke(cli, ["parse", str(listing)])
    assert "NOT A DOCUMENT: a list of documents" in readable.output
