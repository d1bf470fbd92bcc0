"""What a version is: the rules of issue 3, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from storage.archive import known_pages, load_raw, record_fetch
from storage.content import ParsedDoc, content_hash, raw_hash
from storage.errors import InvalidDocumentError, UnknownRecordError
from storage.models import Blob, Fetch, FetchOutcome, Page, PageVersion, TaskSection
from tests.storage.factories import SECTION_ONE, SECTION_TWO, Crawl, make_doc, raw_page

URL = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html"


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def versions(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [
            (r.version, r.content_hash)
            for r in conn.execute(
                select(PageVersion.version, PageVersion.content_hash).order_by(PageVersion.version)
            )
        ]


def test_first_fetch_writes_page_version_sections_blob_and_fetch(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    result = crawl.page(URL, doc, etag='"abc"', last_modified="Mon, 11 Oct 2021 01:25:00 GMT")
    assert (result.outcome, result.version, result.new_page) == ("new_version", 1, True)

    with Session(engine) as session:
        version = session.scalars(select(PageVersion)).one()
        page = session.scalars(select(Page)).one()
        fetch = session.scalars(select(Fetch)).one()
        sections = session.scalars(select(TaskSection).order_by(TaskSection.number)).all()
    assert version.title == "2021年度三季度政府工作报告任务进展情况"
    assert version.index_no == "11341700744889543Y/202110-00006"
    assert version.published_date == date(2021, 10, 11)
    # 09:25 China Standard Time is 01:25 UTC; read back as an aware UTC datetime.
    assert version.published_at == datetime(2021, 10, 11, 1, 25, tzinfo=UTC)
    assert version.published_at.tzinfo == UTC
    assert version.metadata_extra == {"信息格式/语种": "中文"}
    assert version.content_hash == content_hash(doc)
    assert version.raw_hash == raw_hash(raw_page(doc))
    assert version.parser_version == "1"
    assert version.content_type == "text/html; charset=utf-8"
    assert [(s.number, s.status, s.extra) for s in sections] == [
        (1, "持续推进", {"责任单位": "市数据资源局"}),
        (2, "滞后", {}),
    ]
    assert page.url == URL
    assert page.first_seen_at == page.last_fetched_at == page.last_changed_at == crawl.clock
    assert (page.etag, page.last_modified, page.gone_at) == (
        '"abc"',
        "Mon, 11 Oct 2021 01:25:00 GMT",
        None,
    )
    assert (fetch.outcome, fetch.version_id, fetch.page_id, fetch.http_status) == (
        "new_version",
        version.id,
        page.id,
        200,
    )
    assert fetch.nbytes == len(raw_page(doc))
    assert load_raw(engine, version.raw_hash) == raw_page(doc)


def test_unchanged_content_writes_only_a_fetch_row(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    first = crawl.page(URL, doc)
    again = crawl.page(URL, doc)
    assert (again.outcome, again.version_id, again.version, again.new_page) == (
        "unchanged",
        first.version_id,
        1,
        False,
    )
    assert count(engine, PageVersion) == 1
    assert count(engine, TaskSection) == 2
    assert count(engine, Blob) == 1
    fetches = rows(engine, "SELECT outcome, version_id FROM fetches ORDER BY id")
    assert fetches == [
        {"outcome": "new_version", "version_id": first.version_id},
        {"outcome": "unchanged", "version_id": first.version_id},
    ]
    (page,) = known_pages(engine, crawl.source_id)
    assert page.last_fetched_at == crawl.clock
    with engine.connect() as conn:
        changed = conn.execute(select(Page.last_changed_at)).scalar_one()
    assert changed == crawl.clock - timedelta(minutes=1)


def test_volatile_only_change_is_not_a_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    crawl.page(URL, doc, raw=raw_page(doc, views=17))
    # Same parsed record, different bytes: a view counter and a re-encoding.
    result = crawl.page(URL, make_doc(encoding="gb18030"), raw=raw_page(doc, views=18))
    assert result.outcome == FetchOutcome.UNCHANGED
    assert count(engine, PageVersion) == 1
    assert count(engine, Blob) == 1
    last = rows(engine, "SELECT raw_hash, outcome FROM fetches ORDER BY id DESC")[0]
    assert last == {"raw_hash": raw_hash(raw_page(doc, views=18)), "outcome": "unchanged"}


def test_real_change_writes_exactly_one_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    finished = {**SECTION_TWO, "status": "已完成"}
    changed = make_doc(sections=[SECTION_ONE, finished])  # type: ignore[list-item]
    result = crawl.page(URL, changed)
    again = crawl.page(URL, changed)
    assert (result.outcome, result.version) == ("new_version", 2)
    assert (again.outcome, again.version) == ("unchanged", 2)
    assert [v for v, _ in versions(engine)] == [1, 2]
    statuses = rows(
        engine,
        "SELECT v.version, s.status FROM task_sections s"
        " JOIN page_versions v ON v.id = s.version_id WHERE s.number = 2 ORDER BY v.version",
    )
    assert statuses == [{"version": 1, "status": "滞后"}, {"version": 2, "status": "已完成"}]
    with engine.connect() as conn:
        changed_at = conn.execute(select(Page.last_changed_at)).scalar_one()
    assert changed_at == crawl.clock - timedelta(minutes=1)


def test_a_b_a_gives_three_versions_and_two_blobs(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    a, b = make_doc(), make_doc(body="二、调整后的正文")
    outcomes = [crawl.page(URL, d).version for d in (a, b, a)]
    assert outcomes == [1, 2, 3]
    assert versions(engine) == [(1, content_hash(a)), (2, content_hash(b)), (3, content_hash(a))]
    assert count(engine, Blob) == 2  # A's raw body is stored once


def test_parser_upgrade_alone_never_makes_a_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    old = make_doc(keywords=None)
    stored_raw = raw_page(old)
    crawl.page(URL, old, raw=stored_raw, parser_version="1")
    # Parser 2 also reads 关键词: the same page now parses to a different record.
    new = make_doc(keywords="数据资源")
    calls: list[tuple[bytes, str | None]] = []

    def reparse(raw: bytes, content_type: str | None) -> ParsedDoc:
        calls.append((raw, content_type))
        return new

    result = crawl.page(URL, new, raw=stored_raw, parser_version="2", reparse=reparse)
    assert result.outcome == FetchOutcome.UNCHANGED
    assert calls == [(stored_raw, "text/html; charset=utf-8")]
    assert count(engine, PageVersion) == 1
    # The old row is not rewritten here.
    assert rows(engine, "SELECT parser_version, keywords FROM page_versions") == [
        {"parser_version": "1", "keywords": None}
    ]


def test_parser_upgrade_with_a_real_change_makes_one_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc(), parser_version="1")
    reparsed_old = make_doc(keywords="数据资源")
    new = make_doc(keywords="数据资源", body="正文有实质修改")
    result = crawl.page(URL, new, parser_version="2", reparse=lambda raw, ct: reparsed_old)
    assert (result.outcome, result.version) == ("new_version", 2)
    assert rows(engine, "SELECT version, parser_version FROM page_versions ORDER BY version") == [
        {"version": 1, "parser_version": "1"},
        {"version": 2, "parser_version": "2"},
    ]


def test_not_modified_points_at_the_current_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    first = crawl.page(URL, make_doc())
    crawl.fetch(URL, "gone", http_status=404)
    crawl.fetch(URL, "not_modified", http_status=304, elapsed_ms=40)
    last = rows(engine, "SELECT outcome, version_id, page_id, http_status FROM fetches ORDER BY id")
    assert last[-1] == {
        "outcome": "not_modified",
        "version_id": first.version_id,
        "page_id": first.page_id,
        "http_status": 304,
    }
    (page,) = known_pages(engine, crawl.source_id)
    assert page.last_fetched_at == crawl.clock
    assert page.gone_at is None  # a 304 shows the page exists again
    assert count(engine, PageVersion) == 1


def test_not_modified_with_a_run_of_another_source_writes_nothing(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    fetched_at = crawl.clock
    other = Crawl.start(engine, "another-source")
    other.page("https://www.xuancheng.gov.cn/x.html", make_doc())
    stray = Crawl(engine, crawl.source_id, other.run_id)
    with pytest.raises(UnknownRecordError, match=f"crawl run {other.run_id}"):
        stray.fetch(URL, "not_modified", http_status=304)
    (page,) = known_pages(engine, crawl.source_id)
    assert page.last_fetched_at == fetched_at  # the page's update was rolled back
    assert count(engine, Fetch) == 2


def test_not_modified_of_an_unknown_url_is_recorded_without_a_page(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.fetch(URL, "not_modified", http_status=304)
    assert rows(engine, "SELECT outcome, page_id, version_id FROM fetches") == [
        {"outcome": "not_modified", "page_id": None, "version_id": None}
    ]


def test_gone_sets_gone_at_once_and_keeps_versions(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    crawl.fetch(URL, "gone", http_status=404)
    gone_at = crawl.clock
    crawl.fetch(URL, "gone", http_status=410)
    (page,) = known_pages(engine, crawl.source_id)
    assert page.gone_at == gone_at
    assert count(engine, PageVersion) == 1
    assert rows(engine, "SELECT outcome, version_id FROM fetches WHERE outcome = 'gone'") == [
        {"outcome": "gone", "version_id": None},
        {"outcome": "gone", "version_id": None},
    ]
    # It comes back unchanged: gone_at is cleared, no new version.
    back = crawl.page(URL, make_doc())
    assert back.outcome == FetchOutcome.UNCHANGED
    assert known_pages(engine, crawl.source_id)[0].gone_at is None


@pytest.mark.parametrize("outcome", ["error", "blocked", "skipped_robots", "offsite", "too_large"])
def test_failed_fetches_write_only_the_row(engine: Engine, outcome: str) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    before = known_pages(engine, crawl.source_id)
    crawl.fetch(URL, outcome, http_status=412, error="瑞数 challenge", elapsed_ms=900, nbytes=3655)
    crawl.fetch("https://sjzy.xuancheng.gov.cn/new.html", outcome, error="timeout")
    assert known_pages(engine, crawl.source_id) == before
    got = rows(
        engine,
        "SELECT url, page_id, outcome, error, http_status, elapsed_ms, bytes, version_id"
        " FROM fetches WHERE outcome = :o ORDER BY id",
        o=outcome,
    )
    assert got == [
        {
            "url": URL,
            "page_id": before[0].page_id,
            "outcome": outcome,
            "error": "瑞数 challenge",
            "http_status": 412,
            "elapsed_ms": 900,
            "bytes": 3655,
            "version_id": None,
        },
        {
            "url": "https://sjzy.xuancheng.gov.cn/new.html",
            "page_id": None,
            "outcome": outcome,
            "error": "timeout",
            "http_status": None,
            "elapsed_ms": 0,
            "bytes": None,
            "version_id": None,
        },
    ]


def test_record_fetch_refuses_archive_outcomes(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with pytest.raises(ValueError, match="record_fetch outcome must be one of"):
        crawl.fetch(URL, "new_version")
    assert count(engine, Fetch) == 0


def test_malformed_doc_writes_nothing(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with pytest.raises(InvalidDocumentError, match=r"published_date is not an ISO date") as info:
        crawl.page(URL, make_doc(published_date="2021年10月11日"))
    assert URL in str(info.value)
    assert count(engine, Page) == count(engine, Fetch) == count(engine, Blob) == 0


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with pytest.raises(InvalidDocumentError, match="requested_at must be timezone-aware"):
        crawl.page(URL, make_doc(), at=datetime(2024, 5, 1, 8, 0))
    assert count(engine, Fetch) == 0


def test_unknown_run_is_refused(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.run_id += 100
    with pytest.raises(UnknownRecordError, match=f"crawl run {crawl.run_id} does not exist"):
        crawl.page(URL, make_doc())
    with pytest.raises(UnknownRecordError, match="does not exist"):
        record_fetch(
            engine,
            run_id=crawl.run_id,
            source_id=crawl.source_id,
            url=URL,
            requested_at=crawl.tick(),
            outcome=FetchOutcome.ERROR,
        )
    assert count(engine, Page) == 0


def test_known_pages_lists_validators(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    other = Crawl.start(engine, "another-source")
    crawl.page(URL, make_doc(), etag='W/"1"')
    crawl.page(URL + "?2", make_doc(body="x"), last_modified="Tue, 12 Oct 2021 00:00:00 GMT")
    other.page("https://www.xuancheng.gov.cn/x.html", make_doc())
    pages = known_pages(engine, crawl.source_id)
    assert [(p.url, p.etag, p.last_modified) for p in pages] == [
        (URL, 'W/"1"', None),
        (URL + "?2", None, "Tue, 12 Oct 2021 00:00:00 GMT"),
    ]
    assert all(p.last_fetched_at.tzinfo == UTC for p in pages)


def _junk() -> ParsedDoc:
    """What a 系统繁忙 page parses to: a title and one short line."""
    doc = make_doc(body="系统繁忙，请稍后再试！", sections=[], title="提示")
    for name in ("index_no", "category", "publisher", "topic", "published_date", "info_source"):
        doc["metadata"][name] = None
    doc["metadata"]["published_at"] = None
    doc["metadata"]["metadata_extra"] = {}
    return doc


def test_a_suspect_answer_writes_only_a_fetch_row(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    first = crawl.page(URL, make_doc(), etag='"a"', last_modified="Mon, 11 Oct 2021 01:25:00 GMT")
    before = rows(engine, "SELECT last_fetched_at, last_changed_at, etag, last_modified FROM pages")

    junk = _junk()
    result = crawl.page(URL, junk, etag='"junk"', last_modified=None)

    assert (result.outcome, result.version_id, result.version) == ("suspect", first.version_id, 1)
    assert count(engine, PageVersion) == 1 and count(engine, Blob) == 1
    assert rows(
        engine, "SELECT last_fetched_at, last_changed_at, etag, last_modified FROM pages"
    ) == (before)
    fetch = rows(engine, "SELECT * FROM fetches ORDER BY id")[-1]
    assert (fetch["outcome"], fetch["version_id"], fetch["page_id"]) == (
        "suspect",
        None,
        first.page_id,
    )
    assert fetch["content_hash"] == content_hash(junk, raw_page(junk))
    assert fetch["raw_hash"] == raw_hash(raw_page(junk))
    assert fetch["error"] == "a busy or maintenance page (系统繁忙, 请稍后再试)"


def test_a_suspect_answer_confirmed_by_the_next_is_a_version(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    outcomes = [crawl.page(URL, _junk()).outcome for _ in range(2)]
    assert outcomes == ["suspect", "new_version"]
    assert [v for v, _ in versions(engine)] == [1, 2]
    # the version is the junk's own fetch, with its blob
    assert count(engine, Blob) == 2


def test_the_page_answering_again_clears_the_suspicion(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page(URL, make_doc())
    got = [crawl.page(URL, d).outcome for d in (_junk(), make_doc(), _junk())]
    assert got == ["suspect", "unchanged", "suspect"]
    assert count(engine, PageVersion) == 1


def test_fetch_rows_keep_where_the_answer_came_from(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    elsewhere = URL.replace("2405711", "moved/2405711")
    crawl.page(URL, make_doc(), final_url=elsewhere)
    crawl.page(URL, make_doc(), final_url=URL)  # no redirect: nothing to keep
    crawl.fetch(URL, "gone", http_status=404, final_url=URL.replace("show/2405711", "404"))
    got = rows(engine, "SELECT url, final_url, outcome, content_hash FROM fetches ORDER BY id")
    assert [(r["url"], r["final_url"], r["outcome"]) for r in got] == [
        (URL, elsewhere, "new_version"),
        (URL, None, "unchanged"),
        (URL, URL.replace("show/2405711", "404"), "gone"),
    ]
    assert [r["content_hash"] for r in got] == [None, None, None]  # kept for suspect ones
    assert rows(engine, "SELECT url FROM pages") == [{"url": URL}]


def test_record_fetch_refuses_the_outcomes_archive_page_decides(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    for outcome in ("new_version", "unchanged", "suspect"):
        with pytest.raises(ValueError, match="record_fetch outcome must be one of"):
            crawl.fetch(URL, outcome)
