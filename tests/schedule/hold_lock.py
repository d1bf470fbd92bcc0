"""Child process for the lock tests: take a source's crawl lock and hold it until stdin closes.

Usage: ``python -m tests.schedule.hold_lock DATABASE_URL SOURCE``. Prints ``held`` or
``busy`` on one line, then (when held) keeps the lock until its stdin reaches EOF or
the process is killed.
"""

from __future__ import annotations

import sys

from storage.engine import make_engine
from storage.locks import try_lock_source


def main(url: str, source: str) -> int:
    engine = make_engine(url)
    lock = try_lock_source(engine, source)
    print("held" if lock is not None else "busy", flush=True)
    if lock is None:
        return 1
    sys.stdin.read()
    lock.release()
    print("released", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
