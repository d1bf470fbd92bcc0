"""Stop signals: the first SIGINT or SIGTERM stops gracefully, the second at once.

Shared by ``govarchive crawl`` and the ``govarchive schedule`` daemon, in the shape of
Scrapy's ``scrapy/utils/ossignal.py``. A graceful stop lets each crawl finish (or roll
back) the page in hand and close its run as ``interrupted``; a second signal means the
user will not wait for that.

- ``shutdown_handlers(graceful, immediate)`` — a ``with`` block during which SIGINT
  and SIGTERM call ``graceful(sig)`` the first time and ``immediate(sig)`` every time
  after; yields the :class:`Shutdown` (its ``requested`` says whether a stop signal
  came). The handlers in place before are restored when the block ends.
- ``signal_handlers({sig: handler})`` — the same install-and-restore for any signals
  (the daemon's SIGHUP).
- ``exit_at_once(sig)`` — an ``immediate`` for processes whose threads would hold a
  normal exit: flush the logs and end the process with status 128 + the signal number.
- ``exit_now(status)`` — the same for any status (the daemon's forced stop exits 1).

Signal handlers can only be installed from the main thread. Writes nothing itself.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

from scraper.logs import flush_logs

#: The signals that ask a crawl to stop: Ctrl-C, and what ``kill``, systemd and Docker send.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

#: What a stop signal does: called with the signal, in the main thread.
SignalAction = Callable[[signal.Signals], None]


class Shutdown:
    """A signal handler that calls ``graceful`` for the first stop signal and
    ``immediate`` for every later one.

    Usable as a handler for :func:`signal.signal` and callable directly (tests).
    ``requested`` may be read from any thread.
    """

    def __init__(self, graceful: SignalAction, immediate: SignalAction) -> None:
        self._graceful = graceful
        self._immediate = immediate
        self._requested = threading.Event()

    @property
    def requested(self) -> bool:
        """True once a stop signal was received."""
        return self._requested.is_set()

    def __call__(self, signum: int, _frame: FrameType | None = None) -> None:
        sig = signal.Signals(signum)
        if self._requested.is_set():
            self._immediate(sig)
            return
        self._requested.set()
        self._graceful(sig)


@contextmanager
def signal_handlers(handlers: Mapping[signal.Signals, Any]) -> Iterator[None]:
    """Install ``handlers`` ({signal: handler}) for the ``with`` block, then put back
    the handlers that were there before. Main thread only."""
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig, handler in handlers.items():
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def shutdown_handlers(graceful: SignalAction, immediate: SignalAction) -> Iterator[Shutdown]:
    """Handle SIGINT and SIGTERM with one :class:`Shutdown` for the ``with`` block.

    Yields it; the handlers before are restored on leaving. Main thread only.
    """
    shutdown = Shutdown(graceful, immediate)
    with signal_handlers(dict.fromkeys(STOP_SIGNALS, shutdown)):
        yield shutdown


def exit_at_once(sig: signal.Signals) -> NoReturn:
    """Flush the logs and end the process with status 128 + ``sig``, as a shell reports
    a process ended by that signal (143 for SIGTERM, 130 for SIGINT).

    ``os._exit``, not ``sys.exit``: threads still crawling would keep a normal exit
    waiting, which is what the second signal says not to do. What was committed stays
    committed (every page is written in one transaction).
    """
    exit_now(128 + sig)


def exit_now(status: int) -> NoReturn:
    """Flush the logs and end the process with ``status`` without waiting for threads
    (what :func:`exit_at_once` does, for a status that is not a signal's)."""
    flush_logs()
    os._exit(status)
