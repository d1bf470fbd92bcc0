"""``import-warc``: a source's history from web-archive files (WARC and ARC).

:func:`import_warc` composes the parts; every decision is one a crawl already makes:

1. :class:`~scraper.warc.records.WarcReader` reads each file's response and revisit
   records (their bodies only when needed). A file that turns out truncated or corrupt
   keeps every record before the bad point; the problem names the file and byte offset.
2. Which URLs are the source's pages: with ``url_pattern``, those it matches; otherwise
   the crawl's own discovery (:func:`scraper.crawling.discover.discover_detail_urls`)
   walks the list pages the files hold (:class:`~scraper.warc.replay.ReplayFetcher`), and
   every capture of each list page walked adds the detail links it had then (so a
   document since taken off the list is found too); plus the pages already archived.
3. Every capture of those URLs, oldest first, not read by an earlier import: classified
   as a fetch is (redirect, block page, 404 or soft-404, other status), parsed in the
   crawl's parser workers within ``parse_timeout``, its attachments taken from the
   captures nearest in time (:class:`~scraper.crawling.filefetch.AttachmentCollector`
   with the replay fetcher), and archived at its capture time by
   :func:`storage.backfill.archive_capture`, which places it among the page's versions.

Writes the ``sources`` row if new, and what :mod:`storage.backfill` writes; one
transaction per capture, so an interrupted import keeps what it wrote and a rerun
goes on from there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Engine

from scraper.config import SourceConfig
from scraper.crawling.discover import discover_detail_urls
from scraper.crawling.filefetch import AttachmentCollector, choose_attachments
from scraper.crawling.parsepool import ParserPool, ParseTimeout
from scraper.crawling.pipeline import reparse_raw
from scraper.errors import InputError
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urls import is_allowed
from scraper.parse import PARSER_VERSION
from scraper.parse.encoding import decode_html
from scraper.parse.links import extract_links
from scraper.warc.records import CaptureRef, ScanProblem, WarcReader
from scraper.warc.replay import Answer, CaptureIndex, ReplayFetcher
from storage import backfill
from storage.archive import ensure_source, known_pages
from storage.attachments import AttachmentFile
from storage.content import ParsedDoc
from storage.models import CaptureOutcome

log = logging.getLogger(__name__)

_UNRESOLVED = "its original record is in none of the files"

#: What a fetch outcome of a capture means for the import.
_SKIPPED: dict[FetchKind, CaptureOutcome] = {
    FetchKind.GONE: CaptureOutcome.GONE,
    FetchKind.BLOCKED: CaptureOutcome.BLOCKED,
    FetchKind.OFFSITE: CaptureOutcome.REDIRECT,
    FetchKind.TOO_LARGE: CaptureOutcome.ERROR,
    FetchKind.ERROR: CaptureOutcome.ERROR,
}


@dataclass(slots=True)
class ImportReport:
    """What an import read and did. ``outcomes`` counts the captures of this import by
    ``warc_captures.outcome``; ``already`` those an earlier import read; ``problems``
    the files that could not be read to their end."""

    files: list[Path]
    records: int = 0
    other_records: int = 0
    page_urls: int = 0
    captures: int = 0
    already: int = 0
    new_pages: int = 0
    renumbered: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: list[ScanProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Capture:
    url: str
    answer: Answer
    #: The page's next capture has the same payload: a changed answer is confirmed.
    confirmed: bool


async def import_warc(
    engine: Engine,
    source: SourceConfig,
    paths: Sequence[Path],
    parser: ParserPool,
    *,
    url_pattern: re.Pattern[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Import the captures of ``source``'s pages held in ``paths`` and return the report.

    ``progress(done, total)`` is called after each capture. Raises InputError when a
    file cannot be opened or is not a WARC or ARC file (before anything is written);
    StorageError when the database fails (what was committed stays). A file that is
    truncated or corrupt part-way is not an error: its records before the bad point
    are imported and ``problems`` names it."""
    report = ImportReport(files=list(paths))
    with WarcReader(paths) as reader:
        refs: list[CaptureRef] = []
        for path in paths:
            scan = reader.scan(path)
            refs.extend(scan.refs)
            report.other_records += scan.other_records
            if scan.problem is not None:
                report.problems.append(scan.problem)
        report.records = len(refs)
        # The same record in two files (a copy, or overlapping downloads) is one capture.
        index = CaptureIndex({ref.record_id: ref for ref in reversed(refs)}.values())
        replay = ReplayFetcher(index, reader)
        source_id = ensure_source(engine, source.name)
        urls = await _page_urls(engine, source, source_id, index, replay, url_pattern)
        report.page_urls = len(urls)
        captures = _captures(index, urls)
        done = backfill.imported_record_ids(engine, (c.answer.ref.record_id for c in captures))
        todo = [c for c in captures if c.answer.ref.record_id not in done]
        report.captures, report.already = len(todo), len(captures) - len(todo)
        collector = AttachmentCollector(replay, parser, source.settings)
        importer = _Importer(engine, source, source_id, replay, collector)
        # Captures are read and parsed ahead, in the parser's workers, while earlier ones
        # are written; the writes stay in capture order (each is placed among the page's
        # versions as they are then).
        ahead = 2 * parser.workers
        reads: deque[asyncio.Task[_Read]] = deque()
        try:
            for number, capture in enumerate(todo, 1):
                while len(reads) < ahead and number - 1 + len(reads) < len(todo):
                    reads.append(asyncio.create_task(importer.read(todo[number - 1 + len(reads)])))
                read = await reads.popleft()
                result = await importer.write(capture, read, now())
                report.outcomes[result.outcome] += 1
                report.new_pages += result.new_page
                report.renumbered += result.renumbered
                if progress is not None:
                    progress(number, len(todo))
        finally:
            for pending in reads:
                pending.cancel()
    return report


