"""storage.attachments through archive_page and record_fetch, on SQLite and PostgreSQL:
files stored once, versions decided by their SHA-256, a request's fetch row, and run
counts that leave attachment requests out."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, text

from storage.archive import archive_page, finish_run, known_pages, record_fetch
from storage.attachments import (
    AttachmentFile,
    AttachmentRequest,
    previous_attachments,
)
from storage.blobs import read_blob
from storage.content import ParsedDoc
from storage.models import FetchOutcome, RunStatus
from storage.reparse import reparse
from tests.storage.factories import Crawl, make_doc, no_reparse, raw_page

URL = "https://www.xuancheng.gov.cn/OpennessContent/show/1.html"
PDF = b"%PDF-1.4 plan of 2023" * 50
XLSX = b"PK\x03\x04 budget table" * 50


def file(position: int, data: bytes | None, crawl: Crawl, **extra: Any) -> AttachmentFile:
    """A file downloaded in this crawl (``data``), or never (None)."""
    sha = hashlib.sha256(data).hexdigest() if data is not None else None
    values: dict[str, Any] = {
        "position": position,
        "url": f"https://www.xuancheng.gov.cn/uploadfile/{position}.bin",
        "link_text": f"附件{position}",
        "filename": f"{position}.bin",
        "kind": "pdf" if data and data.startswith(b"%PDF") else "xlsx",
        "size": len(data) if data is not None else None,
        "sha256": sha,
        "raw": data,
        "text": "城市大脑建设任务" if data else None,
        "fetched_at": crawl.clock,
        "request": AttachmentRequest(crawl.clock, None, 200, nbytes=len(data or b"")),
    }
    values.update(extra)
    return AttachmentFile(**values)


def archive(crawl: Crawl, doc: ParsedDoc, files: list[AttachmentFile], **kw: Any) -> Any:
    return archive_page(
        crawl.engine,
        run_id=crawl.run_id,
        source_id=crawl.source_id,
        url=URL,
        requested_at=crawl.tick(),
        http_status=200,
        raw=raw_page(doc),
        content_type="text/html; charset=utf-8",
        doc=doc,
        parser_version=kw.pop("parser_version", "1"),
        reparse=kw.pop("reparse", no_reparse),
        etag=None,
        last_modified=None,
        elapsed_ms=5,
        attachments=files,
        **kw,
    )


def query(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def test_files_are_stored_once_and_decide_versions(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    first = archive(crawl, doc, [file(1, PDF, crawl), file(2, XLSX, crawl)])
    assert (first.outcome, first.version) == ("new_version", 1)
    again = archive(crawl, doc, [file(1, PDF, crawl), file(2, XLSX, crawl)])
    assert again.outcome == "unchanged"
    replaced = archive(crawl, doc, [file(1, PDF + b"v2", crawl), file(2, XLSX, crawl)])
    assert (replaced.outcome, replaced.version) == ("new_version", 2)

    stored = query(
        engine,
        "SELECT v.version, a.position, a.sha256, a.text FROM attachments a "
        "JOIN page_versions v ON v.id = a.version_id ORDER BY v.version, a.position",
    )
    pdf, pdf2, xlsx = (hashlib.sha256(d).hexdigest() for d in (PDF, PDF + b"v2", XLSX))
    assert [(v, p, s) for v, p, s, _ in stored] == [
        (1, 1, pdf),
        (1, 2, xlsx),
        (2, 1, pdf2),
        (2, 2, xlsx),
    ]
    assert query(engine, "SELECT count(*) FROM blobs WHERE hash = :h", h=xlsx) == [(1,)]
    with engine.connect() as conn:
        assert read_blob(conn, pdf2) == PDF + b"v2"
        # files are compressed on their own: no source dictionary is made from them
        assert query(engine, "SELECT dict_id FROM blobs WHERE hash = :h", h=pdf) == [(None,)]
    outcomes = query(
        engine,
        "SELECT outcome, count(*) FROM fetches WHERE attachment GROUP BY outcome ORDER BY outcome",
    )
    assert outcomes == [("new_version", 3), ("unchanged", 3)]
    # attachment requests are not pages in the run's counts
    summary = finish_run(engine, crawl.run_id, RunStatus.COMPLETED)
    assert (summary.pages_seen, summary.new_versions, summary.unchanged) == (1, 2, 1)


def test_the_previous_files_carry_over_and_the_next_crawl_finds_them(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    archive(crawl, doc, [file(1, PDF, crawl, etag='"p1"')])
    previous = previous_attachments(engine, URL)
    (kept,) = previous.values()
    assert (kept.etag, kept.sha256, kept.link_text) == (
        '"p1"',
        hashlib.sha256(PDF).hexdigest(),
        "附件1",
    )
    assert known_pages(engine, crawl.source_id)[0].has_attachments
    # the download failed; the crawl carries the file over: no version
    failed = replace(
        file(1, PDF, crawl),
        raw=None,
        download_error="error: HTTP 502",
        request=AttachmentRequest(crawl.clock, FetchOutcome.ERROR, 502, "HTTP 502"),
    )
    assert archive(crawl, doc, [failed]).outcome == "unchanged"
    # a page edit while the download fails: a version with the file carried
    edited = archive(crawl, make_doc(body="一、深化服务共享。\n完成状态：已完成"), [failed])
    assert edited.version == 2
    assert query(
        engine,
        "SELECT a.sha256, a.download_error FROM attachments a WHERE a.version_id = :v",
        v=edited.version_id,
    ) == [(hashlib.sha256(PDF).hexdigest(), "error: HTTP 502")]


def test_a_not_modified_page_records_its_files_requests(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    result = archive(crawl, make_doc(), [file(1, PDF, crawl)])
    checked = replace(
        file(1, PDF, crawl),
        raw=None,
        request=AttachmentRequest(crawl.clock, FetchOutcome.NOT_MODIFIED, 304),
    )
    record_fetch(
        engine,
        run_id=crawl.run_id,
        source_id=crawl.source_id,
        url=URL,
        requested_at=crawl.tick(),
        outcome=FetchOutcome.NOT_MODIFIED,
        attachments=[checked],
    )
    assert query(
        engine,
        "SELECT outcome, version_id, page_id IS NOT NULL FROM fetches WHERE attachment ORDER BY id",
    ) == [("new_version", result.version_id, True), ("not_modified", result.version_id, True)]


def test_a_parser_upgrade_compares_with_the_previous_files(engine: Engine) -> None:
    """Under another parser the stored page is re-parsed, and compared together with its
    version's files: the same files make no version."""
    crawl = Crawl.start(engine)
    doc = make_doc()
    archive(crawl, doc, [file(1, PDF, crawl)])

    def reparse(raw: bytes, content_type: str | None) -> ParsedDoc:
        return doc

    same = archive(crawl, doc, [file(1, PDF, crawl)], parser_version="2", reparse=reparse)
    assert same.outcome == "unchanged"
    other = archive(crawl, doc, [file(1, XLSX, crawl)], parser_version="2", reparse=reparse)
    assert other.outcome == "new_version"


