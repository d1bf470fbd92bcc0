"""bound_markup's counted shortcut gives the answer of the tag-by-tag walk it skips.

The shortcut (count the ``<`` and the opening tags of nesting elements in C) must never
let through a page the walk would cut: parse output, and so the archive's versions,
depend on it. Random markup is checked against the walk, with the bounds made small.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.parse import bounds
from scraper.parse.bounds import _NESTING, bound_markup

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})")


def _walked(text: str, max_depth: int, max_tags: int) -> tuple[str, str | None]:
    """The tag-by-tag walk, as bound_markup did it before the shortcut."""
    depth = 0
    for count, match in enumerate(_TAG.finditer(text), start=1):
        if count > max_tags:
            return text[: match.start()], f"page cut after {max_tags:,} tags: the rest is not read"
        name = match.group(2).lower()
        if name not in _NESTING:
            continue
        if match.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > max_depth:
                return text[: match.start()], (
                    f"page nested deeper than {max_depth:,} elements: read up to that point"
                )
    return text, None


# Tags and near-tags: nesting names in any case, prefixes and extensions of them,
# non-nesting and void tags, stray brackets, and letters whose lower() is ASCII-like.
_PIECES = st.sampled_from(
    [
        *("<div>", "</div>", "<DIV class=x>", "</Div >", "<b>", "</B>", "<span", "</span>"),
        *("<section>", "<s>", "<strong>", "<table>", "</table>", "<tt>", "<u>", "<ul>"),
        *("<divx>", "<bx>", "<spans>", "<d>", "<div1>", "<p>", "</p>", "<a href=x>", "<br/>"),
        *("<img>", "<li>", "<td>", "<", "</", "<<", "x", "正文。", "<\u0130>", "<\u212a>"),
        *("<s\u0130>", "<blockquotex>", "<b9>", "<!-- <div> -->", "<script>", "\n"),
        *("<DIV>", "<SPAN>", "<Section>", "<B>", "<TABLE>", "<FONT color=red>", "<Em>"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=120), st.integers(1, 8), st.integers(0, 2000))
def test_the_shortcut_agrees_with_the_walk(pieces: list[str], max_depth: int, more: int) -> None:
    text = "".join(pieces)
    max_tags = max_depth + more  # as with the real bounds: never fewer tags than levels
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "MAX_DEPTH", max_depth)
        patch.setattr(bounds, "MAX_TAGS", max_tags)
        expected = _walked(text, max_depth, max_tags)
        assert bound_markup(text) == expected


@pytest.mark.parametrize("tag", ["div", "DIV", "Span", "B", "tBody"])
def test_a_page_nested_in_any_letter_case_is_cut(tag: str) -> None:
    text = f"<{tag}>" * (bounds.MAX_DEPTH + 1) + "x"
    assert bound_markup(text) == (
        f"<{tag}>" * bounds.MAX_DEPTH,
        f"page nested deeper than {bounds.MAX_DEPTH:,} elements: read up to that point",
    )


def test_a_deep_page_is_still_cut() -> None:
    text = "<div>" * (bounds.MAX_DEPTH + 1) + "x"
    cut, warning = bound_markup(text)
    assert cut == "<div>" * bounds.MAX_DEPTH
    assert warning is not None
