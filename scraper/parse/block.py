"""The metadata block: which lines and tables of a page are it, and their label/value
pairs. Pure (blocks in, pairs out).

A block is a table, or a run of lines, carrying at least two canonical fields with
values (docs/parsing.md, "Labels"). A run of lines is either inline (``索引号：002…``
per line) or two-line (``索引号`` then the value on the next line, as in ``<dt>/<dd>``
lists); which one is decided per run by the majority of its lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scraper.parse.infoline import is_date_widget
from scraper.parse.labels import (
    METADATA_LABELS,
    VOLATILE_LABELS,
    is_navigation_label,
    label_pattern,
    normalize_label,
)
from scraper.parse.layout import EMPH, PLACE, SOFT, Block, Table, plain
from scraper.parse.pairs import (
    KNOWN_LABELS,
    Pair,
    is_known_label,
    is_label_like,
    line_pairs,
    row_pairs,
)

# Labels that do not make a single line a block: the info line's own.
_INFO_LINE_ONLY = frozenset({"发布时间", "来源"})
_FIRST_KNOWN = frozenset(label[0] for label in KNOWN_LABELS)
# Canonical labels, padded or split by markers as pages print them (normalize_label
# removes exactly those characters), only where a label can end: before a colon, a tag
# boundary, a space or the end of its line (主题教育 in a menu is no 主题 label).
_CANONICAL = re.compile(
    label_pattern(METADATA_LABELS, joint="[ \ufdd0-\ufddf]*")
    + "(?=[ \ufdd0-\ufddf]*(?:[:：\n\ufdd0-\ufddf\\]】]|$)| )"
)


def _one_label_per_match(labels: frozenset[str]) -> bool:
    """True if no label can hide the starts of two labels read from a line: no label
    holds a label followed by the start of another (名称 in 信息名称 is fine). Then a
    line with two canonical labels has at least two :data:`_CANONICAL` matches.

    A label that is exactly two labels (主题分类 = 主题 + 分类) hides nothing: the page
    shows it as one label, and labels are read longest first."""
    for label in labels:
        for cut in range(2, len(label)):
            head, tail = label[:cut], label[cut:]
            if head in labels and tail in labels:
                continue
            if any(other in head for other in labels) and any(
                other.startswith(tail) or tail.startswith(other) for other in labels
            ):
                return False
    return True


_PRECHECK = _one_label_per_match(frozenset(METADATA_LABELS))
_INLINE_MARKERS = EMPH + SOFT
# What may stand before a line's first label: tag boundaries, a space, a bracket ([发文字号]).
_LEADERS = _INLINE_MARKERS + " [【"


#: An article line: longer than any metadata row, without a label.
_ARTICLE_LINE = 60
#: How far into the container a leading block may start (a repeated title, an info line).
_LEADING_REACH = 40


def split_leading_block(blocks: Sequence[Block]) -> tuple[list[Pair], list[Block]]:
    """Return the pairs of a metadata block at the top of an article container, and
    the container's blocks without the block's lines and tables.

    The top is everything before the first article line (a long unlabelled line) or
    the first table that is not a block. Nothing is taken when no block is there.
    """
    end = 0
    while end < len(blocks) and end < _LEADING_REACH:
        block = blocks[end]
        if isinstance(block, Table):
            if not _is_block(_table_pairs(block), single_line=False):
                break
        elif len(block) > _ARTICLE_LINE and _labelled(block) is None:
            break
        end += 1
    if end == 0:
        return [], list(blocks)
    pairs, loose = find_block_pairs(blocks[:end])
    if not pairs:
        return [], list(blocks)
    return pairs, [*loose, *blocks[end:]]


def find_block_pairs(blocks: Sequence[Block]) -> tuple[list[Pair], list[str]]:
    """Return the pairs of every metadata block among ``blocks``, in document order,
    and the text lines (table cells included) that are in no block."""
    pairs: list[Pair] = []
    loose: list[str] = []
    run: list[str] = []
    after_block = False  # the previous block was a metadata table
    for block in blocks:
        if isinstance(block, str):
            run.append(block)
            if after_block and not _passed_over(block, _labelled(block)):
                after_block = False
            continue
        _flush_run(run, pairs, loose)
        run = []
        found = _table_pairs(block)
        # A block split over two tables (杭州: 索引号 … 有效性, then 主题分类 in a table of
        # its own): the second counts with one canonical field.
        if _is_block(found, single_line=False) or (after_block and _fields(found) >= 1):
            pairs.extend(found)
            after_block = True
        else:
            loose.extend(line for row in block.rows for cell in row for line in cell)
            after_block = False
    _flush_run(run, pairs, loose)
    return pairs, loose


def _table_pairs(table: Table) -> list[Pair]:
    pairs: list[Pair] = []
    for row in table.rows:
        pairs.extend(row_pairs([" ".join(cell) for cell in row]))
    return pairs


def _is_block(pairs: Sequence[Pair], *, single_line: bool) -> bool:
    """At least two canonical fields with values; on a single line, not counting the
    info line's own labels (发布时间, 来源)."""
    return _fields(pairs, single_line=single_line) >= 2


