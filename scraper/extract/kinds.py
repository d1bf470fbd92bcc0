"""Which kind of document a response body is. Pure.

Binary formats are told by their leading bytes (``%PDF-``, a zip holding
``word/document.xml``, the OLE2 signature of .doc/.xls/.wps/.ppt), because servers label
them loosely (a PDF as ``application/octet-stream``, a .docx as ``application/zip``).
Otherwise the ``Content-Type`` decides, except that a body that plainly starts as HTML is
HTML whatever its label (servers send HTML as ``text/plain`` or ``octet-stream``, and Word
can save HTML under a .doc name). A body with no usable label is HTML if it looks like
HTML, text if it has no binary bytes, and otherwise an unreadable document.

The URL is deliberately not consulted: a stored version is re-read from its bytes and
``content_type`` alone, and must come out as the same kind.
"""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum


class DocumentKind(StrEnum):
    """What a body is, as far as reading its text goes."""

    HTML = "html"  # a web page: the parser's
    TEXT = "text"  # text/plain, CSV, JSON, XML: decoded
    PDF = "pdf"  # text extracted with pypdf
    DOCX = "docx"  # Word 2007+: text read from word/document.xml
    OTHER = "other"  # .doc, .wps, .xls, images, archives …: no text


#: How many leading bytes the sniffing looks at.
SNIFF_BYTES = 1024

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/csv", "application/x-javascript"}
)
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_UNLABELLED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# Tags a page starts with (after a doctype, comments or an XML declaration).
_HTML_START = re.compile(
    rb"<(?:!--|(?:!doctype\s+html|html|head|body|meta|title|div|table|p|script|link|style"
    rb"|center|frameset)[\s>/])",
    re.IGNORECASE,
)
# Bytes no text file holds: NUL and the C0 controls other than tab, newlines, form feed
# and escape.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def media_type(content_type: str | None) -> str:
    """Return the lower-cased media type of a Content-Type value ('' when missing). Pure."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff_kind(data: bytes, content_type: str | None) -> DocumentKind:
    """Return the kind of ``data`` served with ``content_type``. Pure; never raises."""
    head = data[:SNIFF_BYTES]
    if b"%PDF-" in head:  # readers accept a PDF header anywhere in the first KiB
        return DocumentKind.PDF
    if head.startswith(_ZIP):
        return DocumentKind.DOCX if _is_docx(data) else DocumentKind.OTHER
    if head.startswith(_OLE2):
        return DocumentKind.OTHER
    mime = media_type(content_type)
    if mime in _HTML_TYPES or looks_like_html(head):
        return DocumentKind.HTML
    if mime == "application/pdf":
        return DocumentKind.PDF  # no header: pypdf says what is wrong with it
    if mime == _DOCX_TYPE:
        return DocumentKind.DOCX
    if (
        mime.startswith("text/")
        or mime in _TEXT_TYPES
        or mime.endswith(("+json", "+xml"))
        or mime in _UNLABELLED
    ):
        if not head.strip():
            return DocumentKind.HTML if mime in _UNLABELLED else DocumentKind.TEXT
        return DocumentKind.OTHER if _BINARY.search(head) else DocumentKind.TEXT
    return DocumentKind.OTHER


def looks_like_html(head: bytes) -> bool:
    """Return whether ``head`` (a body's first bytes) starts like an HTML page. Pure."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\f")
    if text.startswith(b"<?xml"):  # XHTML: look past the declaration
        text = text[text.find(b">") + 1 :].lstrip()
    return text.startswith(b"<") and _HTML_START.match(text) is not None


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
