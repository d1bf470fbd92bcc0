"""ParsedDoc mirrors the parser's record; content_hash covers content and nothing else."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import typing
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Date, Text

from scraper.parse import labels, record
from storage import content
from storage.content import (
    CANONICAL_FIELDS,
    HASHED_NAMES,
    ParsedDoc,
    content_hash,
    raw_hash,
    section_values,
    version_values,
)
from storage.models import PAGE_VERSIONS
from storage.types import UTCDateTime
from tests.storage.factories import make_doc


def test_field_lists_match_the_parser() -> None:
    # One list on each side of the layering rule (storage never imports scraper): the
    # page_versions columns made with metadata_field(), and the parser's Metadata.
    assert CANONICAL_FIELDS == record.CANONICAL_FIELDS
    assert content.SECTION_FIELDS == record.SECTION_FIELDS
    assert content.DATE_FIELDS == labels.DATE_FIELDS
    assert frozenset({"published_at"}) == content.DATETIME_FIELDS  # metadata._time sets it


def test_metadata_fields_are_columns_the_parser_can_fill() -> None:
    """A metadata field is a nullable text, date or timestamp column: the parser gives a
    string, an ISO date or an ISO datetime, or nothing."""
    for name in CANONICAL_FIELDS:
        column = PAGE_VERSIONS.c[name]
        assert column.nullable, name
        assert isinstance(column.type, Text | Date | UTCDateTime), (name, column.type)
    assert CANONICAL_FIELDS[0] == "title"  # carries_content skips the first: every page has one


def test_typed_dicts_mirror_page_record_to_dict() -> None:
    sample = record.PageRecord(
        metadata=record.Metadata(title="t"),
        sections=(record.Section(number=1, title="s"),),
        body_text="b",
        encoding="utf-8",
        encoding_source="meta",
        attachments=(record.AttachmentLink("http://a.cn/a.pdf", "a", "a.pdf", "pdf"),),
    ).to_dict()
    assert set(typing.get_type_hints(content.ParsedDoc)) == set(sample)
    assert list(typing.get_type_hints(content.ParsedAttachmentLink)) == list(
        sample["attachments"][0]
    )
    assert [f.name for f in dataclasses.fields(record.AttachmentLink)] == list(
        sample["attachments"][0]
    )
    assert list(sample["metadata"]) == [*CANONICAL_FIELDS, "metadata_extra"]
    assert set(typing.get_type_hints(content.ParsedSection)) == set(sample["sections"][0])
    names = [f.name for f in dataclasses.fields(record.Metadata)]
    assert names == [*CANONICAL_FIELDS, "metadata_extra"]


def test_content_hash_is_sha256_of_canonical_json() -> None:
    doc = make_doc(
        sections=[
            {
                "number": 1,
                "title": "任务",
                "status": "滞后",
                "progress": None,
                "problems": None,
                "next_steps": None,
                "extra": {},
            }
        ],
        body="正文",
        encoding="gb18030",
        warnings=["ignored"],
        **{name: None for name in CANONICAL_FIELDS},
        metadata_extra={"b": "2", "a": "1"},
    )
    nulls = {name: "null" for name in CANONICAL_FIELDS}
    # The page's 来源 is hashed under the name it had before revision 0007.
    nulls["source"] = nulls.pop("info_source")
    metadata = {**nulls, "metadata_extra": '{"a":"1","b":"2"}'}
    # Spelled out by hand: keys sorted at every level, no whitespace, UTF-8 kept.
    expected = (
        '{"body_text":"正文","metadata":{'
        + ",".join(f'"{k}":{metadata[k]}' for k in sorted(metadata))
        + '},"sections":[{"extra":{},"next_steps":null,"number":1,"problems":null,'
        '"progress":null,"status":"滞后","title":"任务"}]}'
    )
    assert content_hash(doc) == hashlib.sha256(expected.encode("utf-8")).hexdigest()


#: A 宣城 report's record and its content hash, computed by govarchive before the page's
#: 来源 field was renamed (revision 0007). Archives hold hashes like this one: if it moved,
#: every stored page would look changed on its next crawl.
PINNED_DOC: dict[str, typing.Any] = {
    "encoding": "utf-8",
    "encoding_source": "meta",
    "metadata": {
        "title": "2021年度三季度政府工作报告任务进展情况",
        "index_no": "11341700744889543Y/202110-00006",
        "category": "决策部署落实情况",
        "publisher": "市数据资源局(市政务服务局)",
        "topic": "其他",
        "doc_number": None,
        "published_date": "2021-10-11",
        "published_at": "2021-10-11T09:25:00+08:00",
        "written_date": None,
        "effective_date": None,
        "expiry_date": None,
        "validity": None,
        "info_source": "宣城市人民政府(办公室)",
        "keywords": None,
        "summary": None,
        "metadata_extra": {"信息格式/语种": "中文"},
    },
    "sections": [
        {
            "number": 1,
            "title": "深化服务共享",
            "status": "持续推进",
            "progress": None,
            "problems": None,
            "next_steps": None,
            "extra": {},
        }
    ],
    "body_text": "一、深化服务共享。\n完成状态：持续推进",
    "warnings": [],
}
PINNED_HASH = "5e64cf8c9b3782bf4d56dfc99581c5dee3c994525c22395bd7301e624c29a6e0"


def test_content_hash_of_a_stored_record_never_moves() -> None:
    assert content_hash(typing.cast(ParsedDoc, PINNED_DOC)) == PINNED_HASH


def test_a_renamed_field_is_hashed_under_its_old_name() -> None:
    """``info_source`` hashes as ``source`` did: the same value under the old key gives
    the same hash, a different value a different one."""
    doc = make_doc()
    legacy = copy.deepcopy(doc)
    metadata: dict[str, typing.Any] = legacy["metadata"]
    metadata["source"] = metadata.pop("info_source")
    assert content_hash(legacy) == content_hash(doc)
    assert set(HASHED_NAMES) <= set(CANONICAL_FIELDS)
    assert not set(HASHED_NAMES.values()) & set(CANONICAL_FIELDS)


def test_raw_hash() -> None:
    assert raw_hash(b"<html>") == hashlib.sha256(b"<html>").hexdigest()


volatile = st.fixed_dictionaries(
    {
        "encoding": st.sampled_from(["utf-8", "gb18030", "big5"]),
        "encoding_source": st.sampled_from(["http", "bom", "meta", "detected", "fallback"]),
        "warnings": st.lists(st.text(max_size=20), max_size=3),
    }
)


@given(volatile)
def test_content_hash_ignores_encoding_and_warnings(changes: dict[str, typing.Any]) -> None:
    doc = make_doc()
    other = {**copy.deepcopy(doc), **changes}
    assert content_hash(other) == content_hash(doc)  # type: ignore[arg-type]


@given(st.permutations(list(make_doc()["metadata"])))
def test_content_hash_ignores_key_order(order: list[str]) -> None:
    doc = make_doc()
    reordered = copy.deepcopy(doc)
    metadata: dict[str, typing.Any] = dict(doc["metadata"])
    reordered["metadata"] = typing.cast(content.ParsedMetadata, {k: metadata[k] for k in order})
    assert content_hash(reordered) == content_hash(doc)


@pytest.mark.parametrize(
    "change",
    [
        *[("metadata", name) for name in CANONICAL_FIELDS if name != "published_at"],
        ("metadata", "metadata_extra"),
        ("section", "status"),
        ("section", "progress"),
        ("section", "problems"),
        ("section", "next_steps"),
        ("section", "title"),
        ("section", "extra"),
        ("body", "body_text"),
    ],
    ids=lambda c: f"{c[0]}.{c[1]}",
)
def test_every_content_field_changes_the_hash(change: tuple[str, str]) -> None:
    doc = make_doc()
    changed = copy.deepcopy(doc)
    kind, name = change
    if kind == "metadata":
        value: typing.Any = {"新": "值"} if name == "metadata_extra" else "2020-01-02"
        changed["metadata"][name] = value
    elif kind == "section":
        changed["sections"][0][name] = {"新": "值"} if name == "extra" else "已完成"  # type: ignore[literal-required]
    else:
        changed["body_text"] += "。"
    assert content_hash(changed) != content_hash(doc)


def test_version_values_converts_dates_and_times() -> None:
    values = version_values(make_doc(effective_date="2021-11-01"))
    assert values["published_date"] == date(2021, 10, 11)
    assert values["effective_date"] == date(2021, 11, 1)
    assert values["published_at"] == datetime(2021, 10, 11, 1, 25, tzinfo=UTC)
    assert values["published_at"].utcoffset() == timedelta(hours=8)
    assert values["published_at"].tzinfo == timezone(timedelta(hours=8))
    assert values["metadata_extra"] == {"信息格式/语种": "中文"}
    assert values["title"] == "2021年度三季度政府工作报告任务进展情况"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("published_date", "2021年10月11日", "metadata.published_date is not an ISO date"),
        ("written_date", "2021-02-30", "metadata.written_date is not an ISO date"),
        ("published_at", "2021-10-11T09:25:00", "metadata.published_at has no UTC offset"),
        ("published_at", "yesterday", "metadata.published_at is not an ISO datetime"),
        ("title", 42, "metadata.title must be a string or null"),
        ("metadata_extra", {"a": 1}, "metadata_extra must map strings to strings"),
    ],
)
def test_version_values_names_the_bad_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bad: dict[str, typing.Any] = {field: value}
        version_values(make_doc(**bad))


def test_section_values() -> None:
    rows = section_values(make_doc())
    assert [r["number"] for r in rows] == [1, 2]
    assert rows[1]["status"] == "滞后"
    assert rows[0]["extra"] == {"责任单位": "市数据资源局"}


def test_section_values_rejects_duplicate_numbers() -> None:
    doc: ParsedDoc = make_doc()
    doc["sections"][1]["number"] = 1
    with pytest.raises(ValueError, match=r"sections\[1\].number 1 occurs twice"):
        section_values(doc)


def _empty(**metadata: typing.Any) -> ParsedDoc:
    absent: dict[str, typing.Any] = {name: None for name in CANONICAL_FIELDS[1:]}
    doc = make_doc(body="", sections=[], **absent)
    doc["metadata"]["metadata_extra"] = {}
    doc["metadata"].update(metadata)
    return doc


def test_a_record_without_content_is_compared_by_its_raw_bytes() -> None:
    doc = _empty(title="只有标题")
    assert not content.carries_content(doc)
    assert content_hash(doc, b"edition one") != content_hash(doc, b"edition two")
    assert content_hash(doc, b"edition one") == content_hash(doc, b"edition one")
    assert content_hash(doc) == content_hash(doc, None)  # no bytes given: the record alone


@pytest.mark.parametrize(
    "doc",
    [
        make_doc(),
        make_doc(body="", sections=[]),  # a metadata block alone is content
        _empty(publisher="某局"),
        _empty(metadata_extra={"体裁分类": "通知"}),
    ],
)
def test_a_record_with_content_ignores_the_raw_bytes(doc: ParsedDoc) -> None:
    assert content.carries_content(doc)
    assert content_hash(doc, b"one") == content_hash(doc, b"two") == content_hash(doc)
