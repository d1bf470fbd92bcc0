"""What a fetch returns: a plain value the rest of the crawler decides on.

:mod:`scraper.fetching.fetch` (the only httpx user) produces these; discovery, the pipeline
and ``check-source`` consume them without knowing httpx.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class FetchKind(StrEnum):
    """How a fetch ended. The pipeline maps these onto ``fetches.outcome``."""

    OK = "ok"  # 2xx with a complete body
    NOT_MODIFIED = "not_modified"  # 304 to a conditional request
    GONE = "gone"  # 404 / 410, or a soft-404 page (页面不存在 …)
    BLOCKED = "blocked"  # WAF or script challenge (瑞数 412, 加速乐 521, 云锁, 403 WAF)
    ROBOTS = "skipped_robots"  # robots.txt disallows the URL; no request was made
    OFFSITE = "offsite"  # a redirect left the allowed hosts; not followed
    TOO_LARGE = "too_large"  # body over max_page_bytes (also after decompression)
    ERROR = "error"  # anything else after retries: connection, timeout, 5xx, truncated


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetch of one URL, after redirects and retries.

    ``url`` is the normalised URL asked for; ``final_url`` the URL that answered
    (after same-site redirects), which becomes the page's canonical URL.
    ``headers`` has lower-cased names. ``body`` is the complete, decompressed body
    for ``OK`` (and for ``GONE``/``BLOCKED`` when one was read, for the record),
    else None: a truncated or oversized body is never returned.
    """

    url: str
    final_url: str
    kind: FetchKind
    requested_at: datetime
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The response headers as served: every line, in order, with its name's own case
    #: (``headers`` merges repeated names); archived with a new version for WARC export.
    header_lines: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    elapsed_ms: int = 0
    attempts: int = 1
    error: str | None = None
    unresolved: bool = False
    """The host name did not resolve (DNS): offline, or no such host. Never retried."""

    @property
    def etag(self) -> str | None:
        """The response's ETag validator, if any."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """The response's Last-Modified validator, if any."""
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        """The Content-Type header (its charset parameter guides decoding)."""
        return self.headers.get("content-type")
