"""Attachment files for tests and the bench, built here: Chinese PDF, DOCX, XLSX, OFD, DOC.

Nothing binary is checked in. Every maker writes the parts its format needs with the
standard library, except the PDF (reportlab, a test extra, with its built-in
``STSong-Light`` CID font: Chinese text that is not embedded, mapped to Unicode through
the predefined ``UniGB-UCS2-H`` CMap, as many Chinese PDF producers write it).

:func:`government_document` is a real-looking disclosure document (a 通知 with its
文号, numbered headings, paragraphs and a task table), long enough for a page count: the
bench's "typical" file and the tests' source text. :func:`ole_bytes` writes an OLE2
compound file (the container of .doc, .xls, .wps, .et) and :func:`doc_bytes` a Word 97
document in it, with an 8-bit piece and a UTF-16 piece as Word writes them.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

#: A block of a document: ("h", heading), ("p", paragraph) or ("table", rows of cells).
Block = tuple[str, str | Sequence[Sequence[str]]]

_TASKS = (
    "深化“放管服”改革，推进政务服务“一网通办”",
    "优化企业开办流程，压缩审批时限至1个工作日",
    "加强事中事后监管，推行“双随机、一公开”检查",
    "完善社会信用体系，建立守信激励和失信惩戒机制",
    "推进工程建设项目审批制度改革，实行联合验收",
    "落实减税降费政策，规范涉企收费",
)
_UNITS = ("市发展改革委", "市市场监管局", "市政务服务局", "市住房城乡建设局", "市财政局")
_SENTENCES = (
    "各地各部门要充分认识优化营商环境的重要意义，切实增强责任感和紧迫感。",
    "坚持以人民为中心的发展思想，以市场主体需求为导向，持续深化改革。",
    "到2024年底，全市政务服务事项网上可办率达到98%以上，企业满意度进一步提升。",
    "建立健全工作台账，明确责任分工和完成时限，确保各项任务落地见效。",
    "加强督查考核，将工作落实情况纳入年度绩效考核，对推进不力的予以通报。",
    "强化宣传引导，及时总结推广典型经验做法，营造良好舆论氛围。",
    "依法保护各类市场主体产权和合法权益，营造公平竞争的市场环境。",
)
_NUMERALS = "一二三四五六七八九十"


def government_document(sections: int = 4) -> list[Block]:
    """Return the blocks of a 通知 with ``sections`` numbered parts (about 2.5 pages each
    when printed), each with paragraphs and a task table. Deterministic."""
    blocks: list[Block] = [
        ("h", "XX市人民政府办公室关于印发《XX市2024年优化营商环境工作要点》的通知"),
        ("p", "X政办发〔2024〕12号"),
        ("p", "各区人民政府，市政府各部门，各直属机构："),
        ("p", "《XX市2024年优化营商环境工作要点》已经市政府同意，现印发给你们，请认真贯彻落实。"),
    ]
    for number in range(sections):
        numeral = _NUMERALS[number % 10]
        blocks.append(("h", f"{numeral}、{_TASKS[number % len(_TASKS)][:8]}"))
        for paragraph in range(6):
            start = (number + paragraph) % len(_SENTENCES)
            text = "".join(_SENTENCES[(start + k) % len(_SENTENCES)] for k in range(4))
            blocks.append(("p", f"（{_NUMERALS[paragraph]}）{text}"))
        rows = [["序号", "工作任务", "责任单位", "完成时限"]]
        rows += [
            [
                str(row + 1),
                _TASKS[(number + row) % len(_TASKS)],
                _UNITS[(number + row) % len(_UNITS)],
                f"2024年{(row % 12) + 1}月底前",
            ]
            for row in range(8)
        ]
        blocks.append(("table", rows))
    blocks.append(("p", "XX市人民政府办公室"))
    blocks.append(("p", "2024年3月15日"))
    return blocks


def block_lines(blocks: Sequence[Block]) -> list[str]:
    """The text of ``blocks`` as the extractors write it: a line per paragraph or row."""
    lines: list[str] = []
    for kind, content in blocks:
        if kind == "table":
            lines += [" | ".join(row) for row in content]
        else:
            lines.append(str(content))
    return lines


# --- PDF (reportlab) ----------------------------------------------------------------


def pdf_bytes(
    blocks: Sequence[Block], *, user_password: str | None = None, font: str = "STSong-Light"
) -> bytes:
    """Return a PDF of ``blocks`` in the CID font ``font`` (a line per paragraph, wrapped
    at the page width; a table row as its cells with `` | ``), A4, as many pages as it
    takes. ``user_password`` encrypts it (RC4 128-bit, owner password "owner")."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    out = io.BytesIO()
    encrypt = (
        StandardEncryption(user_password, "owner", strength=128)
        if user_password is not None
        else None
    )
    pdf = canvas.Canvas(out, pagesize=A4, encrypt=encrypt, invariant=1)
    _width, height = A4
    per_line = 30  # characters of 14 pt text in the 6.7-inch measure
    y = height - 72
    for text in block_lines(blocks):
        size = 14
        for start in range(0, max(len(text), 1), per_line):
            if y < 72:
                pdf.showPage()
                y = height - 72
            pdf.setFont(font, size)
            pdf.drawString(72, y, text[start : start + per_line])
            y -= size * 1.6
    pdf.showPage()
    pdf.save()
    return out.getvalue()


