"""One crawl per source at a time: crawl the sources no other process is crawling.

:func:`crawl_unless_busy` is what ``govarchive crawl`` does: take each source's crawl
lock (:mod:`storage.locks`, shared with ``govarchive schedule`` daemons on this and
other machines), skip the sources another process holds, crawl the others with
:func:`scraper.crawling.pipeline.run_crawl`, and release the locks. Its
:class:`CrawlOutcome` says what ran, what failed and what was skipped; turning that into
output and an exit status is the command's business.

Writes what :func:`run_crawl` writes (runs, fetches, versions) and the SQLite lock files'
holder notes; deletes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from scraper.config import Config, SourceConfig
from scraper.crawling.pipeline import Reporter, SourceRun, run_crawl
from storage.locks import source_locks
from storage.models import RunStatus

# The command's logger: these lines are what `govarchive crawl` prints.
log = logging.getLogger("govarchive.crawl")

#: Run statuses that mean every request of the source failed (or was blocked).
FAILED_STATUSES = frozenset({RunStatus.FAILED, RunStatus.BLOCKED})


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """What :func:`crawl_unless_busy` did: the runs of the sources it crawled (in the
    order asked) and ``{source: who holds its lock}`` for the ones it skipped."""

    runs: tuple[SourceRun, ...]
    busy: Mapping[str, str]

    @property
    def failed(self) -> tuple[SourceRun, ...]:
        """The runs in which every request failed or was blocked."""
        return tuple(r for r in self.runs if r.status in FAILED_STATUSES)

    @property
    def nothing_crawled(self) -> bool:
        """True when sources were asked for and every one was skipped as busy."""
        return bool(self.busy) and not self.runs


def crawl_unless_busy(
    config: Config,
    engine: Engine,
    sources: Sequence[SourceConfig],
    *,
    limit: int | None = None,
    reporter: Reporter | None = None,
    stop_when: Callable[[], bool] | None = None,
) -> CrawlOutcome:
    """Crawl each of ``sources`` whose crawl lock is free, holding the locks meanwhile.

    A source whose lock another process holds is logged and skipped, not crawled twice.
    ``limit``, ``reporter`` and ``stop_when`` are passed to :func:`run_crawl`. Raises
    StorageError when the database cannot take locks or fails mid-crawl (what was
    committed before stays committed); the locks are released in every case.
    """
    with source_locks(engine, [s.name for s in sources]) as (locked, busy):
        for name, holder in busy.items():
            log.warning("%s: skipped, another crawl is running (%s)", name, holder)
        chosen = [s for s in sources if s.name in locked]
        runs = (
            run_crawl(
                config, engine, sources=chosen, limit=limit, reporter=reporter, stop_when=stop_when
            )
            if chosen
            else []
        )
    return CrawlOutcome(runs=tuple(runs), busy=busy)
