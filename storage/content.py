"""What storage is handed for one parsed page, and the hashes that decide versions. Pure.

:class:`ParsedDoc` mirrors ``scraper.parse.record.PageRecord.to_dict()`` key for key
(storage never imports scraper; a test asserts the two field lists are identical).

- :func:`content_hash` — SHA-256 (hex) of the canonical JSON of ``metadata`` (with
  ``metadata_extra``), ``sections`` and ``body_text``: keys sorted, no whitespace,
  UTF-8, non-ASCII kept as is. ``encoding``, ``encoding_source`` and ``warnings`` are
  left out, so re-encoding a page or a new warning text never makes a version. A record
  that carries no content (:func:`carries_content`: no body text, no sections, no
  metadata besides a title — a document whose text cannot be read, a page with no
  visible text) cannot tell two editions apart, so its hash covers the raw bytes too:
  an edit is never recorded as ``unchanged`` for want of anything parsed. The SHA-256
  of the page's attachments (:mod:`storage.attachments`), when it has any, are covered
  too: a replaced attachment is a new version of the page.
- :func:`raw_hash` — SHA-256 (hex) of the raw response bytes.
- :func:`version_values` / :func:`section_values` — the column values of a
  ``page_versions`` row and its ``task_sections`` rows; they raise ValueError naming
  the field when a value cannot be stored (e.g. a date that is not ISO).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NotRequired, TypeAlias, TypedDict

from sqlalchemy import Date

# The field lists are declared once, by the models; re-exported for the modules that
# store and compare content.
from storage.models import CANONICAL_FIELDS as CANONICAL_FIELDS
from storage.models import PAGE_VERSIONS
from storage.models import SECTION_FIELDS as SECTION_FIELDS
from storage.types import UTCDateTime

#: Metadata fields holding an ISO ``YYYY-MM-DD`` date: those with a DATE column.
DATE_FIELDS: frozenset[str] = frozenset(
    name for name in CANONICAL_FIELDS if isinstance(PAGE_VERSIONS.c[name].type, Date)
)

#: Metadata fields holding an ISO datetime with offset: those with a timestamp column.
DATETIME_FIELDS: frozenset[str] = frozenset(
    name for name in CANONICAL_FIELDS if isinstance(PAGE_VERSIONS.c[name].type, UTCDateTime)
)

#: The labelled metadata block: each of :data:`CANONICAL_FIELDS` (a string or None) and
#: ``metadata_extra`` (every other label → value). A plain dict rather than a TypedDict
#: so that a new field is declared once, in the model; :func:`version_values` checks
#: every value's type when a version is stored.
ParsedMetadata: TypeAlias = dict[str, Any]


class ParsedSection(TypedDict):
    """One numbered task section of a progress report."""

    number: int
    title: str
    status: str | None
    progress: str | None
    problems: str | None
    next_steps: str | None
    extra: dict[str, str]


class ParsedAttachmentLink(TypedDict):
    """One file the page links to or shows (``scraper.parse.record.AttachmentLink``)."""

    url: str
    text: str
    filename: str | None
    extension: str
    image: bool


class ParsedDoc(TypedDict):
    """One parsed page, exactly as ``PageRecord.to_dict()`` returns it.

    ``attachments`` is NotRequired: the parser always gives it, but documents built
    before it existed (by hand in tests and benches, or stored as JSON) lack it; read it
    with ``doc.get("attachments", [])``. It is not part of :func:`content_hash`."""

    encoding: str
    encoding_source: str
    metadata: ParsedMetadata
    sections: list[ParsedSection]
    body_text: str
    warnings: list[str]
    attachments: NotRequired[list[ParsedAttachmentLink]]


def canonical_json(value: Any) -> bytes:
    """Return ``value`` as canonical JSON bytes: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


#: Metadata fields hashed under an earlier name: the hash of a record that has not changed
#: must not move when a field is renamed, or every stored page would look changed on its
#: next crawl. ``info_source`` (the page's 来源) was ``source`` until revision 0007.
HASHED_NAMES: dict[str, str] = {"info_source": "source"}


