"""The whole visible text of a page: what a page the parser reads nothing from says. Pure.

When the parser finds no article, no metadata block and no sections (a layout it does not
know, a bare table, a short notice), its record cannot tell one edition of the page from
the next. This text can: every line a visitor sees, in document order, without what
changes on every visit or republication — scripts, styles, comments and hidden elements
are not text, and the parser's rules for widgets, counters, page-generation stamps and
date widgets (:func:`scraper.parse.body.body_lines`) drop those lines wherever they stand.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from scraper.parse.body import body_lines
from scraper.parse.encoding import decode_html
from scraper.parse.layout import split_blocks, walk, without_markers

# The parser's own rule for hidden elements (inline display:none, visibility:hidden and
# [hidden], unless the page's stylesheet shows them or they hold article-length text),
# so that this text hides exactly what the parse hides.
from scraper.parse.page import _drop_hidden


def page_text(data: bytes, content_type: str | None = None) -> str:
    """Return the page's visible text, one line per block (table rows as cells joined
    with `` | ``), without widgets, counters, stamps and date widgets. Never raises for
    odd input (an empty or unparseable body gives '')."""
    decoded = decode_html(data, content_type)
    tree = LexborHTMLParser(without_markers(decoded.text))
    body = tree.body
    if body is None:
        return ""
    _drop_hidden(tree)
    return "\n".join(body_lines(split_blocks(walk(body))))
