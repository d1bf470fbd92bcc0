"""``parse_page``: bytes (+ URL and headers) in, :class:`PageRecord` out. Pure; never raises.

One selectolax (Lexbor) parse per page. The content container's text is read and the
container removed from the tree, so the rest of the page — where the metadata block,
info line and title live — is read by a second ``text()`` call over disjoint nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from scraper.parse.body import body_lines, find_content
from scraper.parse.encoding import decode_html
from scraper.parse.layout import LINE, PLACE, Block, mark_blocks, split_blocks, strip_markers
from scraper.parse.metadata import META_FALLBACKS, PageContext, extract_metadata
from scraper.parse.record import Metadata, PageRecord
from scraper.parse.sections import extract_sections
from scraper.parse.text import normalize_space

#: Elements whose text is never page content.
JUNK_TAGS: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "select",
    "button",
    "textarea",
)

# Where the body was, in the rest of the page's text: splits "before" from "after".
_BODY = PLACE
_META_SELECTOR = ", ".join(f'meta[name="{name}" i]' for name in META_FALLBACKS)


def parse_page(
    data: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> PageRecord:
    """Parse one disclosure page. Never raises: what cannot be read becomes a warning.

    ``headers`` supplies the HTTP ``Content-Type`` charset; ``url`` is accepted for
    callers' convenience and for future site-specific rules (unused today).
    """
    content_type = _header(headers, "content-type")
    try:
        return _parse(data, content_type)
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


def _parse(data: bytes, content_type: str | None) -> PageRecord:
    decoded = decode_html(data, content_type)
    warnings = list(decoded.warnings)
    tree = LexborHTMLParser(mark_blocks(decoded.text))
    context = _context(tree)
    tree.strip_tags(list(JUNK_TAGS))

    container = find_content(tree)
    body_blocks: list[Block] = []
    before: Sequence[Block] = ()
    after: Sequence[Block] = ()
    if container is not None:
        body_blocks = split_blocks(container.text())
    if container is not None and container.tag in ("body", "html"):
        # The paragraphs sit directly in <body>: the metadata is among them.
        before = body_blocks
    else:
        if container is not None:
            container.insert_before(LINE + _BODY + LINE)
            container.decompose()
        if tree.body is not None:
            before, after = _split_at_body(split_blocks(tree.body.text()))

    metadata, metadata_warnings = extract_metadata(before, after, context)
    warnings.extend(metadata_warnings)
    lines = body_lines(body_blocks, metadata.title)
    if not lines:
        warnings.append("no article body found")
    return PageRecord(
        metadata=metadata,
        sections=tuple(extract_sections(body_blocks)),
        body_text="\n".join(lines),
        encoding=decoded.encoding,
        encoding_source=decoded.source,
        warnings=tuple(warnings),
    )


def _context(tree: Any) -> PageContext:
    """Read ``<meta>`` fallbacks, ``<title>`` and ``h1`` texts (before scripts go)."""
    meta: dict[str, str] = {}
    for node in tree.css(_META_SELECTOR):
        attrs = node.attributes
        name = (attrs.get("name") or "").lower()
        content = normalize_space(strip_markers(attrs.get("content") or ""))
        if content and name not in meta:
            meta[name] = content
    title = tree.css_first("title")
    headings = [normalize_space(strip_markers(node.text())) for node in tree.css("h1")]
    return PageContext(
        meta=meta,
        headings=headings,
        title_tag=normalize_space(strip_markers(title.text())) if title is not None else None,
    )


def _split_at_body(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    for index, block in enumerate(blocks):
        if block == _BODY:
            return blocks[:index], blocks[index + 1 :]
    return blocks, []


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
