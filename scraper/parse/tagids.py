"""Lexbor's numeric tag ids: tree walks compare ints, not the tag names built per node.

A node's ``tag`` property builds a Python string from the element's name on every read;
its ``tag_id`` is Lexbor's int for that name (the same for every document: standard HTML
names have fixed ids). Comparing ids is how the per-node loops stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser

#: ``tag_id`` of text nodes (``tag`` ``-text``) and of comments (``-comment``).
TEXT_ID = 2
COMMENT_ID = 4


def tag_ids(tags: Iterable[str]) -> frozenset[int]:
    """Return Lexbor's ids for the standard HTML element names ``tags``; a name that does
    not survive parsing in or outside a table (``frameset`` in a body) has none."""
    ids = set()
    for tag in tags:
        # Table parts only survive inside a table; other tags only outside one.
        tree = LexborHTMLParser(f"<table><tr><{tag}></{tag}></tr></table><{tag}></{tag}>")
        node = tree.css_first(tag)
        if node is not None:
            ids.add(int(node.tag_id))
    return frozenset(ids)
