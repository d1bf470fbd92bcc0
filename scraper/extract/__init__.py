"""Text out of the documents a detail link may point to. Pure: bytes in, text out.

Government sites publish many documents not as HTML pages but as the file itself: a PDF, a
Word file, a plain-text notice, a JSON or CSV data set. This package tells which kind a
response is and takes its text out, so the archive keeps (and compares) what the document
says rather than bytes it cannot read. It never raises on a broken or hostile file: what
cannot be read becomes a warning and no text.

- :func:`sniff_kind` — which :class:`DocumentKind` a body is, from its leading bytes and
  its ``Content-Type`` (never from the URL, so stored bytes re-read to the same kind).
- :func:`extract_text` — an :class:`Extracted` (text, encoding, warnings) for any kind but
  HTML, which is the parser's (:mod:`scraper.parse`).

Modules: :mod:`~scraper.extract.kinds` (sniffing), :mod:`~scraper.extract.plain` (text,
JSON, CSV), :mod:`~scraper.extract.pdf` (pypdfium2), :mod:`~scraper.extract.docx` (the
standard library's zipfile and XML parser). Imports neither httpx nor :mod:`storage`;
shared by the crawl and by attachments.
"""

from scraper.extract.kinds import DocumentKind, sniff_kind
from scraper.extract.result import Extracted, extract_text

__all__ = ["DocumentKind", "Extracted", "extract_text", "sniff_kind"]
