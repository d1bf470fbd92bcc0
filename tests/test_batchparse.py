"""scraper.crawling.batchparse: `govarchive reparse` parses each batch across worker
processes and gets exactly what one process would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scraper.crawling import batchparse
from scraper.crawling.batchparse import BatchParser
from scraper.crawling.pipeline import reparse_raw
from storage.content import ParsedDoc
from storage.reparse import ParseFailed, parse_each, reparse
from tests.research_archive import build, parse_v2

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def corpus() -> list[tuple[bytes, str | None]]:
    """The builder and real fixture pages, as a reparse batch holds them."""
    pages = sorted((FIXTURES / "pages").glob("*.html")) + sorted((FIXTURES / "real").glob("*.html"))
    return [(path.read_bytes(), "text/html") for path in pages]


def parse_with_pid(raw: bytes, content_type: str | None) -> ParsedDoc:
    """A parse whose body text says which process ran it (module level: workers
    import it)."""
    doc = reparse_raw(raw, content_type)
    doc["body_text"] = str(os.getpid())
    return doc


def parse_or_fail(raw: bytes, content_type: str | None) -> ParsedDoc:
    if b"FAIL" in raw:
        raise ValueError("unreadable table")
    return reparse_raw(raw, content_type)


def pids(docs: list[ParsedDoc | Exception]) -> set[str | None]:
    return {doc["body_text"] for doc in docs if not isinstance(doc, Exception)}


def test_a_batch_parsed_in_workers_is_what_one_process_makes_of_it() -> None:
    items = corpus()
    assert len(items) >= batchparse.MIN_PARALLEL_BATCH
    with BatchParser(2) as parse_many:
        assert parse_many(items) == parse_each(reparse_raw)(items)


def test_large_batches_go_to_the_workers_small_ones_stay_here() -> None:
    with BatchParser(2, parse_with_pid) as parse_many:
        large = parse_many([(b"<p>x</p>", None)] * batchparse.MIN_PARALLEL_BATCH)
        small = parse_many([(b"<p>x</p>", None)] * (batchparse.MIN_PARALLEL_BATCH - 1))
    assert len(large) == batchparse.MIN_PARALLEL_BATCH
    assert str(os.getpid()) not in pids(large)
    assert pids(small) == {str(os.getpid())}
    with BatchParser(1, parse_with_pid) as one:
        alone = one([(b"<p>x</p>", None)] * 200)
    assert pids(alone) == {str(os.getpid())}


def test_a_failure_in_a_worker_comes_back_in_its_place_named_as_here() -> None:
    items: list[tuple[bytes, str | None]] = [(b"<p>ok</p>", None)] * 100
    items[37] = (b"FAIL", None)
    with BatchParser(2, parse_or_fail) as parse_many:
        docs = parse_many(items)
    failed = docs[37]
    assert isinstance(failed, ParseFailed)
    assert str(failed) == "ValueError: unreadable table"
    ok = reparse_raw(b"<p>ok</p>", None)
    assert all(doc == ok for i, doc in enumerate(docs) if i != 37)
    here = parse_each(parse_or_fail)([(b"FAIL", None)])[0]
    assert f"{type(here).__name__}: {here}" == str(failed)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        BatchParser(0)


def test_reparse_with_workers_fixes_rows_as_in_one_process(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine)
    monkeypatch.setattr(batchparse, "MIN_PARALLEL_BATCH", 1)  # the archive holds six versions
    with BatchParser(2, parse_v2) as parse_many:
        report = reparse(engine, parse_v2, "2", parse_many=parse_many)
    assert (report.candidates, report.examined, report.changed, report.failed) == (6, 6, 6, 0)
    assert dict(report.fields) == {"metadata_extra": 6, "sections": 5}
    assert dict(report.section_values) == {"status": 8}
