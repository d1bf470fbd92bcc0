"""Shared pieces of the daemon tests: a small document site, config files, daemon subprocesses."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.site import pages
from tests.site.server import Request, Response, TestSite

ROOT = Path(__file__).resolve().parents[2]


def populate(site: TestSite, count: int, *, delay: float = 0.0, prefix: str = "") -> list[str]:
    """Serve ``/{prefix}list.html`` linking ``count`` small documents; return their URLs.

    ``delay`` slows every document down (seconds), for tests that stop a crawl midway.
    """
    paths = [f"/{prefix}doc/{n}.html" for n in range(1, count + 1)]
    links = "".join(f'<li><a href="{p}">文件{n}</a></li>' for n, p in enumerate(paths, 1))
    site.add(f"/{prefix}list.html", f'<html><body><ul class="doc_list">{links}</ul></body></html>')
    for n, path in enumerate(paths, 1):
        site.add(path, pages.document(f"{prefix}文件{n}", text_bytes=1500), delay=delay)
    return [site.url(p) for p in paths]


def failing(site: TestSite, count: int, *, prefix: str = "") -> None:
    """Serve a list page whose ``count`` documents all answer 503."""
    paths = [f"/{prefix}doc/{n}.html" for n in range(1, count + 1)]
    links = "".join(f'<li><a href="{p}">文件{n}</a></li>' for n, p in enumerate(paths, 1))
    site.add(f"/{prefix}list.html", f'<html><body><ul class="doc_list">{links}</ul></body></html>')

    def down(request: Request) -> Response:
        return Response(b"<h1>503</h1>", status=503, headers={"Content-Type": "text/html"})

    for path in paths:
        site.add_handler(path, down)


def daily_at(moment: datetime) -> str:
    """Return a daily cron expression (UTC) firing at ``moment``'s hour and minute."""
    return f"{moment.minute} {moment.hour} * * *"


def recent_schedule(minutes_ago: int = 5) -> str:
    """A daily UTC schedule whose last fire was ``minutes_ago`` minutes ago (within grace)."""
    return daily_at(datetime.now(UTC) - timedelta(minutes=minutes_ago))


def far_schedule() -> str:
    """A daily UTC schedule that neither fired recently nor fires during a test."""
    return daily_at(datetime.now(UTC) + timedelta(hours=12))


def write_config(
    path: Path,
    sources: list[dict[str, Any]],
    *,
    grace: int = 3600,
    jitter: int = 0,
    crawl: dict[str, Any] | None = None,
) -> Path:
    """Write a config file for ``sources`` (name, start_urls, schedule, …) at ``path``."""
    settings = {
        "requests_per_second": 1000,
        "per_host_concurrency": 1,
        "max_concurrency": 1,
        "timeout": 5,
        "retries": 0,
        "backoff_base": 0,
        "respect_robots_txt": False,
    }
    settings.update(crawl or {})
    document = {
        "crawl": settings,
        "scheduler": {"timezone": "UTC", "jitter_seconds": jitter, "misfire_grace_seconds": grace},
        "sources": [{"detail_links": "ul.doc_list a", **s} for s in sources],
    }
    # JSON is YAML: no need to format YAML by hand.
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


class DaemonProcess:
    """``govarchive schedule --log-format json`` in a child process, its log lines in a queue."""

    def __init__(self, config: Path, database: str, *, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scraper.cli", "schedule", "--config", str(config),
             "--database", database, "--log-format", "json"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )  # fmt: skip
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.raw.append(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            self.lines.append(record)
            self._queue.put(record)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """Return the first log record (already seen or coming) that satisfies ``predicate``."""
        for record in list(self.lines):
            if predicate(record):
                return record
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                record = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    self._reader.join(timeout=2)
                    break
                continue
            if predicate(record):
                return record
            if record.get("event") == "run_error":
                raise AssertionError(f"the daemon's run failed: {record.get('exception')}")
        raise AssertionError(
            f"no matching log line within {timeout}s; exit code {self.proc.poll()}; log:\n"
            + "".join(self.raw[-40:])
        )

    def event(self, name: str, timeout: float = 30.0, **fields: Any) -> dict[str, Any]:
        """Return the first log record with ``event == name`` and the given fields."""
        return self.wait_for(
            lambda r: r.get("event") == name and all(r.get(k) == v for k, v in fields.items()),
            timeout,
        )

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM the daemon once and return its exit code.

        Only for a daemon that has not been sent SIGTERM yet: a second SIGTERM means
        "exit now" to the daemon (exit 143), so after ``signal(SIGTERM)`` use ``wait``.
        """
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the daemon to exit, sending no signal; return its exit code."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _child_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("GOVARCHIVE_DATABASE_URL", None)
    return env
