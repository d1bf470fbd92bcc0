"""govarchive's exception tree. Every error names the thing it is about.

::

    GovarchiveError
    ├── ConfigError            config.yaml missing, unreadable or invalid (names source and key)
    ├── InputError             a file or URL given on the command line that cannot be read
    ├── FetchError             a body that cannot be read: an unsupported or corrupt
    │   │                      Content-Encoding (carries the URL)
    │   ├── TooLargeError      body larger than ``max_page_bytes`` (also after decompression)
    │   └── TruncatedError     body shorter than announced, or a compressed stream cut off
    ├── ParseTimeout           a page the parser did not finish within ``parse_timeout``
    │                          (in :mod:`scraper.crawling.parsepool`)
    ├── ParserWorkerDied       a parser worker process ended (killed, out of memory) with
    │                          a page in hand; it is replaced (also in parsepool)
    ├── SourceRunFailed        a queued crawl whose every request failed or was blocked:
    │                          the job is retried with back-off
    ├── CrawlInterrupted       a queued crawl stopped by its worker stopping: requeued
    └── UnknownSource          a job naming a source the worker's config lacks: not
                               retried (these three in :mod:`scraper.scheduling.tasks`)

A block page, a robots.txt refusal or an off-site redirect is not an exception: the
fetcher returns it as a :class:`~scraper.fetching.response.FetchKind` and it is recorded
as a fetch outcome. FetchError and its subclasses never leave
:mod:`scraper.fetching`: the fetcher turns them into a ``FetchResult``.

Storage errors live in :mod:`storage.errors` (storage never imports scraper); the CLI
maps both trees to messages and exit codes in one place
(``translated_errors`` in :mod:`scraper.commands.common`).
Library exceptions (httpx, aiohttp, yaml, OSError) are translated exactly once, at the
boundary, with ``raise … from exc``.
"""

from __future__ import annotations


class GovarchiveError(Exception):
    """Base of every error govarchive raises on purpose."""


class ConfigError(GovarchiveError):
    """The configuration is invalid. ``where`` names the file, source and key."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InputError(GovarchiveError):
    """A command-line input (file, URL, stdin) could not be read."""

    def __init__(self, message: str, *, input_name: str) -> None:
        self.input_name = input_name
        super().__init__(f"{input_name}: {message}")


class FetchError(GovarchiveError):
    """A response body could not be read (its encoding is unsupported or corrupt). Carries
    the URL."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}")


class TooLargeError(FetchError):
    """The body exceeded ``max_page_bytes`` (compressed or decompressed)."""


class TruncatedError(FetchError):
    """The connection ended before the whole body arrived (retried like a connection error)."""
