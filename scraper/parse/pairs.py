"""Label/value pairs from one line or one table row. Pure string work.

A line pair is ``label: value`` (full-width or ASCII colon), a known label followed
by a tag boundary (``<b>索引号</b>002…``) or space, or — for the next field on the
same line — a label preceded by a space and followed by a colon
(``发布时间：2021-10-11 09:25 来源：市数据资源局 浏览次数：``). Labels are matched,
never positions, except inside a metadata table row, where label and value cells
alternate.
"""

from __future__ import annotations

import re

from scraper.parse.labels import (
    KNOWN_EXTRA_LABELS,
    METADATA_LABELS,
    VOLATILE_LABELS,
    label_pattern,
    normalize_label,
)
from scraper.parse.layout import EMPH, SOFT, plain

Pair = tuple[str, str]

KNOWN_LABELS: frozenset[str] = frozenset(METADATA_LABELS) | VOLATILE_LABELS | KNOWN_EXTRA_LABELS

_M = f"[{EMPH}{SOFT}]"
_KNOWN = label_pattern(KNOWN_LABELS, joint=f"[ {EMPH}{SOFT}]*")
# A label the tables do not know: a few Han characters or letters (信息格式/语种).
_UNKNOWN = r"[\u4e00-\u9fff][\u4e00-\u9fffA-Za-z/]{1,9}"
_KNOWN_START = re.compile(rf"{_M}* ?({_KNOWN}){_M}* ?(?:[:：]|(?=[{EMPH}{SOFT} ]|$))")
_UNKNOWN_START = re.compile(rf"{_M}* ?({_UNKNOWN}){_M}* ?[:：]")
# 首都之窗 (TRS) prints its block as ``<li>[发文字号] <span>…</span></li>``: a label in
# square brackets, known or not, needs no colon; the closing bracket ends it.
_BRACKETED_START = re.compile(
    rf"{_M}* ?[\[【]{_M}* ?({_KNOWN}|{_UNKNOWN}){_M}* ?[\]】]{_M}* ?[:：]?"
)
# A further label on the same line: after a space or tag boundary, before a colon,
# maybe in brackets (【字号：大 中 小】). The match includes that space or boundary:
# a pattern that starts with a character class is searched for at C speed, one
# that starts with a look-behind is tried at every position. The boundary is never
# part of a value (plain() and strip() remove it), and a match never has to use the
# character before the search position (the previous match ends at a colon or
# right before a boundary).
_NEXT = re.compile(
    rf"[ {EMPH}{SOFT}][【\[（(]?(?:{_M} ?)*(?:({_KNOWN})|([\u4e00-\u9fff]{{2,6}})){_M}* ?[:：]"
)
_LABEL_LIKE = re.compile(rf"{_UNKNOWN}")


def line_pairs(text: str) -> list[Pair] | None:
    """Return the (normalised label, plain value) pairs of a line that starts with a
    label, or None if it does not. A label alone gives one pair with an empty value.
    """
    match = _KNOWN_START.match(text) or _UNKNOWN_START.match(text) or _BRACKETED_START.match(text)
    if match is None:
        return None
    pairs: list[Pair] = []
    label = match.group(1)
    pos = match.end()
    while True:
        # Every further label ends in a colon; most lines have none left.
        has_colon = text.find("：", pos) >= 0 or text.find(":", pos) >= 0
        following = _NEXT.search(text, pos) if has_colon else None
        if following is None:
            pairs.append((normalize_label(label), plain(text[pos:]).strip()))
            return pairs
        pairs.append((normalize_label(label), plain(text[pos : following.start()]).strip()))
        label = following.group(1) or following.group(2)
        pos = following.end()


def is_label_like(text: str) -> bool:
    """Return True if a cell or line could be an (unknown) label: a few Han characters
    or letters, optionally with a trailing colon."""
    return _LABEL_LIKE.fullmatch(normalize_label(plain(text))) is not None


def _is_pair(cell: str) -> bool:
    """True if a cell is itself a known label with its value (发布日期：2021-10-11): the
    cell before it, a label with an empty value (文号：), does not take it as its value."""
    found = line_pairs(cell)
    return found is not None and found[0][0] in KNOWN_LABELS and bool(found[0][1])


def is_known_label(text: str) -> bool:
    """Return True if ``text`` is exactly a known label (padding and colon ignored)."""
    return normalize_label(plain(text)) in KNOWN_LABELS


def row_pairs(cells: list[str]) -> list[Pair]:
    """Return the pairs of one metadata-table row (cell texts, inline markers kept).

    A ``label: value`` cell is a pair by itself; a label cell (known, or label-like)
    takes the next cell as its value unless that cell is itself a known label, or a known
    label with its value (``文号：`` | ``发布日期：2021-10-11``: the 文号 is empty).
    """
    pairs: list[Pair] = []
    index, count = 0, len(cells)
    while index < count:
        cell = cells[index]
        index += 1
        if not cell:
            continue
        found = line_pairs(cell)
        if found is not None and (len(found) > 1 or found[0][1]):
            pairs.extend(found)
            continue
        if found is None and not is_label_like(cell):
            continue
        label = found[0][0] if found is not None else normalize_label(cell)
        value = ""
        if index < count and not is_known_label(cells[index]) and not _is_pair(cells[index]):
            value = plain(cells[index])
            index += 1
        pairs.append((label, value))
    return pairs
