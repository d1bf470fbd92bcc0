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
    PDF = "pdf"  # text extracted with pypdfium2
    DOCX = "docx"  # Word 2007+: text read from word/document.xml
    OTHER = "other"  # .doc, .wps, .xls, images, archives …: no text


#: How many leading bytes the sniffing looks at.
SNIFF_BYTES = 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
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
    if head.startswith(OLE2_MAGIC):
        return DocumentKind.OTHER
    mime = media_type(content_type)
    if mime in _HTML_TYPES or looks_like_html(head):
        return DocumentKind.HTML
    if mime == "application/pdf":
        return DocumentKind.PDF  # no header: PDFium says what is wrong with it
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


#: The kinds :func:`sniff_file_kind` tells (``attachments.kind``).
FILE_KINDS = (
    "pdf",
    "docx",
    "xlsx",
    "xls",
    "ofd",
    "doc",
    "wps",
    "et",
    "zip",
    "rar",
    "7z",
    "text",
    "html",
    "image",
    "other",
)
_RAR, _7Z = b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c"
_IMAGES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
)
_FILE_TYPES = {
    "application/pdf": "pdf",
    _DOCX_TYPE: "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/msword": "doc",
    "application/ofd": "ofd",
    "application/vnd.ofd": "ofd",
    "application/kswps": "wps",
    "application/vnd.ms-works": "wps",
    "application/kset": "et",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/vnd.rar": "rar",
    "application/x-rar-compressed": "rar",
    "application/x-7z-compressed": "7z",
}
_EXTENSIONS = {
    **{ext: ext for ext in ("pdf", "docx", "xlsx", "xls", "ofd", "doc", "wps", "et")},
    **{ext: ext for ext in ("zip", "rar", "7z")},
    **dict.fromkeys(("txt", "csv", "json", "xml"), "text"),
    **dict.fromkeys(("htm", "html", "shtml"), "html"),
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp"), "image"),
}


def sniff_file_kind(
    data: bytes, content_type: str | None = None, filename: str | None = None
) -> str:
    """Return which of :data:`FILE_KINDS` an attachment's bytes are. Pure; never raises.

    The leading bytes decide first, looking inside a zip (``word/document.xml`` is a
    .docx, ``xl/workbook.xml`` an .xlsx, ``OFD.xml`` an OFD) and an OLE2 file (a
    ``WordDocument`` stream is a .doc, ``Workbook`` or ``Book`` an .xls; WPS Office writes
    its .wps and .et in those same formats, so then the filename's extension tells them
    apart). A body that starts as HTML is HTML (an error or login page served for the file).
    Then the ``Content-Type``, then the extension of ``filename``; at last, text if the
    bytes look like text.
    """
    extension = _extension(filename)
    head = data[:SNIFF_BYTES]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((_ZIP, b"PK\x05\x06")):
        return _zip_kind(data, extension)
    if head.startswith(OLE2_MAGIC):
        return _ole_kind(data, extension)
    if head.startswith(_RAR):
        return "rar"
    if head.startswith(_7Z):
        return "7z"
    if (
        head.startswith(_IMAGES)
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or (head.startswith(b"BM") and head[6:10] == b"\0\0\0\0")  # a bitmap's reserved zeros
    ):
        return "image"
    if data and looks_like_html(head):
        return "html"
    mime = media_type(content_type)
    if mime in _FILE_TYPES:
        return _FILE_TYPES[mime]
    if mime.startswith("image/"):
        return "image"
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    if not data:
        return "other"
    kind = sniff_kind(data, content_type)
    return {DocumentKind.HTML: "html", DocumentKind.TEXT: "text"}.get(kind, "other")


def _extension(filename: str | None) -> str:
    name = (filename or "").split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].strip().lower() if "." in name else ""


def _zip_kind(data: bytes, extension: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {name.lstrip("/").lower() for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        # A broken file named as one of ours is still that kind: its reader says why.
        return extension if extension in ("docx", "xlsx", "ofd") else "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ofd.xml" in names:
        return "ofd"
    return "zip"


def _ole_kind(data: bytes, extension: str) -> str:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(path).lower() for path in ole.listdir()}
    # olefile raises OSError and others on a broken container.
    except Exception:
        streams = set()
    if "worddocument" in streams:
        return "wps" if extension == "wps" else "doc"
    if "workbook" in streams or "book" in streams:
        return "et" if extension == "et" else "xls"
    # Neither (a broken file, an encrypted .docx/.xlsx, PowerPoint …): the name may say.
    return extension if extension in ("doc", "wps", "xls", "et", "docx", "xlsx") else "other"
