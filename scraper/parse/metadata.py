"""The metadata block: find it among the page's lines and tables, merge its copies,
fill gaps from the info line and ``<meta>`` tags. Pure (lines in, Metadata out).

A block is a table, or a run of lines, carrying at least two canonical fields with
values (docs/parsing.md, "Labels"). A run of lines is either inline (``索引号：002…``
per line) or two-line (``索引号`` then the value on the next line, as in ``<dt>/<dd>``
lists); which one is decided per run by the majority of its lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scraper.parse.labels import (
    DATE_FIELDS,
    METADATA_LABELS,
    VOLATILE_LABELS,
    is_navigation_label,
    label_pattern,
    normalize_label,
)
from scraper.parse.layout import EMPH, SOFT, Block, Table, plain
from scraper.parse.pairs import (
    KNOWN_LABELS,
    Pair,
    is_known_label,
    is_label_like,
    line_pairs,
    row_pairs,
)
from scraper.parse.record import CANONICAL_FIELDS, Metadata
from scraper.parse.text import normalize_space
from scraper.parse.values import DateTime, clean_value, parse_datetime

#: Labels read from the article info line (``发布时间：… 来源：… 浏览次数：…``) and other lines
#: outside the block, and the field each fills when the block left it empty.
INFO_LABELS: dict[str, str] = {
    "发布时间": "published_date",
    "发布日期": "published_date",
    "发文日期": "published_date",
    "成文日期": "written_date",
    "来源": "source",
    "信息来源": "source",
    "文章来源": "source",
}
#: Bare labels (证监会 ``日期：2022-04-11 来源：证监会``, 郑州 ``来源：… 时间：…``): read only above
#: the article, and only when nothing else gave the date.
WEAK_INFO_LABELS: dict[str, str] = {"日期": "published_date", "时间": "published_date"}
# Labels that do not make a single line a block: the info line's own.
_INFO_LINE_ONLY = frozenset({"发布时间", "来源"})
# An info label where a label can start: the line's start, or after a space, a tag boundary,
# a bracket or a bar (更新日期 holds 日期 but is another label).
_INFO_START = re.compile(
    "(?:^|(?<=[ |｜【\\[(（\ufdd5\ufdd6]))"
    + label_pattern({*INFO_LABELS, *WEAK_INFO_LABELS}, joint="")
    + "[ \ufdd5\ufdd6]*[:：]"
)
#: ``<meta name=…>`` (lower-cased) → field it can fill when the page shows none. Only the
#: title: the other standard tags are not what the page shows and are not reliable — on real
#: sites PubDate is the time a page was last generated (证监会, 白银), ContentSource a system
#: name (税务总局 "SZfaguiku"), ColumnName the web column rather than the 组配分类, Keywords
#: the whole portal's — and a stamp that changes on regeneration would make false versions.
META_FALLBACKS: dict[str, str] = {"articletitle": "title"}
# Widget words a value picks up from the elements after it on its line (来源：某局 打印).
_TRAILING_WIDGETS = re.compile(
    r"(?:(?:^|[ 【\[])(?:打印本页|打印|关闭窗口|关闭|分享到|分享|收藏)[】\]]?)+$"
)

_FIRST_KNOWN = frozenset(label[0] for label in KNOWN_LABELS)
# Canonical labels, padded or split by markers as pages print them (normalize_label
# removes exactly those characters).
_CANONICAL = re.compile(label_pattern(METADATA_LABELS, joint="[ \ufdd0-\ufddf]*"))


def _one_label_per_match(labels: frozenset[str]) -> bool:
    """True if no label can hide the starts of two labels read from a line: no label
    holds a label followed by the start of another (名称 in 信息名称 is fine). Then a
    line with two canonical labels has at least two :data:`_CANONICAL` matches."""
    for label in labels:
        for cut in range(2, len(label)):
            head, tail = label[:cut], label[cut:]
            if any(other in head for other in labels) and any(
                other.startswith(tail) or tail.startswith(other) for other in labels
            ):
                return False
    return True


_PRECHECK = _one_label_per_match(frozenset(METADATA_LABELS))
_INLINE_MARKERS = EMPH + SOFT
# What may stand before a line's first label: tag boundaries, a space, a bracket ([发文字号]).
_LEADERS = _INLINE_MARKERS + " [【"


@dataclass(slots=True)
class PageContext:
    """What the page offers besides its lines: ``<meta>`` tags, ``h1`` texts, ``<title>``."""

    meta: Mapping[str, str] = field(default_factory=dict)
    #: Texts of headline-like elements (h1–h3, ``*title*`` classes), in document order.
    headings: Sequence[str] = ()
    #: Texts of the ``h1`` elements.
    h1s: Sequence[str] = ()
    title_tag: str | None = None


def extract_metadata(
    before: Sequence[Block],
    after: Sequence[Block],
    context: PageContext,
    inside: Sequence[Block] = (),
) -> tuple[Metadata, list[str], Sequence[Block]]:
    """Return the page's Metadata, warnings, and the article body's blocks.

    The block is looked for in the blocks before and after the article container;
    when there is none, at the top of the container (``inside``): some templates put
    the block inside the content element (安化县's ``#zoom`` opens with it), and then
    the body returned is ``inside`` without it. Otherwise ``inside`` comes back as is.
    ``context`` supplies the fallbacks.
    """
    collector = _Collector()
    found_block = False
    loose: list[list[str]] = []
    for blocks in (before, after):
        pairs, lines = find_block_pairs(blocks)
        found_block = found_block or bool(pairs)
        for label, value in pairs:
            collector.add(label, value)
        loose.append(lines)
    body = inside
    if not found_block and inside:
        pairs, body = split_leading_block(inside)
        found_block = bool(pairs)
        for label, value in pairs:
            collector.add(label, value)
    if not found_block:
        collector.warnings.append("no metadata block found")
    above, below = loose
    for label, value in read_info_line([*above, *below]):
        if label in INFO_LABELS:
            collector.fill_from_info(label, INFO_LABELS[label], value)
    for label, value in read_info_line(above):
        if label in WEAK_INFO_LABELS:
            collector.fill_from_info(label, WEAK_INFO_LABELS[label], value)
    for name, fallback_field in META_FALLBACKS.items():
        content = clean_value(context.meta.get(name))
        if content:
            collector.values.setdefault(fallback_field, content)
    if "title" not in collector.values:
        title, warning = _title_fallback(context)
        if title:
            collector.values["title"] = title
            if warning:
                collector.warnings.append(warning)
    return collector.build(), collector.warnings, body


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
    for block in blocks:
        if isinstance(block, str):
            run.append(block)
            continue
        _flush_run(run, pairs, loose)
        run = []
        found = _table_pairs(block)
        if _is_block(found, single_line=False):
            pairs.extend(found)
        else:
            loose.extend(line for row in block.rows for cell in row for line in cell)
    _flush_run(run, pairs, loose)
    return pairs, loose


def read_info_line(lines: Sequence[str]) -> list[Pair]:
    """Return the pairs of info-line labels (:data:`INFO_LABELS`, :data:`WEAK_INFO_LABELS`)
    among ``lines``, in order."""
    found: list[Pair] = []
    for line in lines:
        match = _INFO_START.search(line)
        if match is None:
            continue
        pairs = line_pairs(line[match.start() :])
        if pairs is None:
            continue
        for label, value in pairs:
            if label in INFO_LABELS or label in WEAK_INFO_LABELS:
                found.append((label, value))
    return found


def _table_pairs(table: Table) -> list[Pair]:
    pairs: list[Pair] = []
    for row in table.rows:
        pairs.extend(row_pairs([" ".join(cell) for cell in row]))
    return pairs


def _is_block(pairs: Sequence[Pair], *, single_line: bool) -> bool:
    """At least two canonical fields with values; on a single line, not counting the
    info line's own labels (发布时间, 来源)."""
    fields = set()
    for label, value in pairs:
        if not value or (single_line and label in _INFO_LINE_ONLY):
            continue
        canonical = METADATA_LABELS.get(label)
        if canonical is not None:
            fields.add(canonical)
    return len(fields) >= 2


# Line kinds inside a run; a navigation line (breadcrumb) always ends a run.
_PAIRS, _LABEL, _UNKNOWN, _TEXT, _NAVIGATION = "P", "L", "U", "T", "N"


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
    anchors = [index for index, (kind, _) in labelled if kind != _NAVIGATION]
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
        end = min(len(lines), anchor + 2)
        loose.extend(lines[done:start])
        if _may_hold_block(lines[start:end]):
            _read_region(lines, start, end, known, pairs, loose)
        else:  # e.g. a footer's 主办单位：… 地址：… 电话：…
            loose.extend(lines[start:end])
        done = end
        if following is not None:
            start = following
    loose.extend(lines[done:])


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
        kind, found = known.get(index) or (_unlabelled(line), None)
        if kind == _NAVIGATION or (kind == _TEXT and previous not in (_LABEL, _UNKNOWN)):
            _close_run(run, pairs, loose)
            run = []
            loose.append(line)
            previous = _TEXT
            continue
        run.append((kind, line, found))
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
            found.extend((pair, True) for pair in line_found)
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
            found.append(((label, value), kind == _LABEL or label in KNOWN_LABELS))
    # A guessed label (a short line, no colon, unknown) counts only between real ones:
    # before and after the block such lines are navigation or headings.
    certain = [i for i, (_, sure) in enumerate(found) if sure]
    kept = [pair for pair, _ in found[certain[0] : certain[-1] + 1]] if certain else []
    if _is_block(kept, single_line=len(run) == 1):
        pairs.extend(kept)
    else:
        loose.extend(line for _, line, _ in run)


class _Collector:
    """Merges the pairs of every copy of the block: the first non-empty value wins."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.extra: dict[str, str] = {}
        self.warnings: list[str] = []

    def add(self, label: str, raw: str) -> None:
        if label in VOLATILE_LABELS:
            return
        value = clean_value(_TRAILING_WIDGETS.sub("", raw))
        if value is None:
            return
        canonical = METADATA_LABELS.get(label)
        if canonical is None:
            self._set(self.extra, label, value, label)
            return
        if canonical not in DATE_FIELDS:
            self._set(self.values, canonical, value, label)
            return
        parsed = parse_datetime(value)
        if parsed is None:
            self.warnings.append(f"unreadable date {value!r} for {label}")
            self._set(self.extra, label, value, label)
            return
        self._set(self.values, canonical, parsed.date, label)
        if canonical == "published_date":
            self._time(parsed)

    def fill_from_info(self, label: str, canonical: str, raw: str) -> None:
        """Fill a field the block left empty (and ``published_at`` for a same-day time).

        The block wins: a different value from the info line is kept in ``metadata_extra``
        under its label, so that what the page said is not lost.
        """
        value = clean_value(_TRAILING_WIDGETS.sub("", raw))
        if value is None:
            return
        if canonical not in DATE_FIELDS:
            old = self.values.setdefault(canonical, value)
        else:
            parsed = parse_datetime(value)
            if parsed is None:
                return
            old = self.values.setdefault(canonical, parsed.date)
            if canonical == "published_date":
                self._time(parsed)
            if old == parsed.date:
                return
        if old != value:
            self.extra.setdefault(label, value)

    def _time(self, parsed: DateTime) -> None:
        """Keep the first time given for the published date itself."""
        stamp = parsed.isoformat()
        if stamp is not None and self.values.get("published_date") == parsed.date:
            self.values.setdefault("published_at", stamp)

    def _set(self, target: dict[str, str], key: str, value: str, label: str) -> None:
        old = target.setdefault(key, value)
        if old != value:
            self.warnings.append(f"conflicting values for {label}: kept {old!r}, ignored {value!r}")

    def build(self) -> Metadata:
        return Metadata(
            **{name: self.values.get(name) for name in CANONICAL_FIELDS},
            metadata_extra=dict(self.extra),
        )


def _title_fallback(context: PageContext) -> tuple[str | None, str | None]:
    """Return the title when no block and no ``<meta name="ArticleTitle">`` gave one, and
    a warning saying where it came from (None when it is the headline the page shows and
    its ``<title>`` confirms).

    Portals write ``<title>`` as "headline_column_site" or "site-headline" (长沙, 达州), so
    neither its first nor its last part is reliably the headline. In order:
    1. the longest headline-like element (``h1``–``h3``, ``*title*`` classes) whose text
       ``<title>`` contains, or that contains the longest non-site part of ``<title>``;
    2. the longer of the longest ``h1`` that is not a site name (a logo ``h1`` is short)
       and the longest part of ``<title>`` that is not a site name.
    """
    parts = [part for part in _title_parts(context.title_tag) if not _is_site_name(part, context)]
    best_part = max(parts, key=len) if parts else None
    headings = [
        heading
        for heading in (clean_value(plain(text)) for text in context.headings)
        if heading and not _is_site_name(heading, context)
    ]
    if context.title_tag:
        whole = normalize_space(context.title_tag)
        confirmed = [
            heading
            for heading in headings
            if len(heading) >= _MIN_HEADLINE
            and (heading in whole or _completes(heading, best_part))
        ]
        if confirmed:
            return max(confirmed, key=len), None
    h1s = [
        heading
        for heading in (clean_value(plain(text)) for text in context.h1s)
        if heading and not _is_site_name(heading, context)
    ]
    top_h1 = max(h1s, key=len) if h1s else None
    if top_h1 is not None and (best_part is None or len(top_h1) > len(best_part)):
        return top_h1, "title guessed from the longest <h1>: <title> did not confirm it"
    if best_part is not None:
        return best_part, "title taken from <title>: no headline on the page matched it"
    return None, None


#: Shortest headline text matched against ``<title>`` (a column name such as 通知 is shorter).
_MIN_HEADLINE = 5
# Separators between the parts of a <title>: _ and |, a hyphen except between digits, a
# spaced dash. 2021年1-6月份 stays whole, and so does a dash used as punctuation
# (奋进新征程——庆祝…).
_TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]+|(?<![\d—])[-–](?![\d—])|\s[-–—]+\s)\s*")
# Site names: 达州市人民政府, 长沙市政府门户网站, 首都之窗 …
_SITE_NAME = re.compile(r"(?:门户网站|网站|政府网|人民政府|门户|首都之窗|官网|中国政府网)$")


def _completes(heading: str, part: str | None) -> bool:
    """True if ``heading`` is ``part`` of ``<title>`` shown in full: it contains it and
    adds little (a ``<title>`` cut short), unlike a container whose class says title."""
    if part is None:
        return False
    core = part.rstrip("….")  # 关于印发某某办法的通…: cut with an ellipsis
    return core in heading and len(heading) <= len(core) * 1.3 + 10


def _title_parts(title: str | None) -> list[str]:
    """The parts of a ``<title>`` between separators, cleaned, empty ones dropped."""
    if not title:
        return []
    return [part for part in (clean_value(p) for p in _TITLE_SEPARATOR.split(title)) if part]


def _is_site_name(text: str, context: PageContext) -> bool:
    site = context.meta.get("sitename")
    return text == site or (len(text) <= 20 and _SITE_NAME.search(text) is not None)
