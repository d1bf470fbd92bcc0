"""``parse_page``: bytes (+ URL and headers) in, :class:`PageRecord` out. Pure; never raises.

One selectolax (Lexbor) parse per page. The content container is walked first (and its
attachment links, with those of the attachment lists around it, are read);
then it is replaced by a place marker, and the rest of the page — where the
metadata block, info line and title live — is walked once, split at that marker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from scraper.parse.body import body_lines
from scraper.parse.bounds import bound_markup
from scraper.parse.container import find_content, list_links
from scraper.parse.encoding import decode_html
from scraper.parse.filelinks import find_attachments
from scraper.parse.layout import (
    LINE,
    PLACE,
    Block,
    Table,
    split_blocks,
    strip_markers,
    walk,
    without_markers,
)
from scraper.parse.metadata import META_FALLBACKS, PageContext, extract_metadata
from scraper.parse.record import Metadata, PageRecord
from scraper.parse.sections import extract_sections, has_task_labels
from scraper.parse.text import join_cjk_lines, normalize_space
from scraper.parse.values import clean_value

# name= as the standard has it; property= as some templates write it (德州).
_META_SELECTOR = ", ".join(
    f'meta[{attribute}="{name}" i]'
    for name in (*META_FALLBACKS, "SiteName")
    for attribute in ("name", "property")
)
_HIDING_RULES = ("display:none", "display: none", "visibility:hidden", "visibility: hidden")
#: Hidden text at least this long is kept (an article a script shows), shorter is dropped.
_HIDDEN_ARTICLE = 200
# Every element a hiding rule matches, and a few more (display:block;…;background:none):
# two substring tests cost Lexbor less than four; _hides() then applies the rules exactly.
_MAYBE_HIDDEN_SELECTOR = '[style*="none" i], [style*="hidden" i], [hidden]'
# Where a page shows its headline when no block or <meta> names it.
_HEADLINE_SELECTOR = 'h1, h2, h3, [class*="title" i], [id*="title" i]'
_UNSHOWN = frozenset(("script", "style", "noscript", "template"))
#: Longer "headings" are containers, not headlines.
_MAX_HEADLINE = 200


#: The start of the warning a list page gets (``govarchive parse`` reports such inputs).
LIST_PAGE_WARNING = "looks like a list page, not a document"
_PAGING = re.compile("下一页|尾页|末页")
#: A page with this much article text is a document whatever else it shows.
_LIST_BODY = 200


def parse_page(
    data: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> PageRecord:
    """Parse one disclosure page. Never raises: what cannot be read becomes a warning.

    ``headers`` supplies the HTTP ``Content-Type`` charset; ``url`` is the page's own
    URL, which the attachment links resolve against (without it, only absolute links,
    or links under an absolute ``<base href>``, are reported).
    """
    content_type = _header(headers, "content-type")
    try:
        return _parse(data, content_type, url)
    except Exception as exc:  # a last resort: the parser must never stop a crawl
        decoded = decode_html(data if isinstance(data, bytes) else b"", content_type)
        return PageRecord(
            metadata=Metadata(),
            sections=(),
            body_text="",
            encoding=decoded.encoding,
            encoding_source=decoded.source,
            warnings=(f"parser error: {type(exc).__name__}: {exc}",),
        )


def _parse(data: bytes, content_type: str | None, url: str | None) -> PageRecord:
    decoded = decode_html(data, content_type)
    warnings = list(decoded.warnings)
    text, bound = bound_markup(without_markers(decoded.text))
    if bound is not None:
        warnings.append(bound)
    # Lexbor reads bytes as UTF-8: hand it the page's own bytes when they are exactly
    # that (saves re-encoding the text), else the decoded text.
    source: str | bytes = text
    if (
        decoded.encoding == "utf-8"
        and not data.startswith(b"\xef\xbb\xbf")
        and text is decoded.text
        and not decoded.warnings
    ):
        source = data
    tree = LexborHTMLParser(source)
    _drop_hidden(tree)
    context = _context(tree)

    choice = find_content(tree)
    container = choice.node
    if choice.guessed:
        warnings.append("article container guessed by text density")
    # Before the container leaves the tree (below): its links and images are read here.
    attachments = find_attachments(tree, container, url)
    body_blocks: list[Block] = []
    before: Sequence[Block] = ()
    after: Sequence[Block] = ()
    if container is not None:
        body_blocks = split_blocks(walk(container))
    if container is not None and container.tag in ("body", "html"):
        # The paragraphs sit directly in <body>: the metadata is among them.
        before = body_blocks
    else:
        if container is not None:
            container.insert_before(LINE + PLACE + LINE)
            container.decompose()
        if tree.body is not None:
            before, after = _split_at_place(split_blocks(walk(tree.body)))

    metadata, metadata_warnings, body = extract_metadata(before, after, context, body_blocks)
    warnings.extend(metadata_warnings)
    lines = body_lines(body, metadata.title)
    if not lines:
        warnings.append("no article body found")
    body_text = "\n".join(lines)
    if "no metadata block found" in metadata_warnings and len(body_text) < _LIST_BODY:
        # A list of documents: no block, no article, and paging links (下一页, 尾页) that a
        # document page does not show (it has 上一篇/下一篇).
        paging = any(
            isinstance(line, str) and _PAGING.search(line) for line in (*before, *after, *body)
        )
        links = list_links(tree.body) if paging and tree.body is not None else 0
        if links:
            warnings.append(f"{LIST_PAGE_WARNING}: {links} document links in list rows, paging")
    sections = extract_sections(body) if has_task_labels(body_text) else []
    return PageRecord(
        metadata=metadata,
        sections=tuple(sections),
        body_text=body_text,
        encoding=decoded.encoding,
        encoding_source=decoded.source,
        warnings=tuple(warnings),
        attachments=attachments,
    )


def _drop_hidden(tree: Any) -> None:
    """Remove the elements a visitor never sees: inline ``display:none`` or
    ``visibility:hidden``, or the ``hidden`` attribute, unless the page's own
    ``<style>`` shows them again (杭州: ``#xxgkhide{display:block !important}`` over an
    inline ``display:none``), or unless they hold article-length text. Templates keep data
    in hidden elements for their scripts
    (安顺: a hidden ``NewsArticlePubDay``; 三明: four hidden 有效性 rows with different
    values), which is not what the page says."""
    hidden = tree.css(_MAYBE_HIDDEN_SELECTOR)
    if not hidden:
        return
    styles: str | None = None  # the page's <style> text, read when first needed
    # Innermost first: an element is removed before the hidden element around it.
    for node in reversed(hidden):
        attributes = node.attributes
        if not _hides(attributes):
            continue
        if attributes.get("id") or attributes.get("class"):
            if styles is None:
                styles = " ".join(node.text() for node in tree.css("style"))
            if styles and _shown_by_stylesheet(attributes, styles):
                continue
        if len(node.text(deep=True, strip=True)) >= _HIDDEN_ARTICLE:
            # 长春 hides the whole article in a div that a script writes out: text that long
            # is the document, not data kept for a script.
            continue
        node.decompose()


def _hides(attributes: Mapping[str, str | None]) -> bool:
    """True if the element has the ``hidden`` attribute or an inline style holding one of
    :data:`_HIDING_RULES` in any ASCII letter case (as ``[style*="…" i]`` matches: no
    non-ASCII letter lower-cases into these rules)."""
    if "hidden" in attributes:
        return True
    style = (attributes.get("style") or "").lower()
    return any(rule in style for rule in _HIDING_RULES)


def _shown_by_stylesheet(attributes: Mapping[str, str | None], styles: str) -> bool:
    """True if a rule for the element's id or one of its classes sets a visible display."""
    names = [f"#{attributes['id']}"] if attributes.get("id") else []
    names += [f".{name}" for name in (attributes.get("class") or "").split()]
    return any(
        name in styles  # most names have no rule: skip the regex
        and re.search(re.escape(name) + r"\s*\{[^}]*display\s*:\s*(?!none)[a-z]", styles)
        for name in names
    )