# --- DOCX ---------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w_paragraph(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx_document_xml(blocks: Sequence[Block]) -> str:
    """word/document.xml holding ``blocks`` (for :func:`tests.documents.docx_bytes`)."""
    body = []
    for kind, content in blocks:
        if kind == "table":
            rows = "".join(
                "<w:tr>" + "".join(f"<w:tc>{_w_paragraph(c)}</w:tc>" for c in row) + "</w:tr>"
                for row in content
            )
            body.append(f"<w:tbl>{rows}</w:tbl>")
        else:
            body.append(_w_paragraph(str(content)))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{"".join(body)}<w:sectPr/></w:body></w:document>'
    )


# --- XLSX ---------------------------------------------------------------------------

_SS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _sheet_xml(rows: Sequence[Sequence[str | float]], strings: dict[str, int]) -> str:
    out = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if isinstance(value, str):
                index = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_SS}">'
        f"<sheetData>{''.join(out)}</sheetData></worksheet>"
    )


def xlsx_bytes(
    sheets: Mapping[str, Sequence[Sequence[str | float]]],
    *,
    extra: Mapping[str, bytes | str] | None = None,
    sheet_xml: str | None = None,
) -> bytes:
    """Return an .xlsx with ``sheets`` (name → rows of strings and numbers), strings
    shared as Excel writes them. ``sheet_xml`` replaces the first sheet's XML as given and
    ``extra`` adds parts (for hostile inputs)."""
    strings: dict[str, int] = {}
    parts: dict[str, bytes | str] = {}
    entries, rels, overrides = [], [], []
    for number, (name, rows) in enumerate(sheets.items(), start=1):
        xml = _sheet_xml(rows, strings)
        parts[f"xl/worksheets/sheet{number}.xml"] = sheet_xml if sheet_xml and number == 1 else xml
        entries.append(f'<sheet name={quoteattr(name)} sheetId="{number}" r:id="rId{number}"/>')
        rels.append(
            f'<Relationship Id="rId{number}" Type="{_REL}/worksheet"'
            f' Target="worksheets/sheet{number}.xml"/>'
        )
        overrides.append(
            f'<Override PartName="/xl/worksheets/sheet{number}.xml"'
            f' ContentType="{_XLSX_TYPES}.worksheet+xml"/>'
        )
    count = len(sheets) + 1
    rels.append(
        f'<Relationship Id="rId{count}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{_SS}"'
        f' count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'
    )
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_SS}"'
        f' xmlns:r="{_REL}"><sheets>{"".join(entries)}</sheets></workbook>'
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
        f"{''.join(rels)}</Relationships>"
    )
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml"'
        ' ContentType="application/xml"/><Override PartName="/xl/workbook.xml"'
        f' ContentType="{_XLSX_TYPES}.sheet.main+xml"/>{"".join(overrides)}</Types>'
    )
    parts.update(extra or {})
    return _zip(parts)


