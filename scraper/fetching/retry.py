"""Whether, and how long, to wait before trying a request again. Pure.

Retried: connection errors, timeouts and truncated bodies (``error=True``), 429, and
5xx except 501 Not Implemented and 505 HTTP Version Not Supported (both say the
server will never answer this request, so asking again only adds load). Block
pages (瑞数 412, 加速乐 521, …) are classified before this is asked and are never
retried: the crawler does not try to get past them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scraper.settings import CrawlSettings

#: 5xx answers that will not change on a retry.
PERMANENT_5XX = frozenset({501, 505})


def is_retryable(status: int | None, *, error: bool) -> bool:
    """Return whether a failed attempt (``error``) or this status is worth retrying."""
    if error:
        return True
    if status is None:
        return False
    return status == 429 or (500 <= status <= 599 and status not in PERMANENT_5XX)


def retry_delay(
    *,
    attempt: int,
    status: int | None,
    error: bool,
    retry_after: str | None,
    settings: CrawlSettings,
    now: datetime,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Return the seconds to wait before the next attempt, or None to give up.

    ``attempt`` counts the attempts already made (1 after the first failed).
    Gives up once ``settings.retries`` retries were made or the failure is not
    retryable. The wait is ``backoff_base * 2**(attempt-1)`` plus up to half of that
    again at random (jitter keeps many crawlers from retrying in step), unless the
    server sent ``Retry-After`` (seconds or an HTTP date, only honoured on 429 and
    5xx), which is used as is. Every wait is capped at ``settings.max_retry_after``.
    """
    if attempt > settings.retries or not is_retryable(status, error=error):
        return None
    server_wait = None if error else parse_retry_after(retry_after, now=now)
    if server_wait is not None:
        wait = server_wait
    else:
        backoff = settings.backoff_base * 2 ** max(attempt - 1, 0)
        wait = backoff + backoff * 0.5 * rand()
    return max(0.0, min(wait, settings.max_retry_after))


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Return a ``Retry-After`` header's wait in seconds from ``now``, or None.

    Accepts delta-seconds (``120``; a decimal is tolerated) and an HTTP date
    (``Wed, 21 Oct 2015 07:28:00 GMT``); a date in the past gives 0. Unparsable
    values give None so that the caller falls back to its own back-off.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as UTC
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
