"""The article info line and the other labelled lines outside the block. Pure.

``发布时间：2021-10-11 09:25 来源：市数据资源局 浏览次数：12 字体：[大 中 小]`` under a headline,
``日期：2022-04-11 来源：证监会``, ``文章来源：某局`` under the text, or an unlabelled
``2023-12-12 09:00 | 楚天都市报``: they give the published date and the source when the
block does not (docs/parsing.md, "Lines outside the block"). Some templates put these
lines inside the article container, at its top or bottom; :func:`edge_info_lines` finds
them there so that they are read and left out of ``body_text``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scraper.parse.labels import (
    INFO_LABELS,
    VOLATILE_LABELS,
    WEAK_INFO_LABELS,
    label_pattern,
)
from scraper.parse.layout import Block, Table, plain
from scraper.parse.pairs import Pair, line_pairs

# An info label where a label can start: the line's start, or after a space, a tag boundary,
# a bracket or a bar (更新日期 holds 日期 but is another label).
_INFO_START = re.compile(
    "(?:^|(?<=[ |｜【\\[(（\ufdd5\ufdd6]))"
    + label_pattern({*INFO_LABELS, *WEAK_INFO_LABELS}, joint="")
    + "[ \ufdd5\ufdd6]*[:：]"
)
# A line that opens with a date (2023-12-12 09:00 | 楚天都市报): an unlabelled info line.
_DATE_FIRST = re.compile(r"[\ufdd5\ufdd6 ]*\d{4} ?[-/.年] ?\d{1,2} ?[-/.月] ?\d{1,2}")
_SENTENCE = re.compile("[，。；！？至]")
_TRAILING_DATE = re.compile(
    r" \d{4} ?[-/.年] ?\d{1,2} ?[-/.月] ?\d{1,2}日?(?: \d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?$"
)
# Date widgets (今天是 2021年7月22日 星期四) and clocks show today, not the document's date.
_TODAY = re.compile("星期|今天|今日|周[一二三四五六日天]")
_DATE_WIDGET = re.compile(
    r"(?:今天是|今天|今日|当前时间)?[:： ]*\d{4} ?[-/.年] ?\d{1,2} ?[-/.月] ?\d{1,2}日?"
    r"(?: ?(?:星期|周)[一二三四五六日天])?(?: ?\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2})?)?"
    r"(?: ?(?:星期|周)[一二三四五六日天])?(?: .{0,20})?"
)
#: An info line is short; a longer line is article text.
_MAX_INFO_LINE = 150
#: An unlabelled date line is shorter still.
_MAX_DATE_LINE = 60
#: How many lines from the container's top or bottom may be info lines.
_EDGE_REACH = 8
#: How many of the container's first lines may hold the repeated headline.
_TITLE_REACH = 3
#: An article line: longer than any info line or widget, without a label.
_ARTICLE_LINE = 60


def read_info_lines(lines: Sequence[str]) -> list[tuple[int, list[Pair]]]:
    """Return, for each line of ``lines`` that has them, its index and the pairs of its
    info-line labels (:data:`INFO_LABELS`, :data:`WEAK_INFO_LABELS`); other labels on
    those lines are left out."""
    found: list[tuple[int, list[Pair]]] = []
    for index, line in enumerate(lines):
        pairs = _info_pairs(line)
        if pairs:
            kept = [
                (label, value)
                for label, value in pairs
                if label in INFO_LABELS or label in WEAK_INFO_LABELS
            ]
            if kept:
                found.append((index, kept))
    return found


def split_trailing_date(value: str) -> tuple[str, str | None]:
    """Split an unlabelled date (and time) off the end of a value: (value, date or None)."""
    match = _TRAILING_DATE.search(value)
    if match is None or match.start() == 0:
        return value, None
    return value[: match.start()].rstrip(), match.group().strip()


def dated_line(lines: Sequence[str]) -> str | None:
    """Return the text of the first unlabelled date line among ``lines`` (a short line that
    opens with a date and is no date widget), or None."""
    for line in lines:
        if _is_date_line(line):
            return plain(line)
    return None


def date_after_title(blocks: Sequence[Block], title: str) -> str | None:
    """The date that follows the headline on its own line at the container's top
    (上海: ``关于…的通知 ( 2025年08月25日 )``), or None."""
    target = title.replace(" ", "")
    for block in blocks[:_TITLE_REACH]:
        if isinstance(block, Table):
            return None
        text = plain(block).replace(" ", "")
        if text.startswith(target) and len(text) > len(target):
            rest = text[len(target) :].strip("()（）[]【】")
            return rest if _DATE_FIRST.match(rest) else None
    return None


def edge_info_lines(blocks: Sequence[Block]) -> tuple[list[str], list[str], list[Block]]:
    """Split the info lines off the top and bottom of an article container's blocks.

    Returns (top, bottom, rest): top = labelled info lines among the container's first
    lines, before its first article line or table, and unlabelled date lines that open it; bottom =
    labelled info lines with a source (文章来源：…) among its last lines; rest = the blocks
    without them, in order.
    """
    top: list[int] = []
    for index, block in enumerate(blocks[:_EDGE_REACH]):
        if isinstance(block, Table):
            break
        # An unlabelled date only as the container's very first lines: further down, a
        # short date line is a signature's (铜陵市人民政府办公室 / 2021年8月31日).
        if _is_info(block) or (len(top) == index and _is_date_line(block)):
            top.append(index)
        elif len(block) > _ARTICLE_LINE:
            break
    bottom: list[int] = []
    for index in range(len(blocks) - 1, max(len(blocks) - 1 - _EDGE_REACH, -1), -1):
        block = blocks[index]
        if isinstance(block, Table) or index in top:
            break
        if _is_info(block) and any(
            INFO_LABELS.get(label) == "info_source" for label, _ in _info_pairs(block) or ()
        ):
            bottom.append(index)
        elif len(plain(block)) > 12 and not is_volatile_line(block):
            break  # not a widget (打印 关闭), a counter or a stamp: the article's last line
    if not top and not bottom:
        return [], [], list(blocks)
    taken = {*top, *bottom}
    rest = [block for index, block in enumerate(blocks) if index not in taken]
    return [str(blocks[i]) for i in top], [str(blocks[i]) for i in sorted(bottom)], rest


def _may_be_info(line: str) -> bool:
    """Every info label holds 来源, 日期 or 时间: most lines (menus, footers) have none."""
    return "来源" in line or "日期" in line or "时间" in line


def _info_pairs(line: str) -> list[Pair] | None:
    """The pairs of a line from its first info label on, or None without one."""
    if not _may_be_info(line):
        return None
    match = _INFO_START.search(line)
    if match is None:
        return None
    return line_pairs(line[match.start() :])


def _is_info(line: str) -> bool:
    """True for a short line that is an info line: it starts with an info label, or
    with an unlabelled date followed by one (2025-12-19 08:21 来源：安徽日报)."""
    if len(line) > _MAX_INFO_LINE or not _may_be_info(line):
        return False
    match = _INFO_START.search(line)
    if match is None:
        return False
    head = plain(line[: match.start()])
    return not head or _DATE_FIRST.match(head) is not None


def is_volatile_line(line: str) -> bool:
    """True for a line of counters, stamps and widgets alone (浏览次数：12, 页面生成时间：…)
    or a date widget: what changes on every visit or republication."""
    pairs = line_pairs(line)
    if pairs is not None:
        return all(label in VOLATILE_LABELS for label, _ in pairs)
    return is_date_widget(plain(line))


def is_date_widget(text: str) -> bool:
    """True for a line that is only a date widget or clock: 今天是2021年7月22日 星期四,
    2021-7-22 星期四 9:3:08 (a bare date, a signature's, is not one)."""
    return _DATE_WIDGET.fullmatch(text) is not None and shows_today(text)


def shows_today(text: str) -> bool:
    """True for a date widget's or clock's text (星期四, 今天是 …): today, not a document date."""
    return _TODAY.search(text) is not None


def _is_date_line(line: str) -> bool:
    """A short line that opens with a date and says nothing more than a time or a source:
    no sentence (福建: "2025年11月29日至2026年6月30日，洛江区开展…" is the article)."""
    return (
        len(line) <= _MAX_DATE_LINE
        and _DATE_FIRST.match(line) is not None
        and _TODAY.search(line) is None
        and _SENTENCE.search(line) is None
    )
