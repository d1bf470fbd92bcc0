"""Start-up benchmark: how long ``govarchive --help`` and ``govarchive status --help`` take,
against the floor of starting Python itself, in the same run.

Run by hand (never in the test suite)::

    .venv/bin/python bench/startup.py            # 21 runs of each
    .venv/bin/python bench/startup.py --runs 51

Each command runs ``--runs`` times in a fresh subprocess (the interpreter of this venv,
so the same site-packages), interleaved so that a busy machine slows all alike; the
report gives the median and the 90th percentile of the wall time, and the ratio of each
median to the median of ``python -c pass`` (the floor no command can go below).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

#: What is timed: a label and the arguments after the interpreter.
CASES: list[tuple[str, list[str]]] = [
    ("python -c pass (floor)", ["-c", "pass"]),
    ("govarchive --help", ["-m", "scraper.cli", "--help"]),
    ("govarchive status --help", ["-m", "scraper.cli", "status", "--help"]),
]


def _time_once(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    options = parser.parse_args(argv)
    times: dict[str, list[float]] = {label: [] for label, _ in CASES}
    for _ in range(options.runs):
        for label, args in CASES:
            times[label].append(_time_once(args))
    floor = statistics.median(times[CASES[0][0]])
    print(f"{options.runs} runs each, Python {sys.version.split()[0]}")
    print(f"{'':26} {'p50':>8} {'p90':>8} {'ratio':>7}")
    for label, values in times.items():
        p50 = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{label:26} {p50 * 1000:6.0f}ms {p90 * 1000:6.0f}ms {p50 / floor:6.1f}x")


if __name__ == "__main__":
    main()
