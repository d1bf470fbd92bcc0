"""A page's text as lines and tables, from one walk over the parsed tree.

:func:`walk` visits a subtree once, in document order (selectolax's C-level
``traverse``), and writes its text with noncharacter markers (U+FDD0…U+FDD7, never
valid page content) where blocks, table rows, cells and tables start and end;
:func:`split_blocks` then normalises the whitespace of the whole text in one pass
and splits it into lines and :class:`Table` rows. Inline elements add nothing to the
text, as in a browser; block elements and ``<br>`` start a new line.

Two inline markers stay inside the lines: ``EMPH`` where ``<b>``/``<strong>`` starts,
``SOFT`` where a ``<span>``/``<label>``/``<font>``/``<em>`` starts and where a
``<b>``/``<strong>`` ends. They tell a label from its value where no colon does
(``<b>索引号</b>002…``, ``<strong>完成状态</strong>持续推进``); :func:`plain`
removes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scraper.parse.tagids import COMMENT_ID, TEXT_ID, tag_ids
from scraper.parse.text import normalize_space

LINE = "\ufdd0"
CELL = "\ufdd1"
ROW = "\ufdd2"
TABLE_OPEN = "\ufdd3"
TABLE_CLOSE = "\ufdd4"
EMPH = "\ufdd5"
SOFT = "\ufdd6"
#: Marks a place in the text (page.py: where the article body was).
PLACE = "\ufdd7"
MARKERS = "\ufdd0\ufdd1\ufdd2\ufdd3\ufdd4\ufdd5\ufdd6\ufdd7"

_SPLIT = re.compile("([\ufdd0-\ufdd4])")
_OTHER_BREAKS = (CELL, ROW, TABLE_OPEN, TABLE_CLOSE)
_FOREIGN_MARKERS = re.compile("[\ufdd0-\ufdd7]")

#: Elements that start a new line (and end it: text after them starts another).
BLOCK_TAGS: frozenset[str] = frozenset(
    (
        *("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "ul", "ol", "dl"),
        *("section", "article", "header", "footer", "nav", "aside", "blockquote", "pre"),
        *("form", "center", "address", "figure", "figcaption", "main", "caption", "fieldset"),
        *("legend", "details", "summary", "br", "hr", "tbody", "thead", "tfoot", "body"),
        *("html", "option", "optgroup", "menu", "dir", "hgroup", "search", "frameset"),
    )
)
#: Elements whose text is never page content.
SKIP_TAGS: frozenset[str] = frozenset(
    (
        *("script", "style", "noscript", "template", "iframe", "object", "embed", "svg"),
        *("math", "select", "button", "textarea", "head", "title", "canvas", "audio", "video"),
    )
)
EMPH_TAGS: frozenset[str] = frozenset(("b", "strong"))
SOFT_TAGS: frozenset[str] = frozenset(("span", "label", "font", "em"))


_BLOCK_IDS = tag_ids(BLOCK_TAGS)
_SKIP_IDS = tag_ids(SKIP_TAGS)
_EMPH_IDS = tag_ids(EMPH_TAGS)
_SOFT_IDS = tag_ids(SOFT_TAGS)
_CELL_IDS = tag_ids(frozenset(("td", "th")))
(_ROW_ID,) = tag_ids(frozenset(("tr",)))
(_TABLE_ID,) = tag_ids(frozenset(("table",)))
_STRUCTURE_IDS = _CELL_IDS | {_ROW_ID, _TABLE_ID}
_BREAKING_IDS = _BLOCK_IDS | _STRUCTURE_IDS


@dataclass(slots=True)
class Table:
    """A data table: rows of cells, each cell a list of its lines (inline markers kept)."""

    rows: list[list[list[str]]] = field(default_factory=list)


Block = str | Table


def walk(root: Any) -> str:
    """Return the text of ``root``'s subtree (a selectolax node) with block, table,
    row, cell and inline markers, ready for :func:`split_blocks`. Reads the tree only.

    The page must not contain marker characters itself (see :func:`without_markers`).
    """
    out: list[str] = []
    emit = out.append
    # Markers due when the walk reaches a node (tag id, mem_id): the node right after a
    # table or a <b>. Inner elements end first, so the next one due is the last pushed.
    # The tag id is compared first: most nodes then need no mem_id look-up.
    stops: list[tuple[int, int, str]] = []
    known: dict[int, Any] = {}  # _after's answers for nodes without a next sibling
    skip_to = 0  # mem_id of the node after a skipped element (<script>…), or 0
    skip_tag = 0  # that node's tag id
    skip_next = False  # the next node is a <b>'s only text, already emitted
    # True while the current line has text: the next inline node may follow a
    # block that just ended (<p>a</p>tail), which starts a new line.
    in_line = False
    # Whitespace-only text nodes are skipped in C; where one stood between inline
    # content, _gap() puts its space back.
    for node in root.traverse(include_text=True, skip_empty=True):
        if skip_next:
            skip_next = False
            continue
        tag = node.tag_id
        if skip_to:
            if tag != skip_tag or node.mem_id != skip_to:
                continue
            skip_to = 0
        if stops and stops[-1][0] == tag:
            node_id = node.mem_id
            while stops and stops[-1][1] == node_id:
                marker = stops.pop()[2]
                emit(marker)
                if marker == TABLE_CLOSE:
                    in_line = False
        if tag == TEXT_ID:
            if in_line:
                gap = _gap(node)
                if gap:
                    emit(gap)
            emit(node.text_content)
            in_line = True
        elif tag in _BLOCK_IDS:
            emit(LINE)
            in_line = False
        elif tag in _SOFT_IDS:
            if in_line:
                gap = _gap(node)
                if gap:
                    emit(gap)
                    in_line = gap != LINE
            emit(SOFT)
        elif tag in _STRUCTURE_IDS:
            in_line = False
            if tag == _TABLE_ID:
                emit(TABLE_OPEN)
                _stop_after(node, stops, TABLE_CLOSE, known)
            else:
                emit(ROW if tag == _ROW_ID else CELL)
        elif tag in _SKIP_IDS:
            found = _after(node, known)
            if found is None:
                break
            skip_tag, skip_to = found.tag_id, found.mem_id
        else:
            if in_line:
                gap = _gap(node)
                if gap:
                    emit(gap)
                    in_line = gap != LINE
            if tag in _EMPH_IDS:
                emit(EMPH)
                child = node.child
                if child is not None and child.next is None and child.tag_id == TEXT_ID:
                    # The common <b>label</b>: its text now, no stop to watch for.
                    if not child.is_empty_text_node:
                        emit(child.text_content)
                        in_line = True
                        skip_next = True
                    emit(SOFT)
                else:
                    _stop_after(node, stops, SOFT, known)
    return "".join(out)


def without_markers(text: str) -> str:
    """Return a page's text with noncharacters that would read as markers replaced by
    U+FFFD; call it on the decoded page before parsing."""
    for marker in MARKERS:
        if marker in text:
            text = text.replace(marker, "\ufffd")
    return text


def _gap(node: Any) -> str:
    """What separates ``node`` from the line's text before it: LINE if a block or
    table part precedes it (``<p>a</p>tail``), a space if only whitespace does,
    else nothing. Comments are looked through."""
    gap = ""
    previous = node.prev
    while previous is not None:
        tag = previous.tag_id
        if tag == TEXT_ID:
            if not previous.is_empty_text_node:
                return gap
            gap = " "
        elif tag != COMMENT_ID:
            return LINE if tag in _BREAKING_IDS else gap
        previous = previous.prev
    return gap


def _after(node: Any, known: dict[int, Any]) -> Any | None:
    """The node the walk visits right after ``node``'s subtree, or None.

    Whitespace-only text nodes are not visited (``skip_empty``), so they are passed over.
    ``known`` remembers the answer for the ancestors climbed through (mem_id → node), so
    nested tables or ``<b>``s, each an only child, cost one climb in all instead of one
    each (quadratic in the nesting depth).
    """
    climbed: list[int] = []
    found = None
    while node is not None:
        key = node.mem_id
        if key in known:
            found = known[key]
            break
        following = node.next
        while following is not None and following.is_empty_text_node:
            following = following.next
        if following is not None:
            found = following
            break
        climbed.append(key)
        node = node.parent
    for key in climbed:
        known[key] = found
    return found


def _stop_after(
    node: Any, stops: list[tuple[int, int, str]], marker: str, known: dict[int, Any]
) -> None:
    stop = _after(node, known)
    if stop is not None:
        stops.append((int(stop.tag_id), int(stop.mem_id), marker))


def plain(text: str) -> str:
    """Return a line or cell text without inline markers, whitespace-normalised."""
    if EMPH in text or SOFT in text:
        text = text.replace(EMPH, "").replace(SOFT, "")
        return normalize_space(text) if "  " in text else text.strip()
    return text


def strip_markers(text: str) -> str:
    """Return ``text`` without any marker."""
    return _FOREIGN_MARKERS.sub("", text)


class _Builder:
    """An open table while splitting: its rows so far, and whether it is layout."""

    __slots__ = ("cell", "layout", "row", "rows")

    def __init__(self) -> None:
        self.rows: list[list[list[str]]] = []
        self.row: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.layout = False

    def start_cell(self) -> list[str]:
        if self.row is None:
            self.row = []
            self.rows.append(self.row)
        self.cell = []
        self.row.append(self.cell)
        return self.cell

    def start_row(self) -> None:
        self.row, self.cell = None, None

    def flatten(self, out: list[Block]) -> None:
        """Emit what was read so far as plain lines: this table holds a table (layout)."""
        self.layout = True
        for row in self.rows:
            for cell in row:
                out.extend(cell)
        self.rows, self.row, self.cell = [], None, None

    def close(self) -> Table | None:
        rows = [row for row in self.rows if any(row)]
        return Table(rows) if rows else None


def split_blocks(text: str) -> list[Block]:
    """Split marked text (from :func:`walk`) into lines and tables.

    Lines are whitespace-normalised and non-empty; text in a table but outside any
    cell is a line before the table; a table that contains another table is layout,
    and its cells become plain lines. Returns blocks in document order.
    """
    text = normalize_space(text)
    first = text.find(TABLE_OPEN)
    if first < 0:
        return _lines(text)
    last = text.rfind(TABLE_CLOSE)
    if last < first:
        last = len(text)
    out = _lines(text[:first])
    out.extend(_tables(text[first : last + 1]))
    out.extend(_lines(text[last + 1 :]))
    return out


def _lines(text: str) -> list[Block]:
    """Text without tables: every marker ends a line."""
    # str.split on one marker is several times faster than a regex split on five.
    for marker in _OTHER_BREAKS:
        if marker in text:
            text = text.replace(marker, LINE)
    return [line for line in map(str.strip, text.split(LINE)) if line]


def _tables(text: str) -> list[Block]:
    parts = _SPLIT.split(text)
    out: list[Block] = []
    stack: list[_Builder] = []
    top: _Builder | None = None
    cell: list[str] | None = None  # where text goes: a cell of a data table, or out
    last = len(parts) - 1
    for index in range(0, last + 1, 2):
        piece = parts[index].strip()
        if piece:
            if cell is not None:
                cell.append(piece)
            else:
                out.append(piece)
        if index == last:
            break
        marker = parts[index + 1]
        if marker == LINE or top is None:
            if marker == TABLE_OPEN:
                top = _Builder()
                stack.append(top)
            continue
        if marker == TABLE_OPEN:
            if not top.layout:
                top.flatten(out)
            top = _Builder()
            stack.append(top)
            cell = None
        elif marker == TABLE_CLOSE:
            top = _close(stack, out)
            cell = top.cell if top is not None and not top.layout else None
        elif top.layout:
            continue
        elif marker == CELL:
            cell = top.start_cell()
        else:  # ROW
            top.start_row()
            cell = None
    while stack:
        _close(stack, out)
    return out


def _close(stack: list[_Builder], out: list[Block]) -> _Builder | None:
    table = stack.pop().close()
    if table is not None:
        out.append(table)
    return stack[-1] if stack else None
