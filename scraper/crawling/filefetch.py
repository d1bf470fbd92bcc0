"""A detail page's attachments: which links to fetch, fetching them, reading their text.

The parser reports the page's candidate attachment links (``doc["attachments"]``: the
article's and its attachment list's links to files and download handlers, and the
article's images, see :mod:`scraper.parse.filelinks`). :func:`choose_attachments`
(pure) keeps those the source's settings ask for; :class:`AttachmentCollector` fetches
each through the crawl's :class:`~scraper.fetching.fetch.Fetcher` (so the host's rate,
robots.txt, retries and conditional requests apply as to pages, with the attachment size
cap), checks that what came is a file and not an error page, and has its text read in a
parser worker within ``attachment_timeout``. What comes out is one
:class:`storage.attachments.AttachmentFile` per attachment, which the archive stores with
the page's version.

A download that fails proves nothing about the file: the previous version's file at the
same URL is carried over (with the failure in ``download_error``), so a failed download
never makes a version, and a flaky file server never loses one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from scraper.crawling.parsepool import ParserPool, ParseTimeout
from scraper.extract.kinds import SNIFF_BYTES, looks_like_html, sniff_file_kind
from scraper.fetching.response import FetchKind, FetchResult
from scraper.fetching.urls import host_of, is_allowed
from scraper.settings import CrawlSettings
from storage.attachments import AttachmentFile, AttachmentRequest, StoredAttachment
from storage.models import FetchOutcome

log = logging.getLogger(__name__)

# FetchKind → fetches.outcome of an attachment request that brought no file.
_FAILED: dict[FetchKind, FetchOutcome] = {
    FetchKind.GONE: FetchOutcome.GONE,
    FetchKind.BLOCKED: FetchOutcome.BLOCKED,
    FetchKind.ROBOTS: FetchOutcome.SKIPPED_ROBOTS,
    FetchKind.OFFSITE: FetchOutcome.OFFSITE,
    FetchKind.TOO_LARGE: FetchOutcome.TOO_LARGE,
    FetchKind.ERROR: FetchOutcome.ERROR,
}

# Linked files that may legitimately be HTML: anything else that answers with a page is
# an error, login or challenge page served in the file's place.
_HTML_EXTENSIONS = frozenset({"htm", "html", "shtml", "xhtml"})


@dataclass(frozen=True, slots=True)
class WantedAttachment:
    """An attachment link chosen for this page: what to fetch, or why it is not fetched."""

    position: int
    url: str
    link_text: str
    filename: str | None
    extension: str
    #: Why no request is made for it (a host the source may not fetch from); None to fetch.
    refused: str | None = None


def choose_attachments(
    links: Sequence[Mapping[str, Any]], settings: CrawlSettings
) -> tuple[list[WantedAttachment], int]:
    """Return the attachment links of a page to archive, numbered from 1 in page order,
    and how many more there were beyond ``max_attachments_per_page``. Pure.

    ``links`` are the parser's (``doc["attachments"]``). Kept: links whose extension is
    one of ``attachment_types``, and links to a download handler whose URL names no file
    type (the bytes tell); images only when their type is listed. A link on a host
    outside ``allowed_hosts`` and ``attachment_hosts`` is kept with the reason it is not
    fetched: the version records that the page linked it.
    """
    if not settings.attachments:
        return [], 0
    types = frozenset(settings.attachment_types)
    hosts = (*settings.allowed_hosts, *settings.attachment_hosts)
    chosen: list[WantedAttachment] = []
    seen: set[str] = set()
    for link in links:
        url = str(link.get("url") or "")
        extension = str(link.get("extension") or "").lower()
        image = bool(link.get("image"))
        if not url or url in seen:
            continue
        if extension not in types and (image or extension):
            continue
        seen.add(url)
        refused = None
        if hosts and not is_allowed(url, hosts):
            refused = (
                f"not fetched: {host_of(url)} is in neither allowed_hosts nor attachment_hosts"
            )
        chosen.append(
            WantedAttachment(
                position=len(chosen) + 1,
                url=url,
                link_text=str(link.get("text") or ""),
                filename=link.get("filename") or None,
                extension=extension,
                refused=refused,
            )
        )
    cap = settings.max_attachments_per_page
    return chosen[:cap], max(0, len(chosen) - cap)


def wanted_again(stored: Sequence[StoredAttachment]) -> list[WantedAttachment]:
    """Return a version's stored attachments as links to check again (a page that
    answered 304 keeps its links, so its files are the ones to re-check). Pure."""
    return [
        WantedAttachment(
            position=a.position,
            url=a.url,
            link_text=a.link_text,
            filename=a.filename,
            extension=(a.filename or "").rpartition(".")[2].lower() if a.filename else "",
        )
        for a in stored
    ]


def carried(
    wanted: WantedAttachment,
    previous: StoredAttachment | None,
    *,
    error: str | None,
    request: AttachmentRequest | None,
) -> AttachmentFile:
    """Return ``wanted`` holding the previous version's file (same URL) and ``error``
    as its ``download_error``; without a previous file, no bytes at all. Pure."""
    base = AttachmentFile(
        position=wanted.position,
        url=wanted.url,
        link_text=wanted.link_text,
        filename=wanted.filename,
        download_error=error,
        request=request,
    )
    if previous is None or previous.sha256 is None:
        return base
    return replace(
        base,
        filename=wanted.filename or previous.filename,
        kind=previous.kind,
        content_type=previous.content_type,
        size=previous.size,
        sha256=previous.sha256,
        text=previous.text,
        extractor=previous.extractor,
        extract_error=previous.extract_error,
        fetched_at=previous.fetched_at if error else request.requested_at if request else None,
        etag=previous.etag,
        last_modified=previous.last_modified,
    )


def not_a_file(body: bytes, extension: str) -> str | None:
    """Return why a downloaded body is not the linked file (an HTML page where a PDF was
    linked: the site's error, login or challenge page), or None. Pure."""
    if not body:
        return "an empty body where a file was linked"
    if extension not in _HTML_EXTENSIONS and looks_like_html(body[:SNIFF_BYTES]):
        return "an HTML page where a file was linked (an error, login or challenge page)"
    return None


class FileFetcher(Protocol):
    """What fetches a file: the crawl's :class:`~scraper.fetching.fetch.Fetcher`, or an
    import's :class:`~scraper.warc.replay.ReplayFetcher` answering from WARC files."""

    async def fetch(
        self,
        url: str,
        settings: CrawlSettings,
        *,
        allowed_hosts: Collection[str],
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Return the answer for ``url`` (see Fetcher.fetch)."""
        ...


class AttachmentCollector:
    """Fetches and reads one page's attachments with the crawl's shared means."""

    def __init__(self, fetcher: FileFetcher, parser: ParserPool, settings: CrawlSettings) -> None:
        self.fetcher = fetcher
        self.parser = parser
        self.settings = settings
        self.hosts = (*settings.allowed_hosts, *settings.attachment_hosts)
        #: Every fetch result of an attachment, for the pipeline's host health.
        self.results: list[FetchResult] = []

    async def collect(
        self,
        wanted: Sequence[WantedAttachment],
        previous: Mapping[str, StoredAttachment],
        done: Mapping[str, AttachmentFile] | None = None,
    ) -> list[AttachmentFile]:
        """Return one file per ``wanted`` link, in order, fetched one after another (a
        page's files are mostly on one host, whose rate allows one request at a time
        anyway, and this bounds memory to one file per page). ``previous`` are the
        page's latest version's attachments by URL; ``done`` files already fetched in
        this visit, by URL (not fetched again)."""
        files = []
        for item in wanted:
            ready = (done or {}).get(item.url)
            if ready is not None:
                files.append(replace(ready, position=item.position, link_text=item.link_text))
                continue
            files.append(await self.fetch(item, previous.get(item.url)))
        return files

    async def fetch(
        self, wanted: WantedAttachment, previous: StoredAttachment | None
    ) -> AttachmentFile:
        """Return ``wanted`` fetched (conditionally when ``previous`` has its bytes) and
        read; a failure carries ``previous`` over with the reason."""
        if wanted.refused is not None:
            return carried(wanted, previous, error=wanted.refused, request=None)
        known = previous is not None and previous.sha256 is not None
        result = await self.fetcher.fetch(
            wanted.url,
            self.settings,
            allowed_hosts=self.hosts,
            etag=previous.etag if known and previous else None,
            last_modified=previous.last_modified if known and previous else None,
            max_bytes=self.settings.max_attachment_bytes,
        )
        self.results.append(result)
        body = result.body

        def request(outcome: FetchOutcome | None, error: str | None = None) -> AttachmentRequest:
            return AttachmentRequest(
                requested_at=result.requested_at,
                outcome=outcome,
                http_status=result.status,
                error=error,
                elapsed_ms=result.elapsed_ms,
                nbytes=len(body) if body is not None else None,
                final_url=result.final_url,
            )

        if result.kind is FetchKind.NOT_MODIFIED and known:
            return carried(wanted, previous, error=None, request=request(FetchOutcome.NOT_MODIFIED))
        if result.kind is not FetchKind.OK or body is None:
            outcome = _FAILED.get(result.kind, FetchOutcome.ERROR)
            error = result.error or (f"HTTP {result.status}" if result.status else None)
            why = f"{outcome}: {error}" if error else str(outcome)
            return carried(wanted, previous, error=why, request=request(outcome, error))
        wrong = not_a_file(body, wanted.extension)
        if wrong is not None:
            return carried(
                wanted,
                previous,
                error=f"error: {wrong}",
                request=request(FetchOutcome.ERROR, wrong),
            )
        sha256 = hashlib.sha256(body).hexdigest()
        base = AttachmentFile(
            position=wanted.position,
            url=wanted.url,
            link_text=wanted.link_text,
            filename=wanted.filename,
            content_type=result.content_type,
            size=len(body),
            sha256=sha256,
            fetched_at=result.requested_at,
            etag=result.etag,
            last_modified=result.last_modified,
            request=request(None),
        )
        if previous is not None and previous.sha256 == sha256:
            # the same file again (a server without validators): its text is known
            return replace(
                base,
                filename=wanted.filename or previous.filename,
                kind=previous.kind,
                text=previous.text,
                extractor=previous.extractor,
                extract_error=previous.extract_error,
            )
        return await self._read(replace(base, raw=body), body)

    async def _read(self, file: AttachmentFile, body: bytes) -> AttachmentFile:
        """Return ``file`` with its text, read in a parser worker within the time limit."""
        limit = self.settings.attachment_timeout
        try:
            read = await self.parser.extract(
                body,
                url=file.url,
                content_type=file.content_type,
                filename=file.filename,
                timeout=limit,
            )
        except ParseTimeout:
            log.warning("%s: reading its text took longer than %g s; kept without", file.url, limit)
            return replace(
                file,
                kind=sniff_file_kind(body, file.content_type, file.filename),
                extract_error=f"reading its text took longer than {limit:g} s; stopped",
            )
        except Exception as exc:  # a worker that died: the file is kept, without text
            log.warning("%s: text extraction failed: %s", file.url, exc)
            return replace(
                file,
                kind=sniff_file_kind(body, file.content_type, file.filename),
                extract_error=f"text extraction failed: {type(exc).__name__}: {exc}",
            )
        return replace(
            file,
            kind=read.get("kind"),
            text=read.get("text"),
            extractor=read.get("extractor"),
            extract_error=read.get("error"),
        )


def changed_files(
    files: Sequence[AttachmentFile], previous: Mapping[str, StoredAttachment]
) -> bool:
    """Return whether any of ``files`` was downloaded with bytes other than the previous
    version's file at its URL (what makes a page that answered 304 worth fetching again). Pure."""
    for file in files:
        before = previous.get(file.url)
        downloaded = file.request is not None and file.request.outcome is None
        if downloaded and (before is None or before.sha256 != file.sha256):
            return True
    return False
