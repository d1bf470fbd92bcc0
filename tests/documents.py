"""Small real documents for tests: PDF, Word .docx and an OLE (.doc-like) file, built here.

The PDF is a minimal valid one (one page, Helvetica text, a correct xref table); the
.docx is a zip with the parts Word writes (content types, relationships, the document).
Both vary their volatile bytes on request (a PDF's creation date and /ID, a .docx's zip
timestamps), so tests can check that only the text makes a version.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

#: The eight bytes every OLE2 compound file (.doc, .xls, .wps, .ppt) starts with.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(lines: Sequence[str], *, stamp: str = "20240501080000") -> bytes:
    """Return a one-page PDF showing ``lines`` (ASCII) in Helvetica.

    ``stamp`` goes into the creation date and the file /ID: bytes that change when a
    site regenerates the same document.
    """
    shown = " ".join(f"{_pdf_string(line)} Tj T*" for line in lines)
    content = f"BT /F1 12 Tf 72 720 Td 14 TL {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        f"<< /Producer (test) /CreationDate (D:{stamp}) >>".encode("latin-1"),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    file_id = stamp.encode("ascii").hex().ljust(32, "0")[:32].encode("ascii")
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n"
        % (len(objects) + 1, len(objects), file_id, file_id)
    )
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def _paragraph(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx_bytes(
    paragraphs: Sequence[str],
    *,
    table: Sequence[Sequence[str]] = (),
    year: int = 2024,
    document_xml: str | None = None,
) -> bytes:
    """Return a .docx holding ``paragraphs`` and then ``table`` (rows of cell texts).

    ``year`` sets the zip entries' timestamps (bytes that change on every save);
    ``document_xml`` replaces word/document.xml as given (for hostile inputs).
    """
    cells = "".join(
        "<w:tr>" + "".join(f"<w:tc>{_paragraph(c)}</w:tc>" for c in row) + "</w:tr>"
        for row in table
    )
    body = "".join(_paragraph(p) for p in paragraphs) + (f"<w:tbl>{cells}</w:tbl>" if table else "")
    document = document_xml or (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{body}<w:sectPr/></w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("word/document.xml", document),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(year, 5, 1, 8, 0, 0)), data)
    return out.getvalue()


def ole_bytes(payload: bytes) -> bytes:
    """Return bytes that start like a Word 97-2003 / WPS / Excel file, then ``payload``."""
    return OLE_MAGIC + b"\x00" * 24 + payload