def _zip(parts: Mapping[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def bomb_zip(
    member: str, size: int, *, lie: bool = False, parts: Mapping[str, str] | None = None
) -> bytes:
    """Return a zip of ``parts`` and then ``member``, which inflates to ``size`` bytes of
    spaces (about 1 KB a MB compressed). ``lie`` makes its central directory state 1,000
    bytes instead."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (parts or {}).items():
            archive.writestr(name, text)
        info = zipfile.ZipInfo(member, date_time=(2024, 5, 1, 8, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as part:
            chunk = b" " * (1 << 20)
            for _ in range(size // len(chunk)):
                part.write(chunk)
            part.write(b" " * (size % len(chunk)))
    data = out.getvalue()
    if not lie:
        return data
    central = data.rindex(b"PK\x01\x02")  # the member's; its uncompressed size is at 24
    return data[: central + 24] + struct.pack("<I", 1000) + data[central + 28 :]


# --- OFD ----------------------------------------------------------------------------

_OFD = "http://www.ofdspec.org/2016"


def ofd_bytes(pages: Sequence[Sequence[str]], *, per_char: bool = False) -> bytes:
    """Return an OFD whose pages show ``pages`` (lines of text), 5 mm type on A4, as OFD
    writers lay it out: a TextObject per line with a Boundary, its TextCode placed inside
    it. ``per_char`` writes one TextObject per character instead (as some converters do),
    in a scrambled order, so that reading order must come from the positions."""
    parts: dict[str, bytes | str] = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{_OFD}" Version="1.0"'
            ' DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo>'
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        )
    }
    page_entries = []
    for number, lines in enumerate(pages):
        page_entries.append(
            f'<ofd:Page ID="{number + 10}" BaseLoc="Pages/Page_{number}/Content.xml"/>'
        )
        objects = []
        ident = 100
        for row, line in enumerate(lines):
            y = 30 + row * 8
            if per_char:
                glyphs = [(k, ch) for k, ch in enumerate(line)]
                glyphs = glyphs[1::2] + glyphs[::2]
                for k, ch in glyphs:
                    ident += 1
                    objects.append(
                        f'<ofd:TextObject ID="{ident}" Boundary="{20 + 5 * k} {y} 5 7" Font="3"'
                        f' Size="5"><ofd:TextCode X="0" Y="5">{escape(ch)}</ofd:TextCode>'
                        "</ofd:TextObject>"
                    )
            else:
                ident += 1
                objects.append(
                    f'<ofd:TextObject ID="{ident}" Boundary="20 {y} 170 7" Font="3" Size="5">'
                    f'<ofd:TextCode X="0" Y="5" DeltaX="g {max(len(line) - 1, 0)} 5">'
                    f"{escape(line)}</ofd:TextCode></ofd:TextObject>"
                )
        parts[f"Doc_0/Pages/Page_{number}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{_OFD}"><ofd:Content>'
            f'<ofd:Layer ID="2">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )
    parts["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{_OFD}">'
        "<ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>"
        "</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        f"<ofd:Pages>{''.join(page_entries)}</ofd:Pages></ofd:Document>"
    )
    parts["Doc_0/PublicRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{_OFD}" BaseLoc="Res">'
        '<ofd:Fonts><ofd:Font ID="3" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
    )
    return _zip(parts)


# --- OLE2 and Word 97 -----------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SECTOR = 512
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole_bytes(streams: Mapping[str, bytes]) -> bytes:
    """Return an OLE2 compound file (version 3, 512-byte sectors) holding ``streams``.

    Streams shorter than the 4,096-byte mini-stream cutoff are padded with zeros to it
    (and their stated size with them), so that every stream lives in ordinary sectors (no
    mini FAT to write); the formats read here locate their data by offsets, so the padding
    is never read. At most three
    streams and 120 sectors (about 60 KB): a test file, not a general writer.
    """
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's order
    if len(names) > 3:
        raise ValueError("at most three streams")
    sizes = [max(len(streams[n]), 4096) for n in names]
    datas = [streams[n].ljust(size, b"\0") for n, size in zip(names, sizes, strict=True)]
    datas = [d + b"\0" * (-len(d) % _SECTOR) for d in datas]
    fat = [_FATSECT, _END]  # sector 0 is the FAT, sector 1 the directory
    starts = []
    for data in datas:
        count = len(data) // _SECTOR
        starts.append(len(fat))
        fat += [len(fat) + k + 1 for k in range(count - 1)] + [_END]
    if len(fat) > 128:
        raise ValueError("too large for one FAT sector")
    fat_sector = struct.pack("<128I", *(fat + [_FREE] * (128 - len(fat))))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(encoded), kind, 1, _NOSTREAM, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, _NOSTREAM, 1 if names else _NOSTREAM, _END, 0)
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else _NOSTREAM
        directory += entry(name, 2, right, _NOSTREAM, starts[index], sizes[index])
    directory = directory.ljust(_SECTOR, b"\0")
    header = (
        OLE_MAGIC
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", 0, *([_FREE] * 108))
    )
    return header + fat_sector + directory + b"".join(datas)


def doc_bytes(
    paragraphs: Sequence[str],
    *,
    table: Sequence[Sequence[str]] = (),
    ascii_first: str | None = None,
    encrypted: bool = False,
) -> bytes:
    """Return a Word 97-2003 .doc: ``paragraphs``, then ``table`` (a cell ends with
    U+0007 and a row with one more, as Word writes them), in one UTF-16 piece of the
    piece table; ``ascii_first`` (a line) goes first in an 8-bit ("compressed") piece.
    ``encrypted`` sets the FIB's fEncrypted flag."""
    text = "".join(p + "\r" for p in paragraphs)
    text += "".join("".join(c + "\x07" for c in row) + "\x07" for row in table)
    pieces: list[tuple[str, bool]] = []
    if ascii_first is not None:
        pieces.append((ascii_first + "\r", True))
    pieces.append((text, False))
    body = bytearray(b"\0" * 0x800)  # the FIB, then the text
    cps, descriptors = [0], []
    for piece, compressed in pieces:
        offset = len(body)
        if compressed:
            body += piece.encode("cp1252")
            fc = (offset * 2) | 0x40000000
        else:
            body += piece.encode("utf-16-le")
            fc = offset
        cps.append(cps[-1] + len(piece))
        descriptors.append(struct.pack("<HIH", 0, fc, 0))
    plc = struct.pack(f"<{len(cps)}I", *cps) + b"".join(descriptors)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    flags = 0x0200 | (0x0100 if encrypted else 0)  # fWhichTblStm: the table is 1Table
    struct.pack_into("<HHHHH", body, 0, 0xA5EC, 0xC1, 0, 0, 0)
    struct.pack_into("<H", body, 0x0A, flags)
    struct.pack_into("<H", body, 0x20, 14)  # csw
    struct.pack_into("<H", body, 0x3E, 22)  # cslw
    struct.pack_into("<I", body, 0x4C, cps[-1])  # ccpText: all the text is the main story
    struct.pack_into("<H", body, 0x98, 0x5D)  # cbRgFcLcb (Word 97)
    struct.pack_into("<II", body, 0x1A2, 0, len(clx))  # fcClx, lcbClx
    return ole_bytes({"WordDocument": bytes(body), "1Table": clx})
