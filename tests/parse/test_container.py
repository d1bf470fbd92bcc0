"""The container module's shortcuts answer as the slow ways they replace.

find_content queries only the container selectors some element may match: it must never
skip one that matches (the chosen container, and so every record, depends on the first
one that does). holds_chrome finds every chrome marker in one regex pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.parse.container import (
    CHROME_MARKERS,
    CONTENT_SELECTORS,
    _selectors_to_ask,
    holds_chrome,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES = sorted((FIXTURES / "real").glob("*.html")) + sorted((FIXTURES / "pages").glob("*.html"))


def test_every_selector_is_a_bare_class_or_id() -> None:
    for selector in CONTENT_SELECTORS:
        assert selector[0] in ".#"
        assert selector[1:].replace("-", "").replace("_", "").isalnum(), selector


def _matching(tree: LexborHTMLParser) -> list[str]:
    return [selector for selector in CONTENT_SELECTORS if tree.css(selector)]


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.stem)
def test_no_matching_selector_is_skipped_on_the_corpus(path: Path) -> None:
    tree = LexborHTMLParser(path.read_bytes())
    possible = list(_selectors_to_ask(tree))
    assert set(_matching(tree)) <= set(possible)


@pytest.mark.parametrize(
    "html",
    [
        # quirks mode (no doctype): class and id match in any letter case
        '<html><body><div class="trs_editor x">正文。</div></body></html>',
        '<html><body><div id="ZOOM">正文。</div><div class="Article-Content">x</div></body>',
        '<!DOCTYPE html><html><body><div class="TRS_Editor">正文。</div></body></html>',
        '<!DOCTYPE html><div class="a wzcon b"><p id="content">x</p></div>',
        '<!DOCTYPE html><div class="&#84;RS_Editor">x</div><div id="zo&#111;m">y</div>',
        "<div class=con_text_x>x</div><div class=con_text>y</div>",
    ],
)
def test_no_matching_selector_is_skipped(html: str) -> None:
    tree = LexborHTMLParser(html)
    matching = _matching(tree)
    assert matching
    assert set(matching) <= set(list(_selectors_to_ask(tree)))


def test_no_chrome_marker_overlaps_another() -> None:
    """One regex pass finds every marker a text holds only if no marker can start
    inside another (a suffix of one is no prefix of another, none contains another)."""
    for first in CHROME_MARKERS:
        for second in CHROME_MARKERS:
            if first == second:
                continue
            assert second not in first
            assert not any(first.endswith(second[:size]) for size in range(1, len(second)))


@pytest.mark.parametrize(
    "text",
    [
        "版权所有 网站标识码",
        "版权所有 版权所有",
        "当前位置" + "正文。" * 1000 + "ICP备",
        "当前位置" + "正文。" * 3000 + "ICP备",
        "当前位置" + "正文。" * 3000,
        # a marker across the join of the two edges still counts, as it did
        "网站" + "正文。" * 998 + "地图" + "正文。" * 3000 + "ICP备",
        "正文。" * 3000 + "网站" + "正文。" * 999 + "正文" + "地图",
        "",
    ],
)
def test_holds_chrome_counts_the_markers_in_the_edges(text: str) -> None:
    edges = text if len(text) <= 6000 else text[:3000] + text[-3000:]
    assert holds_chrome(text) is (sum(marker in edges for marker in CHROME_MARKERS) >= 2)


def test_every_tag_name_the_density_climb_compares_has_a_lexbor_id() -> None:
    """densest compares tag ids: a name without one would silently never match."""
    from scraper.parse import container

    for ids, names in [
        (container._BLOCK_IDS, container._BLOCK_TAGS),
        (container._SKIPPED_IDS, container._SKIPPED_TAGS),
        (container._LINK_IDS, container._LINK_TAGS),
        (container._PARAGRAPH_IDS, container._PARAGRAPH_TAGS),
        (container._BLOCK_CHILD_IDS, container._BLOCK_CHILDREN),
    ]:
        assert len(ids) == len(names)
