"""A :class:`storage.changes.ChangeReport` as Markdown, CSV or JSON, times in one zone. Pure.

- :func:`report_markdown` — for cron and e-mail: a summary line first, then a heading per
  source with its new, changed and gone pages and its failed fetches, in short lines
  (long values shortened, a long text's first changed lines only).
- :func:`report_csv` — one row per change, the columns of :data:`CSV_COLUMNS` in that
  order (a ``kind`` column first), full values; the header alone when nothing changed.
- :func:`report_json` — the period, the summary counts and every change, full values.

Times are shown in the zone given (``+08:00`` for Asia/Shanghai), never naive.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from storage.changes import Change, ChangeReport
from storage.textdiff import text_diff

#: The CSV's columns, in order; stable for scripts.
CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "source",
    "at",
    "url",
    "page_id",
    "version",
    "title",
    "item",
    "change",
    "old",
    "new",
    "count",
)

#: Longest value shown whole on a Markdown line; longer ones are shortened with "…".
SHORT = 60
#: Changed lines of a long text shown in Markdown.
DIFF_LINES = 3


def summary(report: ChangeReport) -> dict[str, int]:
    """Return the report's counts: new pages, pages changed (versions after the first),
    task status changes, attachments changed, pages gone, failed fetches."""
    versions = {(c.url, c.version) for c in report.changes if c.kind in _VERSION_KINDS}
    return {
        "new_pages": len(report.of_kind("new_page")),
        "changed_versions": len(versions),
        "status_changes": sum(1 for c in report.of_kind("section") if _status_changed(c)),
        "attachment_changes": len(report.of_kind("attachment")),
        "gone": len(report.of_kind("gone")),
        "failed_fetches": sum(c.count or 0 for c in report.of_kind("failures")),
    }


_VERSION_KINDS = ("field", "section", "attachment")
_SUMMARY_WORDS = {
    "new_pages": ("new page", "new pages"),
    "changed_versions": ("page changed", "pages changed"),
    "status_changes": ("task status change", "task status changes"),
    "attachment_changes": ("attachment changed", "attachments changed"),
    "gone": ("page gone", "pages gone"),
    "failed_fetches": ("failed fetch", "failed fetches"),
}


def _status_changed(change: Change) -> bool:
    return change.change == "changed" and change.old != change.new


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def summary_line(report: ChangeReport, zone: tzinfo, zone_name: str) -> str:
    """The first line: the period in ``zone`` and the counts (or "no changes")."""
    period = (
        f"{_when(report.since, zone)} to {_when(report.until, zone)} ({zone_name})"
        if report.until.year < 9999
        else f"since {_when(report.since, zone)} ({zone_name})"
    )
    where = f" in {', '.join(report.sources)}" if report.sources else ""
    counts = [f"{n} {_SUMMARY_WORDS[key][n != 1]}" for key, n in summary(report).items() if n]
    return f"govarchive changes{where}, {period}: {', '.join(counts) or 'no changes'}"


def _short(text: str | None, width: int = SHORT) -> str:
    if text is None:
        return "(none)"
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def _value_lines(change: Change) -> list[str]:
    """How a field changed, in one line when both sides are short, else its first
    changed lines (storage.textdiff's notation)."""
    old, new = change.old, change.new
    if all(v is None or ("\n" not in v and len(v) <= SHORT) for v in (old, new)):
        return [f"  - {change.item}: {_short(old)} → {_short(new)}"]
    marked = [line for line in text_diff(old, new) if not line.startswith("  ")]
    shown = [f"    {_short(line, SHORT + 2)}" for line in marked[:DIFF_LINES]]
    more = len(marked) - len(shown)
    return [
        f"  - {change.item} changed" + (f" ({more} more changed lines)" if more else "") + ":",
        *shown,
    ]


def _section_line(change: Change) -> str:
    head = f"  - task {_short(change.item, 40)}"
    old, new = change.old or "(none)", change.new or "(none)"
    if change.change == "added":
        return f"{head}: new (status {new})"
    if change.change == "removed":
        return f"{head}: removed (status was {old})"
    if _status_changed(change):
        return f"{head}: {old} → {new}"
    return f"{head}: text changed"


def _attachment_line(change: Change) -> str:
    return f"  - attachment {_short(change.item, 40)}: {change.change}"


def _page_lines(changes: list[Change], zone: tzinfo) -> Iterator[str]:
    """The lines of one changed version: its time, number and title, its URL, then one
    line per change."""
    first = changes[0]
    yield f"- {_when(first.at, zone)} v{first.version} {_short(first.title)}"
    yield f"  {first.url}"
    for change in changes:
        if change.kind == "field":
            yield from _value_lines(change)
        elif change.kind == "section":
            yield _section_line(change)
        else:
            yield _attachment_line(change)


def report_markdown(report: ChangeReport, zone: tzinfo, zone_name: str) -> str:
    """Return the report as Markdown: the summary line, then a ``##`` heading per source
    with ``###`` parts (new pages, changed pages, gone, failed fetches)."""
    lines = [summary_line(report, zone, zone_name)]
    for source in dict.fromkeys(c.source for c in report.changes):
        mine = [c for c in report.changes if c.source == source]
        lines += ["", f"## {source}"]
        new = [c for c in mine if c.kind == "new_page"]
        if new:
            lines += ["", "### New pages"]
            for c in new:
                lines += [f"- {_when(c.at, zone)} {_short(c.title)}", f"  {c.url}"]
        versions: dict[tuple[str | None, int | None], list[Change]] = {}
        for c in mine:
            if c.kind in _VERSION_KINDS:
                versions.setdefault((c.url, c.version), []).append(c)
        if versions:
            lines += ["", "### Changed"]
            for changes in versions.values():
                lines += list(_page_lines(changes, zone))
        gone = [c for c in mine if c.kind == "gone"]
        if gone:
            lines += ["", "### Gone"]
            for c in gone:
                lines += [f"- {_when(c.at, zone)} {_short(c.title)}", f"  {c.url}"]
        failures = [c for c in mine if c.kind == "failures"]
        if failures:
            lines += ["", "### Failed fetches"]
            for what in ("page", "attachment"):
                counts = [f"{c.count} {c.item}" for c in failures if c.change == what]
                if counts:
                    lines.append(f"- {what}s: {', '.join(counts)}")
    return "\n".join(lines) + "\n"


def _row(change: Change, zone: tzinfo) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(change, name) for name in CSV_COLUMNS}
    values["at"] = _iso(change.at, zone)
    return values


def report_csv(report: ChangeReport, zone: tzinfo) -> str:
    """Return the report as CSV: a header of :data:`CSV_COLUMNS`, one row per change;
    NULL is an empty field."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for change in report.changes:
        writer.writerow(_row(change, zone))
    return out.getvalue()


def report_json(report: ChangeReport, zone: tzinfo, zone_name: str) -> str:
    """Return the report as one JSON object: ``since``, ``until`` (exclusive), ``timezone``,
    ``sources``, ``summary`` (the counts) and ``changes`` (the CSV's columns)."""
    document = {
        "since": _iso(report.since, zone),
        "until": _iso(report.until, zone) if report.until.year < 9999 else None,
        "timezone": zone_name,
        "sources": list(report.sources),
        "summary": summary(report),
        "changes": [_row(c, zone) for c in report.changes],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
