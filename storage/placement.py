"""Where a capture of known time goes in a page's history: the one decision of
``import-warc`` (pure; :mod:`storage.backfill` reads the facts and writes the result).

A page's versions are runs of one content each, numbered in order of the time they were
first seen (``fetched_at``). A capture taken at instant ``t`` is compared with the
version in effect at ``t`` (``before``: the last one first seen at or before ``t``) and
the one after it (``after``), and lands in one of five ways (docs/schema.md, "Imported
captures"):

- the same content as ``before``: it confirms that version (``unchanged``);
- different content, and ``before`` was seen again after ``t``: the capture falls inside
  that version's run, which it splits: the capture is a version, and ``before``'s
  content is a version again from its next sighting (``split``);
- the same content as ``after``: that version was there earlier than we knew; it now
  starts at ``t`` (``earlier``);
- otherwise a new version at ``t`` between the two (``insert``; with no versions at all,
  version 1).

A crawl is the special case where ``t`` is after every version: ``unchanged`` or a new
last version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Move(StrEnum):
    """What a capture does to a page's versions."""

    UNCHANGED = "unchanged"
    EARLIER = "earlier"
    INSERT = "insert"
    SPLIT = "split"


@dataclass(frozen=True, slots=True)
class Span:
    """One version as placement sees it: its number, when it was first seen and its
    content hash under the current parser."""

    version_id: int
    version: int
    fetched_at: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class Placement:
    """The decision. ``version`` is the number the capture's version gets (``insert`` and
    ``split``; versions numbered from it on move up by ``shift``), or the number of the
    version it confirms or moves (``unchanged``, ``earlier``). ``target`` is that existing
    version (None for ``insert``/``split``). ``split_from`` is, for ``split``, the version
    whose run is split and ``resumed_at`` when its content was seen again."""

    move: Move
    version: int
    shift: int = 0
    target: Span | None = None
    split_from: Span | None = None
    resumed_at: datetime | None = None


def neighbours(spans: Sequence[Span], at: datetime) -> tuple[Span | None, Span | None]:
    """Return the version in effect at ``at`` (the last first seen at or before it) and
    the next one, from ``spans`` in version order. Pure."""
    before: Span | None = None
    for span in spans:
        if span.fetched_at > at:
            return before, span
        before = span
    return before, None


def place(
    spans: Sequence[Span],
    *,
    at: datetime,
    content_hash: str,
    seen_again_at: datetime | None,
) -> Placement:
    """Decide where a capture taken ``at`` with ``content_hash`` goes among ``spans`` (a
    page's versions in version order, hashed under the current parser).
    ``seen_again_at`` is the first sighting of the version in effect at ``at`` after
    ``at`` (a fetch or another capture of its content), None when there was none. Pure."""
    before, after = neighbours(spans, at)
    if before is not None and before.content_hash == content_hash:
        return Placement(Move.UNCHANGED, before.version, target=before)
    number = before.version + 1 if before is not None else 1
    if before is not None and seen_again_at is not None:
        return Placement(
            Move.SPLIT,
            number,
            shift=2,
            split_from=before,
            resumed_at=seen_again_at,
        )
    if after is not None and after.content_hash == content_hash:
        return Placement(Move.EARLIER, after.version, target=after)
    return Placement(Move.INSERT, number, shift=1)
