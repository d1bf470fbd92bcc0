"""What extraction returns, and the one entry point that picks the extractor. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from scraper.extract.kinds import DocumentKind

#: ``encoding_source`` of text that was extracted from a document format, not decoded.
DOCUMENT_SOURCE = "document"


@dataclass(frozen=True, slots=True)
class Extracted:
    """A document's text and how it was read.

    ``text`` is one line per paragraph (or table row, cells joined with `` | ``), empty
    when nothing could be read. ``encoding`` is the codec of a decoded text document
    (``utf-8``, ``gb18030`` …) or, for an extracted one, its format (``pdf``, ``docx``,
    ``binary``), with ``encoding_source`` :data:`DOCUMENT_SOURCE`. ``warnings`` say what
    could not be read.
    """

    text: str
    encoding: str
    encoding_source: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """What one format's reader got out of a file, before it is worded for a detail
    document (:class:`Extracted`) or an attachment (:class:`scraper.extract.files.FileText`).

    ``text`` is as :class:`Extracted` has it ('' when nothing was read); ``problem`` says
    why there is no text (``"an encrypted PDF that needs a password"``); ``notes`` say what
    a text that was read leaves out (``"text of the first 2000 pages only"``).
    """

    text: str
    problem: str | None = None
    notes: tuple[str, ...] = ()

    def extracted(self, encoding: str) -> Extracted:
        """The reading as a detail document's :class:`Extracted`: a problem becomes the
        warning ``no text extracted: …; compared by its bytes``."""
        warnings = self.notes
        if self.problem is not None:
            warnings += (f"no text extracted: {self.problem}; compared by its bytes",)
        return Extracted(self.text, encoding, DOCUMENT_SOURCE, warnings)


#: What the warnings call each kind.
KIND_NAMES: dict[DocumentKind, str] = {
    DocumentKind.HTML: "an HTML page",
    DocumentKind.TEXT: "a text document",
    DocumentKind.PDF: "a PDF document",
    DocumentKind.DOCX: "a Word (.docx) document",
    DocumentKind.OTHER: "a binary document",
}


def extract_text(data: bytes, kind: DocumentKind, content_type: str | None = None) -> Extracted:
    """Return the text of ``data``, a document of ``kind`` (any kind but HTML).

    Never raises: a broken, encrypted, oversized or hostile file gives no text and a
    warning naming the problem. Raises ValueError only for ``kind`` HTML (the parser's).
    """
    # Imported here so that reading a page never loads PDFium.
    if kind is DocumentKind.TEXT:
        from scraper.extract.plain import extract_plain

        return extract_plain(data, content_type)
    if kind is DocumentKind.PDF:
        from scraper.extract.pdf import extract_pdf

        return extract_pdf(data)
    if kind is DocumentKind.DOCX:
        from scraper.extract.docx import extract_docx

        return extract_docx(data)
    if kind is DocumentKind.OTHER:
        return Extracted(
            "",
            "binary",
            DOCUMENT_SOURCE,
            (f"no text extracted: {describe_binary(data)}",),
        )
    raise ValueError("HTML is read by scraper.parse, not extracted")


def describe_binary(data: bytes) -> str:
    """Return what a document without readable text is, for its warning. Pure."""
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        what = "an old Office file (.doc, .xls, .wps or .ppt)"
    elif data.startswith(b"PK\x03\x04"):
        what = "a zip file that is no Word document (.xlsx, .pptx, .zip …)"
    elif not data:
        what = "an empty body"
    else:
        what = "a binary file"
    return f"{what}; compared by its bytes"


def tidy_lines(lines: list[str]) -> str:
    """Return ``lines`` with whitespace runs collapsed and empty lines dropped, joined
    with newlines: layout artefacts of extracted text (a PDF's spacing, a document's
    empty paragraphs) are not content. Pure."""
    kept = (" ".join(line.split()) for line in lines)
    return "\n".join(line for line in kept if line)
