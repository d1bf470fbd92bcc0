"""Per-host request spacing. No I/O and no clock of its own: callers pass ``now``.

The fetcher asks :meth:`HostRateLimiter.wait_time` how long to sleep, sleeps with
its own (injectable) sleep, and calls :meth:`HostRateLimiter.take` at the instant a
request starts. Request *starts* to one host are at least one interval apart.
"""

from __future__ import annotations


def min_interval(requests_per_second: float, crawl_delay: float | None = None) -> float:
    """Return the seconds between request starts to one host.

    The larger of ``1 / requests_per_second`` and robots.txt's ``Crawl-delay``: a
    site's own wish can only slow us down. A non-positive or infinite rate means
    no limit of our own (``float("inf")`` is how the benchmark turns politeness off).
    """
    ours = 1.0 / requests_per_second if 0 < requests_per_second < float("inf") else 0.0
    return max(ours, crawl_delay or 0.0)


class HostRateLimiter:
    """When each host may next be asked. Mutable; one per crawl (per Fetcher)."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}

    def wait_time(self, host: str, now: float) -> float:
        """Return the seconds until ``host`` may be asked again (0 if it may be now)."""
        return max(0.0, self._next.get(host, now) - now)

    def take(self, host: str, now: float, interval: float) -> None:
        """Record that a request to ``host`` starts at ``now``; the next waits ``interval``."""
        self._next[host] = now + interval

    def finished(self, host: str, now: float, interval: float) -> None:
        """Record that a request to ``host`` ended at ``now``: the next one also waits
        ``interval`` from here (never less than :meth:`take` asked)."""
        self._next[host] = max(self._next.get(host, now), now + interval)
