"""The parser held to real pages: tests/fixtures/real/, labelled by hand (tests/realcorpus.py).

Field by field for every page, the article text (what body_text must start and end with,
contain, and never contain), the task sections of real progress reports, and the corpus's
own promises: byte-exact pages with provenance, from many sites in many provinces.

A field the parser still reads wrong is listed in KNOWN_MISSES with the reason; those tests
are strict xfails, so a fix that makes one right fails until the entry is removed. The
fidelity test holds the whole: at least 97% of fields right, overall and per field.
"""

from __future__ import annotations

from collections import Counter

import pytest

from scraper.parse.record import CANONICAL_FIELDS
from tests.realcorpus import (
    CORE_FIELDS,
    LABELLED_FIELDS,
    REAL_DIR,
    RealPage,
    field_results,
    git_blob_id,
    load_pages,
    parsed,
    section_dicts,
    sites,
    tally,
)

PAGES = load_pages()
BY_SLUG = {page.slug: page for page in PAGES}
SLUGS = [page.slug for page in PAGES]

#: (slug, field) → why the parser still reads it wrong. Every entry is a strict xfail.
KNOWN_MISSES: dict[tuple[str, str], str] = {}

#: The fidelity the corpus holds the parser to (issue 9).
MIN_RATE = 0.97
#: A field counts for the per-field target when this many pages label it.
MIN_PAGES_PER_FIELD = 10

per_page = pytest.mark.parametrize("slug", SLUGS)


def _field_cases() -> list[object]:
    cases: list[object] = []
    for page in PAGES:
        for name in page.fields():
            reason = KNOWN_MISSES.get((page.slug, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(page.slug, name, marks=marks, id=f"{page.slug}-{name}"))
    return cases


# ------------------------------------------------------------------ the corpus itself


def test_the_corpus_is_large_and_varied() -> None:
    assert len(PAGES) >= 60
    assert len(sites(PAGES)) >= 40
    regions = {page.provenance["region"] for page in PAGES}
    assert len(regions) >= 15, sorted(regions)
    levels = Counter(page.provenance["level"] for page in PAGES)
    assert {"ministry", "province", "city", "county"} <= set(levels), levels
    encodings = Counter(page.provenance["encoding"] for page in PAGES)
    assert encodings["gb2312"] + encodings["gbk"] + encodings["gb18030"] >= 2, encodings
    kinds = Counter(page.provenance["kind"] for page in PAGES)
    assert kinds["document"] >= 20 and kinds["news"] + kinds["notice"] >= 5, kinds


@per_page
def test_each_page_is_the_saved_bytes_with_its_provenance(slug: str) -> None:
    page = BY_SLUG[slug]
    provenance = page.provenance
    for key in ("repository", "commit", "path", "blob", "sha256", "site", "region", "level"):
        assert provenance.get(key), f"{slug}: provenance lacks {key}"
    data = page.data
    # The file is the repository's blob, byte for byte.
    assert git_blob_id(data) == provenance["blob"]
    import hashlib

    assert hashlib.sha256(data).hexdigest() == provenance["sha256"]


def test_the_corpus_knows_every_field() -> None:
    """A metadata field added to the parser is labelled on the real pages that show it:
    tests/realcorpus.py lists it (OPTIONAL_FIELDS for a new one) and the README's label
    table says which labels mean it. ``published_at`` is never labelled."""
    assert set(LABELLED_FIELDS) | {"published_at"} == set(CANONICAL_FIELDS)
    readme = (REAL_DIR / "README.md").read_text("utf-8")
    for name in LABELLED_FIELDS:
        assert f"\n| {name} |" in readme, name


@per_page
def test_each_golden_labels_the_core_fields(slug: str) -> None:
    expected = BY_SLUG[slug].expected
    assert set(CORE_FIELDS) <= set(expected), set(CORE_FIELDS) - set(expected)
    assert isinstance(expected["sections"], list)


# ------------------------------------------------------------------ metadata, field by field


@pytest.mark.parametrize(("slug", "name"), _field_cases())
def test_field(slug: str, name: str) -> None:
    (result,) = [r for r in field_results(BY_SLUG[slug]) if r.field == name]
    assert result.got == result.expected


def test_fidelity_overall_and_per_field() -> None:
    results = [result for page in PAGES for result in field_results(page)]
    overall, per_field = tally(results)
    assert overall.rate >= MIN_RATE, f"{overall.right}/{overall.total} fields right"
    for name, counts in per_field.items():
        if counts.total >= MIN_PAGES_PER_FIELD:
            assert counts.rate >= MIN_RATE, f"{name}: {counts.right}/{counts.total} right"


def test_known_misses_name_real_pages_and_fields() -> None:
    for slug, name in KNOWN_MISSES:
        assert slug in BY_SLUG and name in BY_SLUG[slug].expected, (slug, name)


# ------------------------------------------------------------------ sections


@per_page
def test_sections(slug: str) -> None:
    page = BY_SLUG[slug]
    assert section_dicts(parsed(page.path)) == page.expected["sections"]


# ------------------------------------------------------------------ body_text is the article


def _lines(page: RealPage) -> list[str]:
    return parsed(page.path).body_text.split("\n")


@per_page
def test_body_starts_and_ends_with_the_article(slug: str) -> None:
    page = BY_SLUG[slug]
    body = parsed(page.path).body_text
    if page.body.get("empty"):
        assert body == ""
        return
    if page.body.get("starts_with"):
        assert body.startswith(page.body["starts_with"]), body[:200]
    if page.body.get("ends_with"):
        assert body.endswith(page.body["ends_with"]), body[-200:]


@per_page
def test_body_contains_the_article(slug: str) -> None:
    page = BY_SLUG[slug]
    body = parsed(page.path).body_text
    missing = [snippet for snippet in page.body.get("contains", []) if snippet not in body]
    assert not missing


@per_page
def test_body_is_nothing_but_the_article(slug: str) -> None:
    page = BY_SLUG[slug]
    body = parsed(page.path).body_text
    found = [snippet for snippet in page.body["absent"] if snippet in body]
    assert not found, "page chrome in body_text"
