"""``govarchive history``: a page's versions and what changed, or a diff of two versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from scraper.commands.common import (
    BadUsage,
    config_option,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.fetching.urls import normalize_url
from storage.attachmentchanges import AttachmentChange
from storage.errors import UnknownAttachmentError, UnknownRecordError, UnknownVersionError
from storage.history import (
    HistoryEntry,
    PageHistory,
    SectionChange,
    ValueDiff,
    VersionDiff,
    page_history,
    shown_id,
    version_diff,
)

T = TypeVar("T")

_STYLES = {"- ": "red", "+ ": "green", "~ ": "yellow"}

#: A version number as an option takes it: versions count from 1, and the column holding
#: them is a 32-bit INTEGER on PostgreSQL, so a larger number names no version anywhere.
VERSION_NUMBER = click.IntRange(1, 2**31 - 1)


#: Digits beyond which a number is not read as an id at all (Python refuses to convert
#: very long digit strings; no database column holds a number a tenth as long).
_MAX_ID_DIGITS = 1000


def page_refs(text: str) -> list[int | str]:
    """Return what ``text`` may name, in the order to try: a page id (ASCII digits), else
    the URL as typed and its normal form (as the crawler stores URLs).

    Raises BadUsage for a number too long to be any page's id."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        if len(value) > _MAX_ID_DIGITS:
            raise BadUsage(f"no page id {shown_id(value)} in the archive")
        return [int(value)]
    refs: list[int | str] = [value]
    normal = normalize_url(value)
    if normal is not None and normal != value:
        refs.append(normal)
    return refs


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def _short(text: str | None, width: int = 30) -> str:
    if text is None:
        return "(none)"
    return text if len(text) <= width else text[: width - 1] + "…"


def _section_line(change: SectionChange) -> str:
    head = f"section {change.number} {_short(change.title)}"
    if change.kind == "added":
        return f"{head}: appeared (status {change.status_after or '(none)'})"
    if change.kind == "removed":
        return f"{head}: disappeared (status was {change.status_before or '(none)'})"
    parts = []
    if change.status_changed:
        before, after = change.status_before or "(none)", change.status_after or "(none)"
        parts.append(f"status {before} → {after}")
    others = [k for k in change.keys if k != "status"]
    if others:
        parts.append(f"{', '.join(others)} changed")
    return f"{head}: {'; '.join(parts)}"


def _attachment_line(change: AttachmentChange, before: int | None) -> str:
    """One attachment and what became of it since version ``before``, the version just
    before it (None when not known to be: a diff of two versions)."""
    a = change.attachment
    if a.sha256 is None:
        facts = "not downloaded"
    else:
        size = f"{a.size:,} bytes" if a.size is not None else "size unknown"
        text = "text read" if a.text_read else "no text"
        facts = f"{a.kind or '-'}, {size}, sha256 {a.sha256[:12]}, {text}"
    where = "-" if change.change == "removed" else str(a.position)
    earlier = f"v{before}" if before is not None else "an earlier version"
    failed = a.download_error or "no reason recorded"
    if change.change == "new":
        what = "new" + (f"; download failed: {failed}" if a.sha256 is None else "")
    elif change.change == "replaced":
        was = (change.previous_sha256 or "")[:12]
        what = f"replaced (same URL, was sha256 {was})"
    elif change.change == "carried":
        kept = f"the file is {earlier}'s" if a.sha256 is not None else "never downloaded"
        what = f"download failed ({failed}); {kept}"
    elif change.change == "downloaded":
        what = f"downloaded ({earlier}'s download had failed)"
    elif change.change == "removed":
        what = f"removed (was attachment {a.position})"
    else:
        what = "unchanged"
    return f"{where} {_short(a.name, 40)} ({facts}): {what}"