def content_hash(
    doc: ParsedDoc, raw: bytes | None = None, attachments: Sequence[str | None] = ()
) -> str:
    """Return the SHA-256 hex digest of the page's normalised content.

    Covers ``metadata`` (incl. ``metadata_extra``), ``sections`` and ``body_text``;
    never ``encoding``, ``encoding_source`` or ``warnings``. A field renamed since it was
    first hashed is hashed under its old name (:data:`HASHED_NAMES`). When ``raw`` (the response
    body the record was read from) is given and the record carries no content
    (:func:`carries_content`), the SHA-256 of ``raw`` is covered as well.
    ``attachments`` are the SHA-256 of the page's attachments in page order (None for
    one never downloaded): covered when there are any, so a page without attachments
    hashes as it did before attachments were archived.
    """
    metadata: Mapping[str, Any] = doc["metadata"]
    hashed: dict[str, Any] = {
        "metadata": {HASHED_NAMES.get(name, name): value for name, value in metadata.items()},
        "sections": doc["sections"],
        "body_text": doc["body_text"],
    }
    if raw is not None and not carries_content(doc):
        hashed["raw_hash"] = raw_hash(raw)
    if attachments:
        hashed["attachments"] = list(attachments)
    return hashlib.sha256(canonical_json(hashed)).hexdigest()


def carries_content(doc: ParsedDoc) -> bool:
    """Return whether ``doc`` holds anything that tells two editions of a page apart:
    body text, a section, or a metadata field besides the title (``<title>`` gives most
    pages one whatever they hold). Pure. (scraper.reader.carries_little is its twin on
    the parser's side; a test holds them to agree.)"""
    if doc["body_text"] or doc["sections"]:
        return True
    metadata: Mapping[str, Any] = doc["metadata"]
    if metadata.get("metadata_extra"):
        return True
    return any(metadata.get(name) is not None for name in CANONICAL_FIELDS[1:])


def raw_hash(raw: bytes) -> str:
    """Return the SHA-256 hex digest of the raw response bytes."""
    return hashlib.sha256(raw).hexdigest()


def version_values(doc: ParsedDoc) -> dict[str, Any]:
    """Return the ``page_versions`` column values taken from ``doc``: the canonical
    fields (dates as :class:`date`, ``published_at`` as an aware :class:`datetime`),
    ``metadata_extra``, ``body_text``, ``encoding``, ``encoding_source``, ``warnings``.

    Raises ValueError naming the field when a value has the wrong shape.
    """
    metadata = _mapping(doc, "metadata")
    values: dict[str, Any] = {}
    for name in CANONICAL_FIELDS:
        raw = metadata.get(name)
        if raw is not None and not isinstance(raw, str):
            raise ValueError(f"metadata.{name} must be a string or null, not {raw!r}")
        values[name] = _convert(name, raw)
    values["metadata_extra"] = _str_dict(metadata.get("metadata_extra", {}), "metadata_extra")
    values["body_text"] = _str(doc, "body_text")
    values["encoding"] = _str(doc, "encoding")
    values["encoding_source"] = _str(doc, "encoding_source")
    warnings = doc.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise ValueError(f"warnings must be a list of strings, not {warnings!r}")
    values["warnings"] = list(warnings)
    return values


def section_values(doc: ParsedDoc) -> list[dict[str, Any]]:
    """Return one ``task_sections`` row (without ``version_id``) per section of ``doc``.

    Raises ValueError when a section lacks an int ``number`` or a string ``title``, or
    when two sections share a number.
    """
    sections = doc.get("sections")
    if not isinstance(sections, list):
        raise ValueError(f"sections must be a list, not {sections!r}")
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, section in enumerate(sections):
        where = f"sections[{index}]"
        number = section.get("number") if isinstance(section, Mapping) else None
        if not isinstance(number, int) or isinstance(number, bool):
            raise ValueError(f"{where}.number must be an int, not {number!r}")
        if number in seen:
            raise ValueError(f"{where}.number {number} occurs twice")
        seen.add(number)
        title = section.get("title")
        if not isinstance(title, str):
            raise ValueError(f"{where}.title must be a string, not {title!r}")
        row: dict[str, Any] = {"number": number, "title": title}
        for name in SECTION_FIELDS:
            value = section.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{where}.{name} must be a string or null, not {value!r}")
            row[name] = value
        row["extra"] = _str_dict(section.get("extra", {}), f"{where}.extra")
        rows.append(row)
    return rows


def _convert(name: str, value: str | None) -> Any:
    if value is None:
        return None
    if name in DATE_FIELDS:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"metadata.{name} is not an ISO date: {value!r}") from None
    if name in DATETIME_FIELDS:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"metadata.{name} is not an ISO datetime: {value!r}") from None
        if parsed.utcoffset() is None:
            raise ValueError(f"metadata.{name} has no UTC offset: {value!r}")
        return parsed
    return value


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} must be an object, not {value!r}")
    return value


def _str(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    return value


def _str_dict(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{where} must map strings to strings, not {value!r}")
    return dict(value)
