"""PDF documents: their text layer, read with pypdf (pure Python, maintained). Pure.

Only the text a reader sees is kept: a PDF regenerated with a new creation date, file ID
or object layout has the same text and so makes no version. A scanned PDF has no text
layer; it gives no text and a warning (and is then compared by its bytes). Encrypted
PDFs are opened with the empty user password, as viewers do.
"""

from __future__ import annotations

import io
import logging

from scraper.extract.result import DOCUMENT_SOURCE, Extracted, tidy_lines

#: Pages read at most; a longer document keeps its first pages' text and a warning.
MAX_PDF_PAGES = 2000

# pypdf reports every oddity of a sloppy PDF at WARNING; the warning stored with the
# version says what matters, so its own chatter is kept out of the crawl's log.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(data: bytes) -> Extracted:
    """Return the text of a PDF, page after page. Never raises."""
    from pypdf import PdfReader

    warnings: list[str] = []
    lines: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return _nothing("an encrypted PDF that needs a password")
        for number, page in enumerate(reader.pages, start=1):
            if number > MAX_PDF_PAGES:
                warnings.append(f"text of the first {MAX_PDF_PAGES} pages only")
                break
            lines.extend((page.extract_text() or "").splitlines())
    # pypdf raises many kinds of error on broken or hostile files (PdfReadError,
    # KeyError, ValueError, RecursionError …); none may stop a crawl.
    except Exception as exc:
        return _nothing(f"a PDF that cannot be read ({type(exc).__name__}: {exc})")
    text = tidy_lines(lines)
    if not text:
        warnings.append(
            "no text extracted: a PDF without a text layer (scanned?); compared by its bytes"
        )
    return Extracted(text, "pdf", DOCUMENT_SOURCE, tuple(warnings))


def _nothing(what: str) -> Extracted:
    return Extracted(
        "", "pdf", DOCUMENT_SOURCE, (f"no text extracted: {what}; compared by its bytes",)
    )
