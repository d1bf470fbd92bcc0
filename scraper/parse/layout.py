"""The document's text as lines and tables, from C-level ``text()`` calls.

selectolax's ``text()`` is fast but flat: it joins text nodes, so paragraphs and
table cells run together. Before parsing, :func:`mark_blocks` puts noncharacter
markers (U+FDD0…U+FDD6, never valid page content) into the HTML next to block,
cell and table tags; after parsing, :func:`split_blocks` splits the extracted text on
them. Every marker sits where the HTML tree builder keeps text in place — before a
block's opening tag (in its parent) or before a closing tag (inside the element),
never between ``<tr>`` and ``<td>``, where text would be foster-parented out of the
table — so document order survives any markup. Each pass is one regex with a
literal replacement: template expansion would cost a Python call per tag.

Inline markers stay in the lines: ``EMPH`` precedes ``<b>``/``<strong>`` and ``SOFT``
precedes ``</span>``, ``</label>``, ``</font>``, ``</em>``, ``</b>``, ``</strong>``;
they tell a label from its value where no colon does. :func:`plain` removes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scraper.parse.text import WHITESPACE, normalize_space

LINE = "\ufdd0"
CELL_END = "\ufdd1"
ROW_END = "\ufdd2"
TABLE_OPEN = "\ufdd3"
TABLE_CLOSE = "\ufdd4"
EMPH = "\ufdd5"
SOFT = "\ufdd6"
#: Reserved for callers that mark a place in the tree (page.py marks the body's).
PLACE = "\ufdd7"
MARKERS = "\ufdd0\ufdd1\ufdd2\ufdd3\ufdd4\ufdd5\ufdd6\ufdd7"

_INLINE_MARKERS = re.compile("[\ufdd5\ufdd6]+")
_SPLIT = re.compile("([\ufdd0-\ufdd4])")


def _ci(word: str) -> str:
    """A case-insensitive regex for ``word`` (faster than re.IGNORECASE on alternations)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _alt(words: Iterable[str]) -> str:
    return "(?:" + "|".join(_ci(w) for w in sorted(words, key=lambda w: (-len(w), w))) + ")"


_BLOCK_TAGS = (
    *("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "ul", "ol", "dl"),
    *("section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "form"),
    *("center", "address", "figure", "figcaption", "main", "caption", "fieldset", "legend"),
    *("details", "summary", "br", "hr"),
)
_CELLS = _alt(("td", "th"))

#: (pattern, literal replacement) passes, applied in order.
_PASSES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A line ends before a block opens and before it closes; <br>/<hr> end a line.
    (re.compile(rf"<(?=/?{_alt(_BLOCK_TAGS)}\b)"), LINE + "<"),
    # The last cell of a row is marked inside the cell, before its </td>: a marker
    # next to <tr> or </tr> would be foster-parented out of the table.
    (
        re.compile(
            rf"<(?=/{_CELLS}\s*>\s*(?:</?{_ci('tr')}\b|</{_ci('tbody')}|</{_ci('table')}))"
        ),
        ROW_END + "<",
    ),
    (re.compile(rf"<(?<!{ROW_END}<)(?=/{_CELLS}\s*>)"), CELL_END + "<"),
    # Text right before <table> stays in the parent; right after </table> too.
    (re.compile(rf"<(?={_ci('table')}\b)"), TABLE_OPEN + "<"),
    (re.compile(rf"</{_ci('table')}\s*>"), "</table>" + TABLE_CLOSE),
    (re.compile(rf"<(?={_alt(('b', 'strong'))}\b)"), EMPH + "<"),
    (
        re.compile(rf"<(?=/{_alt(('span', 'label', 'font', 'em', 'b', 'strong'))}\s*>)"),
        SOFT + "<",
    ),
)


@dataclass(slots=True)
class Table:
    """A data table: rows of cells, each cell a list of its lines (inline markers kept)."""

    rows: list[list[list[str]]] = field(default_factory=list)


Block = str | Table


def mark_blocks(html: str) -> str:
    """Return ``html`` with line, cell, row, table and inline markers inserted.

    Noncharacters already in the page are replaced by U+FFFD first.
    """
    for marker in MARKERS:
        if marker in html:
            html = html.replace(marker, "\ufffd")
    for pattern, replacement in _PASSES:
        html = pattern.sub(replacement, html)
    return html


def plain(text: str) -> str:
    """Return a line or cell text without inline markers, whitespace-normalised."""
    if EMPH in text or SOFT in text:
        text = _INLINE_MARKERS.sub("", text)
        return normalize_space(text) if "  " in text else text.strip()
    return text


def strip_markers(text: str) -> str:
    """Return ``text`` (e.g. an attribute or ``<title>``) without any marker."""
    for marker in MARKERS:
        if marker in text:
            text = text.replace(marker, "")
    return text


class _Builder:
    """An open table while splitting: its rows so far, and whether it is layout."""

    __slots__ = ("cell", "layout", "row", "rows")

    def __init__(self) -> None:
        self.rows: list[list[list[str]]] = []
        self.row: list[list[str]] = []
        self.cell: list[str] = []
        self.layout = False

    def end_cell(self) -> None:
        self.row.append(self.cell)
        self.cell = []

    def end_row(self) -> None:
        self.row.append(self.cell)
        self.rows.append(self.row)
        self.row, self.cell = [], []

    def flatten(self, out: list[Block]) -> None:
        """Emit what was read so far as plain lines: this table holds a table (layout)."""
        self.layout = True
        for row in (*self.rows, self.row, [self.cell]):
            for cell in row:
                out.extend(cell)
        self.rows, self.row, self.cell = [], [], []

    def close(self) -> Table | None:
        if self.cell:
            self.row.append(self.cell)
        if self.row:
            self.rows.append(self.row)
        rows = [row for row in self.rows if any(row)]
        return Table(rows) if rows else None


def split_blocks(text: str) -> list[Block]:
    """Split marked text (from :func:`mark_blocks` HTML) into lines and tables.

    Lines are whitespace-normalised and non-empty; a table that contains another
    table is layout, and its cells become plain lines. Returns blocks in document order.
    """
    parts = _SPLIT.split(WHITESPACE.sub(" ", text))
    out: list[Block] = []
    stack: list[_Builder] = []
    top: _Builder | None = None
    emit: Callable[[str], None] = out.append
    last = len(parts) - 1
    for index in range(0, last + 1, 2):
        piece = parts[index].strip()
        if piece:
            emit(piece)
        if index == last:
            break
        marker = parts[index + 1]
        if marker == LINE:
            continue
        if marker == TABLE_OPEN:
            if top is not None and not top.layout:
                top.flatten(out)
            top = _Builder()
            stack.append(top)
        elif marker == TABLE_CLOSE:
            if top is not None:
                top = _close(stack, out)
        elif top is not None and not top.layout:
            if marker == CELL_END:
                top.end_cell()
            else:
                top.end_row()
        emit = top.cell.append if top is not None and not top.layout else out.append
    while stack:
        _close(stack, out)
    return out


def _close(stack: list[_Builder], out: list[Block]) -> _Builder | None:
    table = stack.pop().close()
    if table is not None:
        out.append(table)
    return stack[-1] if stack else None
