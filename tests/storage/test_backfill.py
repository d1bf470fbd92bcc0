"""storage.backfill: captures from web archives joining a page's history at their capture
time, on SQLite and PostgreSQL (docs/schema.md, "Imported captures")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import Engine, select, text

from storage.backfill import (
    CaptureRecord,
    CaptureResult,
    archive_capture,
    attachments_at,
    imported_record_ids,
    record_skipped,
)
from storage.content import ParsedDoc
from storage.models import PAGE_VERSIONS, PAGES, WARC_CAPTURES, CaptureOutcome
from tests.storage.factories import T0, Crawl, attachment, make_doc, no_reparse, raw_page

URL = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html"
NOW = datetime(2026, 12, 5, tzinfo=UTC)
_IDS = count(1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def capture(
    engine: Engine,
    source_id: int,
    doc: ParsedDoc,
    at: datetime,
    *,
    url: str = URL,
    raw: bytes | None = None,
    parser_version: str = "1",
    confirmed: bool = False,
    reparse: Callable[[bytes, str | None], ParsedDoc] = no_reparse,
    **kw: Any,
) -> CaptureResult:
    record = CaptureRecord(
        warc_file="colleague-2023.warc.gz",
        record_offset=1000 * next(_IDS),
        record_id=f"<urn:uuid:{next(_IDS)}>",
        record_type="response",
        url=url,
        captured_at=at,
        http_status=200,
    )
    return archive_capture(
        engine,
        source_id=source_id,
        capture=record,
        raw=raw if raw is not None else raw_page(doc),
        content_type="text/html; charset=utf-8",
        doc=doc,
        parser_version=parser_version,
        reparse=reparse,
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")],
        confirmed=confirmed,
        now=NOW,
        **kw,
    )


def history(engine: Engine) -> list[tuple[int, int, datetime, str]]:
    """(id, version, fetched_at, body_text) of the page's versions in version order."""
    v = PAGE_VERSIONS.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(v.id, v.version, v.fetched_at, v.body_text)
            .join(PAGES, PAGES.c.id == v.page_id)
            .where(PAGES.c.url == URL)
            .order_by(v.version)
        )
        return [(r.id, r.version, r.fetched_at, r.body_text) for r in rows]


def captures(engine: Engine) -> list[tuple[str, int | None]]:
    with engine.connect() as conn:
        return [
            (r.outcome, r.version_id)
            for r in conn.execute(text("SELECT outcome, version_id FROM warc_captures ORDER BY id"))
        ]


def page_row(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(PAGES).where(PAGES.c.url == URL)).mappings().one()
    return dict(row)


A, B, Z = (
    make_doc(body="一、甲。\n完成状态：持续推进"),
    make_doc(body="一、乙。"),
    make_doc(body="零。"),
)


def test_a_capture_of_a_new_page_is_version_one_at_its_capture_time(engine: Engine) -> None:
    source_id = Crawl.start(engine).source_id
    result = capture(engine, source_id, A, day(-400))
    assert (result.outcome, result.version, result.new_page) == ("new_version", 1, True)
    assert [(v, at) for _, v, at, _ in history(engine)] == [(1, day(-400))]
    page = page_row(engine)
    assert page["first_seen_at"] == day(-400)
    assert page["last_changed_at"] == day(-400)
    with engine.connect() as conn:
        stored = conn.execute(
            select(PAGE_VERSIONS.c.http_status, PAGE_VERSIONS.c.response_headers)
        ).one()
        row = conn.execute(select(WARC_CAPTURES)).mappings().one()
    assert stored.http_status == 200
    assert stored.response_headers == [
        ["Content-Type", "text/html; charset=utf-8"],
        ["Server", "nginx"],
    ]
    assert row["warc_file"] == "colleague-2023.warc.gz"
    assert row["captured_at"] == day(-400)
    assert (row["outcome"], row["version_id"], row["source_id"]) == (
        "new_version",
        history(engine)[0][0],
        source_id,
    )


def test_an_older_capture_goes_first_and_renumbers_keeping_ids(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10), etag='"e1"')
    crawl.page(URL, B, at=day(20), etag='"e2"')
    ids = [i for i, *_ in history(engine)]

    result = capture(engine, crawl.source_id, Z, day(1))
    assert (result.outcome, result.version, result.renumbered) == ("new_version", 1, 2)
    after = history(engine)
    assert [(v, at, body) for _, v, at, body in after] == [
        (1, day(1), Z["body_text"]),
        (2, day(10), A["body_text"]),
        (3, day(20), B["body_text"]),
    ]
    assert [i for i, *_ in after][1:] == ids  # the crawled versions keep their ids
    page = page_row(engine)
    assert page["first_seen_at"] == day(1)
    assert page["last_changed_at"] == day(20)
    assert page["etag"] == '"e2"'  # not the newest: the crawl's validators still hold
    with engine.connect() as conn:
        changes = conn.execute(
            text("SELECT old_version, new_version FROM section_changes ORDER BY new_version")
        ).all()
    assert {(o, n) for o, n in changes} <= {(1, 2), (2, 3), (None, 1), (None, 2), (None, 3)}


