"""Numbered task sections of a progress report, from the body's lines and tables.

A heading line starts with a Chinese numeral and ``、``/``．``/``.`` (``一、``,
``十一、``, ``任务一、``); a field starts with a task label at the start of a line,
after the end of the previous field's text on the same line, or alone / in bold
without a colon. Everything else stays text (docs/parsing.md, "sections").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from scraper.parse.body import row_text
from scraper.parse.labels import (
    NUMBER_COLUMNS,
    SECTION_EXTRA_LABELS,
    SECTION_LABELS,
    TITLE_COLUMNS,
    label_pattern,
    normalize_label,
)
from scraper.parse.layout import EMPH, SOFT, Block, Table, plain
from scraper.parse.record import Section
from scraper.parse.text import normalize_space
from scraper.parse.values import SECTION_PLACEHOLDERS

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMERAL = re.compile(r"(?:([二三四五六七八九])?十([一二三四五六七八九])?|([一二三四五六七八九]))")
_HEADING = re.compile(r"(?:任务 ?)?(?P<numeral>[一二三四五六七八九十]{1,3}) ?[、．.] ?(?P<rest>.+)")
# "一、二季度…", "一、二、三…": an enumeration of numerals, not a heading.
_HEADING_FIRST = frozenset("一二三四五六七八九十任")
_ANY_TASK_LABEL = re.compile(label_pattern(SECTION_LABELS))
_ENUMERATION = re.compile(r"[一二三四五六七八九十]+(?:[、,，和至到]|季度|月|是|期|批)")
_M = f"[{EMPH}{SOFT}]"
_INLINE_MARKERS = EMPH + SOFT
_LABELS = label_pattern({*SECTION_LABELS, *SECTION_EXTRA_LABELS}, joint=f"[ {EMPH}{SOFT}]*")
# An "other" label the tables do not list: 牵头单位, 完成时限, 责任领导 …
_SUFFIX_LABEL = r"[\u4e00-\u9fff]{0,6}(?:单位|部门|领导|时限|节点|时间|责任人)"
_START_LABEL = re.compile(
    rf"(?:{_M} ?)*({_LABELS}|{_SUFFIX_LABEL})(?: ?{_M})* ?(?:[:：]|(?={SOFT}|$))"
)
# Inline labels are exact words (no padding): 完成状态：持续推进。 进展情况：…
_INLINE_SET = frozenset(SECTION_LABELS) | SECTION_EXTRA_LABELS
_INLINE_SIZES = sorted({len(label) for label in _INLINE_SET}, reverse=True)
_SPACE_OR_MARK = f" {EMPH}{SOFT}"
_BEFORE_INLINE = f"。；;！!？?. {EMPH}{SOFT}"
_CLOSING = re.compile(
    r"(?:附件 ?[:：0-9一二三四五六七八九十]|\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日$"
    r"|[（(]此件.{0,10}[)）]$)"
)
_CLOSING_FIRST = frozenset("附0123456789（(")
_HEADER_ROWS = 3
_TRAILING_TITLE = "。；;，,：: "
_TRAILING_STATUS = "。；;，,. "


@dataclass(slots=True)
class _Open:
    """A section being read: its fields' lines by key, in the order labels appeared."""

    number: int
    title: str
    fields: dict[str, list[str]] = field(default_factory=dict)


def chinese_number(text: str) -> int | None:
    """Return the value of a Chinese numeral 一 … 九十九, or None."""
    match = _NUMERAL.fullmatch(text)
    if match is None:
        return None
    tens, units, single = match.groups()
    if single:
        return _DIGITS[single]
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def heading(line: str) -> tuple[int, str] | None:
    """Return (number, rest of line) if a plain line is a task heading, else None."""
    if not line or line[0] not in _HEADING_FIRST:
        return None
    match = _HEADING.match(line)
    if match is None:
        return None
    number = chinese_number(match["numeral"])
    rest = match["rest"]
    if number is None or _ENUMERATION.match(rest):
        return None
    return number, rest


def has_task_labels(text: str) -> bool:
    """Return True if ``text`` (e.g. the body text) contains any task-section label:
    without one a page has no sections, so the line-by-line reading can be skipped."""
    return _ANY_TASK_LABEL.search(text) is not None


def section_key(label: str) -> str:
    """Return the Section field for a task label, or ``extra:<label>``."""
    canonical = SECTION_LABELS.get(label)
    return canonical if canonical is not None else f"extra:{label}"


def split_labels(line: str, *, at_start: bool = True) -> list[tuple[str | None, str]]:
    """Split a line (inline markers kept) into (label or None, text) segments.

    The first segment has no label unless the line starts with one (``at_start``);
    later ones start at a task label that follows a sentence end or a space.
    """
    label: str | None = None
    pos = 0
    full, half = line.find("："), line.find(":")
    colon = half if full < 0 else full if half < 0 else min(full, half)
    # Without a colon only a label alone, or in bold, can start the line.
    if at_start and (colon >= 0 or len(line) <= 12 or line[0] in _INLINE_MARKERS):
        opening = _START_LABEL.match(line)
        if opening is not None:
            label, pos = normalize_label(opening.group(1)), opening.end()
            if colon < pos:
                # A kind of colon absent before the label is absent after it too.
                full = line.find("：", pos) if full >= 0 else -1
                half = line.find(":", pos) if half >= 0 else -1
                colon = half if full < 0 else full if half < 0 else min(full, half)
    if colon < 0:
        # Most lines: no (further) colon, so no inline label either.
        return [(label, line[pos:])]
    segments: list[tuple[str | None, str]] = []
    for start, end, found in _inline_labels(line, pos, colon):
        segments.append((label, line[pos:start]))
        label, pos = found, end
    segments.append((label, line[pos:]))
    return segments


