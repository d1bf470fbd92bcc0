"""The real-page corpus in tests/fixtures/real/: loading it, and holding the parser to it.

Each ``<slug>.html`` is the exact bytes of a page a government site served, as saved
in a public repository; ``<slug>.json`` says where it came from (``provenance``) and
what a careful reader takes from it (``expected``, ``body``), labelled by hand from
the page and never from the parser (tests/fixtures/real/README.md gives the rules).

Used by tests/parse/test_real_corpus.py, which asserts page by page, and by
bench/fidelity.py, which prints the per-field accuracy table.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scraper.parse import parse_page
from scraper.parse.record import PageRecord

REAL_DIR = Path(__file__).resolve().parent / "fixtures" / "real"

#: Fields every golden gives (null when the page shows no value).
CORE_FIELDS: tuple[str, ...] = (
    "title",
    "index_no",
    "category",
    "publisher",
    "topic",
    "doc_number",
    "published_date",
    "written_date",
)
#: Fields a golden gives only where the page shows them with a label.
OPTIONAL_FIELDS: tuple[str, ...] = (
    "effective_date",
    "expiry_date",
    "validity",
    "info_source",
    "keywords",
    "summary",
)
LABELLED_FIELDS: tuple[str, ...] = CORE_FIELDS + OPTIONAL_FIELDS
SECTION_KEYS: tuple[str, ...] = (
    "number",
    "title",
    "status",
    "progress",
    "problems",
    "next_steps",
    "extra",
)


@dataclass(frozen=True, slots=True)
class RealPage:
    """One corpus page: its bytes' path and its hand-written golden."""

    slug: str
    path: Path
    provenance: dict[str, Any]
    expected: dict[str, Any]
    body: dict[str, Any]

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    def fields(self) -> list[str]:
        """The metadata fields this page's golden labels, in canonical order."""
        return [name for name in LABELLED_FIELDS if name in self.expected]


@dataclass(frozen=True, slots=True)
class FieldResult:
    slug: str
    field: str
    expected: str | None
    got: str | None

    @property
    def right(self) -> bool:
        return self.expected == self.got


def load_pages(folder: Path = REAL_DIR) -> list[RealPage]:
    """Return every page of the corpus, sorted by slug."""
    pages = []
    for path in sorted(folder.glob("*.html")):
        golden = json.loads(path.with_suffix(".json").read_text("utf-8"))
        pages.append(
            RealPage(
                slug=path.stem,
                path=path,
                provenance=golden["provenance"],
                expected=golden["expected"],
                body=golden["body"],
            )
        )
    return pages


@functools.cache
def parsed(path: Path) -> PageRecord:
    """The parser's record for a corpus page (bytes only: no URL, no headers, as saved)."""
    return parse_page(path.read_bytes())


def normalized(value: str | None) -> str | None:
    """Whitespace-normalised text, as both the labels and the parser give it."""
    return None if value is None else " ".join(value.split())


def field_results(page: RealPage, record: PageRecord | None = None) -> list[FieldResult]:
    """The parser's value beside the golden's, for every field the page labels."""
    record = record if record is not None else parsed(page.path)
    return [
        FieldResult(
            page.slug,
            name,
            normalized(page.expected[name]),
            normalized(getattr(record.metadata, name)),
        )
        for name in page.fields()
    ]


def section_dicts(record: PageRecord) -> list[dict[str, Any]]:
    """The record's sections in the golden's shape."""
    sections: list[dict[str, Any]] = record.to_dict()["sections"]
    return sections


@dataclass(frozen=True, slots=True)
class Tally:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


def tally(results: Iterable[FieldResult]) -> tuple[Tally, dict[str, Tally]]:
    """Overall and per-field counts of right values."""
    overall = Tally()
    per_field: dict[str, Tally] = {}
    for result in results:
        add = int(result.right)
        overall = Tally(overall.right + add, overall.total + 1)
        old = per_field.get(result.field, Tally())
        per_field[result.field] = Tally(old.right + add, old.total + 1)
    return overall, per_field


def git_blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sites(pages: Sequence[RealPage]) -> set[str]:
    return {page.provenance["site"] for page in pages}