def test_an_older_capture_of_the_same_content_moves_the_version_earlier(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10))
    result = capture(engine, crawl.source_id, A, day(2))
    assert (result.outcome, result.version) == ("earlier", 1)
    assert [(v, at) for _, v, at, _ in history(engine)] == [(1, day(2))]
    assert page_row(engine)["first_seen_at"] == day(2)
    assert captures(engine) == [("earlier", history(engine)[0][0])]


def test_a_capture_of_the_content_in_effect_is_unchanged(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10))
    crawl.page(URL, B, at=day(20))
    result = capture(engine, crawl.source_id, A, day(15))
    assert (result.outcome, result.version) == ("unchanged", 1)
    assert len(history(engine)) == 2


def test_a_capture_inside_a_run_splits_it(engine: Engine) -> None:
    """A seen on days 10 and 18 by the crawl, B from day 20; a capture of B on day 15:
    A, B, A, B — and the day-18 fetch now confirms the copy of A."""
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10))
    crawl.page(URL, A, at=day(18))
    crawl.page(URL, B, at=day(20))
    result = capture(engine, crawl.source_id, B, day(15))
    assert (result.outcome, result.version, result.renumbered) == ("new_version", 2, 1)
    after = history(engine)
    assert [(v, at, body) for _, v, at, body in after] == [
        (1, day(10), A["body_text"]),
        (2, day(15), B["body_text"]),
        (3, day(18), A["body_text"]),
        (4, day(20), B["body_text"]),
    ]
    with engine.connect() as conn:
        seen = conn.execute(
            text("SELECT requested_at, version_id FROM fetches ORDER BY requested_at")
        ).all()
        sections = conn.execute(
            text("SELECT count(*) FROM task_sections WHERE version_id = :v"), {"v": after[2][0]}
        ).scalar()
    assert [v for _, v in seen] == [after[0][0], after[2][0], after[3][0]]
    assert sections == len(A["sections"])


def test_a_changed_capture_that_looks_transient_is_suspect_unless_confirmed(
    engine: Engine,
) -> None:
    crawl = Crawl.start(engine)
    healthy = make_doc(body="一、甲。" + "正文" * 200)
    crawl.page(URL, healthy, at=day(10))
    empty = make_doc(body="", sections=[], title=None, index_no=None, publisher=None)
    result = capture(engine, crawl.source_id, empty, day(12))
    assert result.outcome == "suspect"
    assert result.reason is not None and "task sections" in result.reason
    assert len(history(engine)) == 1
    confirmed = capture(engine, crawl.source_id, empty, day(13), confirmed=True)
    assert confirmed.outcome == "new_version"
    assert len(history(engine)) == 2


def test_a_newest_capture_clears_the_validators(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10), etag='"e1"', last_modified="Mon, 11 Oct 2021 01:25:00 GMT")
    capture(engine, crawl.source_id, B, day(30))
    page = page_row(engine)
    assert (page["etag"], page["last_modified"]) == (None, None)
    assert page["last_changed_at"] == day(30)
    assert page["last_fetched_at"] == day(30)


def test_neighbours_parsed_by_another_parser_are_compared_under_this_one(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10), parser_version="0")
    # the stored bytes, read again by parser "1", are the same record: equal
    result = capture(
        engine, crawl.source_id, A, day(12), parser_version="1", reparse=lambda raw, ct: A
    )
    assert result.outcome == "unchanged"


def test_a_page_of_another_source_is_not_taken_over(engine: Engine) -> None:
    Crawl.start(engine, "other").page(URL, A, at=day(10))
    mine = Crawl.start(engine, "mine")
    result = capture(engine, mine.source_id, B, day(12))
    assert result.outcome == "error"
    assert result.reason is not None and "another source" in result.reason
    assert len(history(engine)) == 1


def test_skipped_records_are_listed_and_known_to_a_second_import(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, A, at=day(10))
    record = CaptureRecord("a.warc", 0, "<urn:uuid:blocked>", "response", URL, day(11), 412)
    result = record_skipped(
        engine,
        source_id=crawl.source_id,
        capture=record,
        outcome=CaptureOutcome.BLOCKED,
        reason="HTTP 412",
        now=NOW,
    )
    assert result.page_id is not None
    assert imported_record_ids(engine, ["<urn:uuid:blocked>", "<urn:uuid:other>"]) == {
        "<urn:uuid:blocked>"
    }
    assert captures(engine) == [("blocked", None)]


def test_attachments_at_are_those_of_the_version_in_effect(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    file_url = "https://sjzy.xuancheng.gov.cn/files/plan.pdf"
    old, new = attachment(1, file_url, b"%PDF-1.4 old"), attachment(1, file_url, b"%PDF-1.4 new")
    crawl.page(URL, A, at=day(10), attachments=[old])
    crawl.page(URL, A, at=day(20), attachments=[new])
    assert attachments_at(engine, URL, day(15))[old.url].sha256 == old.sha256
    assert attachments_at(engine, URL, day(25))[new.url].sha256 == new.sha256
    assert attachments_at(engine, URL, day(1))[old.url].sha256 == old.sha256
    assert attachments_at(engine, URL + "?x", day(1)) == {}
