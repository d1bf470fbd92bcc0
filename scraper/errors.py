"""govarchive's exception tree. Every error names the thing it is about.

::

    GovarchiveError
    ├── ConfigError            config.yaml missing, unreadable or invalid (names source and key)
    ├── FetchError             a request that could not be completed (carries the URL)
    │   ├── BlockedError       a WAF / script-challenge page (瑞数, 加速乐, 云锁, 403 WAF)
    │   ├── RobotsDisallowed   robots.txt forbids the URL
    │   ├── OffSiteError       a redirect or link leaving the source's allowed hosts
    │   ├── TooLargeError      body larger than ``max_page_bytes`` (also after decompression)
    │   └── TruncatedError     body shorter than announced, or a compressed stream cut off
    └── InputError             a file or URL given on the command line that cannot be read

Storage errors live in :mod:`storage.errors` (storage never imports scraper); the CLI
maps both trees to messages and exit codes in one place (:mod:`scraper.cli`).
Library exceptions (httpx, yaml, OSError) are translated exactly once, at the
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
    """A request failed for good (after retries). Carries the URL."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}")


class BlockedError(FetchError):
    """The server answered with a block or challenge page instead of content."""


class RobotsDisallowed(FetchError):
    """robots.txt disallows this URL for our user agent."""


class OffSiteError(FetchError):
    """A redirect or link points outside the source's allowed hosts."""


class TooLargeError(FetchError):
    """The body exceeded ``max_page_bytes`` (compressed or decompressed)."""


class TruncatedError(FetchError):
    """The connection ended before the whole body arrived (retried like a connection error)."""