def _fields(pairs: Sequence[Pair], *, single_line: bool = False) -> int:
    """How many canonical fields ``pairs`` give values for."""
    fields = set()
    for label, value in pairs:
        if not value or (single_line and label in _INFO_LINE_ONLY):
            continue
        canonical = METADATA_LABELS.get(label)
        if canonical is not None:
            fields.add(canonical)
    return len(fields)


# Line kinds inside a run; a navigation line (breadcrumb) always ends a run.
_PAIRS, _LABEL, _UNKNOWN, _TEXT, _NAVIGATION = "P", "L", "U", "T", "N"


#: The longest line taken as the value of a label whose own line left it empty.
_SHORT_VALUE = 60
#: How many unlabelled lines may separate two labelled lines of one block (values,
#: unknown labels without a colon and their values).
_MAX_GAP = 6


def _labelled(line: str) -> tuple[str, list[Pair] | None] | None:
    """Classify a line that starts with a label (P, L or N), else return None."""
    first = line[0]
    if first in _LEADERS:
        first = line.lstrip(_LEADERS)[:1]
    # Cheap pre-check: most lines of a page (navigation, footers) start with no label.
    if first not in _FIRST_KNOWN and "：" not in line[:16] and ":" not in line[:16]:
        return None
    pairs = line_pairs(line)
    if pairs is None:
        return None
    if is_navigation_label(pairs[0][0]):
        return _NAVIGATION, None
    if len(pairs) == 1 and not pairs[0][1]:
        return _LABEL, pairs
    return _PAIRS, pairs


def _unlabelled(line: str) -> str:
    if PLACE in line:  # where the article was: never a value, always a break
        return _NAVIGATION
    return _UNKNOWN if len(line) <= 16 and is_label_like(line) else _TEXT


def _may_hold_block(lines: list[str]) -> bool:
    """False if ``lines`` cannot hold a block: a block has two canonical fields with
    values, so the canonical labels occur at least twice in its lines."""
    return not _PRECHECK or len(_CANONICAL.findall("\n".join(lines))) >= 2


def _flush_run(lines: list[str], pairs: list[Pair], loose: list[str]) -> None:
    """Find the blocks among consecutive lines; keep their pairs, the rest is loose.

    Only lines near labelled ones are looked at closely: a page's navigation and
    footer lines are most of its lines and never part of a block.
    """
    # Most runs (navigation, related links, footers) are dismissed by one scan
    # instead of being read line by line.
    if not _may_hold_block(lines):
        loose.extend(lines)
        return
    labelled = [(index, found) for index, found in enumerate(map(_labelled, lines)) if found]
    # Counters and widgets (浏览次数：12) anchor nothing: they may stand anywhere.
    anchors = [
        index
        for index, (kind, found) in labelled
        if kind != _NAVIGATION
        and not (found and all(label in VOLATILE_LABELS for label, _ in found))
    ]
    if not anchors:
        loose.extend(lines)
        return
    known = dict(labelled)
    done = 0
    start = anchors[0]
    for position, anchor in enumerate(anchors):
        following = anchors[position + 1] if position + 1 < len(anchors) else None
        if following is not None and following - anchor <= _MAX_GAP:
            continue
        # The line after the last label may be its value, past counters and widgets.
        end = anchor + 1
        while end < len(lines) and _passed_over(lines[end], known.get(end)):
            end += 1
        end = min(len(lines), end + 1)
        loose.extend(lines[done:start])
        if _may_hold_block(lines[start:end]):
            _read_region(lines, start, end, known, pairs, loose)
        else:  # e.g. a footer's 主办单位：… 地址：… 电话：…
            loose.extend(lines[start:end])
        done = end
        if following is not None:
            start = following
    loose.extend(lines[done:])