def test_reparse_keeps_the_files_in_the_hash_and_reads_their_text_again(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    first = archive(crawl, doc, [file(1, PDF, crawl), file(2, None, crawl)])
    before = query(
        engine, "SELECT content_hash FROM page_versions WHERE id = :v", v=first.version_id
    )
    reads: list[bytes] = []

    def extract(data: bytes, content_type: str | None, filename: str | None) -> dict[str, Any]:
        reads.append(data)
        return {
            "kind": "pdf",
            "text": "城市大脑建设任务（新读法）",
            "extractor": "new 2",
            "error": None,
        }

    report = reparse(engine, lambda raw, ct: doc, "2", extract=extract)
    assert reads == [PDF]  # the file never downloaded has nothing to read
    assert report.fields["attachments"] == 1 and report.changed == 1
    assert (
        query(engine, "SELECT content_hash FROM page_versions WHERE id = :v", v=first.version_id)
        == before
    )
    assert query(engine, "SELECT position, text, extractor FROM attachments ORDER BY position") == [
        (1, "城市大脑建设任务（新读法）", "new 2"),
        (2, None, None),
    ]
    # and the next crawl of the same page and files is unchanged under the new parser
    again = archive(crawl, doc, [file(1, PDF, crawl), file(2, None, crawl)], parser_version="2")
    assert again.outcome == "unchanged"
