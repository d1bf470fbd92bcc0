"""Which element holds the article: a known CMS container, checked, else the densest text.

:func:`find_content` tries :data:`CONTENT_SELECTORS` in priority order. A match is
refused when its text has no prose (anyang's ``#content`` holds only the headline and
the info line), and narrowed when it wraps the page's chrome (沈阳's ``#content`` holds
the breadcrumb, the article and the footer). Without a usable match, the article is the
element with the densest prose (:func:`densest`): text scored by length and Chinese
sentence punctuation, summed into its block ancestors, discounted for link text and for
footer-, navigation- or share-like names. Pure: reads the tree only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scraper.parse.tagids import TEXT_ID, tag_ids

#: Content containers of the CMSs seen on government sites (Lonsun, Hanweb, TRS,
#: Zhejiang/Jiangsu templates…), most specific first.
CONTENT_SELECTORS: tuple[str, ...] = (
    ".j-fontContent",
    "#zoom",
    ".main_section",
    "#UCAP-CONTENT",
    ".TRS_Editor",
    # TRS's newer UEditor output (首都之窗, 毕节, 南京): div.view.TRS_UEDITOR.trs_paper_default
    ".TRS_UEDITOR",
    ".article-content",
    ".article_content",
    "#content",
    ".pages_content",
    ".wzcon",
    ".con_text",
    ".xxgk_content",
)

#: How many of the first selectors are asked alone: most pages of the big CMSs match
#: one of them, and two queries cost less than the one for all the others.
_ASKED_ALONE = 2
# Past those, one query for all the others, then one for each some candidate may match.
_ANY_LATER_CONTENT = ", ".join(CONTENT_SELECTORS[_ASKED_ALONE:])

#: Text that only a page's footer or header carries: a container holding two of these
#: wraps the page's chrome, not just the article.
CHROME_MARKERS: tuple[str, ...] = (
    "ICP备",
    "网站标识码",
    "版权所有",
    "主办单位",
    "技术支持",
    "您的位置",
    "当前位置",
    "网站地图",
    "公网安备",
)

#: How much of a container's text, at each end, is searched for chrome markers.
_EDGE = 3000
# All markers in one pass. No marker overlaps another (tests/parse/test_container.py),
# so the distinct matches are exactly the markers the text holds.
_CHROME_MARKER = re.compile("|".join(map(re.escape, CHROME_MARKERS)))
# Chinese sentence punctuation: prose has it, menus, titles and info lines do not.
_PROSE = re.compile("[，。；！？]")
# Element names of page chrome (footer, nav, share bars, related links …).
_CHROME_NAME = re.compile(
    r"foot|bottom|copyright|nav|menu|header|sidebar|crumb|share|relat|friend|banner|links?\b",
    re.IGNORECASE,
)
_CONTENT_NAME = re.compile(r"content|article|text|detail|zw|main", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    ("div", "td", "article", "section", "main", "body", "dd", "li", "form", "center")
)
_SKIPPED_TAGS = frozenset(("script", "style", "noscript", "template", "select", "option", "title"))
_LINK_TAGS = frozenset(("a", "button"))
#: A densest element must score at least this (about two sentences of prose) and hold at
#: least this many sentence marks.
_MIN_SCORE = 60.0
_MIN_MARKS = 2
_PARAGRAPH_TAGS = frozenset(("div", "dd", "li", "center"))
_BLOCK_CHILDREN = frozenset(
    ("div", "p", "table", "ul", "ol", "dl", "section", "article", "h1", "h2", "h3", "h4", "form")
)
# The per-text climbs compare Lexbor's tag ids (ints), not tag names (a string per read).
_BLOCK_IDS = tag_ids(_BLOCK_TAGS)
_SKIPPED_IDS = tag_ids(_SKIPPED_TAGS)
_LINK_IDS = tag_ids(_LINK_TAGS)
_PARAGRAPH_IDS = tag_ids(_PARAGRAPH_TAGS)
_BLOCK_CHILD_IDS = tag_ids(_BLOCK_CHILDREN)
(_SECTION_ID,) = tag_ids(("section",))
#: Shorter texts are not scored (most of a page's text nodes; walking up from each costs).
_MIN_TEXT = 6
#: How far up the text of one element counts (its block, that block's parent …).
_LEVELS = (1.0, 0.5, 0.25)


@dataclass(frozen=True, slots=True)
class Choice:
    """The article container and how it was chosen."""

    node: Any | None
    #: True when no known container was used as it is (text density decided).
    guessed: bool = False


def find_content(tree: Any) -> Choice:
    """Return the content container of a parsed page (a selectolax
    ``LexborHTMLParser``), or ``Choice(None)`` when the page has no article text."""
    fallback = None
    for selector in _selectors_to_ask(tree):
        for node in tree.css(selector):
            # Lexbor's text in C (script text included: it rarely holds a sentence mark
            # or a footer's words, and walking the nodes in Python costs 40 µs a page).
            text = node.text(deep=True)
            if not text.strip():
                continue
            if _PROSE.search(text) is None:
                # A match without a sentence: keep it in case nothing better turns up
                # (a body that is only a PDF link is still the body).
                fallback = fallback or node
                continue
            if holds_chrome(text):
                inner = densest(node)
                if inner is not None and inner is not node:
                    return Choice(inner, guessed=True)
            return Choice(node)
    body = tree.body
    best = densest(body) if body is not None else None
    if best is not None:
        return Choice(best, guessed=True)
    return Choice(fallback)


def holds_chrome(text: str) -> bool:
    """True if two of :data:`CHROME_MARKERS` are in the first or last :data:`_EDGE`
    characters of ``text``: an element with that text wraps the page's header or footer
    (a wrapper's chrome is at its edges: the breadcrumb on top, the footer below)."""
    edges = text if len(text) <= 2 * _EDGE else text[:_EDGE] + text[-_EDGE:]
    return len(set(_CHROME_MARKER.findall(edges))) >= 2


def _selectors_to_ask(tree: Any) -> Iterator[str]:
    """The :data:`CONTENT_SELECTORS` to query, in priority order: the first
    :data:`_ASKED_ALONE`, then (only if the caller gets past them) those of the others
    that may match some element of ``tree``."""
    yield from CONTENT_SELECTORS[:_ASKED_ALONE]
    yield from _possible_selectors(tree)


def _possible_selectors(tree: Any) -> list[str]:
    """The :data:`CONTENT_SELECTORS` past the first :data:`_ASKED_ALONE` that may match
    some element of ``tree``, in priority order. Each is a bare ``.class`` or ``#id``:
    an element it matches carries its name in its class or id (in some letter case, for
    a quirks-mode page), and is among the matches of all of them at once. One query for
    all, then one per name found, costs less than eleven queries over the whole tree."""
    candidates = tree.css(_ANY_LATER_CONTENT)
    if not candidates:
        return []
    names = " ".join(
        f"{attributes.get('id') or ''} {attributes.get('class') or ''}"
        for attributes in (node.attributes for node in candidates)
    ).lower()
    return [
        selector for selector in CONTENT_SELECTORS[_ASKED_ALONE:] if selector[1:].lower() in names
    ]


def densest(root: Any) -> Any | None:
    """Return the element under ``root`` (inclusive) with the densest prose, or None.

    Each text's weight (its length, plus 10 per sentence mark) goes to the nearest block
    ancestor that is not itself a paragraph (a ``<p>``, or a ``<div>`` with no block
    children, as 定州's bare ``<div>`` paragraphs), half of it to the next block up, a
    quarter to the one above. Text inside links counts against its blocks. Only
    elements holding at least two sentence marks are candidates.
    """
    text_score: dict[int, float] = {}
    link_chars: dict[int, float] = {}
    prose: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    paragraph_like: dict[int, bool] = {}
    # Texts share parents and blocks share ancestors: each climb is made once.
    owners: dict[int, tuple[Any, bool] | None] = {}
    above: dict[int, Any | None] = {}
    # Weights and marks summed per (block, in a link), in the order the texts first reach
    # them: the shares are then spread up the levels once per block, not once per text
    # (the sums are exact: whole numbers times 1, 1/2 and 1/4).
    direct: dict[tuple[int, bool], tuple[Any, int, int]] = {}
    for node in root.traverse(include_text=True, skip_empty=True):
        if node.tag_id != TEXT_ID:
            continue
        text = node.text_content
        if len(text) < _MIN_TEXT or len(text := text.strip()) < _MIN_TEXT:
            continue  # menu items and labels: too short to tell prose from chrome
        parent = node.parent
        key = parent.mem_id
        if key in owners:
            owner = owners[key]
        else:
            owner = owners[key] = _owner(parent, root, paragraph_like)
        if owner is None:
            continue
        block, in_link = owner
        marks = len(_PROSE.findall(text))
        weight = len(text) + 10 * marks
        entry = (block.mem_id, in_link)
        if entry in direct:
            _, summed, summed_marks = direct[entry]
            direct[entry] = (block, summed + weight, summed_marks + marks)
        else:
            direct[entry] = (block, weight, marks)
    for (_, in_link), (block, weight, marks) in direct.items():
        target = link_chars if in_link else text_score
        for share in _LEVELS:
            key = block.mem_id
            nodes[key] = block
            target[key] = target.get(key, 0.0) + weight * share
            if not in_link:
                prose[key] = prose.get(key, 0) + marks
            if block is root:
                break
            if key in above:
                block = above[key]
            else:
                block = above[key] = _block_above(block)
            if block is None:
                break
    best, best_score = None, _MIN_SCORE
    for key, score in text_score.items():
        if prose.get(key, 0) < _MIN_MARKS:
            continue
        links = link_chars.get(key, 0.0)
        density = score / (score + links)
        score *= density * density * _name_factor(nodes[key])
        if score > best_score:
            best, best_score = nodes[key], score
    return best


def _owner(parent: Any, root: Any, paragraph_like: dict[int, bool]) -> tuple[Any, bool] | None:
    """The block a text under ``parent`` counts for (the nearest block ancestor that is
    not a paragraph), and whether a link or button lies on the way; None for a text in
    a script, style, select or title."""
    in_link = False
    while parent is not None and (
        (tag := parent.tag_id) not in _BLOCK_IDS or _is_paragraph(parent, tag, paragraph_like)
    ):
        if tag in _SKIPPED_IDS:
            break
        if tag in _LINK_IDS:
            in_link = True
        if parent is root:
            break
        parent = parent.parent
    if parent is None or parent.tag_id in _SKIPPED_IDS:
        return None
    return parent, in_link


def _block_above(block: Any) -> Any | None:
    """The nearest ancestor of ``block`` with a block tag, or None."""
    block = block.parent
    while block is not None and block.tag_id not in _BLOCK_IDS:
        block = block.parent
    return block


def _is_paragraph(node: Any, tag: int, cache: dict[int, bool]) -> bool:
    """A ``<div>``/``<dd>``/``<li>`` with no block children reads as a paragraph, and so
    does a ``<section>`` with at most one (the 135 editor wraps every paragraph in
    nested sections: 毕节). ``tag`` is the node's tag id."""
    key = node.mem_id
    found = cache.get(key)
    if found is None:
        if tag in _PARAGRAPH_IDS or tag == _SECTION_ID:
            blocks = sum(
                child.tag_id in _BLOCK_CHILD_IDS for child in node.iter(include_text=False)
            )
            found = blocks <= (1 if tag == _SECTION_ID else 0)
        else:
            found = False
        cache[key] = found
    return found


def _name_factor(node: Any) -> float:
    """Discount elements named like chrome, favour those named like content."""
    attributes = node.attributes
    name = f"{attributes.get('id') or ''} {attributes.get('class') or ''}"
    if node.tag in ("footer", "nav", "header", "aside") or _CHROME_NAME.search(name):
        return 0.1
    return 1.3 if _CONTENT_NAME.search(name) else 1.0


#: Link texts at least this long are document titles, not menu items.
_TITLE_LINK = 8
_ROW_TAGS = frozenset(("li", "tr", "dd", "dt"))


def list_links(root: Any) -> int:
    """How many links under ``root`` look like the rows of a list of documents: a link
    with a title-length text (8+ characters) inside an ``li``, ``tr``, ``dd`` or ``dt``
    within three levels. Menus have short link texts; a document has a few such links
    (related articles), a list page dozens."""
    count = 0
    for link in root.css("a"):
        if len(link.text(deep=True, strip=True)) < _TITLE_LINK:
            continue
        parent = link.parent
        for _ in range(3):
            if parent is None:
                break
            if parent.tag in _ROW_TAGS:
                count += 1
                break
            parent = parent.parent
    return count