def _passed_over(line: str, labelled: tuple[str, list[Pair] | None] | None) -> bool:
    """True for a line of counters or widgets alone (浏览次数：12) or a date widget
    (今天是…星期四): they may stand anywhere, and blocks are read past them."""
    if labelled is not None:
        found = labelled[1]
        return bool(found) and all(label in VOLATILE_LABELS for label, _ in found or ())
    return is_date_widget(plain(line))


def _read_region(
    lines: list[str],
    start: int,
    end: int,
    known: dict[int, tuple[str, list[Pair] | None]],
    pairs: list[Pair],
    loose: list[str],
) -> None:
    """Split lines[start:end] into runs, keep the pairs of runs that are blocks."""
    run: list[tuple[str, str, list[Pair] | None]] = []
    previous = _TEXT
    for index in range(start, end):
        line = lines[index]
        if _passed_over(line, known.get(index)):
            # Counters, widgets and date widgets may stand anywhere, even between a label
            # and its value: they are passed over.
            loose.append(line)
            continue
        kind, found = known.get(index) or (_unlabelled(line), None)
        if kind == _NAVIGATION or (kind == _TEXT and previous not in (_LABEL, _UNKNOWN)):
            _close_run(run, pairs, loose)
            run = []
            loose.append(line)
            previous = _TEXT
            continue
        run.append((kind, line, found))
        if kind == _PAIRS and found is not None and not found[-1][1]:
            # 海南: "废止日期： 时效性：" then the value in a <div> of its own.
            previous = _LABEL
        else:
            previous = kind if kind != _TEXT else _PAIRS
    _close_run(run, pairs, loose)


def _close_run(
    run: list[tuple[str, str, list[Pair] | None]], pairs: list[Pair], loose: list[str]
) -> None:
    if not run:
        return
    inline = sum(kind == _PAIRS for kind, _, _ in run)
    bare = sum(kind in (_LABEL, _UNKNOWN) for kind, _, _ in run)
    two_line = bare > inline
    found: list[tuple[Pair, bool]] = []  # (pair, read from a label the page marked)
    index = 0
    while index < len(run):
        kind, line, line_found = run[index]
        index += 1
        if kind == _PAIRS and line_found is not None:
            line_found = list(line_found)
            if not line_found[-1][1] and index < len(run):
                # The last label's value may be the next line: a short unlabelled one.
                next_kind, next_line, _ = run[index]
                if (
                    next_kind in (_TEXT, _UNKNOWN)
                    and len(next_line) <= _SHORT_VALUE
                    and not is_known_label(next_line)
                ):
                    line_found[-1] = (line_found[-1][0], plain(next_line))
                    index += 1
            found.extend((pair, pair[0] not in VOLATILE_LABELS) for pair in line_found)
        elif kind in (_LABEL, _UNKNOWN):
            if kind == _LABEL and line_found is not None:
                label = line_found[0][0]
            else:
                label = normalize_label(plain(line))
            value = ""
            if index < len(run) and (two_line or kind == _UNKNOWN):
                next_kind, next_line, _ = run[index]
                if next_kind in (_TEXT, _UNKNOWN) and not is_known_label(next_line):
                    value = plain(next_line)
                    index += 1
            sure = kind == _LABEL or label in KNOWN_LABELS
            found.append(((label, value), sure and label not in VOLATILE_LABELS))
    # A guessed label (a short line, no colon, unknown) counts only between real ones:
    # before and after the block such lines are navigation or headings.
    certain = [i for i, (_, sure) in enumerate(found) if sure]
    kept = [pair for pair, _ in found[certain[0] : certain[-1] + 1]] if certain else []
    # Only lines with labels count, and not those of counters and widgets alone
    # (浏览次数：12): an info line and what stands around it are not a block.
    lines = sum(
        1
        for kind, _, line_found in run
        if kind != _TEXT
        and not (line_found and all(label in VOLATILE_LABELS for label, _ in line_found))
    )
    if _is_block(kept, single_line=lines <= 1):
        pairs.extend(kept)
    else:
        loose.extend(line for _, line, _ in run)
