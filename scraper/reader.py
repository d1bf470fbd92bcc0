"""Reading a detail response: pages through the parser, documents through the extractors.

:func:`read_page` is what the crawl (and the re-parse of stored bytes) runs on every
detail response; it returns a :class:`~scraper.parse.PageRecord` either way. Pure: bytes
and headers in, record out; never raises.

- An HTML page goes to the parser. When the parser reads too little to represent the
  page (:func:`carries_little`: no article text, no sections and no metadata beyond a
  title), ``body_text`` becomes the page's whole visible text
  (:func:`scraper.parse.pagetext.page_text`) with a warning, so that an edit of a page in a
  layout the parser does not know is still a new version, while counters and stamps
  are not.
- Any other document (PDF, Word .docx, text, JSON, CSV …) is archived with its text in
  ``body_text`` (:mod:`scraper.extract`); one whose text cannot be read (.doc, .wps,
  .xls, a scanned PDF) keeps ``body_text`` empty and says so in a warning, and the
  archive then compares its bytes (:func:`storage.content.content_hash`).

What a body is depends only on its bytes and ``Content-Type``, never the URL, so stored
bytes are re-read exactly as they were first read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from scraper.extract import DocumentKind, extract_text, sniff_kind
from scraper.extract.result import KIND_NAMES
from scraper.parse import CANONICAL_FIELDS, Metadata, PageRecord, parse_page
from scraper.parse.pagetext import page_text

#: The warning of a page whose body_text is its whole visible text.
WHOLE_PAGE_WARNING = "no article, sections or metadata read: body_text is the page's visible text"


def read_page(
    data: bytes, *, url: str | None = None, headers: Mapping[str, str] | None = None
) -> PageRecord:
    """Return the record of one detail response (see the module docstring). Never raises."""
    content_type = _header(headers, "content-type")
    kind = sniff_kind(data, content_type)
    if kind is DocumentKind.HTML:
        record = parse_page(data, url=url, headers=headers)
        if not carries_little(record):
            return record
        text = page_text(data, content_type)
        if not text:
            return record
        return dataclasses.replace(
            record, body_text=text, warnings=(*record.warnings, WHOLE_PAGE_WARNING)
        )
    extracted = extract_text(data, kind, content_type)
    return PageRecord(
        metadata=Metadata(),
        sections=(),
        body_text=extracted.text,
        encoding=extracted.encoding,
        encoding_source=extracted.encoding_source,
        warnings=(f"read as {KIND_NAMES[kind]}, not as an HTML page", *extracted.warnings),
    )


def carries_little(record: PageRecord) -> bool:
    """Return whether ``record`` is too thin to tell two editions of its page apart: no
    body text, no sections, and no metadata besides the title (which most pages' <title>
    gives whatever they hold). Pure. (storage.content.carries_content is its twin on
    storage's side of the line; a test holds them to agree.)"""
    if record.body_text or record.sections or record.metadata.metadata_extra:
        return False
    return all(getattr(record.metadata, name) is None for name in CANONICAL_FIELDS[1:])


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None
