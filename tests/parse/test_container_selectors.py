"""find_content queries only the container selectors some element may match.

The shortcut must never skip a selector that matches: the chosen container, and so
every record, depends on the first one that does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.parse.container import CONTENT_SELECTORS, _possible_selectors

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
    possible = _possible_selectors(tree)
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
    assert set(matching) <= set(_possible_selectors(tree))
