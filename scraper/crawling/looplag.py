"""How late the event loop runs its timers: the health measure of a shared crawl loop.

One loop serves every source of a daemon or worker; anything that holds it (a write
made on the loop, a big page decoded on it) delays every fetch and every rate-limit
wake-up behind it. :class:`LagMonitor` sleeps a short interval again and again and records
how much later than asked each sleep ended. The bench reports its percentiles and the
daemon logs them with its load line.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

#: Seconds between two samples.
INTERVAL_SECONDS = 0.05
#: Samples kept (the most recent ones): at 20 a second, the last ~8 minutes.
KEPT_SAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class LagStats:
    """Lateness of the loop's timers in milliseconds over the kept samples."""

    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def lag_stats(lags: list[float]) -> LagStats:
    """Return the percentiles of ``lags`` (seconds) in milliseconds. Pure."""
    if not lags:
        return LagStats(0, 0.0, 0.0, 0.0)
    ordered = sorted(lags)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return LagStats(
        len(ordered), round(pick(0.5), 2), round(pick(0.99), 2), round(ordered[-1] * 1000, 2)
    )


class LagMonitor:
    """Samples the running loop's lag while :meth:`run` runs (as a task)."""

    def __init__(self, interval: float = INTERVAL_SECONDS, kept: int = KEPT_SAMPLES) -> None:
        self.interval = interval
        self._lags: deque[float] = deque(maxlen=kept)

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self._lags.append(max(0.0, time.perf_counter() - asked - self.interval))

    def stats(self) -> LagStats:
        """Return the lag over the kept samples (safe from another thread)."""
        return lag_stats(list(self._lags))
