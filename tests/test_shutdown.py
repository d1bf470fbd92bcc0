"""scraper/shutdown.py: the first stop signal stops gracefully, the second at once.

Real signals are sent with ``signal.raise_signal``, which runs the Python handler
before it returns, so nothing here waits or races.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from scraper.shutdown import (
    STOP_SIGNALS,
    Shutdown,
    exit_at_once,
    shutdown_handlers,
    signal_handlers,
)


class Recorder:
    """Graceful and immediate actions that record the signals they were called with."""

    def __init__(self) -> None:
        self.graceful: list[signal.Signals] = []
        self.immediate: list[signal.Signals] = []

    def stop(self, sig: signal.Signals) -> None:
        self.graceful.append(sig)

    def exit(self, sig: signal.Signals) -> None:
        self.immediate.append(sig)


def _previous(signum: int, _frame: FrameType | None) -> None:
    raise AssertionError(f"the handler from before the block was called for {signum}")


@pytest.fixture
def sentinel_handlers() -> Iterator[None]:
    """Put a known handler on SIGINT, SIGTERM and SIGHUP for the test (pytest's own after)."""
    watched = (*STOP_SIGNALS, signal.SIGHUP)
    before = {sig: signal.getsignal(sig) for sig in watched}
    for sig in watched:
        signal.signal(sig, _previous)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_the_first_stop_signal_is_graceful_and_every_later_one_immediate() -> None:
    seen = Recorder()
    shutdown = Shutdown(seen.stop, seen.exit)
    requested_before = shutdown.requested

    shutdown(signal.SIGTERM, None)
    assert not requested_before
    assert shutdown.requested
    assert (seen.graceful, seen.immediate) == ([signal.SIGTERM], [])

    shutdown(signal.SIGINT, None)
    shutdown(signal.SIGTERM, None)
    assert seen.graceful == [signal.SIGTERM]
    assert seen.immediate == [signal.SIGINT, signal.SIGTERM]
    assert shutdown.requested


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGTERM, signal.SIGINT),
        (signal.SIGINT, signal.SIGTERM),
    ],
)
def test_sigint_and_sigterm_count_together(
    sentinel_handlers: None, first: signal.Signals, second: signal.Signals
) -> None:
    seen = Recorder()
    with shutdown_handlers(seen.stop, seen.exit) as shutdown:
        assert all(signal.getsignal(sig) is shutdown for sig in STOP_SIGNALS)
        signal.raise_signal(first)
        assert shutdown.requested and seen.graceful == [first] and seen.immediate == []
        signal.raise_signal(second)
        assert seen.graceful == [first] and seen.immediate == [second]
    assert all(signal.getsignal(sig) is _previous for sig in STOP_SIGNALS)


def test_the_handlers_from_before_come_back_after_an_error(sentinel_handlers: None) -> None:
    seen = Recorder()
    with pytest.raises(RuntimeError), shutdown_handlers(seen.stop, seen.exit):
        raise RuntimeError("the crawl failed")
    assert all(signal.getsignal(sig) is _previous for sig in STOP_SIGNALS)
    assert seen.graceful == seen.immediate == []


def test_an_immediate_action_that_raises_ends_the_block(sentinel_handlers: None) -> None:
    """`govarchive crawl` stops at once by raising KeyboardInterrupt from the handler."""

    def interrupt(_sig: signal.Signals) -> None:
        raise KeyboardInterrupt

    seen = Recorder()
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), shutdown_handlers(seen.stop, interrupt):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        reached_the_end = True
    assert not reached_the_end
    assert seen.graceful == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is _previous


def test_signal_handlers_installs_and_restores_any_signal(sentinel_handlers: None) -> None:
    hups: list[int] = []

    def on_hup(signum: int, _frame: FrameType | None) -> None:
        hups.append(signum)

    with signal_handlers({signal.SIGHUP: on_hup}):
        signal.raise_signal(signal.SIGHUP)
    assert hups == [signal.SIGHUP]
    assert signal.getsignal(signal.SIGHUP) is _previous


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_exit_at_once_flushes_the_logs_and_exits_with_128_plus_the_signal(
    monkeypatch: pytest.MonkeyPatch, sig: signal.Signals, status: int
) -> None:
    events: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            pass

        def flush(self) -> None:
            events.append("flush")

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        events.append(f"exit {code}")
        raise Exited

    root = logging.getLogger()
    handler = Handler()
    root.addHandler(handler)
    monkeypatch.setattr(os, "_exit", fake_exit)
    try:
        with pytest.raises(Exited):
            exit_at_once(sig)
    finally:
        root.removeHandler(handler)
    assert events[-2:] == ["flush", f"exit {status}"]
