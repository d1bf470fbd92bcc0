"""The article body: which element holds it, and its text as lines.

The container is the first of :data:`CONTENT_SELECTORS` (in that priority) that has
text, else the element holding the most ``<p>`` text. Its lines exclude page widgets
(print, close, share, font size, counters) and, at its top, a repeated title, the info
line and metadata rows that some templates put inside the content element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from scraper.parse.labels import METADATA_LABELS, VOLATILE_LABELS
from scraper.parse.layout import EMPH, SOFT, Block, Table, plain
from scraper.parse.pairs import line_pairs
from scraper.parse.text import normalize_space

#: Content containers of the CMSs seen on government sites (Lonsun, Hanweb, TRS,
#: Zhejiang/Jiangsu templates…), most specific first.
CONTENT_SELECTORS: tuple[str, ...] = (
    ".j-fontContent",
    "#zoom",
    ".main_section",
    "#UCAP-CONTENT",
    ".TRS_Editor",
    ".article-content",
    ".article_content",
    "#content",
    ".pages_content",
    ".wzcon",
    ".con_text",
    ".xxgk_content",
)

_WIDGET_WORDS = re.compile(
    r"(?:打印本页|打印|关闭窗口|关闭本页|关闭|返回顶部|分享到|分享|收藏|字体|字号|默认|扫一扫在手机打开当前页"
    r"|扫一扫|大|中|小|[【】\[\]()（）:：|｜ ])+"
)
_MIN_FALLBACK_CHARS = 40
_WIDGET_MAX = 40
_VOLATILE_FIRST = frozenset(label[0] for label in VOLATILE_LABELS)


def find_content(tree: Any) -> Any | None:
    """Return the content container node of a parsed page, or None.

    ``tree`` is a selectolax ``LexborHTMLParser``; the node returned belongs to it.
    One selector at a time, in priority order: most pages match the first few.
    """
    for selector in CONTENT_SELECTORS:
        for node in tree.css(selector):
            # Some text that is not whitespace: the same test as text(strip=True),
            # without stripping and collecting every fragment.
            if node.text(deep=True).strip():
                return node
    return _most_paragraph_text(tree)


def _most_paragraph_text(tree: Any) -> Any | None:
    """The parent of the most ``<p>`` text (at least a sentence or two of it)."""
    totals: dict[int, int] = {}
    parents: dict[int, Any] = {}
    for paragraph in tree.css("p"):
        parent = paragraph.parent
        if parent is None:
            continue
        key = parent.mem_id
        parents[key] = parent
        totals[key] = totals.get(key, 0) + len(paragraph.text(deep=True).strip())
    if not totals:
        return None
    key = max(totals, key=lambda k: totals[k])
    return parents[key] if totals[key] >= _MIN_FALLBACK_CHARS else None


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
    while start < len(lines) and _is_header_line(lines[start], title):
        start += 1
    return lines[start:]


def _is_widget(raw: str, text: str) -> bool:
    if _WIDGET_WORDS.fullmatch(text):
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
    return all(
        label in METADATA_LABELS or label in VOLATILE_LABELS for label, _ in pairs
    ) and any(label in ("发布时间", "来源", "发布日期", "信息来源") for label, _ in pairs)
