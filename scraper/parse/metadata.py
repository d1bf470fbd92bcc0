"""The page's metadata: the block's pairs merged over its copies, gaps filled from the
info lines and ``<meta name="ArticleTitle">``, the title found when nothing names it.
Pure (blocks in, Metadata out); :mod:`scraper.parse.block` finds the block,
:mod:`scraper.parse.infoline` reads the lines outside it, :mod:`scraper.parse.title`
chooses a title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scraper.parse.block import find_block_pairs, split_leading_block
from scraper.parse.infoline import (
    date_after_title,
    dated_line,
    edge_info_lines,
    read_info_lines,
    shows_today,
    split_trailing_date,
)
from scraper.parse.labels import (
    DATE_FIELDS,
    INFO_LABELS,
    METADATA_LABELS,
    VOLATILE_LABELS,
    WEAK_INFO_LABELS,
)
from scraper.parse.layout import Block
from scraper.parse.record import CANONICAL_FIELDS, Metadata
from scraper.parse.title import PageContext, title_fallback, without_site_name
from scraper.parse.values import DateTime, clean_value, parse_datetime

__all__ = ["META_FALLBACKS", "PageContext", "extract_metadata"]

#: ``<meta name=…>`` (lower-cased) → field it can fill when the page shows none. Only the
#: title: the other standard tags are not what the page shows and are not reliable — on real
#: sites PubDate is the time a page was last generated (证监会, 白银), ContentSource a system
#: name (税务总局 "SZfaguiku"), ColumnName the web column rather than the 组配分类, Keywords
#: the whole portal's — and a stamp that changes on regeneration would make false versions.
META_FALLBACKS: dict[str, str] = {"articletitle": "title"}
# What a value picks up from the elements after it on its line: widget words (来源：某局
# 打印), and a bar with what follows it where bars separate the fields (上海: 印发日期：… |
# 文号：… | 发文机关：… | 查看更多属性).
_TRAILING_WIDGETS = re.compile(
    r"(?:(?:^|[ 【\[])(?:打印本页|打印|关闭窗口|关闭|分享到|分享|收藏)[】\]]?)+$| [|｜](?: .*)?$"
)
#: Bare labels (日期：, 时间：) and unlabelled dates are read from this many lines above the
#: article (the headline's neighbourhood, a summary table's cells), not from the header.
_NEAR = 40
_JUST_AFTER = 5


def extract_metadata(
    before: Sequence[Block],
    after: Sequence[Block],
    context: PageContext,
    inside: Sequence[Block] = (),
) -> tuple[Metadata, list[str], list[Block]]:
    """Return the page's Metadata, warnings, and the article body's blocks.

    The block is looked for in the blocks before and after the article container;
    when there is none, at the top of the container (``inside``): some templates put
    the block inside the content element (安化县's ``#zoom`` opens with it). Info lines
    at the container's top and bottom are read too. The body returned is ``inside``
    without the block and those lines. ``context`` supplies the title fallbacks.

    Precedence for each field: the block; then labelled info lines (发布时间, 来源 …);
    then the bare 日期/时间 above the article; then an unlabelled date line there.
    """
    collector = _Collector()
    above: list[str] = []
    below: list[str] = []
    for blocks, loose in ((before, above), (after, below)):
        pairs, lines = find_block_pairs(blocks)
        collector.add_block(pairs)
        loose.extend(lines)
    body = list(inside)
    if not collector.found_block and inside:
        pairs, body = split_leading_block(inside)
        collector.add_block(pairs)
    if not collector.found_block:
        collector.warnings.append("no metadata block found")
    top, bottom, body = edge_info_lines(body)
    near = [*above[-_NEAR:], *top]
    trailing_dates: list[str] = []
    # Bare labels only near the article: above it, or in the first lines after it (长春
    # writes its hidden article out above the headline and its 时间：… line).
    weak_from = len(above) - _NEAR
    weak_until = len(above) + len(top) + _JUST_AFTER
    weak: list[tuple[str, str]] = []
    for index, pairs in read_info_lines([*above, *top, *below, *bottom]):
        for label, value in pairs:
            if label in INFO_LABELS:
                value, date = split_trailing_date(value)
                if date:
                    trailing_dates.append(date)
                collector.fill_from_info(label, INFO_LABELS[label], value)
            elif weak_from <= index < weak_until and not shows_today(value):
                weak.append((label, value))
    for label, value in weak:
        collector.fill_from_info(label, WEAK_INFO_LABELS[label], value)
    collector.use_weak_block_labels()
    if "published_date" not in collector.values:
        # 长乐: 来源:长乐区人力资源和社会保障局 2024-02-23 15:16 — an unlabelled date after a value.
        line = dated_line(near) or (trailing_dates[0] if trailing_dates else None)
        if line is not None:
            collector.fill_from_info("", "published_date", line)
    for name, fallback_field in META_FALLBACKS.items():
        content = clean_value(context.meta.get(name))
        if content:
            collector.values.setdefault(fallback_field, without_site_name(content, context))
    if "title" not in collector.values:
        title, warning = title_fallback(context)
        if title:
            collector.values["title"] = title
            if warning:
                collector.warnings.append(warning)
    title = collector.values.get("title")
    if "published_date" not in collector.values and title:
        date = date_after_title(body, title)
        if date is not None:
            collector.fill_from_info("", "published_date", date)
    return collector.build(), collector.warnings, body


class _Collector:
    """Merges the pairs of every copy of the block: the first non-empty value wins."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.extra: dict[str, str] = {}
        self.warnings: list[str] = []
        self.found_block = False

    def add_block(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Add the pairs of one copy of the block (none: no block there)."""
        self.found_block = self.found_block or bool(pairs)
        for label, value in pairs:
            self.add(label, value)

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

    def use_weak_block_labels(self) -> None:
        """A bare 日期/时间 read inside the block's run of lines (哈尔滨: 日期：… 来源：… right
        under the block) fills an empty field as it would from an info line."""
        for label, canonical in WEAK_INFO_LABELS.items():
            value = self.extra.get(label)
            if value is not None and canonical not in self.values and not shows_today(value):
                del self.extra[label]
                self.fill_from_info(label, canonical, value)

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
        if old != value and label:
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
