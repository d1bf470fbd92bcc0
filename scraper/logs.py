"""Logging for the long-running commands: plain text for people, JSON lines for log shippers.

- ``configure_logging(fmt, *, level=INFO, stream=None)`` — one handler on the root
  logger, writing ``text`` (``2026-05-01T06:00:03+00:00 INFO govarchive.schedule:
  …``) or ``json`` (one object per line: time, level, logger, message, and every
  ``extra=`` field of the call, e.g. ``event``, ``source``, ``run_id``, the counts).
- ``log_run_started`` / ``log_run_finished`` — the one line per run start and end;
  ``run_fields(run, duration_s)`` — the end line's fields.

Writes only to ``stream`` (default stderr).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from storage.models import FetchOutcome, RunStatus

if TYPE_CHECKING:
    from scraper.crawling.pipeline import SourceRun

#: The formats :func:`configure_logging` writes (`govarchive schedule --log-format`).
LOG_FORMATS: tuple[str, ...] = ("text", "json")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
# Libraries whose INFO lines would drown the one-line-per-run log.
_QUIET_LOGGERS = ("alembic", "apscheduler", "httpx", "httpcore", "aiohttp")


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields a log call added with ``extra=``. Pure."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single-line JSON object."""
        document: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_extras(record).items():
            document.setdefault(key, value)
        if record.exc_info:
            document["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(document, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message>``, with any traceback below."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as text prefixed by its UTC time."""
        return f"{_timestamp(record)} {super().format(record)}"


def configure_logging(
    fmt: str = "text", *, level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Send all logging to ``stream`` (stderr) in ``fmt`` and return the handler.

    Replaces the root logger's handlers, so calling it again switches format. Raises
    ValueError for a format other than ``text`` or ``json``.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler


def run_fields(run: SourceRun, duration_s: float) -> dict[str, Any]:
    """Return the fields of a run's end line. Pure."""
    s = run.summary
    fields: dict[str, Any] = {
        "run_id": run.run_id,
        "status": run.status,
        "duration_s": round(duration_s, 3),
        "pages_seen": s.pages_seen,
        "new_pages": s.new_pages,
        "new_versions": s.new_versions,
        "unchanged": s.unchanged,
        "not_modified": s.not_modified,
        "gone": s.gone,
        "errors": s.errors,
        "skipped": s.skipped,
        "list_pages": run.list_pages,
    }
    if run.paused_hosts:
        fields["paused_hosts"] = list(run.paused_hosts)
    if run.error:
        fields["error"] = run.error
    return fields


class RunLogReporter:
    """A crawl reporter (:class:`scraper.crawling.pipeline.Reporter`) for the long-running
    commands: the run's start line on ``logger`` (its end line, with the run's fields,
    is :func:`log_run_finished`'s) and the pages found at DEBUG."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def source_started(self, source: str) -> None:
        log_run_started(self.logger, source)

    def pages_found(self, source: str, total: int) -> None:
        self.logger.debug("%s: %d detail pages to check", source, total)

    def page_done(self, source: str, outcome: FetchOutcome) -> None:
        pass

    def source_finished(self, run: SourceRun) -> None:
        pass


def log_run_started(logger: logging.Logger, source: str, **fields: Any) -> None:
    """Log the one line that says a source's crawl started."""
    extra = {"event": "run_started", "source": source, **fields}
    logger.info("%s: run started", source, extra=extra)


def log_run_finished(logger: logging.Logger, source: str, fields: Mapping[str, Any]) -> None:
    """Log the one line that says how a source's crawl ended, with its counts.

    ``fields`` holds run_id, status, duration_s and the counts (pages_seen, new_pages,
    new_versions, unchanged, not_modified, gone, errors, skipped), optionally
    paused_hosts and error; they become the JSON line's fields as they are.
    """
    counts = ", ".join(
        f"{fields.get(key, 0)} {label}"
        for key, label in (
            ("pages_seen", "pages seen"),
            ("new_pages", "new pages"),
            ("new_versions", "new versions"),
            ("unchanged", "unchanged"),
            ("not_modified", "not modified"),
            ("gone", "gone"),
            ("errors", "errors"),
            ("skipped", "skipped"),
        )
    )
    message = (
        f"{source}: run {fields.get('run_id')} {fields.get('status')} "
        f"in {fields.get('duration_s', 0):.1f}s: {counts}"
    )
    if fields.get("paused_hosts"):
        message += f"; paused hosts: {', '.join(fields['paused_hosts'])}"
    if fields.get("error"):
        message += f"; error: {fields['error']}"
    level = (
        logging.WARNING
        if fields.get("status") in (RunStatus.FAILED, RunStatus.BLOCKED)
        else logging.INFO
    )
    logger.log(level, "%s", message, extra={"event": "run_finished", "source": source, **fields})


def flush_logs() -> None:
    """Flush every handler of the root logger (before an ``os._exit``)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
