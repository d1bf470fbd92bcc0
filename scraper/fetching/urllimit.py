"""How long a URL govarchive will fetch and store may be.

A hostile or broken list page can link a URL of megabytes; fetched, it is refused by
the server anyway, and recorded it would fill a ``fetches`` row (and a log line) with
megabytes each crawl. :data:`MAX_URL_LENGTH` is 8 KiB: what common servers accept in a
request line (Apache's LimitRequestLine 8190, nginx's 8 KiB header buffers), far above
any real disclosure page's URL. A longer URL is dropped where it is found, with a
warning that names a shortened copy of it and the page it was found on. Pure apart
from that log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger("govarchive.urls")

#: The longest URL (in characters, after normalisation) that is fetched and stored.
MAX_URL_LENGTH = 8192

#: How much of an over-long URL a message shows.
SHOWN_CHARACTERS = 120


def shortened(url: str, keep: int = SHOWN_CHARACTERS) -> str:
    """Return ``url`` for a message: whole when short, else its start, "…" and its length."""
    if len(url) <= keep:
        return url
    return f"{url[:keep]}… ({len(url):,} characters)"


def long_url_problem(url: str, *, limit: int = MAX_URL_LENGTH) -> str | None:
    """Return why ``url`` is not fetched (too long, naming a shortened copy), or None."""
    if len(url) <= limit:
        return None
    return f"URL longer than {limit:,} characters: {shortened(url)}"


def drop_long_urls(urls: Iterable[str], *, found_on: str, limit: int = MAX_URL_LENGTH) -> list[str]:
    """Return ``urls`` without those longer than ``limit``, in order; log a warning for
    each one dropped, naming ``found_on`` (the page that linked it)."""
    kept: list[str] = []
    for url in urls:
        problem = long_url_problem(url, limit=limit)
        if problem is None:
            kept.append(url)
        else:
            log.warning("%s: a link not fetched: %s", shortened(found_on), problem)
    return kept
