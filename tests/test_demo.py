"""`govarchive demo`: the replica site, two crawls through the real pipeline, offline."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from scraper.cli import cli
from scraper.demo.run import DEMO_SOURCE, run_demo
from scraper.demo.site import DOC_PATH, LIST_PATH, PER_PAGE, DemoSite, serve
from storage.engine import make_engine
from storage.migrate import upgrade

REPORT_ID = 2290457


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse to resolve any host but the loopback address; yield the hosts asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        if host not in ("127.0.0.1", "localhost", b"127.0.0.1"):
            raise socket.gaierror(f"offline test: no network for {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield asked


def test_site_changes_between_crawls() -> None:
    site = DemoSite()
    first = site.respond(DOC_PATH.format(id=REPORT_ID)).body.decode()
    assert "完成状态：持续推进" in first and "已完成" not in first
    listing = site.respond(LIST_PATH.format(n=1)).body.decode()
    assert "2022年度一季度" not in listing.split("（预览）")[0]
    notice = site.respond(DOC_PATH.format(id=2251003))
    site.advance()
    second = site.respond(DOC_PATH.format(id=REPORT_ID)).body.decode()
    assert '<p style="text-indent: 2em;">完成状态：已完成</p>' in second
    assert site.respond(DOC_PATH.format(id=2160112)).status == 404
    assert site.respond(DOC_PATH.format(id=2251003)) == notice  # static: same bytes and ETag
    assert site.respond(LIST_PATH.format(n=3)).status == 404
    assert site.respond("/robots.txt").body.startswith(b"User-agent: *\nDisallow:")


def test_server_answers_conditional_requests() -> None:
    with serve(DemoSite()) as base:
        path = base + DOC_PATH.format(id=2251003)
        first = httpx.get(path)
        assert first.status_code == 200
        assert "宣政办〔2021〕12号" in first.text
        again = httpx.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304


def test_demo_crawls_twice_offline(engine: Engine, database_url: str, offline: list[str]) -> None:
    result = run_demo(engine, database=database_url)
    assert set(offline) <= {"127.0.0.1"}
    first, second = ([r.summary for r in runs] for runs in result.crawls)
    [s1], [s2] = first, second
    assert (s1.new_pages, s1.new_versions, s1.skipped) == (8, 8, 1)
    assert (s2.new_pages, s2.new_versions, s2.unchanged, s2.not_modified, s2.gone) == (
        1,
        2,
        4,
        2,
        1,
    )
    answers = {r.query.question: r for r in result.results}
    changed = answers["Which task changed status between versions?"]
    assert [row[1:] for row in changed.rows] == [(2, 1, 2, "持续推进", "已完成")]
    assert changed.rows[0][0].endswith(DOC_PATH.format(id=REPORT_ID))
    gone = answers["Which pages disappeared, and when?"]
    assert [row[0].rsplit("/", 1)[1] for row in gone.rows] == ["2160112.html"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM sources")).scalar_one() == DEMO_SOURCE
        assert conn.execute(text("SELECT COUNT(*) FROM page_versions")).scalar_one() == 10


def test_demo_command(tmp_path: Path, offline: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo.db").is_file()
    assert "持续推进" in result.output and "已完成" in result.output
    assert "govarchive check-source NAME" in result.output
    # a second run replaces the earlier demo archive
    again = runner.invoke(cli, ["demo", "--db", "demo.db"])
    assert again.exit_code == 0, again.output
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM crawl_runs")).scalar_one() == 2
    engine.dispose()


def test_demo_never_overwrites_another_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sources (name, created_at) VALUES ('real', '2024-01-01 00:00:00')")
        )
    engine.dispose()
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["demo", "--db", str(path)])
    assert result.exit_code == 2
    assert "is not a demo archive; it was left untouched" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("crawl", [1, 2])
def test_no_placeholder_survives_in_any_demo_page(crawl: int) -> None:
    site = DemoSite()
    if crawl == 2:
        site.advance()
    documents = site.published()
    pages = -(-len(documents) // PER_PAGE)
    paths = [LIST_PATH.format(n=n) for n in range(1, pages + 1)]
    paths += [DOC_PATH.format(id=d["id"]) for d in documents]
    for path in paths:
        answer = site.respond(path)
        assert answer.status == 200, path
        page = answer.body.decode()
        assert re.search(r"\$\{?[A-Za-z_]", page) is None, path
    title = site.respond(DOC_PATH.format(id=REPORT_ID)).body.decode().split("<title>")[1]
    assert title.split("</title>")[0].endswith("_" + site.site_name)
