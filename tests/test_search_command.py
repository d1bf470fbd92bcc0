"""``govarchive search`` on both databases: text output with marks, --json, filters,
refusals, and never creating an archive."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from scraper.commands.search import _rich, render_hits
from storage.search import search
from tests.storage.test_search import BRAIN, OTHER, SHARING, build


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["search", "--database", database_url, *args])
    return result.exit_code, result.output


def test_text_output_marks_the_terms_and_names_version_and_url(
    engine: Engine, database_url: str
) -> None:
    build(engine)
    code, out = run(database_url, "城市大脑", "滞后")
    assert code == 0, out
    assert out.splitlines() == [
        "1. 宣城城市大脑建设进展情况  [xuancheng-sjzy, published 2021-10-11]",
        "   v1 of page 1 (version id 1), section 2 (title)",
        "   建设宣城【城市大脑】运营指挥中心实体场馆",
        f"   {BRAIN}",
        "",
        "1 hit",
    ]
    code, out = run(database_url, "交换平台", "--all-versions")
    assert code == 0 and "attachment 1 (text)" in out and SHARING in out
    assert "附件：宣城市数据共享【交换平台】上线情况统计表" in out


def test_json_output_and_filters(engine: Engine, database_url: str) -> None:
    build(engine)
    code, out = run(database_url, "城市大脑", "--json", "--source", "hefei")
    assert code == 0, out
    [hit] = json.loads(out)
    assert hit == {
        "source": "hefei",
        "url": OTHER,
        "page_id": 3,
        "version": 1,
        "version_id": 3,
        "title": "合肥城市大脑",
        "published_date": "2020-03-02",
        "where": "title",
        "field": "title",
        "snippet": "合肥城市大脑",
        "highlights": [[2, 6]],
    }
    code, out = run(database_url, "城市大脑", "--json", "--published-since", "2021-01-01")
    assert {h["url"] for h in json.loads(out)} == {BRAIN}
    code, out = run(database_url, "城市大脑", "--limit", "1")
    assert out.splitlines()[-1] == "1 hit (the limit: --limit N for more)"
    code, out = run(database_url, "没有的词")
    assert (code, out) == (0, "0 hits\n")


def test_refusals(engine: Engine, database_url: str) -> None:
    build(engine)
    code, out = run(database_url, "城市大脑", "--source", "nowhere")
    assert code == 2 and "no source named 'nowhere'" in out
    code, out = run(database_url, " ")
    assert code == 2 and "the query is empty" in out
    code, out = run(database_url, "城市", "--published-since", "2021-13-01")
    assert code == 2


def test_a_missing_sqlite_archive_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    code, out = run(f"sqlite:///{path}", "城市大脑")
    assert code == 2 and f"no archive at {path}: the file does not exist" in out
    assert not path.exists()


def test_rich_markup_escapes_the_text_and_marks_the_terms(engine: Engine) -> None:
    build(engine)
    hits = search(engine, "合肥")
    lines = render_hits(hits, _rich)
    assert lines[0] == "1. 合肥城市大脑  \\[hefei, published 2020-03-02]"
    assert lines[2] == "   [bold yellow]合肥[/]城市大脑"
