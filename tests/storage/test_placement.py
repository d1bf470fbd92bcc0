"""storage.placement: where a capture of known time goes among a page's versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.placement import Move, Span, neighbours, place

T = datetime(2024, 1, 1, tzinfo=UTC)


def spans(*hashes: str) -> list[Span]:
    """Versions 1, 2, … first seen on days 10, 20, … with the given contents."""
    return [
        Span(version_id=100 + n, version=n, fetched_at=T + timedelta(days=10 * n), content_hash=h)
        for n, h in enumerate(hashes, 1)
    ]


def day(n: int) -> datetime:
    return T + timedelta(days=n)


def test_neighbours_are_the_version_in_effect_and_the_next() -> None:
    history = spans("a", "b")
    assert neighbours(history, day(5)) == (None, history[0])
    assert neighbours(history, day(10)) == (history[0], history[1])
    assert neighbours(history, day(15)) == (history[0], history[1])
    assert neighbours(history, day(25)) == (history[1], None)
    assert neighbours([], day(1)) == (None, None)


def test_a_page_without_versions_gets_version_one() -> None:
    decision = place([], at=day(1), content_hash="a", seen_again_at=None)
    assert (decision.move, decision.version, decision.shift) == (Move.INSERT, 1, 1)


def test_same_content_as_the_version_in_effect_is_unchanged() -> None:
    history = spans("a", "b")
    decision = place(history, at=day(15), content_hash="a", seen_again_at=day(16))
    assert (decision.move, decision.target) == (Move.UNCHANGED, history[0])


def test_older_capture_of_other_content_becomes_version_one_and_shifts_the_rest() -> None:
    decision = place(spans("a", "b"), at=day(1), content_hash="z", seen_again_at=None)
    assert (decision.move, decision.version, decision.shift) == (Move.INSERT, 1, 1)


def test_older_capture_of_the_first_versions_content_moves_it_earlier() -> None:
    history = spans("a", "b")
    decision = place(history, at=day(1), content_hash="a", seen_again_at=None)
    assert (decision.move, decision.target) == (Move.EARLIER, history[0])


def test_capture_in_the_gap_with_the_next_content_moves_the_next_earlier() -> None:
    history = spans("a", "b")
    decision = place(history, at=day(15), content_hash="b", seen_again_at=None)
    assert (decision.move, decision.version) == (Move.EARLIER, 2)


def test_capture_in_the_gap_with_new_content_is_inserted() -> None:
    decision = place(spans("a", "b"), at=day(15), content_hash="z", seen_again_at=None)
    assert (decision.move, decision.version, decision.shift) == (Move.INSERT, 2, 2 - 1)


def test_capture_inside_a_run_splits_it() -> None:
    """a seen on days 10 and 18, b captured on day 15: a, b, a again from day 18."""
    history = spans("a", "b")
    decision = place(history, at=day(15), content_hash="b", seen_again_at=day(18))
    assert decision.move is Move.SPLIT
    assert (decision.version, decision.shift) == (2, 2)
    assert (decision.split_from, decision.resumed_at) == (history[0], day(18))


def test_capture_after_every_version_is_a_new_last_version() -> None:
    decision = place(spans("a", "b"), at=day(99), content_hash="c", seen_again_at=None)
    assert (decision.move, decision.version) == (Move.INSERT, 3)
