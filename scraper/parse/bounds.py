"""Bounds on what one page may cost the parser: nesting depth and tag count. Pure.

Lexbor's tree builder (like every HTML5 parser) checks the stack of open elements for
each tag, so a page nested tens of thousands deep costs it quadratic time or worse
(36,000 nested ``<div>`` took 2.7 s, 90,000 minutes); and a page of millions of tags
costs the Python walk over it seconds. A real disclosure page nests a few dozen deep and
has a few thousand tags. :func:`bound_markup` cuts a page at the tag that first goes
past :data:`MAX_DEPTH` open elements or :data:`MAX_TAGS` tags, and says so; the raw
bytes are archived whole whatever the parser reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Elements open at once past which the rest of a page is not parsed. Browsers flatten
#: deeper trees (Blink at 512); no real page comes near.
MAX_DEPTH = 1_000
#: Tags past which the rest of a page is not parsed (a real page has a few thousand; a
#: 20 MB report of short paragraphs half a million).
MAX_TAGS = 1_000_000

# Elements that nest when left open (an unclosed <p>, <li>, <dd>, <td>, <tr> or <a> is
# closed by the next one, and void elements never open: they are not counted).
_NESTING = frozenset(
    (
        *("abbr", "article", "aside", "b", "big", "blockquote", "center", "cite", "code"),
        *("del", "details", "div", "dl", "em", "fieldset", "figure", "font", "footer"),
        *("form", "header", "i", "ins", "kbd", "label", "main", "nav", "ol", "q", "s"),
        *("samp", "section", "small", "span", "strike", "strong", "sub", "sup", "table"),
        *("tbody", "thead", "tfoot", "tt", "u", "ul", "var"),
    )
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})")


def _alternation(names: Iterable[str]) -> str:
    """A regex alternation of ``names`` factored by common prefix (``d(?:el|iv|l)``):
    the engine then rejects most tag names on their first letter or two instead of
    trying each name in turn."""
    heads: dict[str, list[str]] = {}
    for name in names:
        heads.setdefault(name[:1], []).append(name[1:])
    branches = []
    for head, tails in sorted(heads.items()):
        if head == "":
            branches.append("")
        elif len(tails) == 1:
            branches.append(re.escape(head + tails[0]))
        else:
            branches.append(re.escape(head) + _alternation(tails))
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


# An opening tag of a nesting element, matched where _TAG would read one: the whole
# name (not followed by another letter or digit), ASCII case-insensitive like .lower().
_NESTING_OPEN = re.compile(f"<(?i:{_alternation(_NESTING)})(?![A-Za-z0-9])", re.ASCII)


def bound_markup(text: str) -> tuple[str, str | None]:
    """Return ``text`` cut where it first nests deeper than :data:`MAX_DEPTH` or passes
    :data:`MAX_TAGS` tags, and a warning saying so; or ``text`` and None.

    Linear. Pages with at most :data:`MAX_DEPTH` ``<`` cost one count; pages with at
    most that many ``<`` not followed by ``/`` (most real ones) two; longer ones shorter
    than :data:`MAX_TAGS` characters with at most :data:`MAX_DEPTH` opening tags of
    nesting elements (all real ones) one regex pass more, in C: only pages past that
    are walked tag by tag."""
    # Each level of depth is an opening tag of a nesting element, and each tag takes a
    # "<" and a letter: with no more of either than the bounds allow, neither is passed.
    # (Counting "<" is cheaper than the regex: it settles the smaller pages alone, as
    # MAX_TAGS is above MAX_DEPTH.)
    brackets = text.count("<")
    if brackets <= MAX_DEPTH:
        return text, None
    # Every opening tag is a "<" not followed by "/": with no more of those than
    # MAX_DEPTH (most real pages), two counts settle it without the regex.
    if brackets <= MAX_TAGS and brackets - text.count("</") <= MAX_DEPTH:
        return text, None
    if len(text) <= MAX_TAGS and len(_NESTING_OPEN.findall(text)) <= MAX_DEPTH:
        return text, None
    depth = 0
    for count, match in enumerate(_TAG.finditer(text), start=1):
        if count > MAX_TAGS:
            return text[: match.start()], f"page cut after {MAX_TAGS:,} tags: the rest is not read"
        name = match.group(2).lower()
        if name not in _NESTING:
            continue
        if match.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > MAX_DEPTH:
                return text[: match.start()], (
                    f"page nested deeper than {MAX_DEPTH:,} elements: read up to that point"
                )
    return text, None
