"""Which elements _drop_hidden looks at: a wide selector, then _hides() in Python, must
pick exactly the elements the four ``[style*="…" i]`` rules and ``[hidden]`` match."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from scraper.parse.page import _HIDING_RULES, _MAYBE_HIDDEN_SELECTOR, _hides

_EXACT = ", ".join((*(f'[style*="{rule}" i]' for rule in _HIDING_RULES), "[hidden]"))
_PIECES = st.sampled_from(
    [
        *("display", "DISPLAY", "Display", ":", ": ", ":  ", "none", "NONE", "nOne", ";"),
        *("visibility", "VISIBILITY", "hidden", "HIDDEN", " ", "block", "İ", "\u212a", "ı"),
        *("displaynone", "display:non", "e", "visibility:hidde", "n", "&#58;", "&nbsp;"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=8), min_size=1, max_size=6), st.booleans())
def test_the_wide_selector_and_hides_pick_what_the_rules_match(
    styles: list[list[str]], with_hidden: bool
) -> None:
    elements = "".join(
        f'<div id="n{index}" style="{html.escape("".join(style), quote=True)}"'
        f"{' hidden' if with_hidden and index == 0 else ''}>x</div>"
        for index, style in enumerate(styles)
    )
    tree = LexborHTMLParser(f"<html><body>{elements}</body></html>")
    exact = [node.attributes["id"] for node in tree.css(_EXACT)]
    picked = [
        node.attributes["id"]
        for node in tree.css(_MAYBE_HIDDEN_SELECTOR)
        if _hides(node.attributes)
    ]
    # the selector lists repeat an element once per rule it matches: compare the sets
    # (in document order); _drop_hidden treats a repeat as the element again
    assert list(dict.fromkeys(picked)) == list(dict.fromkeys(exact))