async def _page_urls(
    engine: Engine,
    source: SourceConfig,
    source_id: int,
    index: CaptureIndex,
    replay: ReplayFetcher,
    url_pattern: re.Pattern[str] | None,
) -> set[str]:
    """The normalised URLs of ``source``'s detail pages among the captured ones."""
    captured = set(index.urls)
    if url_pattern is not None:
        return {url for url in captured if url_pattern.search(url)}
    settings = source.settings
    # The files are the whole site as it was: walk every list page they hold.
    walk = replace(source, settings=replace(settings, max_list_pages=len(captured) + 1))

    async def fetch(url: str) -> FetchResult:
        return await replay.fetch(url, settings)

    discovery = await discover_detail_urls(walk, fetch)
    found = set(discovery.detail_urls)
    # A govarchive export names each version's source (and holds no list pages).
    found.update(url for url in captured if _exported_for(index, url, source.name))
    list_urls = {page.final_url for page in discovery.list_pages} | {
        page.url for page in discovery.list_pages
    }
    for list_url in list_urls:
        for answer in index.captures(list_url)[:-1]:  # the newest was walked already
            found.update(_detail_links(source, replay, list_url, answer))
    found.update(page.url for page in known_pages(engine, source_id))
    return (found & captured) - list_urls


#: The prefix ``export --format warc`` gives a header it had to rewrite for the stored,
#: decoded body (pywb's convention).
_ORIGINAL_PREFIX = "x-archive-orig-"


def served_headers(
    ref: CaptureRef, lines: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...] | None:
    """Return a capture's response headers as the site served them: another tool's as
    recorded; a govarchive export's with its rewriting undone (``X-Archive-Orig-<name>``
    back to ``<name>`` in place, the Content-Length it appended dropped), or None when
    that export synthesized them (the version had none stored). Pure."""
    if ref.source_name is None:
        return lines
    if ref.govarchive_headers == "synthesized":
        return None
    kept = list(lines)
    appended = [i for i, (name, _) in enumerate(kept) if name.lower() == "content-length"]
    if appended:
        del kept[appended[-1]]
    return tuple(
        (name[len(_ORIGINAL_PREFIX) :], value)
        if name.lower().startswith(_ORIGINAL_PREFIX)
        else (name, value)
        for name, value in kept
    )


def _exported_for(index: CaptureIndex, url: str, source: str) -> bool:
    """Whether a govarchive export wrote a capture of ``url`` as a version of ``source``."""
    return any(answer.ref.source_name == source for answer in index.captures(url))


def _detail_links(
    source: SourceConfig, replay: ReplayFetcher, url: str, answer: Answer
) -> list[str]:
    """The detail links of one capture of a list page (none when it is not a page)."""
    if answer.holder is None:
        return []
    try:
        payload = replay.reader.payload(answer.holder)
    except InputError as exc:
        log.warning("%s", exc)
        return []
    if (answer.ref.status or payload.status or 0) // 100 != 2:
        return []
    content_type = next((v for k, v in payload.headers if k.lower() == "content-type"), None)
    html = decode_html(payload.body, content_type).text
    links = extract_links(html, url, source.detail_links)
    return [link for link in links if is_allowed(link, source.settings.allowed_hosts)]