def _context(tree: Any) -> PageContext:
    """Read the ``<meta>`` fallbacks (in ``<head>``), and the ``<title>`` and ``h1``
    texts when a title may have to come from them."""
    meta: dict[str, str] = {}
    head = tree.head
    if head is not None:
        for node in head.css(_META_SELECTOR):
            attrs = node.attributes
            name = (attrs.get("name") or attrs.get("property") or "").lower()
            content = normalize_space(join_cjk_lines(strip_markers(attrs.get("content") or "")))
            if content and name not in meta:
                meta[name] = content
    if clean_value(meta.get("articletitle")) is not None:
        # The title fallbacks after <meta name="ArticleTitle"> are never reached.
        return PageContext(meta=meta)
    title = (head.css_first("title") if head is not None else None) or tree.css_first("title")
    headings = [
        text
        for text in (normalize_space(_shown_text(node)) for node in tree.css(_HEADLINE_SELECTOR))
        if text and len(text) <= _MAX_HEADLINE
    ]
    return PageContext(
        meta=meta,
        headings=headings,
        h1s=[normalize_space(_shown_text(node)) for node in tree.css("h1")],
        title_tag=normalize_space(title.text()) if title is not None else None,
    )


def _shown_text(node: Any) -> str:
    """An element's text without the contents of its scripts and styles."""
    return "".join(
        child.text_content
        for child in node.traverse(include_text=True, skip_empty=True)
        if child.tag == "-text" and child.parent is not None and child.parent.tag not in _UNSHOWN
    )


def _split_at_place(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """The blocks before and after the article's place. A container inside a layout
    table's cell (厦门 puts it in the 征集内容 cell) leaves its place in that table,
    which then goes with the blocks before."""
    for index, block in enumerate(blocks):
        if block == PLACE:
            return blocks[:index], blocks[index + 1 :]
        if isinstance(block, Table) and any(
            PLACE in line for row in block.rows for cell in row for line in cell
        ):
            return blocks[: index + 1], blocks[index + 1 :]
    return blocks, []


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
