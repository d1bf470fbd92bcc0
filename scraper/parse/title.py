"""The title when the block names none: ``<meta name="ArticleTitle">``, else the headline
the page shows, checked against ``<title>`` (docs/parsing.md, "Title"). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scraper.parse.infoline import shows_today
from scraper.parse.labels import VOLATILE_LABELS, label_pattern
from scraper.parse.layout import plain
from scraper.parse.text import normalize_space
from scraper.parse.values import clean_value


@dataclass(slots=True)
class PageContext:
    """What the page offers besides its lines: ``<meta>`` tags, headline texts, ``<title>``."""

    meta: Mapping[str, str] = field(default_factory=dict)
    #: Texts of headline-like elements (h1–h3, ``*title*`` classes), in document order.
    headings: Sequence[str] = ()
    #: Texts of the ``h1`` elements.
    h1s: Sequence[str] = ()
    title_tag: str | None = None


def title_fallback(context: PageContext) -> tuple[str | None, str | None]:
    """Return the title when no block and no ``<meta name="ArticleTitle">`` gave one, and
    a warning saying where it came from (None when it is the headline the page shows and
    its ``<title>`` confirms).

    Portals write ``<title>`` as "headline_column_site" or "site-headline" (长沙, 达州), so
    neither its first nor its last part is reliably the headline. In order:
    1. the longest headline-like element (``h1``–``h3``, ``*title*`` classes; no colon
       that ``<title>`` lacks) whose text ``<title>`` contains, else the shortest that
       contains the longest non-site part of ``<title>`` (``<title>`` cut short);
    2. the longer of the longest ``h1`` that is not a site name (a logo ``h1`` is short)
       and the longest part of ``<title>`` that is not a site name;
    3. when ``<title>`` names only the site or a column (parts shorter than 6 characters,
       通知公告), the longest headline-like element of at most 100 characters;
    4. else that column name.
    """
    parts = [
        part
        for part in _title_parts(context.title_tag, context)
        if not _is_site_name(part, context)
    ]
    # A column name (通知公告) is a last resort: the page's headline comes first.
    headline_parts = [part for part in parts if len(part) >= _MIN_PART]
    best_part = max(headline_parts, key=len) if headline_parts else None
    headings = [
        heading
        for heading in (clean_value(_before_volatile(plain(text))) for text in context.headings)
        if heading and not _is_site_name(heading, context)
    ]
    if context.title_tag:
        whole = normalize_space(context.title_tag)
        # A headline holds no label (浏览次数：12 beside it in one element is not part of it).
        shown = [h for h in headings if len(h) >= _MIN_HEADLINE and not _has_label(h, whole)]
        inside = [heading for heading in shown if heading in whole]
        if inside:
            return max(inside, key=len), None
        # <title> cut short: the tightest element that shows the part in full.
        around = [heading for heading in shown if _completes(heading, best_part)]
        if around:
            return min(around, key=len), None
    h1s = [
        heading
        for heading in (clean_value(plain(text)) for text in context.h1s)
        if heading and not _is_site_name(heading, context)
    ]
    top_h1 = max(h1s, key=len) if h1s else None
    if top_h1 is not None and (best_part is None or len(top_h1) > len(best_part)):
        return top_h1, "title guessed from the longest <h1>: <title> did not confirm it"
    if best_part is not None:
        return best_part, "title taken from <title>: no headline on the page matched it"
    # <title> is only the site's name (天津's 关爱版): the longest headline-like element.
    # Not a text with a label in it (页面生成时间：…): a headline has none.
    plausible = [
        heading
        for heading in headings
        if _MIN_HEADLINE <= len(heading) <= _MAX_GUESS and not _has_label(heading, "")
    ]
    if plausible:
        return max(
            plausible, key=len
        ), "title guessed from a headline element: <title> names only the site"
    if parts:  # only a column name is left (通知公告 | 宣城市人民政府)
        return max(parts, key=len), "title taken from <title>: only a column name"
    return None, None


#: Shortest headline text matched against ``<title>`` (a column name such as 通知 is shorter).
_MIN_HEADLINE = 5
#: Longest element text taken for a headline without ``<title>``'s confirmation.
_MAX_GUESS = 100
# Separators between the parts of a <title>: _ and |, a hyphen except between digits, a
# spaced dash. 2021年1-6月份 stays whole, and so does a dash used as punctuation
# (奋进新征程——庆祝…).
_TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]+|(?<![\d—])[-–](?![\d—])|\s[-–—]+\s)\s*")
_DASHES = re.compile("[—–]{1,2}")
# Site names: 达州市人民政府, 长沙市政府门户网站, 首都之窗, and the bodies that run a site under
# their own name (南京住房公积金管理中心, 某某局): a <title> part that is only an owner's name.
_SITE_NAME = re.compile(
    r"(?:门户网站|网站|政府网|人民政府|门户|首都之窗|官网|中国政府网|管理中心|中心|局|厅|委员会|办公室)$"
)
_VOLATILE_LABEL = re.compile(label_pattern(VOLATILE_LABELS, joint=" ?") + " ?[:：]")
#: A <title> part shorter than this is a column name (通知公告, 政策文件), not a headline.
_MIN_PART = 6


def without_site_name(text: str, context: PageContext) -> str:
    """``text`` without a site name joined to it (高阳's ArticleTitle:
    高阳县人民政府网站——高阳县人民政府关于…), or ``text`` as it is."""
    parts = _title_parts(text, context)
    if len(parts) < 2:
        return text
    kept = [part for part in parts if not _is_site_name(part, context)]
    return max(kept, key=len) if kept else text


def _before_volatile(text: str) -> str:
    """``text`` up to a counter or stamp that shares its element (…的通知 浏览次数：12)."""
    match = _VOLATILE_LABEL.search(text)
    return text[: match.start()] if match else text


def _has_label(heading: str, title: str) -> bool:
    """True if ``heading`` has a colon that ``title`` (the <title> text) does not, or a
    date widget's words (今天是 … 星期一): a counter or a widget beside the headline."""
    return any(colon in heading and colon not in title for colon in ("：", ":")) or (
        shows_today(heading) and not shows_today(title)
    )


def _completes(heading: str, part: str | None) -> bool:
    """True if ``heading`` is ``part`` of ``<title>`` shown in full: it contains it and
    adds little (a ``<title>`` cut short), unlike a container whose class says title."""
    if part is None:
        return False
    core = part.rstrip("….")  # 关于印发某某办法的通…: cut with an ellipsis
    return core in heading and len(heading) <= len(core) * 1.3 + 10


def _title_parts(title: str | None, context: PageContext | None = None) -> list[str]:
    """The parts of a ``<title>`` between separators, cleaned, empty ones dropped. A dash
    run (——) separates only where it cuts off a site name (高阳: 高阳县人民政府网站——…)."""
    if not title:
        return []
    parts: list[str] = []
    for part in (clean_value(p) for p in _TITLE_SEPARATOR.split(title)):
        if not part:
            continue
        pieces = [piece.strip() for piece in _DASHES.split(part)]
        if len(pieces) > 1 and any(_is_site_name(piece, context) for piece in pieces):
            parts.extend(piece for piece in pieces if piece)
        else:
            parts.append(part)
    return parts


def _is_site_name(text: str, context: PageContext | None) -> bool:
    site = context.meta.get("sitename") if context is not None else None
    return text == site or (len(text) <= 20 and _SITE_NAME.search(text) is not None)
