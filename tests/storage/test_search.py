"""storage.search on both databases: Chinese terms of every length, sections and
attachments, the index kept current by every write, filters and literal queries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from storage.content import ParsedDoc, ParsedSection
from storage.errors import UnknownRecordError
from storage.reparse import reparse
from storage.search import (
    SearchHit,
    Snippet,
    fts5_query,
    make_snippet,
    query_terms,
    search,
)
from tests.storage.factories import SECTION_TWO, Crawl, attachment, make_doc

BRAIN = "https://www.xuancheng.gov.cn/Openness/detail/1.html"
SHARING = "https://www.xuancheng.gov.cn/Openness/detail/2.html"
OTHER = "https://www.hefei.gov.cn/xxgk/3.html"

BRAIN_BODY = "宣城城市大脑一期平台已建成，正在开展运营指挥中心场馆设计招标。"
SHARING_BODY = "规范和促进全市政务数据资源共享。完成与省江淮大数据中心平台级联，100%完成。"
PDF_TEXT = "附件：宣城市数据共享交换平台上线情况统计表（OFD 版另附）"


def build(engine: Engine) -> Crawl:
    """Three pages: a progress report (sections; its task 2 is 滞后), a notice with a
    PDF attachment, and a page of another source published earlier."""
    crawl = Crawl.start(engine)
    crawl.page(BRAIN, make_doc(body=BRAIN_BODY, title="宣城城市大脑建设进展情况"))
    crawl.page(
        SHARING,
        make_doc(body=SHARING_BODY, title="政务数据共享工作通报", sections=[]),
        attachments=[
            attachment(1, "https://www.xuancheng.gov.cn/f/1.pdf", b"%PDF-1", text=PDF_TEXT)
        ],
    )
    other = Crawl.start(engine, "hefei")
    other.page(OTHER, HEFEI)
    return crawl


HEFEI = make_doc(
    body="合肥市城市大脑二期项目已完成验收。",
    title="合肥城市大脑",
    sections=[],
    published_date="2020-03-02",
)


def places(hits: list[SearchHit]) -> list[tuple[str, int, str]]:
    return [(h.url, h.version, h.where) for h in hits]


def test_a_four_character_term_is_found_in_titles_bodies_and_sections(engine: Engine) -> None:
    build(engine)
    hits = search(engine, "城市大脑")
    assert places(hits) == [
        (BRAIN, 1, "title"),
        (BRAIN, 1, "section 2"),
        (OTHER, 1, "title"),
    ]
    first = hits[0]
    assert (first.source, first.title, first.published_date) == (
        "xuancheng-sjzy",
        "宣城城市大脑建设进展情况",
        date(2021, 10, 11),
    )
    assert first.field == "title" and first.snippet.marked("[", "]") == "宣城[城市大脑]建设进展情况"
    assert hits[1].field == "title" and "[城市大脑]" in hits[1].snippet.marked("[", "]")


def test_a_three_character_term_uses_the_index(engine: Engine) -> None:
    build(engine)
    hits = search(engine, "指挥中")
    assert places(hits) == [(BRAIN, 1, "body"), (BRAIN, 1, "section 2")]
    assert hits[0].field == "body_text"
    assert (
        hits[0].snippet.marked("【", "】")
        == "宣城城市大脑一期平台已建成，正在开展运营【指挥中】心场馆设计招标。"
    )


def test_a_two_character_term_falls_back_to_a_scan(engine: Engine) -> None:
    build(engine)
    hits = search(engine, "滞后")
    assert places(hits) == [(BRAIN, 1, "section 2")]
    assert hits[0].field == "status" and hits[0].snippet == Snippet("滞后", ((0, 2),))
    assert places(search(engine, "完成")) == [
        (SHARING, 1, "body"),
        (OTHER, 1, "body"),
    ]


def test_several_terms_are_all_required_in_one_part(engine: Engine) -> None:
    build(engine)
    # A long term through the index and a short one filtered on its matches:
    assert places(search(engine, "城市大脑 滞后")) == [(BRAIN, 1, "section 2")]
    assert places(search(engine, "城市大脑  合肥")) == [(OTHER, 1, "title")]
    assert search(engine, "城市大脑 江淮") == []
    hit = search(engine, "滞后 选址")[0]  # two short terms: status and problems
    assert (hit.where, hit.field) == ("section 2", "status")  # the first of a tie
    assert places(search(engine, "场馆 选址 楼体")) == [(BRAIN, 1, "section 2")]
    hit = search(engine, "场馆 选址 楼体")[0]
    assert (hit.field, hit.snippet.marked("<", ">")) == ("problems", "<场馆><选址>尚未确定。")


def test_attachment_text_and_names_are_searched(engine: Engine) -> None:
    build(engine)
    hits = search(engine, "交换平台")
    assert places(hits) == [(SHARING, 1, "attachment 1")]
    assert hits[0].field == "text"
    assert places(search(engine, "ofd")) == [(SHARING, 1, "attachment 1")]  # any case
    assert [h.field for h in search(engine, "1.pdf")] == ["filename"]


def test_source_and_date_filters(engine: Engine) -> None:
    build(engine)
    assert places(search(engine, "城市大脑", sources=["hefei"])) == [(OTHER, 1, "title")]
    since = search(engine, "城市大脑", published_since=date(2021, 1, 1))
    assert {h.url for h in since} == {BRAIN}
    assert len(search(engine, "城市大脑", limit=1)) == 1
    with pytest.raises(UnknownRecordError, match="no source named 'nowhere'"):
        search(engine, "城市大脑", sources=["nowhere"])
    with pytest.raises(ValueError, match="no terms"):
        search(engine, " \u3000 ")


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"城市',
        "城市大脑 OR",
        "NEAR(城市",
        "城*",
        "a AND b",
        "_",
        "\\",
        "col:城市",
        "^城市",
    ],
)
def test_a_query_is_literal_text_never_syntax(engine: Engine, query: str) -> None:
    build(engine)
    assert search(engine, query) == []


def test_wildcards_are_literal(engine: Engine) -> None:
    build(engine)
    assert places(search(engine, "100%")) == [(SHARING, 1, "body")]  # indexed
    assert places(search(engine, "%完")) == [(SHARING, 1, "body")]  # scanned
    assert search(engine, "0_%") == []


@pytest.mark.parametrize("query", ["ofd 版另附", "Ofd", "OFD 统计表"])
def test_latin_letters_match_in_any_case_beside_chinese_terms(engine: Engine, query: str) -> None:
    # On PostgreSQL a term with cased letters goes through ILIKE and a Chinese one
    # through LIKE: mixing them in one query must still find the attachment.
    build(engine)
    assert [h.where for h in search(engine, query)] == ["attachment 1"]


def test_a_new_version_replaces_the_old_in_the_default_search(engine: Engine) -> None:
    crawl = build(engine)
    crawl.page(BRAIN, make_doc(body="指挥中心场馆已封顶。", title="宣城城市大脑建设进展情况"))
    assert places(search(engine, "封顶")) == [(BRAIN, 2, "body")]
    assert places(search(engine, "设计招标")) == []
    assert places(search(engine, "设计招标", all_versions=True)) == [(BRAIN, 1, "body")]
    assert places(search(engine, "指挥中心", all_versions=True)) == [
        (BRAIN, 2, "body"),
        (BRAIN, 2, "section 2"),
        (BRAIN, 1, "body"),
        (BRAIN, 1, "section 2"),
    ]


def test_reparse_keeps_the_index_current(engine: Engine) -> None:
    build(engine)

    def parse(raw: bytes, content_type: str | None) -> ParsedDoc:
        if "合肥" in raw.decode():
            return HEFEI
        if "大脑" in raw.decode():
            body = "运营指挥中心已启用，实体场馆于三季度完工。"
            section: ParsedSection = {
                **SECTION_TWO,
                "status": "已完成",
                "progress": "场馆已竣工验收。",
            }
            return make_doc(body=body, title="宣城城市大脑建设进展情况", sections=[section])
        return make_doc(body=SHARING_BODY, title="政务数据共享工作通报", sections=[])

    report = reparse(engine, parse, "2")
    assert report.failures == []
    assert places(search(engine, "设计招标")) == []
    assert places(search(engine, "三季度完工")) == [(BRAIN, 1, "body")]
    assert places(search(engine, "滞后")) == []
    assert places(search(engine, "竣工")) == [(BRAIN, 1, "section 2")]
    assert places(search(engine, "一网通办")) == []  # section 1 was deleted
    assert_index_consistent(engine)


def test_deleting_a_page_cascades_out_of_the_index(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        page_id = conn.execute(text("SELECT id FROM pages WHERE url = :u"), {"u": SHARING}).scalar()
        conn.execute(text("DELETE FROM fetches WHERE page_id = :p"), {"p": page_id})
        conn.execute(text("DELETE FROM pages WHERE id = :p"), {"p": page_id})
    assert search(engine, "交换平台") == []
    assert search(engine, "100%") == []
    assert places(search(engine, "城市大脑")) != []
    assert_index_consistent(engine)


def assert_index_consistent(engine: Engine) -> None:
    """SQLite: each FTS5 index holds exactly its table's rows (FTS5 checks it)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        for fts in ("page_versions_fts", "task_sections_fts", "attachments_fts"):
            conn.execute(text(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')"))


def test_query_terms_split_at_any_whitespace_once_each() -> None:
    assert query_terms(" 城市大脑\u3000滞后  城市大脑\n") == ["城市大脑", "滞后"]
    assert query_terms("  ") == []


def test_fts5_query_quotes_every_term() -> None:
    assert fts5_query(['城市"大脑', "OR"]) == '"城市""大脑" "OR"'


def test_make_snippet_cuts_around_the_first_match_and_marks_every_one() -> None:
    body = "甲" * 100 + "城市大脑\n运营" + "乙" * 100 + "城市大脑"
    snippet = make_snippet(body, ["城市大脑", "运营"], width=40)
    assert snippet.text == "…" + "甲" * 10 + "城市大脑 运营" + "乙" * 23 + "…"
    assert snippet.marked("[", "]") == "…" + "甲" * 10 + "[城市大脑] [运营]" + "乙" * 23 + "…"
    assert make_snippet("滞后", ["滞后"]) == Snippet("滞后", ((0, 2),))
    assert make_snippet("短文本 OFD", ["ofd"]).marked("[", "]") == "短文本 [OFD]"
    tail = make_snippet("乙" * 100 + "完成", ["完成"], width=20)
    assert tail.text == "…" + "乙" * 18 + "完成" and tail.marks == ((19, 21),)
