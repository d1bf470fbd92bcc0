"""Every crawl setting with its one documented default, in one place.

Precedence, lowest to highest: these defaults < ``crawl:`` in config.yaml < a
source's own keys < environment (``GOVARCHIVE_DATABASE_URL``) < command-line flags.
:mod:`scraper.config` builds these objects from YAML; :mod:`scraper.fetching.fetch`,
:mod:`scraper.crawling.discover` and the pipeline only read them. docs/config.md documents
each field; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper import __version__

DEFAULT_USER_AGENT = f"govarchive/{__version__} (+https://pypi.org/project/govarchive/)"
DEFAULT_DATABASE_URL = "sqlite:///archive.db"

#: File extensions whose links are fetched as attachments by default: documents, data
#: and archives. Images are left out: a page's pictures are not its attachments.
DEFAULT_ATTACHMENT_TYPES: tuple[str, ...] = (
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "wps",
    "et",
    "ofd",
    "zip",
    "rar",
    "7z",
    "txt",
    "csv",
)


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    """Politeness and fetching settings; the ``crawl:`` section, overridable per source."""

    #: Sent with every request; name the project so site operators can reach you.
    user_agent: str = DEFAULT_USER_AGENT
    #: Requests per second to one host (robots.txt Crawl-delay may lower it further).
    requests_per_second: float = 1.0
    #: Requests in flight to one host at once.
    per_host_concurrency: int = 1
    #: Requests in flight across all hosts at once, per process (crawl-wide: the
    #: ``crawl:`` value counts). A daemon or worker crawling hundreds of sources needs
    #: it high; the per-host limits are what keep each site's load down.
    max_concurrency: int = 100
    #: Seconds before a request (connect, read, write or pool wait) times out.
    timeout: float = 30.0
    #: Further attempts after the first on connection errors, timeouts, 429 and 5xx.
    retries: int = 3
    #: Exponential back-off base in seconds: attempt n waits about base * 2**n (+ jitter).
    backoff_base: float = 1.0
    #: Upper bound, in seconds, on any wait before a retry, including a server's Retry-After.
    max_retry_after: float = 300.0
    #: Fetch and obey robots.txt (Disallow and Crawl-delay) once per host per crawl.
    respect_robots_txt: bool = True
    #: Longest robots.txt Crawl-delay obeyed, in seconds; a longer one is logged and this used.
    max_crawl_delay: float = 60.0
    #: Larger bodies (after decompression too) are cut off and recorded as errors.
    max_page_bytes: int = 10 * 1024 * 1024
    #: Hosts a source may fetch from and be redirected to; empty means the hosts of its start URLs.
    allowed_hosts: tuple[str, ...] = ()
    #: List pages to walk at most per source and crawl.
    max_list_pages: int = 100
    #: Also stop paging at a list page whose detail links are all already archived.
    incremental: bool = False
    #: Re-check a known page only if not fetched in this many hours; None re-checks all.
    revisit_after_hours: float | None = None
    #: Consecutive connection errors or 5xx after which a host is paused for the rest of a run.
    host_failure_threshold: int = 5
    #: Seconds one page may take to parse (in a worker process); a page that takes longer
    #: is stopped and recorded as an error, and the crawl goes on.
    parse_timeout: float = 30.0
    #: Worker processes that parse the pages of a crawl (the ``crawl:`` value counts: the
    #: workers serve every source of the crawl).
    parse_workers: int = 1
    #: Fetch, store and read the files a detail page links as attachments (附件).
    attachments: bool = True
    #: Extensions (no dot) of the links fetched as attachments; add image types (jpg,
    #: png …) to archive pictures and the article's own images too. A link to a CMS
    #: download handler, whose URL names no file type, is fetched and its bytes decide.
    attachment_types: tuple[str, ...] = DEFAULT_ATTACHMENT_TYPES
    #: Hosts besides ``allowed_hosts`` that attachments may be fetched from (a file
    #: server or CDN the site keeps its uploads on); nothing else off-site is fetched.
    attachment_hosts: tuple[str, ...] = ()
    #: Larger attachments (after decompression too) are not stored; the failure is recorded.
    max_attachment_bytes: int = 50 * 1024 * 1024
    #: Attachments fetched per page at most, in the order the page links them.
    max_attachments_per_page: int = 20
    #: Seconds one attachment's text extraction may take (in a worker process); past it
    #: the file is kept without text and the reason is recorded.
    attachment_timeout: float = 120.0


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """The ``scheduler:`` section, read by ``govarchive schedule``."""

    #: Time zone the sources' cron expressions are read in.
    timezone: str = "Asia/Shanghai"
    #: A random delay of up to this many seconds spreads sources that share a time.
    jitter_seconds: int = 300
    #: A run missed by at most this many seconds (daemon down, machine asleep) still runs, once.
    misfire_grace_seconds: int = 6 * 3600
    #: Sources one daemon crawls at once, in one event loop sharing one Fetcher (so a
    #: host's rate holds across all its sources); sources beyond wait their turn.
    max_parallel_sources: int = 200


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """The ``workers:`` section: crawl jobs on a PostgreSQL archive (procrastinate)."""

    #: ``govarchive schedule`` defers due sources as jobs instead of crawling them
    #: itself (same as ``schedule --workers``).
    enabled: bool = False
    #: Sources one ``govarchive worker`` crawls at once (its ``--concurrency``).
    concurrency: int = 200
    #: Attempts of a source's run whose every request failed or was blocked, the first
    #: included; the last failure leaves the job ``failed``.
    max_attempts: int = 3
    #: Back-off before retry n (0-based): ``retry_wait_seconds * 2**n``.
    retry_wait_seconds: float = 60.0
    #: Seconds between a worker's heartbeats.
    heartbeat_seconds: float = 10.0
    #: A worker whose heartbeat is older than this is taken for dead, and the jobs it
    #: was running are retried by the other workers.
    stalled_after_seconds: float = 60.0
