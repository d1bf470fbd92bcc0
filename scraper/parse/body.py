"""The article body: the container's text as lines, without what is not the article.

:mod:`scraper.parse.container` chooses the container. Its lines exclude page widgets
(print, close, share, font size, counters, 下载本文), at its top a repeated title (also
split over several lines, or followed by its date), the info line and metadata rows that
some templates put inside the content element, and at its bottom the related-links
section some editors put inside it (相关阅读, 政策解读：…, 上一篇).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from scraper.parse.infoline import is_date_widget
from scraper.parse.labels import METADATA_LABELS, VOLATILE_LABELS
from scraper.parse.layout import EMPH, SOFT, Block, Table, plain
from scraper.parse.pairs import line_pairs
from scraper.parse.text import normalize_space

_WIDGET_WORDS = re.compile(
    r"(?:打印本页|打印|关闭窗口|关闭本页|关闭当前页面|关闭当前页|关闭|返回顶部|返回|分享到|分享|收藏"
    r"|字体|字号|默认|扫一扫在手机打开当前页|扫一扫|下载本[\u4e00-\u9fff]{0,8}|大|中|小"
    r"|[【】\[\]()（）:：|｜ ])+"
)
#: Headings of the related-links section editors leave at the bottom of an article.
RELATED_HEADINGS: frozenset[str] = frozenset(
    (
        *("相关阅读", "相关稿件", "关联稿件", "相关文档", "相关链接", "相关文件", "相关解读"),
        *("政策解读", "文件解读", "图文解读", "相关政策", "政策文件", "相关新闻", "延伸阅读"),
        *("相关信息", "相关专题", "推荐阅读", "上一篇", "下一篇"),
    )
)
_RELATED_START = re.compile(
    "[·•【\\[]?(" + "|".join(sorted(RELATED_HEADINGS, key=len, reverse=True)) + ")[】\\]]? ?[:：]?"
)
#: Related-links lines are link titles: no longer than this.
_RELATED_LINE = 100
#: How many lines from the bottom a related-links section may start.
_RELATED_REACH = 12
#: A headline is repeated over at most this many lines at the top of the body.
_TITLE_LINES = 4
# A date after a repeated headline: ( 2025年08月25日 ), 2025-08-25 09:00.
_DATE_TAIL = re.compile(
    r"[ (（\[【]*\d{4} ?[-/.年] ?\d{1,2} ?[-/.月] ?\d{1,2}日?"
    r"(?: \d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?[ )）\]】]*"
)
_WIDGET_MAX = 40
_VOLATILE_FIRST = frozenset(label[0] for label in VOLATILE_LABELS)


def row_text(row: Sequence[Sequence[str]]) -> str:
    """Return one table row as a body line: cells joined with `` | ``."""
    text = " | ".join([" ".join(cell) for cell in row])
    # What plain() does line by line, once for the row: the final whitespace
    # normalisation makes per-line stripping unnecessary.
    if EMPH in text or SOFT in text:
        text = text.replace(EMPH, "").replace(SOFT, "")
    return normalize_space(text)


def body_lines(blocks: Iterable[Block], title: str | None = None) -> list[str]:
    """Return the body's lines: plain text, tables row by row, widgets left out, and a
    leading title / info line / metadata rows dropped."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.extend(text for text in (row_text(row) for row in block.rows) if text)
            continue
        text = plain(block)
        # Widgets and counters are short; a paragraph is not one.
        if text and (len(text) > _WIDGET_MAX or not _is_widget(block, text)):
            lines.append(text)
    start = 0
    while start < len(lines):
        repeated = _title_lines(lines, start, title)
        if repeated:
            start += repeated
        elif _is_header_line(lines[start], title):
            start += 1
        else:
            break
    return lines[start : _related_start(lines, start)]


def _title_lines(lines: list[str], start: int, title: str | None) -> int:
    """How many lines from ``start`` repeat the title: one line, a headline broken over
    up to four lines (海南, 广东), or the headline followed by its date (上海)."""
    if not title:
        return 0
    target = title.replace(" ", "")
    joined = ""
    for count in range(1, _TITLE_LINES + 1):
        if start + count > len(lines):
            return 0
        joined += lines[start + count - 1].replace(" ", "")
        if joined == target:
            return count
        if joined.startswith(target) and _DATE_TAIL.fullmatch(joined[len(target) :]):
            return count
        if not target.startswith(joined):
            return 0
    return 0


def _related_start(lines: list[str], start: int) -> int:
    """Where the related-links section at the bottom begins (len(lines) without one):
    the earliest related heading (相关阅读, or 政策解读： with a link after it) among the
    last lines, with only link-length lines after it."""
    cut = len(lines)
    for index in range(len(lines) - 1, max(start, len(lines) - _RELATED_REACH) - 1, -1):
        line = lines[index]
        if len(line) > _RELATED_LINE:
            break
        match = _RELATED_START.match(line)
        if match is not None and (match.end() == len(line) or line[match.end() - 1] in ":："):
            cut = index
    return cut


def _is_widget(raw: str, text: str) -> bool:
    if _WIDGET_WORDS.fullmatch(text) or is_date_widget(text):
        return True
    if text.lstrip("【[(（ ")[:1] not in _VOLATILE_FIRST or ("：" not in text and ":" not in text):
        return False
    pairs = line_pairs(raw)
    return pairs is not None and all(label in VOLATILE_LABELS for label, _ in pairs)


def _is_header_line(text: str, title: str | None) -> bool:
    """A title repeated at the top of the content, an info line or a metadata row."""
    if title and text == title:
        return True
    pairs = line_pairs(text)
    if pairs is None:
        return False
    return all(label in METADATA_LABELS or label in VOLATILE_LABELS for label, _ in pairs) and any(
        label in ("发布时间", "来源", "发布日期", "信息来源") for label, _ in pairs
    )
