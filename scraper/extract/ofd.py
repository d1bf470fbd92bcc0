"""OFD documents (GB/T 33190, China's fixed-layout format): their text layer, read with
the standard library. Pure.

An OFD file is a zip of XML: ``OFD.xml`` names each document's ``Document.xml``, which
lists its pages (``Pages/Page_N/Content.xml``); a page's layers hold ``TextObject`` elements
(a ``Boundary`` box "x y width height" in millimetres, a ``Size``) whose ``TextCode``
children carry the text and its position inside the box. Writers differ in how they cut
the text (a line per object, or a character per object, in any order), so the pieces are
put back into lines by position: grouped by their baseline (within half a character's
height), then ordered left to right, a space where a gap wider than a character lies
between two pieces.

Why not easyofd: it renders OFD to PDF and images, and needs PyMuPDF (AGPL), reportlab,
fontTools and loguru to do so; no maintained package only reads the text. Templates
(``TemplatePage``: a letterhead repeated on every page), annotations and signatures are not
read, as a page's chrome is not. Members are bounded together by :mod:`~scraper.extract.
zipbounds` and an XML part that declares a DTD is refused (entity expansion).
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from scraper.extract.result import Reading, tidy_lines
from scraper.extract.zipbounds import zip_problem

#: What reads OFD files (this module; its number changes when its output does).
OFD_READER = "ofd-xml 1"

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class _Piece:
    y: float
    x: float
    end: float  # where the piece's last character ends, estimated
    size: float
    text: str


class _Unreadable(Exception):
    """An OFD part is missing, out of bounds or not XML we read."""


def read_ofd(data: bytes) -> Reading:
    """Return the text of an OFD file, pages in order, a line per line. Never raises."""
    lines: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            problem = zip_problem(archive, data)
            if problem is not None:
                return Reading("", problem)
            members = {info.filename.lstrip("/").lower(): info for info in archive.infolist()}
            root = _xml(archive, members, "OFD.xml")
            for doc_root in (e for e in root.iter() if _local(e.tag) == "DocRoot"):
                lines += _document(archive, members, (doc_root.text or "").strip())
    except _Unreadable as exc:
        return Reading("", f"an OFD that cannot be read ({exc})")
    # zipfile, zlib and the XML parser raise many kinds of error on broken files.
    except Exception as exc:
        return Reading("", f"an OFD that cannot be read ({type(exc).__name__}: {exc})")
    text = tidy_lines(lines)
    if not text:
        return Reading("", "an OFD without a text layer (scanned?)")
    return Reading(text)


def _document(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str
) -> list[str]:
    document = _xml(archive, members, path)
    base = posixpath.dirname(path.lstrip("/"))
    lines: list[str] = []
    for page in (e for e in document.iter() if _local(e.tag) == "Page"):
        location = page.get("BaseLoc")
        if location:
            content = _xml(archive, members, _resolve(base, location))
            lines += _page_lines(content)
    return lines


def _page_lines(page: ElementTree.Element) -> list[str]:
    pieces: list[_Piece] = []
    for text_object in (e for e in page.iter() if _local(e.tag) == "TextObject"):
        box = [float(n) for n in _NUMBER.findall(text_object.get("Boundary", ""))] + [0, 0]
        size = _float(text_object.get("Size"), 3.5) or 3.5
        for code in (e for e in text_object if _local(e.tag) == "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x = box[0] + _float(code.get("X"), 0.0)
            advances = _advances(code.get("DeltaX", ""))[: len(text) - 1]
            width = sum(advances) + _glyph_width(text[-1], size)
            if len(advances) < len(text) - 1:  # no (or too few) stated advances: estimate
                width = sum(_glyph_width(ch, size) for ch in text)
            pieces.append(_Piece(box[1] + _float(code.get("Y"), 0.0), x, x + width, size, text))
    pieces.sort(key=lambda p: (p.y, p.x))
    lines: list[str] = []
    start = 0
    for index in range(1, len(pieces) + 1):
        if index == len(pieces) or pieces[index].y - pieces[start].y > pieces[start].size / 2:
            lines.append(_join(sorted(pieces[start:index], key=lambda p: p.x)))
            start = index
    return lines


def _join(pieces: list[_Piece]) -> str:
    parts = [pieces[0].text]
    for before, piece in itertools.pairwise(pieces):
        gap = piece.x - before.end
        parts.append((" " if gap > piece.size else "") + piece.text)
    return "".join(parts)


def _advances(delta_x: str) -> list[float]:
    """The advances of a TextCode's DeltaX ("5 5 g 3 5.2": g n d repeats d n times)."""
    tokens = delta_x.split()
    out: list[float] = []
    index = 0
    while index < len(tokens) and len(out) < 100_000:
        if tokens[index] == "g" and index + 2 < len(tokens):
            count = min(int(_float(tokens[index + 1], 0)), 100_000)
            out += [_float(tokens[index + 2], 0.0)] * count
            index += 3
        else:
            out.append(_float(tokens[index], 0.0))
            index += 1
    return out


def _glyph_width(character: str, size: float) -> float:
    return size if ord(character) >= 0x2E80 else size / 2


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _resolve(base: str, location: str) -> str:
    if location.startswith("/"):
        return location
    return posixpath.join(base, location)


def _xml(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str
) -> ElementTree.Element:
    name = posixpath.normpath(path.replace("\\", "/").lstrip("/"))
    info = members.get(name.lower())
    if info is None or name.startswith(".."):
        raise _Unreadable(f"no part {path!r}")
    xml = archive.read(info)  # bounded: zip_problem checked the declared sizes
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise _Unreadable(f"{name} declares a DTD")
    return ElementTree.fromstring(xml)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
