"""No lost edits: pages the parser reads nothing from still get a version per real edit.

Issue 16, finding 1: a text/plain, JSON, CSV, PDF or Word document, or HTML in a layout the
parser does not recognise, parsed to an empty record, so its content hash never changed and
every later edit was recorded ``unchanged`` while the new bytes were dropped. Now documents
are archived with their text in ``body_text``, HTML the parser reads nothing from is
compared by its whole visible text, and anything without text by its bytes; bytes that do
not change what a reader sees (a PDF's creation date, a zip's timestamps, a view counter)
still make no version. Crawled end to end into SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from scraper.config import Config
from scraper.crawling.pipeline import SourceRun, crawl, parsed_doc, reparse_raw
from scraper.parse import PARSER_VERSION, parse_page
from storage.archive import archive_page, ensure_source, finish_run, start_run
from storage.models import RunStatus
from tests.crawl_site import DisclosureSite, outcomes, rows
from tests.documents import DOCX_TYPE, docx_bytes, ole_bytes, pdf_bytes
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)


def _unknown_layout(amount: int, views: int = 1, day: int = 22) -> bytes:
    """A page in no layout the parser knows: a bare table and a counter, no article."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>公告</title></head><body>"
        "<div class='top'>某县人民政府</div>"
        f"<div class='date'>今天是2021年7月{day}日 星期四</div>"
        "<table><tr><td>项目</td><td>金额</td></tr>"
        f"<tr><td>道路养护</td><td>{amount}万元</td></tr></table>"
        f"<div class='hits'>浏览次数：{views}</div></body></html>"
    ).encode()


@dataclass(frozen=True)
class Case:
    """One document: how it is served, its two editions and a noisy copy of the first."""

    name: str
    content_type: str
    first: bytes
    noisy_first: bytes  # the first edition with only volatile bytes changed
    second: bytes
    second_says: str | None  # text the second edition's body_text shows (None: no text)


CASES = [
    Case(
        "text",
        "text/plain; charset=utf-8",
        "关于道路养护的说明\n今年预算为100万元。\n".encode(),
        "关于道路养护的说明\r\n今年预算为100万元。\r\n".encode(),
        "关于道路养护的说明\n今年预算为120万元。\n".encode(),
        "今年预算为120万元。",
    ),
    Case(
        "json",
        "application/json",
        json.dumps({"项目": "道路养护", "金额": 100}, ensure_ascii=False).encode(),
        json.dumps({"项目": "道路养护", "金额": 100}, ensure_ascii=False).encode() + b"\n",
        json.dumps({"项目": "道路养护", "金额": 120}, ensure_ascii=False).encode(),
        '"金额": 120',
    ),
    Case(
        "csv-gbk",
        "text/csv",
        "项目,金额\n道路养护,100\n".encode("gbk"),
        "项目,金额\r\n道路养护,100\r\n".encode("gbk"),
        "项目,金额\n道路养护,120\n".encode("gbk"),
        "道路养护,120",
    ),
    Case(
        "pdf",
        "application/pdf",
        pdf_bytes(["Road maintenance", "Budget: 100"], stamp="20240501080000"),
        pdf_bytes(["Road maintenance", "Budget: 100"], stamp="20240601090000"),
        pdf_bytes(["Road maintenance", "Budget: 120"]),
        "Budget: 120",
    ),
    Case(
        "pdf-as-octet-stream",
        "application/octet-stream",
        pdf_bytes(["Notice", "Deadline: May 1"]),
        pdf_bytes(["Notice", "Deadline: May 1"], stamp="20250101000000"),
        pdf_bytes(["Notice", "Deadline: June 1"]),
        "Deadline: June 1",
    ),
    Case(
        "docx",
        DOCX_TYPE,
        docx_bytes(["道路养护说明", "今年预算为100万元。"], table=[["项目", "金额"]]),
        docx_bytes(["道路养护说明", "今年预算为100万元。"], table=[["项目", "金额"]], year=2025),
        docx_bytes(["道路养护说明", "今年预算为120万元。"], table=[["项目", "金额"]]),
        "今年预算为120万元。",
    ),
    Case(
        "html-unknown-layout",
        "text/html; charset=utf-8",
        _unknown_layout(100),
        _unknown_layout(100, views=9999, day=23),
        _unknown_layout(120),
        "道路养护 | 120万元",
    ),
    Case(
        "old-word-doc",
        "application/msword",
        ole_bytes(b"first edition"),
        ole_bytes(b"first edition"),  # no text to compare: the bytes are the content
        ole_bytes(b"second edition"),
        None,
    ),
]


def _crawl(config: Config, engine: Engine) -> SourceRun:
    (run,) = asyncio.run(crawl(config, engine))
    return run


def _serve(docs: DisclosureSite, edition: str) -> None:
    for i, case in enumerate(CASES):
        docs.serve(i, getattr(case, edition), content_type=case.content_type)


def test_every_edit_of_a_page_the_parser_cannot_read_is_a_version(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    docs = DisclosureSite(site, count=len(CASES), per_page=len(CASES), etags=False)
    _serve(docs, "first")
    config = docs.config(database_url)
    first = _crawl(config, engine)
    assert outcomes(engine, first.run_id)["new_version"] == len(CASES)

    _serve(docs, "noisy_first")
    noisy = _crawl(config, engine)
    assert outcomes(engine, noisy.run_id) == {"unchanged": len(CASES), "list_page": 2}

    _serve(docs, "second")
    edited = _crawl(config, engine)
    assert outcomes(engine, edited.run_id) == {"new_version": len(CASES), "list_page": 2}

    for i, case in enumerate(CASES):
        history = rows(
            engine,
            "SELECT v.version, v.body_text, v.warnings FROM page_versions v "
            "JOIN pages p ON p.id = v.page_id WHERE p.url = :u ORDER BY v.version",
            u=docs.doc_url(i),
        )
        assert [version for version, _, _ in history] == [1, 2], case.name
        body = history[-1][1]
        if case.second_says is None:
            assert body == "", case.name
            assert "no text" in json.dumps(history[-1][2], ensure_ascii=False), case.name
        else:
            assert case.second_says in body, (case.name, body)


def test_a_parser_upgrade_alone_makes_no_version_of_a_page_it_could_not_read(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    """A page archived by the old pipeline (empty record, older parser version) and
    fetched again unchanged: the stored raw is re-read under the current reader first."""
    docs = DisclosureSite(site, count=1, per_page=1, etags=False)
    raw = _unknown_layout(100)
    docs.serve(0, raw, content_type="text/html; charset=utf-8")
    source_id = ensure_source(engine, "local")
    run_id = start_run(engine, source_id)
    old = parse_page(raw, headers={"content-type": "text/html; charset=utf-8"})
    assert old.body_text == ""  # what the old pipeline stored
    archive_page(
        engine,
        run_id=run_id,
        source_id=source_id,
        url=docs.doc_url(0),
        requested_at=datetime(2024, 5, 1, tzinfo=UTC),
        http_status=200,
        raw=raw,
        content_type="text/html; charset=utf-8",
        doc=parsed_doc(old),
        parser_version=f"{PARSER_VERSION}-before-issue-16",
        reparse=reparse_raw,
        etag=None,
        last_modified=None,
        elapsed_ms=1,
    )
    finish_run(engine, run_id, RunStatus.COMPLETED)

    again = _crawl(docs.config(database_url), engine)

    assert outcomes(engine, again.run_id) == {"unchanged": 1, "list_page": 2}
