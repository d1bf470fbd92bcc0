"""PDF documents: their text layer, read with pypdfium2 (PDFium, Chrome's PDF engine). Pure.

Why PDFium (docs/attachments.md has the figures): it reads a ten-page Chinese government
PDF 3 to 15 times faster than pypdf, the pure-Python reader used before (1-2 ms a page);
it maps CID fonts through Adobe's predefined CMaps (``UniGB-UCS2-H`` and the like) and
embedded subset fonts through their ToUnicode tables as a viewer does; it keeps words and
table cells apart where pypdf ran them together ("XX 市2024 年"); and it is fuzzed as part
of Chrome against hostile files. pypdfium2 ships the PDFium binary in its wheels (BSD-3 /
Apache-2.0). PyMuPDF is as fast but AGPL-3.0, which an MIT project cannot ship;
pdfminer.six is pure Python, slower than pypdf, and mis-orders tables.

Only the text a reader sees is kept: a PDF regenerated with a new creation date, file ID
or object layout has the same text and so makes no version. A scanned PDF has no text
layer; it gives no text and says so. Encrypted PDFs are opened with the empty user
password, as viewers do.
"""

from __future__ import annotations

import threading
from functools import cache

from scraper.extract.result import Extracted, Reading, tidy_lines

#: Pages read at most; a longer document keeps its first pages' text and a note.
MAX_PDF_PAGES = 2000

# PDFium is not thread-safe (one library-wide state); the crawl reads PDFs in worker
# processes, but a command may read them in threads, so calls into it take turns.
_PDFIUM = threading.Lock()
# PDFium's error code for a wrong or missing password (FPDF_ERR_PASSWORD).
_ERR_PASSWORD = 4


def extract_pdf(data: bytes) -> Extracted:
    """Return the text of a PDF, page after page, as a detail document. Never raises."""
    return read_pdf(data).extracted("pdf")


@cache
def pdf_reader_name() -> str:
    """What reads PDFs, with its version: ``pypdfium2 5.15.2``."""
    from importlib.metadata import version

    return f"pypdfium2 {version('pypdfium2')}"


def read_pdf(data: bytes) -> Reading:
    """Return the text of a PDF, a line per line of text, pages in order. Never raises."""
    import pypdfium2

    notes: list[str] = []
    lines: list[str] = []
    blank = 0
    try:
        with _PDFIUM:
            document = pypdfium2.PdfDocument(data)
            try:
                count = len(document)
                for number in range(min(count, MAX_PDF_PAGES)):
                    page = document[number]
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                    page.close()
                    blank += not text.strip()
                    lines.extend(text.splitlines())
            finally:
                document.close()
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _ERR_PASSWORD:
            return Reading("", "an encrypted PDF that needs a password")
        return Reading("", f"a PDF that cannot be read ({exc})")
    # Anything else the binding raises on a hostile file must not stop a crawl either.
    except Exception as exc:
        return Reading("", f"a PDF that cannot be read ({type(exc).__name__}: {exc})")
    if count > MAX_PDF_PAGES:
        notes.append(f"text of the first {MAX_PDF_PAGES} pages only")
    text = tidy_lines(lines)
    if not text:
        return Reading("", "a PDF without a text layer (scanned?)", tuple(notes))
    if blank:
        notes.append(f"{blank} of {min(count, MAX_PDF_PAGES)} pages have no text (scanned?)")
    return Reading(text, None, tuple(notes))
