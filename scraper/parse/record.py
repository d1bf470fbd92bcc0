"""The parser's output: typed, immutable records.

The field names here are the public interface: they are the keys of
``govarchive parse --json`` and the column names of ``page_versions`` and
``task_sections``. Change them only as docs/contributing.md ("Adding a field") says: with
the model's column, a migration and a new PARSER_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Metadata:
    """The labelled metadata block of a disclosure page: the parser's list of metadata
    fields (:data:`CANONICAL_FIELDS` is read from it), one ``page_versions`` column each.

    Dates are ISO ``YYYY-MM-DD`` strings. ``published_at`` is an ISO 8601
    datetime with the page's offset (``2021-10-11T09:25:00+08:00``; Chinese
    government sites publish in China Standard Time) when the page gives a time,
    else None. ``metadata_extra`` holds every other labelled field, label → value.
    """

    title: str | None = None
    index_no: str | None = None
    category: str | None = None
    publisher: str | None = None
    topic: str | None = None
    doc_number: str | None = None
    published_date: str | None = None
    published_at: str | None = None
    written_date: str | None = None
    effective_date: str | None = None
    expiry_date: str | None = None
    validity: str | None = None
    info_source: str | None = None
    keywords: str | None = None
    summary: str | None = None
    metadata_extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Section:
    """One numbered top-level task of a progress report (一、… / 任务一、…)."""

    number: int
    title: str
    status: str | None = None
    progress: str | None = None
    problems: str | None = None
    next_steps: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttachmentLink:
    """A file the page links to or shows: the document as an attachment (附件：1. ….pdf),
    found by :mod:`scraper.parse.filelinks` (docs/parsing.md, "Attachment links").

    ``url`` is absolute and normalised. ``text`` is the link's text, whitespace collapsed
    (an image's ``alt`` or ``title``). ``filename`` is the best file name the page gives:
    the link text when it ends in a known extension, else a ``filename=``/``name=`` query
    parameter (percent-decoded, UTF-8 or GBK), else the URL path's last segment when it
    has a known extension; None otherwise. ``extension`` is the known extension of
    ``filename`` or of the URL path, lower case, without the dot (``''`` when neither
    has one: a download handler with no name). ``image`` marks an ``<img>`` of the
    article body (a link ``<a href="….jpg">`` is not one).
    """

    url: str
    text: str
    filename: str | None
    extension: str
    image: bool = False


#: Canonical metadata fields, in the order they are printed and stored: the fields of
#: Metadata. Its twin on storage's side is storage.models.CANONICAL_FIELDS (the
#: ``page_versions`` columns; the parser never imports storage), held equal by a test.
CANONICAL_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Metadata) if f.name != "metadata_extra"
)

#: Fields of a task section besides ``number``, ``title`` and ``extra``: those of Section.
SECTION_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Section) if f.name not in ("number", "title", "extra")
)


@dataclass(frozen=True, slots=True)
class PageRecord:
    """Everything the parser read from one page.

    ``encoding`` is the codec the bytes were decoded with (``gb18030``, ``utf-8``…);
    ``encoding_source`` says how it was chosen: ``http``, ``bom``, ``meta``,
    ``detected`` or ``fallback``. ``warnings`` are human-readable notes on what
    could not be read ("no metadata block found"); they never stop parsing.
    ``attachments`` are the files the page links to (:class:`AttachmentLink`).
    """

    metadata: Metadata
    sections: tuple[Section, ...]
    body_text: str
    encoding: str
    encoding_source: str
    warnings: tuple[str, ...] = ()
    #: The page's attachment links, in document order (not part of the content hash).
    attachments: tuple[AttachmentLink, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form printed by ``govarchive parse --json``
        (without ``input``) and handed to :mod:`storage` by the pipeline."""
        # Built field by field: dataclasses.asdict's deep-copying recursion costs
        # about 0.2 ms a page, a fifth of a parse, paid once per page crawled or
        # re-parsed. tests/parse/test_record.py checks the two agree.
        metadata = self.metadata
        meta: dict[str, Any] = {name: getattr(metadata, name) for name in CANONICAL_FIELDS}
        meta["metadata_extra"] = dict(metadata.metadata_extra)
        return {
            "encoding": self.encoding,
            "encoding_source": self.encoding_source,
            "metadata": meta,
            "sections": [
                {
                    "number": s.number,
                    "title": s.title,
                    "status": s.status,
                    "progress": s.progress,
                    "problems": s.problems,
                    "next_steps": s.next_steps,
                    "extra": dict(s.extra),
                }
                for s in self.sections
            ],
            "body_text": self.body_text,
            "warnings": list(self.warnings),
            "attachments": [
                {
                    "url": a.url,
                    "text": a.text,
                    "filename": a.filename,
                    "extension": a.extension,
                    "image": a.image,
                }
                for a in self.attachments
            ],
        }
