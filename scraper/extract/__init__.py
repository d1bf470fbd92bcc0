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
- :func:`read_file` — a :class:`FileText` (kind, text, extractor, error) for an attachment
  file: PDF, Word, Excel, WPS, OFD …, and which of :data:`FILE_KINDS` it is
  (:func:`sniff_file_kind`); :func:`read_file_to_dict` is what a worker process runs.

Modules: :mod:`~scraper.extract.kinds` (sniffing), :mod:`~scraper.extract.plain` (text,
JSON, CSV), :mod:`~scraper.extract.pdf` (pypdfium2), :mod:`~scraper.extract.docx` (the
standard library's zipfile and XML parser); for attachments also :mod:`~scraper.extract.files`
(the entry point), :mod:`~scraper.extract.sheets` (python-calamine), :mod:`~scraper.extract.ofd`
and :mod:`~scraper.extract.worddoc` (.doc/.wps through olefile), with
:mod:`~scraper.extract.zipbounds` (compression bombs). Imports neither httpx nor
:mod:`storage`; shared by the crawl and by attachments.
"""

from scraper.extract.files import FileText, read_file, read_file_to_dict
from scraper.extract.kinds import FILE_KINDS, DocumentKind, sniff_file_kind, sniff_kind
from scraper.extract.result import Extracted, extract_text

__all__ = [
    "FILE_KINDS",
    "DocumentKind",
    "Extracted",
    "FileText",
    "extract_text",
    "read_file",
    "read_file_to_dict",
    "sniff_file_kind",
    "sniff_kind",
]
