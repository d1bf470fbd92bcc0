"""The text of an attachment file (PDF, Word, Excel, WPS, OFD …): bytes in, a FileText out.

Disclosure pages link the documents they announce as files. :func:`read_file` tells what
the bytes are (:func:`~scraper.extract.kinds.sniff_file_kind`) and hands them to the
reader of that format:

========================  ===========================================================
kind                      read by
========================  ===========================================================
pdf                       pypdfium2 (:mod:`~scraper.extract.pdf`)
docx                      the standard library (:mod:`~scraper.extract.docx`)
xlsx, xls, et             python-calamine (:mod:`~scraper.extract.sheets`)
ofd                       the standard library (:mod:`~scraper.extract.ofd`)
doc, wps                  olefile and the piece table (:mod:`~scraper.extract.worddoc`)
text                      decoded as the parser decodes pages (:mod:`~scraper.extract.plain`)
zip, rar, 7z, image,      not read; ``error`` says what the file is
html, other
========================  ===========================================================

Pure (no network, no storage) and never raises: a corrupt, encrypted, oversized or hostile
file gives ``text`` None and the reason in ``error``. Time is the caller's to bound: it runs
:func:`read_file_to_dict` in a worker process with a time limit. The text is laid out as
the detail documents' is: a line per paragraph or table row, cells joined with `` | ``, a
workbook's sheets each after a line with its name in brackets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from scraper.extract.kinds import OLE2_MAGIC, sniff_file_kind
from scraper.extract.result import Reading

#: The most characters of text kept from one file; the rest is cut, with a note.
MAX_TEXT_CHARACTERS = 20_000_000
#: What reads text files (scraper.extract.plain).
TEXT_READER = "plain-text 1"


@dataclass(frozen=True, slots=True)
class FileText:
    """What an attachment's bytes are and their text.

    ``kind`` is one of :data:`~scraper.extract.kinds.FILE_KINDS`, by sniffing. ``text`` is
    None when none could be read (then ``error`` says why: corrupt, encrypted, no text
    layer, an unsupported format, too large when decompressed …). ``extractor`` names
    what read the text, with its version (``pypdfium2 5.15.2``, ``ofd-xml 1``), None when
    nothing did. With a text, ``error`` may hold a note of what was left out (``text of
    the first 2000 pages only``).
    """

    kind: str
    text: str | None
    extractor: str | None
    error: str | None


def read_file(
    data: bytes, *, content_type: str | None = None, filename: str | None = None
) -> FileText:
    """Return the kind and text of an attachment file. Never raises."""
    kind = "other"
    try:
        kind = sniff_file_kind(data, content_type, filename)
        if not data:
            return FileText(kind, None, None, "an empty file")
        not_read = _not_read(kind, data)
        if not_read is not None:
            return FileText(kind, None, None, not_read)
        extractor, reading = _read(kind, data, content_type)
    # The readers catch what a hostile file makes them raise; this is the last guard
    # (a MemoryError, a bug), so that no file stops the caller.
    except Exception as exc:
        return FileText(kind, None, None, f"reading failed ({type(exc).__name__}: {exc})")
    if reading.problem is not None or not reading.text:
        return FileText(kind, None, None, reading.problem or "no text")
    text, notes = reading.text, list(reading.notes)
    if len(text) > MAX_TEXT_CHARACTERS:
        text = text[:MAX_TEXT_CHARACTERS]
        notes.append(f"text cut at {MAX_TEXT_CHARACTERS} characters")
    return FileText(kind, text, extractor, "; ".join(notes) or None)


def read_file_to_dict(
    data: bytes, content_type: str | None, filename: str | None
) -> dict[str, Any]:
    """:func:`read_file` as a dict (``dataclasses.asdict``): what a worker process sends
    back. Module-level, so a process pool can run it by name."""
    return dataclasses.asdict(read_file(data, content_type=content_type, filename=filename))


def _not_read(kind: str, data: bytes) -> str | None:
    """Why a file of ``kind`` is not read at all, or None when it is."""
    is_ole = data.startswith(OLE2_MAGIC)
    if kind in ("zip", "rar", "7z"):
        return f"an archive ({kind}): its members are not read"
    if kind == "image":
        return "an image: its text is not read (no OCR)"
    if kind == "html":
        return "an HTML page, not a file (an error, login or preview page?)"
    if kind in ("docx", "xlsx") and is_ole:
        return f"an encrypted (password-protected) .{kind}: not read"
    if kind == "wps" and not is_ole:
        return "a WPS document (.wps) in WPS's own old format, not Word's: no maintained reader"
    if kind == "et" and not is_ole:
        return "a WPS spreadsheet (.et) in WPS's own format, not Excel's: no maintained reader"
    if kind == "other":
        if is_ole:
            return "unsupported format: an OLE file that is neither Word nor Excel (PowerPoint?)"
        return "unsupported format"
    return None


def _read(kind: str, data: bytes, content_type: str | None) -> tuple[str, Reading]:
    """The reader's name and what it read, for a kind that is read."""
    if kind == "pdf":
        from scraper.extract.pdf import pdf_reader_name, read_pdf

        return pdf_reader_name(), read_pdf(data)
    if kind == "docx":
        from scraper.extract.docx import DOCX_READER, read_docx

        return DOCX_READER, read_docx(data)
    if kind in ("xlsx", "xls", "et"):
        from scraper.extract.sheets import read_workbook, workbook_reader_name

        return workbook_reader_name(), read_workbook(data, zipped=kind == "xlsx")
    if kind == "ofd":
        from scraper.extract.ofd import OFD_READER, read_ofd

        return OFD_READER, read_ofd(data)
    if kind in ("doc", "wps"):
        from scraper.extract.worddoc import WORD97_READER, read_word97

        return WORD97_READER, read_word97(data)
    from scraper.extract.plain import extract_plain

    extracted = extract_plain(data, content_type)
    return TEXT_READER, Reading(extracted.text, None, extracted.warnings)
