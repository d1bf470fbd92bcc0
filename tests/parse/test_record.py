"""PageRecord.to_dict: the JSON/storage shape, built by hand for speed, equals asdict's."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from scraper.parse import (
    CANONICAL_FIELDS,
    PARSER_VERSION,
    SECTION_FIELDS,
    Metadata,
    PageRecord,
    Section,
    parse_page,
)
from scraper.parse.record import AttachmentLink
from storage.content import HASHED_NAMES

PAGES = sorted((Path(__file__).parent.parent / "fixtures" / "pages").glob("*.html"))


def _slow_dict(record: PageRecord) -> dict[str, object]:
    return {
        "encoding": record.encoding,
        "encoding_source": record.encoding_source,
        "metadata": asdict(record.metadata),
        "sections": [asdict(s) for s in record.sections],
        "body_text": record.body_text,
        "warnings": list(record.warnings),
        "attachments": [asdict(a) for a in record.attachments],
    }


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_to_dict_equals_asdict_on_every_fixture(page: Path) -> None:
    record = parse_page(page.read_bytes())
    assert record.to_dict() == _slow_dict(record)


def test_to_dict_keys_are_the_public_field_names() -> None:
    record = PageRecord(
        metadata=Metadata(title="t", metadata_extra={"体裁分类": "通知"}),
        sections=(Section(number=1, title="a", status="持续推进", extra={"责任单位": "市局"}),),
        body_text="正文",
        encoding="utf-8",
        encoding_source="meta",
        warnings=("w",),
        attachments=(AttachmentLink("http://a.cn/a.pdf", "附件", "a.pdf", "pdf"),),
    )
    d = record.to_dict()
    assert list(d["metadata"]) == [*CANONICAL_FIELDS, "metadata_extra"]
    assert list(d["sections"][0]) == ["number", "title", *SECTION_FIELDS, "extra"]
    assert d == _slow_dict(record)
    # the dict is a copy: changing it never changes the frozen record
    d["metadata"]["metadata_extra"]["x"] = "y"
    assert record.metadata.metadata_extra == {"体裁分类": "通知"}


#: The record's fields as of the parser version named. The content hash covers every key
#: of the record, a null one too, so a record that gains a field hashes differently for
#: every page: only a new PARSER_VERSION makes the crawl re-read the stored latest version
#: before comparing (storage/archive.py) instead of filing every page as changed. Update
#: this pin whenever PARSER_VERSION is bumped (docs/contributing.md, "Adding a field").
#: The names are those hashed: a field renamed but hashed under its old name
#: (storage.content.HASHED_NAMES, e.g. ``info_source`` as ``source``) hashes as before
#: and needs no new version.
RECORD_FIELDS_AS_OF: tuple[str, tuple[str, ...], tuple[str, ...]] = (
    "3",
    (
        "title",
        "index_no",
        "category",
        "publisher",
        "topic",
        "doc_number",
        "published_date",
        "published_at",
        "written_date",
        "effective_date",
        "expiry_date",
        "validity",
        "source",
        "keywords",
        "summary",
    ),
    ("status", "progress", "problems", "next_steps"),
)


def test_a_new_field_comes_with_a_new_parser_version() -> None:
    version, fields, section_fields = RECORD_FIELDS_AS_OF
    assert version == PARSER_VERSION, "PARSER_VERSION was bumped: update RECORD_FIELDS_AS_OF"
    hashed = tuple(HASHED_NAMES.get(name, name) for name in CANONICAL_FIELDS)
    assert (fields, section_fields) == (hashed, SECTION_FIELDS), (
        "the record's fields changed: bump PARSER_VERSION (scraper/parse/__init__.py)"
    )