def _captures(index: CaptureIndex, urls: set[str]) -> list[_Capture]:
    """Every capture of ``urls``, oldest first (ties in file order)."""
    captures: list[_Capture] = []
    for url in urls:
        answers = index.captures(url)
        for here, following in zip(answers, [*answers[1:], None], strict=True):
            digest = here.ref.payload_digest
            confirmed = (
                following is not None
                and digest is not None
                and following.ref.payload_digest == digest
            )
            captures.append(_Capture(url, here, confirmed))
    captures.sort(
        key=lambda c: (c.answer.ref.captured_at, str(c.answer.ref.path), c.answer.ref.offset)
    )
    return captures


@dataclass(frozen=True, slots=True)
class _Read:
    """A capture read and parsed, ready to be written: the answer as a fetch result and
    its record; or why it is skipped (``skip``, ``reason``)."""

    result: FetchResult | None = None
    doc: ParsedDoc | None = None
    skip: CaptureOutcome | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Importer:
    """One import's shared means: reading and parsing captures (no database), and
    writing them (in capture order)."""

    engine: Engine
    source: SourceConfig
    source_id: int
    replay: ReplayFetcher
    collector: AttachmentCollector

    async def read(self, capture: _Capture) -> _Read:
        """Read one capture's answer, classify it as a fetch is and parse it in a parser
        worker. Touches no database, so several run ahead of the writes."""
        ref, holder = capture.answer.ref, capture.answer.holder
        if holder is None:
            return _Read(skip=CaptureOutcome.UNRESOLVED, reason=_UNRESOLVED)
        try:
            payload = self.replay.reader.payload(holder)
        except InputError as exc:
            return _Read(skip=CaptureOutcome.ERROR, reason=str(exc))
        # A revisit's own status line may be the 304 that confirmed the original.
        status = ref.status if ref.kind == "response" or ref.status not in (None, 304) else None
        status = status or payload.status
        if status is not None and 300 <= status < 400:
            location = next((v for k, v in payload.headers if k.lower() == "location"), "")
            return _Read(skip=CaptureOutcome.REDIRECT, reason=f"HTTP {status} to {location or '?'}")
        settings = self.source.settings
        result = self.replay.classify(
            capture.url, capture.answer, payload, status, settings.max_page_bytes
        )
        if result.kind is not FetchKind.OK or result.body is None:
            return _Read(skip=_SKIPPED.get(result.kind, CaptureOutcome.ERROR), reason=result.error)
        try:
            doc = await self.collector.parser.parse(
                result.body, url=capture.url, headers=result.headers, timeout=settings.parse_timeout
            )
        except ParseTimeout as exc:
            return _Read(skip=CaptureOutcome.ERROR, reason=str(exc))
        except Exception as exc:  # a worker that died on this page: the others go on
            return _Read(skip=CaptureOutcome.ERROR, reason=f"parse failed: {exc!r}")
        return _Read(result=result, doc=cast(ParsedDoc, doc))

    async def write(self, capture: _Capture, read: _Read, now: datetime) -> backfill.CaptureResult:
        """Archive one read capture (its attachments taken from the files first), or
        record why it is skipped; return what it did."""
        ref = capture.answer.ref
        record = backfill.CaptureRecord(
            warc_file=ref.path.name,
            record_offset=ref.offset,
            record_id=ref.record_id,
            record_type=ref.kind,
            url=capture.url,
            captured_at=ref.captured_at,
            http_status=ref.status,
        )
        if read.skip is not None or read.result is None or read.doc is None:
            return backfill.record_skipped(
                self.engine,
                source_id=self.source_id,
                capture=record,
                outcome=read.skip or CaptureOutcome.ERROR,
                reason=read.reason,
                now=now,
            )
        result, doc = read.result, read.doc
        assert result.body is not None  # an OK read has its body
        wanted, _ = choose_attachments(doc.get("attachments") or [], self.source.settings)
        files: list[AttachmentFile] = []
        if wanted:
            # the files as they were when this page was captured
            self.replay.at = ref.captured_at
            previous = backfill.attachments_at(self.engine, capture.url, ref.captured_at)
            files = await self.collector.collect(wanted, previous)
        served = served_headers(ref, result.header_lines)
        if served is None:  # a govarchive export made them up: the version had none
            record = replace(record, http_status=None)
        return backfill.archive_capture(
            self.engine,
            source_id=self.source_id,
            capture=record,
            raw=result.body,
            content_type=result.content_type,
            doc=doc,
            parser_version=PARSER_VERSION,
            reparse=reparse_raw,
            response_headers=served or (),
            attachments=files,
            confirmed=capture.confirmed,
            now=now,
        )
