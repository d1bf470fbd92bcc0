"""Answering requests from WARC files instead of the web, so that an import runs the
crawl's own code: discovery walks the list pages the files hold, and the attachment
collector reads the files they hold, each getting a :class:`FetchResult` as from the
fetcher.

- :class:`CaptureIndex` — every response and revisit record of the files, by normalised
  URL in capture order, with revisits resolved to the record holding their payload.
- :class:`ReplayFetcher` — ``fetch(url, …)``: the capture of ``url`` closest in time to
  the instant it is asked for (before or after it), with
  recorded same-site redirects followed, classified as the fetcher classifies a live
  answer (block page, 404 or soft-404, error). A URL no file holds is an ``ERROR``
  result saying so. Reads files through :class:`~scraper.warc.records.WarcReader`;
  writes nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from scraper.fetching import challenge
from scraper.fetching.fetch import MAX_REDIRECTS
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urls import is_allowed, normalize_url
from scraper.settings import CrawlSettings
from scraper.warc.records import CaptureRef, Payload, WarcReader, resolve_revisits

#: The error of a URL that none of the files holds.
NOT_IN_FILES = "not in the WARC files"
#: The time of an answer no file holds, when no instant was asked about (not stored:
#: such an answer is only ever a failure).
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Answer:
    """One capture as an answer: the record, the record holding its payload (itself,
    or the response a revisit refers to; None for an unresolved revisit)."""

    ref: CaptureRef
    holder: CaptureRef | None


class CaptureIndex:
    """The captures of a set of files, by normalised URL, each URL's in capture order."""

    def __init__(self, refs: Iterable[CaptureRef]) -> None:
        refs = list(refs)
        holders = resolve_revisits(refs)
        self._by_url: dict[str, list[Answer]] = {}
        for ref in refs:
            url = normalize_url(ref.url)
            if url is None:
                continue
            holder = ref if ref.kind == "response" else holders.get(ref.record_id)
            self._by_url.setdefault(url, []).append(Answer(ref, holder))
        for answers in self._by_url.values():
            answers.sort(key=lambda a: (a.ref.captured_at, str(a.ref.path), a.ref.offset))
        self._times = {
            url: [a.ref.captured_at for a in answers] for url, answers in self._by_url.items()
        }

    @property
    def urls(self) -> list[str]:
        """Every URL captured, normalised, in no particular order."""
        return list(self._by_url)

    def captures(self, url: str) -> list[Answer]:
        """Every capture of ``url`` (normalised), oldest first; empty when none."""
        return self._by_url.get(url, [])

    def nearest(self, url: str, at: datetime | None) -> Answer | None:
        """The capture of ``url`` closest in time to ``at``, before or after it (the
        earlier of two as close); with ``at`` None, the newest. None when no file holds
        it. Closest, not the last before: a crawler fetches a page's files just after the
        page, so the file that went with a page is most often captured a moment later."""
        answers = self._by_url.get(url)
        if not answers:
            return None
        if at is None:
            return answers[-1]
        times = self._times[url]
        index = bisect.bisect_left(times, at)
        if index == len(times):
            return answers[-1]
        if index and at - times[index - 1] <= times[index] - at:
            return answers[index - 1]
        return answers[index]


class ReplayFetcher:
    """Answers the crawl's requests from WARC files (see the module docstring).

    ``at`` is the instant asked about (None: the newest captures); the importer sets it
    to each page capture's time before collecting that page's attachments."""

    def __init__(self, index: CaptureIndex, reader: WarcReader) -> None:
        self.index = index
        self.reader = reader
        self.at: datetime | None = None

    async def fetch(
        self,
        url: str,
        settings: CrawlSettings,
        *,
        allowed_hosts: Collection[str] = (),
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Return the capture of ``url`` nearest to :attr:`at` as the fetcher would
        have returned the live answer. ``etag``/``last_modified`` are ignored (a capture
        is always a full answer); ``max_bytes`` caps the body as it caps a download."""
        del etag, last_modified  # a recorded answer is never a 304 to our validators
        allowed = tuple(allowed_hosts) or settings.allowed_hosts
        limit = max_bytes or settings.max_page_bytes
        normal = normalize_url(url) or url
        current = normal
        for _ in range(MAX_REDIRECTS + 1):
            answer = self.index.nearest(current, self.at)
            if answer is None:
                return self._result(normal, current, FetchKind.ERROR, error=NOT_IN_FILES)
            if answer.holder is None:
                return self._result(
                    normal, current, FetchKind.ERROR, answer=answer,
                    error="a revisit record whose original is in none of the files",
                )  # fmt: skip
            payload = self.reader.payload(answer.holder)
            status = answer.ref.status or payload.status
            headers = header_dict(payload.headers)
            location = headers.get("location")
            if status is not None and 300 <= status < 400 and location:
                target = normalize_url(location, current)
                if target is None or (allowed and not is_allowed(target, allowed)):
                    return self._result(
                        normal, current, FetchKind.OFFSITE, answer=answer, payload=payload,
                        error=f"redirected to {location}",
                    )  # fmt: skip
                current = target
                continue
            return self.classify(normal, answer, payload, status, limit, final_url=current)
        return self._result(normal, current, FetchKind.ERROR, error="too many redirects")

    def classify(
        self,
        url: str,
        answer: Answer,
        payload: Payload,
        status: int | None,
        limit: int,
        *,
        final_url: str | None = None,
    ) -> FetchResult:
        """Return the recorded answer ``payload`` of ``answer`` (a capture of ``url``,
        with ``status``) as the fetcher would have returned it live: OK, GONE (404, 410
        or a soft-404 page), BLOCKED, TOO_LARGE (over ``limit`` bytes) or ERROR."""
        final_url = final_url or url
        if status is None:
            return self._result(
                url, final_url, FetchKind.ERROR, answer=answer, payload=payload,
                error="the record holds no HTTP status line",
            )  # fmt: skip
        if len(payload.body) > limit:
            return self._result(
                url, final_url, FetchKind.TOO_LARGE, answer=answer, payload=payload,
                error=f"{len(payload.body)} bytes, over the limit of {limit}",
            )  # fmt: skip
        kind = challenge.classify(status, header_dict(payload.headers), payload.body)
        if kind is None:
            kind = FetchKind.OK if 200 <= status < 300 else FetchKind.ERROR
        error = None if kind is FetchKind.OK else f"HTTP {status}"
        return self._result(
            url, final_url, kind, answer=answer, payload=payload, status=status, error=error
        )

    def _result(
        self,
        url: str,
        final_url: str,
        kind: FetchKind,
        *,
        answer: Answer | None = None,
        payload: Payload | None = None,
        status: int | None = None,
        error: str | None = None,
    ) -> FetchResult:
        at = answer.ref.captured_at if answer is not None else self.at
        keep_body = kind in (FetchKind.OK, FetchKind.GONE, FetchKind.BLOCKED)
        return FetchResult(
            url=url,
            final_url=final_url,
            kind=kind,
            requested_at=at if at is not None else _NO_TIME,
            status=status if status is not None else (answer.ref.status if answer else None),
            headers=header_dict(payload.headers) if payload else {},
            header_lines=payload.headers if payload else (),
            body=payload.body if payload is not None and keep_body else None,
            attempts=0,
            error=error,
        )


def header_dict(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return header lines as the fetcher's ``headers``: lower-cased names, repeated ones
    joined with commas (as httpx joins them)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined
