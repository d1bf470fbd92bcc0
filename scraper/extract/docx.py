"""Word 2007+ (.docx) documents: the text of word/document.xml, with the standard library.

Why not python-docx: it needs lxml (a large C extension) to read no more than this does
(the body's paragraphs and tables), and reading the zip ourselves lets the size of what
is decompressed be bounded before it is read (a zip bomb) and a DTD be refused before
the XML is parsed (entity expansion). Headers, footers, comments and footnotes are not
read: they are page furniture or asides, as a page's chrome is.

One line per paragraph; a table row is one line, its cells joined with `` | `` (a
cell's own paragraphs joined with a space), as the parser writes HTML tables. Pure.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from scraper.extract.result import Extracted, Reading, tidy_lines

#: The largest word/document.xml read (decompressed): some 2,000 pages of text. Larger
#: gives no text and a warning (its parsed tree would take about ten times as much memory).
MAX_DOCUMENT_XML = 16 * 1024 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = (
    f"{_W}p",
    f"{_W}tbl",
    f"{_W}tr",
    f"{_W}tc",
    f"{_W}sdt",
    f"{_W}sdtContent",
)
_T, _TAB, _BR, _CR = f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"

#: What reads .docx files (this module; its number changes when its output does).
DOCX_READER = "docx-xml 1"


def extract_docx(data: bytes) -> Extracted:
    """Return the text of a .docx document, as a detail document. Never raises."""
    return read_docx(data).extracted("docx")


def read_docx(data: bytes) -> Reading:
    """Return the text of a .docx document. Never raises."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCUMENT_XML:
                return Reading("", f"its text is over {MAX_DOCUMENT_XML} bytes")
            with archive.open(info) as part:
                xml = part.read(MAX_DOCUMENT_XML + 1)
        if len(xml) > MAX_DOCUMENT_XML:  # the zip's stated size lied
            return Reading("", f"its text is over {MAX_DOCUMENT_XML} bytes")
        if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:  # Word never writes one
            return Reading("", "its XML declares a DTD")
        root = ElementTree.fromstring(xml)
        body = root.find(f"{_W}body")
        lines = list(_blocks(body)) if body is not None else []
    # zipfile, zlib and the XML parser raise many kinds of error on broken files
    # (BadZipFile, KeyError for a missing part, ParseError, RecursionError …).
    except Exception as exc:
        return Reading("", f"a .docx that cannot be read ({type(exc).__name__}: {exc})")
    text = tidy_lines(lines)
    return Reading(text) if text else Reading("", "an empty .docx")


def _blocks(parent: ElementTree.Element) -> Iterator[str]:
    """The lines of a body, a cell or a content control: paragraphs and table rows."""
    for child in parent:
        if child.tag == _P:
            yield from _paragraph(child).split("\n")
        elif child.tag == _TBL:
            for row in (r for r in child if r.tag == _TR):
                cells = (c for c in row if c.tag == _TC)
                yield " | ".join(" ".join(t for t in _blocks(cell) if t.strip()) for cell in cells)
        elif child.tag in (_SDT, _SDT_CONTENT):
            yield from _blocks(child)


def _paragraph(paragraph: ElementTree.Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter():
        if node.tag == _T:
            parts.append(node.text or "")
        elif node.tag == _TAB:
            parts.append(" ")
        elif node.tag in (_BR, _CR):
            parts.append("\n")
    return "".join(parts)
