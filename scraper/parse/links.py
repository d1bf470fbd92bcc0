"""Links and paging on list pages. Pure: text in, values out.

Discovery (:mod:`scraper.crawling.discover`) fetches list pages; this module decides what
they link to: the detail links a CSS selector picks out, and the page count a
CMS paging script announces. :mod:`scraper.config` uses :func:`selector_error`
to refuse a bad selector before any request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from scraper.fetching.urls import normalize_url

#: Schemes of hrefs that are never pages (checked before resolving, so that a
#: ``javascript:`` link on an https page is not mistaken for a relative path).
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "vbscript:")

# Hanweb (大汉) column pages keep their first page of records in
# <script type="text/xml"><datastore>…<record><![CDATA[<li><a …>]]></record>…
# and draw the list with JavaScript, so the links are invisible to a CSS
# selector run on the raw page. We splice the records' HTML back in where the
# script stood, so selectors scoped to the list's container still match.
# Scripts and records are found with find(), never a lazy ".*?" regex: that rescans the
# rest of the page from every opening that has no closing (quadratic on a hostile page).
_RECORD_START = re.compile(r"<record>\s*<!\[CDATA\[", re.IGNORECASE)
_DATASTORE_TAG = re.compile(r"<datastore>", re.IGNORECASE)

# TRS: createPageHTML(56, 0, "index", "html") — count, current (0-based), stem, ext;
# some templates put a container id first: createPageHTML("page_div", 56, 0, "index", "html").
_CREATE_PAGE_HTML = re.compile(r"createPageHTML\s*\(([^)]*)\)")
# TRS-style inline paging scripts: var countPage = 56 (also "countPage=56").
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
# Lonsun: Ls.pageList / pagination options {pageIndex:1, pageCount:12, …}.
_LONSUN_PAGE_COUNT = re.compile(r"""["']?\bpageCount["']?\s*:\s*["']?(\d+)""")
_QUOTED = re.compile(r"""^\s*(["'])(.*)\1\s*$""", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ScriptPaging:
    """The paging a list page's inline script announces.

    ``count`` is the number of list pages (at least 1). ``style`` is ``"trs"``
    (pages named ``{stem}.{ext}``, ``{stem}_1.{ext}`` … ``{stem}_{count-1}.{ext}``
    next to the first) or ``"lonsun"`` (pages addressed by ``pageIndex``, which
    only a ``list_url_template`` can build). ``stem``/``ext`` come from a
    ``createPageHTML`` call and are None when the script did not name them.
    """

    count: int
    style: Literal["trs", "lonsun"]
    stem: str | None = None
    ext: str | None = None


def selector_error(css: str) -> str | None:
    """Return why ``css`` is not a CSS selector selectolax can run, or None if it is."""
    if not css.strip():
        return "empty selector"
    try:
        LexborHTMLParser("<html></html>").css(css)
    except (SelectolaxError, ValueError) as exc:
        return str(exc) or "cannot parse CSS selector"
    return None


def extract_links(html: str, base_url: str, selector: str) -> list[str]:
    """Return the URLs of the links ``selector`` picks out of ``html``, in document order.

    A matched ``<a>``/``<area>`` gives its own href; any other matched element
    gives the hrefs of the ``<a>`` elements inside it. Hrefs are resolved against
    the page's ``<base href>`` (itself resolved against ``base_url``) and
    normalised with :func:`scraper.fetching.urls.normalize_url`; ``javascript:``,
    ``mailto:``, ``tel:``, empty and ``#``-only hrefs are skipped; each URL is
    returned once. Hanweb ``<datastore>`` records are searched as if they were
    part of the page. Raises SelectolaxError for an invalid selector (check it
    first with :func:`selector_error`).
    """
    tree = LexborHTMLParser(_inline_datastores(html))
    base = document_base(tree, base_url)
    found: dict[str, None] = {}
    for node in tree.css(selector):
        anchors = [node] if node.tag in ("a", "area") else node.css("a[href]")
        for anchor in anchors:
            url = resolve_href(anchor.attributes.get("href"), base)
            if url is not None:
                found.setdefault(url, None)
    return list(found)


def list_paging(html: str) -> ScriptPaging | None:
    """Return the paging announced by the page's inline scripts, or None if none is.

    Understands TRS ``createPageHTML(count, current, "stem", "ext")`` (with or
    without a leading container id), TRS-style ``var countPage = N`` and Lonsun
    ``pageCount:N``. A count below 1 is ignored.
    """
    for _, body_start, body_end, _ in _scripts(html):
        script = html[body_start:body_end]
        paging = _trs_paging(script) or _lonsun_paging(script)
        if paging is not None:
            return paging
    return None


def _trs_paging(script: str) -> ScriptPaging | None:
    """Return TRS paging from one script's text, or None."""
    call = _CREATE_PAGE_HTML.search(script)
    if call is not None:
        args = [arg.strip() for arg in call.group(1).split(",")]
        # Skip a leading container id: the count is the first integer argument.
        for i, arg in enumerate(args):
            if arg.isdigit():
                count = int(arg)
                strings = [_unquote(a) for a in args[i + 2 : i + 4]]
                stem, ext = [*strings, None, None][:2]
                if count >= 1:
                    return ScriptPaging(count, "trs", stem or None, ext or None)
                break
    count_page = _COUNT_PAGE.search(script)
    if count_page is not None and int(count_page.group(1)) >= 1:
        return ScriptPaging(int(count_page.group(1)), "trs")
    return None


def _lonsun_paging(script: str) -> ScriptPaging | None:
    """Return Lonsun paging from one script's text, or None."""
    match = _LONSUN_PAGE_COUNT.search(script)
    if match is not None and int(match.group(1)) >= 1:
        return ScriptPaging(int(match.group(1)), "lonsun")
    return None


def _unquote(arg: str) -> str | None:
    """Return the text of a quoted JavaScript string literal, or None if ``arg`` is not one."""
    match = _QUOTED.match(arg)
    return match.group(2) if match else None


def _inline_datastores(html: str) -> str:
    """Return ``html`` with each Hanweb datastore script replaced by its records' HTML."""
    if _DATASTORE_TAG.search(html) is None:
        return html
    parts: list[str] = []
    done = 0
    for start, body_start, body_end, end in _scripts(html):
        body = html[body_start:body_end].strip()
        lower = body.lower()
        if lower.startswith("<datastore>") and lower.endswith("</datastore>"):
            parts += [html[done:start], "<div>", *_records(body), "</div>"]
            done = end
    parts.append(html[done:])
    return "".join(parts)


def _records(datastore: str) -> list[str]:
    """The HTML inside each ``<record><![CDATA[…]]></record>`` of a datastore, in order."""
    found = []
    position = 0
    while (match := _RECORD_START.search(datastore, position)) is not None:
        end = datastore.find("]]>", match.end())
        if end < 0:
            break
        found.append(datastore[match.end() : end])
        position = end + 3
    return found


def _scripts(html: str) -> Iterator[tuple[int, int, int, int]]:
    """(start, body start, body end, end) of each complete ``<script …>…</script>`` in
    ``html``, in order; one find() per boundary, so linear whatever the page holds."""
    lower = html.lower()
    position = 0
    while (start := lower.find("<script", position)) >= 0:
        following = lower[start + 7 : start + 8]
        if following and not (following.isspace() or following in ">/"):
            position = start + 7  # <scripts…>, another tag
            continue
        opened = lower.find(">", start)
        closing = lower.find("</script>", opened) if opened >= 0 else -1
        if closing < 0:
            return
        yield start, opened + 1, closing, closing + len("</script>")
        position = closing + len("</script>")


def document_base(tree: LexborHTMLParser, base_url: str) -> str:
    """Return the URL relative links resolve against: ``<base href>`` if any, else base_url.
    (Also used by :mod:`scraper.parse.filelinks`.)"""
    base = tree.css_first("base[href]")
    if base is not None:
        href = base.attributes.get("href")
        if href and href.strip():
            resolved = normalize_url(href, base_url)
            if resolved is not None:
                return resolved
    return base_url


def resolve_href(href: str | None, base: str) -> str | None:
    """Return the normal form of one href against base, or None if it is not a page link
    (empty, ``#``-only, ``javascript:``/``mailto:``/``tel:``/``data:``, or relative with
    no base to resolve it against)."""
    if href is None:
        return None
    text = href.strip()
    if not text or text.startswith("#") or text.lower().startswith(_SKIPPED_SCHEMES):
        return None
    return normalize_url(text, base)