def _attachment_lines(entry: HistoryEntry, before: int | None) -> list[str]:
    """The lines of one version's attachments: a count, then one line per file."""
    changes = [*entry.attachments, *entry.removed_attachments]
    if not changes:
        return []
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.change] = counts.get(change.change, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    lines = [f"    attachments ({len(entry.attachments)}): {summary}"]
    lines.extend(f"      {_attachment_line(c, before)}" for c in changes)
    return lines


def render_history(history: PageHistory) -> list[str]:
    """Return the text lines of ``govarchive history`` for one page."""
    page = history.page
    lines = [
        f"page {page.page_id}  {page.url}  (source {page.source_name})",
        f"first seen {_when(page.first_seen_at)} · last fetched {_when(page.last_fetched_at)} "
        f"· last changed {_when(page.last_changed_at)}"
        + (f" · gone since {_when(page.gone_at)}" if page.gone_at else ""),
        f"{len(history.entries)} version(s)",
        "",
    ]
    before: int | None = None
    for entry in history.entries:
        s = entry.snapshot
        seen = f"{s.fetches} fetch{'es' if s.fetches != 1 else ''}"
        if s.captures:
            seen += (
                f", {s.captures} imported capture{'s' if s.captures != 1 else ''}"
                f" from {', '.join(s.warc_files)}"
            )
        lines.append(
            f"v{s.version}  seen {_when(s.fetched_at)} → {_when(s.last_seen_at)} ({seen})  "
            f"parser {s.parser_version}  {_short(s.fields.get('title'), 40)}"
        )
        if entry.change is None:
            lines.append(f"    first version: {len(s.sections)} task section(s)")
        else:
            change = entry.change
            if not change.fields and not change.sections and not entry.attachments_changed:
                lines.append("    no difference in the parsed content (see `reparse`)")
            if change.fields:
                lines.append(f"    fields: {', '.join(change.fields)}")
            lines.extend(f"    {_section_line(c)}" for c in change.sections)
        lines.extend(_attachment_lines(entry, before))
        before = s.version
    return lines


def _value_lines(value: ValueDiff, indent: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [(f"{indent}{value.name}", None)]
    for line in value.lines:
        out.append((f"{indent}  {line}", _STYLES.get(line[:2])))
    return out


def render_diff(diff: VersionDiff) -> list[tuple[str, str | None]]:
    """Return the (line, colour) pairs of ``govarchive history --diff``."""
    page = diff.page
    old, new = diff.old, diff.new
    out: list[tuple[str, str | None]] = [
        (f"page {page.page_id}  {page.url}", None),
        (
            f"version {old.version} ({_when(old.fetched_at)}) → "
            f"version {new.version} ({_when(new.fetched_at)})",
            None,
        ),
        ("marks: [-removed-] {+added+}; - line removed, + line added, ~ line changed", None),
    ]
    if diff.identical:
        out.append(("the two versions have the same parsed content", None))
        return out
    if diff.fields:
        out.append(("fields", None))
        for value in diff.fields:
            out.extend(_value_lines(value, "  "))
    if diff.metadata_extra:
        out.append(("metadata_extra", None))
        for value in diff.metadata_extra:
            out.extend(_value_lines(value, "  "))
    if diff.sections:
        out.append(("sections", None))
        for section in diff.sections:
            kind = {"added": "appeared", "removed": "disappeared", "changed": "changed"}
            out.append((f"  section {section.number} {section.title} ({kind[section.kind]})", None))
            for value in section.values:
                out.extend(_value_lines(value, "    "))
    if diff.attachments:
        out.append(("attachments", None))
        colours = {"new": "green", "removed": "red", "replaced": "yellow", "downloaded": "green"}
        for change in diff.attachments:
            line = _attachment_line(change, None)
            out.append((f"  {line}", colours.get(change.change)))
    return out


def first_found(refs: list[int | str], load: Callable[[int | str], T]) -> T:
    """Return ``load(ref)`` for the first of ``refs`` that names an archived page.

    A missing version or attachment of a found page is raised at once; if no ref names
    a page, the first ref's UnknownRecordError is raised.
    """
    first: UnknownRecordError | None = None
    for ref in refs:
        try:
            return load(ref)
        except (UnknownVersionError, UnknownAttachmentError):
            raise
        except UnknownRecordError as exc:
            first = first or exc
    assert first is not None
    raise first


def _load(engine: Any, refs: list[int | str], diff: tuple[int, int] | None) -> Any:
    if diff is not None:
        return first_found(refs, lambda ref: version_diff(engine, ref, *diff))
    return first_found(refs, lambda ref: page_history(engine, ref))


@click.command("history")
@config_option
@database_option
@click.argument("page", metavar="URL_OR_PAGE_ID")
@click.option(
    "--diff",
    "diff",
    type=VERSION_NUMBER,
    nargs=2,
    default=None,
    metavar="V1 V2",
    help="Show what differs between versions V1 and V2 (version numbers 1, 2, 3 …).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def history_command(
    config_path: Path | None,
    database: str | None,
    page: str,
    diff: tuple[int, int] | None,
    as_json: bool,
) -> None:
    """Show a page's versions in order and what changed between them.

    URL_OR_PAGE_ID is a page's URL as archived or its id (pages.id). Each version
    shows when it was first and last seen, which metadata fields changed, which
    task sections appeared, disappeared or changed status, and its attachments
    (position, file name or URL, kind, size, short SHA-256, whether text was read)
    with what became of each since the version before: new, replaced (same URL, other
    bytes), unchanged, carried (this crawl's download failed; the file is the earlier
    version's), downloaded (the earlier download had failed) or removed. With --diff
    V1 V2, a readable diff of two versions' fields, section texts and files. Reads the
    archive only.
    """
    engine = open_archive(database, config_path, create=False)
    try:
        with translated_errors():
            result = _load(engine, page_refs(page), diff)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif isinstance(result, VersionDiff):
        for line, colour in render_diff(result):
            click.secho(line, fg=colour)
    else:
        click.echo("\n".join(render_history(result)))