def _inline_labels(line: str, pos: int, colon: int) -> list[tuple[int, int, str]]:
    """The task labels inside ``line`` after ``pos``: (start, end after the colon, label);
    ``colon`` is the first colon at or after ``pos``.

    Looked for at each colon (there are few) rather than at each character: a label
    ends right before the colon and follows a sentence end, a space or a tag boundary.
    """
    found: list[tuple[int, int, str]] = []
    while colon >= 0:
        end = colon
        while end > pos and line[end - 1] in _SPACE_OR_MARK:
            end -= 1
        for size in _INLINE_SIZES:
            start = end - size
            if start < pos or line[start:end] not in _INLINE_SET:
                continue
            if start == 0 or line[start - 1] in _BEFORE_INLINE:
                while start > pos and line[start - 1] in _SPACE_OR_MARK:
                    start -= 1
                found.append((start, colon + 1, line[start:end].strip(_SPACE_OR_MARK)))
                pos = colon + 1
                break
        colon = _next_colon(line, colon + 1)
    return found


def _next_colon(line: str, start: int) -> int:
    full, half = line.find("：", start), line.find(":", start)
    if full < 0:
        return half
    return full if half < 0 else min(full, half)


def extract_sections(blocks: Sequence[Block]) -> list[Section]:
    """Return the page's task sections (empty unless the page carries task labels)."""
    sections: list[_Open] = []
    current: _Open | None = None
    lines: list[str] | None = None  # the current field's lines; None before a label
    last_number = 0
    labelled = False
    for block in blocks:
        if isinstance(block, Table):
            rows = _table_sections(block, last_number)
            if rows:
                sections.extend(rows)
                last_number, current, lines, labelled = rows[-1].number, None, None, True
            elif current is not None and lines is not None:
                lines.extend(t for t in map(row_text, block.rows) if t)
            continue
        text = plain(block) if EMPH in block or SOFT in block else block
        if not text:
            continue
        first = text[0]
        found = heading(text) if first in _HEADING_FIRST else None
        if found is not None and found[0] > last_number:
            last_number = found[0]
            segments = split_labels(block, at_start=False)
            title = found[1]
            if len(segments) > 1:  # labels after the heading on its line
                own = heading(plain(segments[0][1]))
                title = own[1] if own is not None else title
            current = _Open(found[0], title)
            sections.append(current)
            lines = None
            segments = segments[1:]
        elif current is None:
            continue
        elif first in _CLOSING_FIRST and _CLOSING.match(text):
            current = lines = None
            continue
        else:
            segments = split_labels(block)
        for label, segment in segments:
            if label is not None:
                key = SECTION_LABELS.get(label)
                if key is None:
                    key = "extra:" + label
                else:
                    labelled = True
                lines = current.fields.setdefault(key, [])
            if lines is not None:
                value = text if segment is block else plain(segment)
                if value:
                    lines.append(value)
    if not labelled:
        return []
    return [_finish(s) for s in sections]


def _finish(section: _Open) -> Section:
    values: dict[str, str | None] = {}
    extra: dict[str, str] = {}
    for key, lines in section.fields.items():
        text = "\n".join(filter(None, lines))
        if key == "status":
            text = text.rstrip(_TRAILING_STATUS)
        text = text.strip()
        if key.startswith("extra:"):
            if text not in SECTION_PLACEHOLDERS:
                extra[key[6:]] = text
        else:
            values[key] = None if text in SECTION_PLACEHOLDERS else text
    return Section(
        number=section.number,
        title=section.title.rstrip(_TRAILING_TITLE),
        status=values.get("status"),
        progress=values.get("progress"),
        problems=values.get("problems"),
        next_steps=values.get("next_steps"),
        extra=extra,
    )


def _table_sections(table: Table, last_number: int) -> list[_Open]:
    """Each data row of a report table (序号 | 任务 | … | 完成状态 | 进展情况 …) is a section."""
    header_at = None
    columns: list[str] = []
    # The header is one of the first rows (a caption row may come first).
    for index, row in enumerate(table.rows[:_HEADER_ROWS]):
        labels = [normalize_label(" ".join(plain(line) for line in cell)) for cell in row]
        if any(label in SECTION_LABELS for label in labels) and any(
            label in TITLE_COLUMNS or label in NUMBER_COLUMNS for label in labels
        ):
            header_at, columns = index, labels
            break
    if header_at is None:
        return []
    sections: list[_Open] = []
    for ordinal, row in enumerate(table.rows[header_at + 1 :], start=1):
        cells = {label: row[i] for i, label in enumerate(columns) if i < len(row)}
        number: int | None = ordinal
        title = ""
        fields: dict[str, list[str]] = {}
        for label, cell in cells.items():
            lines = [plain(line) for line in cell]
            if label in NUMBER_COLUMNS:
                number = _row_number(" ".join(lines))
            elif label in TITLE_COLUMNS and not title:
                title = normalize_space(" ".join(lines))
            elif label:
                fields[section_key(label)] = lines
        if number is None or number <= last_number:
            continue
        last_number = number
        sections.append(_Open(number, title, fields))
    return sections


def _row_number(text: str) -> int | None:
    text = text.strip().rstrip("、．.")
    if text.isdigit():
        return int(text)
    return chinese_number(text)
