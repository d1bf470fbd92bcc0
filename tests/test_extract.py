"""scraper.extract: which kind a body is, and its text; never raising on hostile files."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from scraper.extract import DocumentKind, extract_text, sniff_kind
from scraper.extract.docx import MAX_DOCUMENT_XML, extract_docx
from scraper.extract.pdf import extract_pdf
from scraper.extract.plain import extract_plain
from tests.attachment_files import pdf_bytes as cjk_pdf_bytes
from tests.documents import DOCX_TYPE, docx_bytes, ole_bytes, pdf_bytes

pytestmark = pytest.mark.timeout(60)

HTML = b"<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p></body></html>"
ZIP = io.BytesIO()
with zipfile.ZipFile(ZIP, "w") as _z:
    _z.writestr("xl/workbook.xml", "<workbook/>")
XLSX = ZIP.getvalue()


@pytest.mark.parametrize(
    ("data", "content_type", "kind"),
    [
        (HTML, "text/html; charset=utf-8", DocumentKind.HTML),
        (HTML, None, DocumentKind.HTML),
        (HTML, "text/plain", DocumentKind.HTML),  # mislabelled pages are still pages
        (HTML, "application/octet-stream", DocumentKind.HTML),
        (b"\xef\xbb\xbf  <html><body>x</body></html>", "application/msword", DocumentKind.HTML),
        (b"<?xml version='1.0'?>\n<html xmlns='x'><body/></html>", "text/xml", DocumentKind.HTML),
        (b"<!-- generated --><div>x</div>", None, DocumentKind.HTML),
        (b"", "text/html", DocumentKind.HTML),
        (b"", None, DocumentKind.HTML),
        (b"plain words", "text/plain", DocumentKind.TEXT),
        (b"plain words", None, DocumentKind.TEXT),
        (b"a,b\n1,2\n", "text/csv", DocumentKind.TEXT),
        (b'{"a": 1}', "application/json; charset=utf-8", DocumentKind.TEXT),
        (b'{"a": 1}', "application/ld+json", DocumentKind.TEXT),
        (b"<?xml version='1.0'?><rss><item/></rss>", "application/rss+xml", DocumentKind.TEXT),
        (pdf_bytes(["x"]), "application/pdf", DocumentKind.PDF),
        (pdf_bytes(["x"]), "application/octet-stream", DocumentKind.PDF),
        (pdf_bytes(["x"]), "text/html", DocumentKind.PDF),  # the bytes win over the label
        (b"not really a pdf", "application/pdf", DocumentKind.PDF),
        (docx_bytes(["x"]), DOCX_TYPE, DocumentKind.DOCX),
        (docx_bytes(["x"]), "application/zip", DocumentKind.DOCX),
        (XLSX, "application/vnd.ms-excel", DocumentKind.OTHER),
        (ole_bytes(b"x"), "application/msword", DocumentKind.OTHER),
        (ole_bytes(b"x"), "application/octet-stream", DocumentKind.OTHER),
        (b"\x00\x01\x02binary", None, DocumentKind.OTHER),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", DocumentKind.OTHER),
    ],
)
def test_sniff_kind(data: bytes, content_type: str | None, kind: DocumentKind) -> None:
    assert sniff_kind(data, content_type) is kind


class TestPlain:
    def test_gbk_csv_without_a_charset_is_detected(self) -> None:
        got = extract_plain("项目,金额\r\n道路养护,100\r\n".encode("gbk"), "text/csv")
        assert got.text == "项目,金额\n道路养护,100"
        assert got.encoding == "gb18030"

    def test_declared_charset_and_bom(self) -> None:
        assert extract_plain("说明".encode("gbk"), "text/plain; charset=gbk").text == "说明"
        assert extract_plain(b"\xef\xbb\xbf" + "说明".encode(), "text/plain").text == "说明"

    def test_line_endings_and_trailing_spaces_are_not_text(self) -> None:
        a = extract_plain(b"one  \r\ntwo\r\n\r\n", "text/plain").text
        b = extract_plain(b"one\ntwo\n", "text/plain").text
        assert a == b == "one\ntwo"

    def test_json_is_reindented_one_member_per_line(self) -> None:
        compact = extract_plain('{"项目":"道路","金额":[100,120]}'.encode(), "application/json")
        spaced = extract_plain(
            '{ "项目": "道路", "金额": [100, 120] }\n'.encode(), "application/json"
        )
        assert compact.text == spaced.text
        assert json.loads(compact.text) == {"项目": "道路", "金额": [100, 120]}
        assert '"金额": [' in compact.text.splitlines()[2]

    def test_broken_or_deep_json_is_kept_as_sent_with_a_warning(self) -> None:
        broken = extract_plain(b'{"a": ', "application/json")
        assert broken.text == '{"a":'
        assert broken.warnings[-1].startswith("not valid JSON")
        deep = b"[" * 100_000 + b"]" * 100_000
        kept = extract_plain(deep, "application/json")
        assert kept.text == deep.decode() and "kept as sent" in kept.warnings[-1]


class TestPdf:
    def test_text_of_every_page_line_by_line(self) -> None:
        got = extract_text(pdf_bytes(["Budget  2024", "Roads: 100 (yuan)"]), DocumentKind.PDF)
        assert (got.text, got.encoding, got.encoding_source) == (
            "Budget 2024\nRoads: 100 (yuan)",
            "pdf",
            "document",
        )

    def test_regenerated_pdf_has_the_same_text(self) -> None:
        a, b = pdf_bytes(["x"], stamp="20240101000000"), pdf_bytes(["x"], stamp="20250101000000")
        assert a != b and extract_pdf(a) == extract_pdf(b)

    def test_encrypted_with_an_empty_user_password_is_read(self) -> None:
        assert extract_pdf(_encrypted(user="")).text == "Secret text"

    def test_encrypted_with_a_password_gives_no_text_and_says_so(self) -> None:
        got = extract_pdf(_encrypted(user="pw"))
        assert got.text == "" and "needs a password" in got.warnings[0]

    @pytest.mark.parametrize(
        "data",
        [b"%PDF-1.4 garbage", pdf_bytes(["abc"])[:200], b"", b"%PDF-1.7\n" + b"[" * 200_000],
    )
    def test_broken_pdf_gives_no_text_and_a_warning(self, data: bytes) -> None:
        got = extract_pdf(data)
        assert got.text == ""
        assert got.warnings and "compared by its bytes" in got.warnings[-1]

    def test_pdf_without_text_layer_says_so(self) -> None:
        got = extract_pdf(pdf_bytes([]))
        assert got.text == "" and "without a text layer" in got.warnings[0]


def _encrypted(*, user: str) -> bytes:
    return cjk_pdf_bytes([("p", "Secret text")], user_password=user)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _document(body: str) -> str:
    return f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'


class TestDocx:
    def test_paragraphs_then_table_rows(self) -> None:
        got = extract_docx(
            docx_bytes(["第一段", "第二段"], table=[["项目", "金额"], ["道路", "100"]])
        )
        assert got.text == "第一段\n第二段\n项目 | 金额\n道路 | 100"
        assert (got.encoding, got.encoding_source, got.warnings) == ("docx", "document", ())

    def test_runs_tabs_breaks_nested_tables_and_content_controls(self) -> None:
        body = (
            "<w:p><w:r><w:t>道路</w:t></w:r><w:r><w:tab/><w:t>养护</w:t><w:br/><w:t>说明</w:t>"
            "</w:r><w:del><w:r><w:delText>删掉的</w:delText></w:r></w:del></w:p>"
            "<w:sdt><w:sdtContent><w:p><w:r><w:t>控件中的段落</w:t></w:r></w:p></w:sdtContent></w:sdt>"
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>外</w:t></w:r></w:p>"
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>内</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            "</w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>"
        )
        got = extract_docx(docx_bytes([], document_xml=_document(body)))
        assert got.text == "道路 养护\n说明\n控件中的段落\n外 内 |"

    def test_zip_timestamps_are_not_text(self) -> None:
        a, b = docx_bytes(["x"], year=2020), docx_bytes(["x"], year=2025)
        assert a != b and extract_docx(a) == extract_docx(b)

    def test_a_dtd_is_refused_before_parsing(self) -> None:
        bomb = (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY a{i} "{"&a;" * 10}">' for i in range(1, 9))
            + f']><w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&a8;</w:t></w:r></w:p>'
            "</w:body></w:document>"
        )
        got = extract_docx(docx_bytes([], document_xml=bomb))
        assert got.text == "" and "declares a DTD" in got.warnings[0]

    def test_a_zip_bomb_is_not_inflated(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("word/document.xml", b" " * (MAX_DOCUMENT_XML + 1))
        got = extract_docx(out.getvalue())
        assert got.text == "" and "over" in got.warnings[0]

    @pytest.mark.parametrize(
        "data",
        [XLSX, b"PK\x03\x04 not a zip", docx_bytes([], document_xml="<w:document><unclosed")],
    )
    def test_broken_docx_gives_no_text_and_a_warning(self, data: bytes) -> None:
        got = extract_docx(data)
        assert got.text == "" and "cannot be read" in got.warnings[0]

    def test_deep_nesting_gives_no_text_and_a_warning(self) -> None:
        cell = "<w:tbl><w:tr><w:tc>" * 5000 + "</w:tc></w:tr></w:tbl>" * 5000
        got = extract_docx(docx_bytes([], document_xml=_document(cell)))
        assert got.text == "" and "RecursionError" in got.warnings[0]


def test_other_kinds_give_no_text_and_say_what_they_are() -> None:
    got = extract_text(ole_bytes(b"x"), DocumentKind.OTHER)
    assert (got.text, got.encoding, got.encoding_source) == ("", "binary", "document")
    assert got.warnings == (
        "no text extracted: an old Office file (.doc, .xls, .wps or .ppt); compared by its bytes",
    )


def test_html_is_not_extracted_here() -> None:
    with pytest.raises(ValueError, match=r"scraper\.parse"):
        extract_text(HTML, DocumentKind.HTML)
