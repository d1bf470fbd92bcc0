"""Word 97-2003 documents (.doc) and WPS Office's .wps, which is the same binary format: the
text of the main story, read through the piece table. Pure.

The file is an OLE2 compound file (opened with olefile, pure Python, BSD). Its
``WordDocument`` stream begins with the FIB, which says which table stream holds the
piece table (``1Table`` or ``0Table``), where it is (``fcClx``/``lcbClx``) and how many
characters the main story has (``ccpText``: headers, footnotes and comments follow it and
are not read). Each piece descriptor gives a run of characters and where its bytes are:
UTF-16LE, or one byte a character (cp1252) when the piece is "compressed". This is what
antiword and catdoc do, without a binary to ship; the maintained Python wrappers of those
tools need the tool installed.

Word's control characters become layout: ``\\r`` ends a paragraph, ``\\x07`` ends a table
cell and a second one the row (cells joined with `` | ``), a line, page or column break
ends a line, and of a field (``\\x13`` code ``\\x14`` result ``\\x15``) only the result is
kept. A row is told from a cell by that second ``\\x07``, without reading paragraph
properties, so an empty cell right after another ends the row early there (its text is
all kept). A Word 6/95 file, or one encrypted, gives no text and says so.
"""

from __future__ import annotations

import io
import logging
import struct

from scraper.extract.result import Reading, tidy_lines

#: What reads .doc and .wps files (this module; its number changes when its output does).
WORD97_READER = "word97-piece-table 1"
#: The most characters read from one document (some 20,000 pages).
MAX_WORD_CHARACTERS = 50_000_000

_IDENT = 0xA5EC
_WORD97_NFIB = 0xC1
_ENCRYPTED, _TABLE1 = 0x0100, 0x0200

# olefile reports every oddity of a sloppy file at WARNING; the reason stored says what
# matters.
logging.getLogger("olefile").setLevel(logging.ERROR)


class _Unreadable(Exception):
    """The Word structures are missing or out of bounds."""


def read_word97(data: bytes) -> Reading:
    """Return the text of a .doc or .wps document's main story. Never raises."""
    import olefile

    try:
        # Always a file object: olefile takes short bytes for a path to open.
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("WordDocument"):
                return Reading("", "an OLE file without a WordDocument stream")
            word = ole.openstream("WordDocument").read()
            ident, nfib = struct.unpack_from("<HH", word, 0)
            (flags,) = struct.unpack_from("<H", word, 0x0A)
            if ident != _IDENT or nfib < _WORD97_NFIB:
                return Reading("", f"a Word 6/95 or older document (nFib {nfib}): not read")
            if flags & _ENCRYPTED:
                return Reading("", "an encrypted Word document that needs a password")
            table_name = "1Table" if flags & _TABLE1 else "0Table"
            if not ole.exists(table_name):
                return Reading("", f"a Word document without its {table_name} stream")
            table = ole.openstream(table_name).read()
        characters, cut = _main_story(word, table)
    except _Unreadable as exc:
        return Reading("", f"a Word document that cannot be read ({exc})")
    # olefile and struct raise many kinds of error on broken files (OSError, struct.error,
    # IndexError …); none may stop a crawl.
    except Exception as exc:
        return Reading("", f"a Word document that cannot be read ({type(exc).__name__}: {exc})")
    text = tidy_lines(_lines(characters))
    if not text:
        return Reading("", "an empty Word document")
    notes = (f"text of the first {MAX_WORD_CHARACTERS} characters only",) if cut else ()
    return Reading(text, None, notes)


def _main_story(word: bytes, table: bytes) -> tuple[str, bool]:
    """The characters of the main story, and whether they were cut at the cap."""
    (ccp_text,) = struct.unpack_from("<i", word, 0x4C)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
    clx = table[fc_clx : fc_clx + lcb_clx]
    if lcb_clx == 0 or len(clx) != lcb_clx:
        raise _Unreadable("its piece table lies outside the table stream")
    position = 0
    while position < len(clx) and clx[position] == 0x01:  # Prc: formatting, skipped
        (size,) = struct.unpack_from("<H", clx, position + 1)
        position += 3 + size
    if position >= len(clx) or clx[position] != 0x02:
        raise _Unreadable("no piece table in its CLX")
    (length,) = struct.unpack_from("<I", clx, position + 1)
    plc = clx[position + 5 : position + 5 + length]
    count = (len(plc) - 4) // 12
    if count < 1:
        raise _Unreadable("an empty piece table")
    cps = struct.unpack_from(f"<{count + 1}i", plc, 0)
    wanted = min(max(ccp_text, 0), MAX_WORD_CHARACTERS)
    parts: list[str] = []
    for index in range(count):
        start, end = cps[index], min(cps[index + 1], wanted)
        if start >= wanted:
            break
        if end < start:
            raise _Unreadable("its pieces are out of order")
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * index + 2)
        characters = end - start
        if fc & 0x40000000:  # "compressed": one byte a character
            offset = (fc & 0x3FFFFFFF) // 2
            raw = word[offset : offset + characters]
            text = raw.decode("cp1252", errors="replace")
        else:
            raw = word[fc : fc + 2 * characters]
            text = raw.decode("utf-16-le", errors="replace")
        if len(text) != characters:
            raise _Unreadable("a piece lies outside the WordDocument stream")
        parts.append(text)
    return "".join(parts), max(ccp_text, 0) > MAX_WORD_CHARACTERS


# Characters that stand for an object or mark (a picture, a footnote reference …), none text.
_DROPPED = frozenset("\x00\x01\x02\x03\x04\x05\x06\x08\x1f") | frozenset(
    chr(c) for c in range(0x0F, 0x13)
)
_LINE_BREAKS = frozenset("\x0b\x0c\x0e")


def _lines(characters: str) -> list[str]:
    """The main story's characters as lines: paragraphs, and table rows of cells."""
    lines: list[str] = []
    current: list[str] = []
    cell_paragraphs: list[str] = []
    cells: list[str] = []
    fields: list[bool] = []  # per open field: whether its result has begun
    previous = ""
    for character in characters:
        if character == "\x13":
            fields.append(False)
            continue
        if character == "\x14":
            if fields:
                fields[-1] = True
            continue
        if character == "\x15":
            if fields:
                fields.pop()
            continue
        if not all(fields):  # inside a field's code
            continue
        if character == "\r":
            (cell_paragraphs if cells else lines).append("".join(current))
            current = []
        elif character == "\x07":
            if previous == "\x07" and not current and not cell_paragraphs:
                lines.append(" | ".join(cells))
                cells = []
            else:
                cells.append(" ".join([*cell_paragraphs, "".join(current)]).strip())
                cell_paragraphs, current = [], []
        elif character in _LINE_BREAKS:
            (cell_paragraphs if cells else lines).append("".join(current))
            current = []
        elif character in _DROPPED:
            continue
        else:
            current.append("-" if character == "\x1e" else character)
        previous = character
    if cells:
        lines.append(" | ".join(cells))
    lines.append("".join(current))
    return lines
