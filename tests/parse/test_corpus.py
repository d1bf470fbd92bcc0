"""The golden corpus: every page in tests/fixtures/pages/ parsed and compared with its golden JSON.

Each ``NN_name.html`` is a real-looking page; ``NN_name.json`` is what docs/parsing.md
says the parser must read from it (``PageRecord.to_dict()`` without ``warnings`` and
``attachments``, plus ``_input``: the URL and HTTP Content-Type to pass in). The goldens are derived
from the authored page data (tests/fixtures/builder/), never from the parser.

The parser and the ``parse`` command are imported inside the tests, so the corpus is
collected (and its own checks run) even where they do not exist yet.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scraper.parse.record import CANONICAL_FIELDS, SECTION_FIELDS, Metadata, PageRecord, Section

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES_DIR = FIXTURES / "pages"
PAGES = sorted(PAGES_DIR.glob("*.html"))
NAMES = [path.name for path in PAGES]
MIN_PAGES = 20
MIN_SIZE, MAX_SIZE = 20 * 1024, 80 * 1024

GOLDEN_KEYS = {
    "_note",
    "_input",
    "encoding",
    "encoding_source",
    "metadata",
    "sections",
    "body_text",
}
SECTION_KEYS = ("number", "title", *SECTION_FIELDS, "extra")

per_page = pytest.mark.parametrize("name", NAMES, ids=NAMES)


def _golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAGES_DIR / name).with_suffix(".json").read_text("utf-8"))
    return data


def _headers(golden: dict[str, Any]) -> dict[str, str] | None:
    content_type = golden["_input"]["content_type"]
    return {"content-type": content_type} if content_type else None


@functools.cache
def _parsed(name: str) -> PageRecord:
    from scraper.parse import parse_page

    golden = _golden(name)
    record: PageRecord = parse_page(
        (PAGES_DIR / name).read_bytes(), url=golden["_input"]["url"], headers=_headers(golden)
    )
    return record


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "…"


# ---------------------------------------------------------------- the corpus itself


def test_corpus_has_enough_pages_of_the_promised_size() -> None:
    assert len(PAGES) >= MIN_PAGES, f"only {len(PAGES)} fixture pages in {PAGES_DIR}"
    wrong = {
        path.name: path.stat().st_size
        for path in PAGES
        if not MIN_SIZE <= path.stat().st_size <= MAX_SIZE
    }
    assert not wrong, f"pages outside 20–80 KB: {wrong}"
    htmls = {path.stem for path in PAGES}
    jsons = {path.stem for path in PAGES_DIR.glob("*.json")}
    assert htmls == jsons, f"html without json: {htmls - jsons}; json without html: {jsons - htmls}"


@per_page
def test_golden_has_the_record_shape(name: str) -> None:
    """A golden is exactly PageRecord.to_dict() minus warnings and attachments, plus _input
    and _note. (Attachment links are not content the goldens derive from authored data:
    tests/parse/test_attachments.py holds them to pages labelled by hand.)"""
    golden = _golden(name)
    assert set(golden) == GOLDEN_KEYS
    assert set(golden["_input"]) == {"url", "content_type"}
    assert list(golden["metadata"]) == [*CANONICAL_FIELDS, "metadata_extra"]
    for section in golden["sections"]:
        assert list(section) == list(SECTION_KEYS)
    record = PageRecord(
        metadata=Metadata(**golden["metadata"]),
        sections=tuple(Section(**section) for section in golden["sections"]),
        body_text=golden["body_text"],
        encoding=golden["encoding"],
        encoding_source=golden["encoding_source"],
    )
    as_dict = record.to_dict()
    assert as_dict.pop("warnings") == []
    assert as_dict.pop("attachments") == []
    assert as_dict == {key: golden[key] for key in as_dict}
    numbers = [section["number"] for section in golden["sections"]]
    assert numbers == sorted(set(numbers)), f"section numbers not strictly increasing: {numbers}"


def _load_builder() -> ModuleType:
    """Import tests/fixtures/builder under a private name (it is not on sys.path)."""
    package = "_govarchive_fixture_builder"
    if package not in sys.modules:
        init = FIXTURES / "builder" / "__init__.py"
        spec = importlib.util.spec_from_file_location(
            package, init, submodule_search_locations=[str(init.parent)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.build")


def test_fixtures_are_what_the_builder_writes() -> None:
    """Nobody edited a golden by hand: regenerate in memory and compare byte for byte."""
    build = _load_builder()
    rendered = {page.name: (data, text) for page, data, text in build.render_pages()}
    assert sorted(rendered) == [path.stem for path in PAGES], (
        "fixture files and builder pages differ; run .venv/bin/python tests/fixtures/build_pages.py"
    )
    stale = [
        name
        for name, (data, text) in rendered.items()
        if (PAGES_DIR / f"{name}.html").read_bytes() != data
        or (PAGES_DIR / f"{name}.json").read_text("utf-8") != text
    ]
    assert not stale, f"out of date (rerun tests/fixtures/build_pages.py): {stale}"


# ---------------------------------------------------------------- the parser against the corpus


@per_page
def test_encoding(name: str) -> None:
    golden = _golden(name)
    record = _parsed(name)
    assert (record.encoding, record.encoding_source) == (
        golden["encoding"],
        golden["encoding_source"],
    ), f"{name}: encoding"


@per_page
def test_metadata_fields(name: str) -> None:
    expected = _golden(name)["metadata"]
    got = dataclasses.asdict(_parsed(name).metadata)
    wrong = [
        f"  {field}: expected {_show(expected[field])}, got {_show(got.get(field))}"
        for field in CANONICAL_FIELDS
        if got.get(field) != expected[field]
    ]
    assert not wrong, f"{name}: metadata fields differ:\n" + "\n".join(wrong)


@per_page
def test_metadata_extra(name: str) -> None:
    expected = _golden(name)["metadata"]["metadata_extra"]
    got = _parsed(name).metadata.metadata_extra
    missing = {k: v for k, v in expected.items() if k not in got}
    unexpected = {k: v for k, v in got.items() if k not in expected}
    both = expected.keys() & got.keys()
    changed = {k: (expected[k], got[k]) for k in both if expected[k] != got[k]}
    assert not (missing or unexpected or changed), (
        f"{name}: metadata_extra differs\n  missing: {missing}\n  unexpected: {unexpected}\n"
        f"  changed (expected, got): {changed}"
    )


@per_page
def test_sections(name: str) -> None:
    expected = _golden(name)["sections"]
    got = [dataclasses.asdict(section) for section in _parsed(name).sections]
    expected_numbers = [s["number"] for s in expected]
    got_numbers = [s["number"] for s in got]
    assert got_numbers == expected_numbers, (
        f"{name}: section numbers: expected {expected_numbers}, got {got_numbers}"
    )
    wrong = []
    for want, have in zip(expected, got, strict=True):
        for key in SECTION_KEYS[1:]:
            if have[key] != want[key]:
                wrong.append(
                    f"  section {want['number']} {key}: expected {_show(want[key])}, "
                    f"got {_show(have[key])}"
                )
    assert not wrong, f"{name}: section fields differ:\n" + "\n".join(wrong)


def _diff(expected: str, got: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), got.splitlines(), "golden", "parsed", lineterm="", n=1
    )
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:4000] + "\n…"


@per_page
def test_body_text(name: str) -> None:
    expected = _golden(name)["body_text"]
    got = _parsed(name).body_text
    assert got == expected, f"{name}: body_text differs:\n{_diff(expected, got)}"


# ---------------------------------------------------------------- govarchive parse --json


@functools.cache
def _cli_objects() -> dict[str, dict[str, Any]]:
    """Run ``govarchive parse --json`` once over every fixture; return the objects by input."""
    from click.testing import CliRunner

    from scraper.cli import cli

    paths = [str(path) for path in PAGES]
    result = CliRunner().invoke(cli, ["parse", "--json", *paths])
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output[-2000:]}"
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [obj["input"] for obj in objects] == paths, "one object per input, in input order"
    return {Path(obj["input"]).name: obj for obj in objects}


@per_page
def test_cli_json_matches_golden(name: str) -> None:
    """``parse --json`` prints what the library reads. The CLI gets only the path, so the page
    declared by its HTTP header alone must come out right through detection."""
    golden = _golden(name)
    obj = _cli_objects()[name]
    for key in ("metadata", "sections", "body_text"):
        assert obj[key] == golden[key], f"{name}: parse --json {key} differs from the golden"
