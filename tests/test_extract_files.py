"""scraper.extract.files: the kind and text of attachment files, never raising on hostile ones."""

from __future__ import annotations

import dataclasses
import pickle
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.extract import files, zipbounds
from scraper.extract.files import FileText, read_file, read_file_to_dict
from scraper.extract.kinds import FILE_KINDS, sniff_file_kind, sniff_kind
from scraper.extract.sheets import MAX_SHEET_CELLS
from tests.attachment_files import (
    OLE_MAGIC,
    block_lines,
    bomb_zip,
    doc_bytes,
    docx_document_xml,
    government_document,
    ofd_bytes,
    ole_bytes,
    pdf_bytes,
    xlsx_bytes,
)
from tests.documents import docx_bytes

pytestmark = pytest.mark.timeout(120)

NOTICE = [
    ("h", "关于印发《优化营商环境工作要点》的通知"),
    ("p", "各区人民政府，市政府各部门："),
    ("table", [["序号", "工作任务", "责任单位"], ["1", "深化放管服改革", "市发展改革委"]]),
]
NOTICE_TEXT = "\n".join(block_lines(NOTICE))
DOCX = docx_bytes([], document_xml=docx_document_xml(NOTICE))
XLSX = xlsx_bytes(
    {"预算表": [["项目", "金额"], ["道路养护", 100.0], ["桥梁", 2.5]], "说明": [["单位：万元"]]}
)
XLSX_TEXT = "[预算表]\n项目 | 金额\n道路养护 | 100\n桥梁 | 2.5\n[说明]\n单位：万元"
OFD = ofd_bytes([["关于印发工作要点的通知", "一、总体要求"], ["二、主要任务"]])
OFD_TEXT = "关于印发工作要点的通知\n一、总体要求\n二、主要任务"
DOC = doc_bytes(["关于印发工作要点的通知", "一、总体要求"], table=[["序号", "任务"], ["1", "道路"]])
DOC_TEXT = "关于印发工作要点的通知\n一、总体要求\n序号 | 任务\n1 | 道路"
SHEETS = ole_bytes({"Workbook": b"\x09\x08garbage"})
OTHER_ZIP = bomb_zip("readme.txt", 10)


@pytest.mark.parametrize(
    ("data", "content_type", "filename", "kind"),
    [
        (pdf_bytes(NOTICE), None, None, "pdf"),
        (pdf_bytes(NOTICE), "text/html", "x.doc", "pdf"),  # the bytes win
        (DOCX, "application/zip", None, "docx"),
        (XLSX, "application/octet-stream", "a.zip", "xlsx"),
        (OFD, None, None, "ofd"),
        (DOC, None, "通知.doc", "doc"),
        (DOC, None, "通知.WPS", "wps"),  # WPS writes Word's format: the name tells
        (SHEETS, None, "表.xls", "xls"),
        (SHEETS, None, "/files/表.et?v=2", "et"),
        (ole_bytes({"Book": b"x"}), None, None, "xls"),
        (ole_bytes({"EncryptedPackage": b"x"}), None, "a.xlsx", "xlsx"),
        (ole_bytes({"PowerPoint Document": b"x"}), None, "a.ppt", "other"),
        (OLE_MAGIC + b"\0" * 100, "application/msword", "a.wps", "wps"),  # broken OLE
        (OTHER_ZIP, None, None, "zip"),
        (b"PK\x03\x04 broken", None, "a.docx", "docx"),  # broken, named: its reader says
        (b"PK\x03\x04 broken", None, None, "zip"),
        (b"Rar!\x1a\x07\x01\x00rest", None, None, "rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", None, None, "7z"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None, None, "image"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "application/pdf", None, "image"),
        (b"BM\x36\x00\x0c\x00\0\0\0\0\x36\0", None, None, "image"),
        (b"BMW annual report", None, None, "text"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "application/pdf", "a.pdf", "html"),
        (b"\x00\x01garbage", "application/msword", None, "doc"),
        (b"\x00\x01garbage", "application/octet-stream", "a.ofd", "ofd"),
        (b"\x00\x01garbage", "image/webp", None, "image"),
        ("项目,金额\n".encode("gbk"), "text/csv", None, "text"),
        (b"\x00\x01garbage", None, None, "other"),
        (b"", None, "a.xls", "xls"),
        (b"", None, None, "other"),
    ],
)
def test_sniff_file_kind(
    data: bytes, content_type: str | None, filename: str | None, kind: str
) -> None:
    assert kind in FILE_KINDS
    assert sniff_file_kind(data, content_type, filename) == kind


def test_detail_documents_are_sniffed_as_before() -> None:
    """sniff_kind (detail documents) is unchanged: an .xlsx or a .doc is still OTHER."""
    assert [sniff_kind(d, None).value for d in (XLSX, DOC, OFD, DOCX)] == [
        "other",
        "other",
        "other",
        "docx",
    ]


class TestPdf:
    def test_chinese_cid_font_text_line_by_line(self) -> None:
        got = read_file(pdf_bytes(NOTICE), filename="通知.pdf")
        assert (got.kind, got.text, got.error) == ("pdf", NOTICE_TEXT, None)
        assert got.extractor is not None and got.extractor.startswith("pypdfium2 ")

    def test_ten_pages_in_order(self) -> None:
        blocks = government_document(6)
        got = read_file(pdf_bytes(blocks))
        assert got.text is not None and got.text.startswith(str(blocks[0][1])[:30])
        assert got.text.endswith("2024年3月15日")

    def test_encrypted_with_an_empty_user_password_is_read(self) -> None:
        assert read_file(pdf_bytes(NOTICE, user_password="")).text == NOTICE_TEXT

    def test_encrypted_with_a_password_gives_no_text_and_says_so(self) -> None:
        got = read_file(pdf_bytes(NOTICE, user_password="secret"))
        assert got == FileText("pdf", None, None, "an encrypted PDF that needs a password")

    @pytest.mark.parametrize(
        "data", [b"%PDF-1.4 garbage", pdf_bytes(NOTICE)[:300], b"%PDF-1.7\n" + b"[" * 200_000]
    )
    def test_corrupt(self, data: bytes) -> None:
        got = read_file(data)
        assert got.kind == "pdf" and got.text is None and got.extractor is None
        assert got.error is not None and got.error.startswith("a PDF that cannot be read")

    def test_no_text_layer(self) -> None:
        got = read_file(pdf_bytes([("p", "")]))
        assert (got.text, got.error) == (None, "a PDF without a text layer (scanned?)")


class TestDocx:
    def test_chinese_paragraphs_and_table(self) -> None:
        assert read_file(DOCX) == FileText("docx", NOTICE_TEXT, "docx-xml 1", None)

    def test_a_compression_bomb_is_not_inflated(self) -> None:
        bomb = bomb_zip("word/document.xml", 20 * 1024 * 1024)
        got = read_file(bomb, filename="a.docx")
        assert (got.kind, got.text) == ("docx", None)
        assert got.error == "its text is over 16777216 bytes"

    def test_corrupt(self) -> None:
        got = read_file(b"PK\x03\x04 broken", filename="a.docx")
        assert got.text is None and got.error is not None
        assert got.error.startswith("a .docx that cannot be read (BadZipFile")


class TestWorkbooks:
    def test_sheets_with_their_names_rows_and_numbers_as_shown(self) -> None:
        got = read_file(XLSX)
        assert (got.kind, got.text, got.error) == ("xlsx", XLSX_TEXT, None)
        assert got.extractor is not None and got.extractor.startswith("python-calamine ")

    def test_empty_trailing_cells_and_rows_are_dropped(self) -> None:
        got = read_file(xlsx_bytes({"表": [["a", "", "c", ""], ["", ""], ["", "b"]]}))
        assert got.text == "[表]\na | | c\n| b"

    def test_cells_without_references_or_with_a_prefix_are_read(self) -> None:
        sheet = (
            '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><x:sheetData><x:row><x:c t="inlineStr"><x:is><x:t>甲'
            "</x:t></x:is></x:c><x:c><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>"
        )
        assert read_file(xlsx_bytes({"表": [["x"]]}, sheet_xml=sheet)).text == "[表]\n甲 | 1"

    def test_cells_far_apart_are_refused_before_calamine_allocates_the_grid(self) -> None:
        """Two cells at A1 and XFD1048576 in a 1 KB file: calamine would ask for a
        550 GB grid and abort the process."""
        sheet = (
            '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
            '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>'
        )
        got = read_file(xlsx_bytes({"表": [["x"]]}, sheet_xml=sheet))
        assert got.text is None and got.error is not None
        assert (
            f"spans 17179869184 cells from its first to its last (more than {MAX_SHEET_CELLS})"
            in got.error
        )

    def test_empty_cells_far_away_are_not_counted(self) -> None:
        sheet = (
            '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
            '<c r="XFD1" s="1"/></row><row r="1048576"><c r="XFD1048576" s="2"></c></row>'
            "</sheetData></worksheet>"
        )
        assert read_file(xlsx_bytes({"表": [["x"]]}, sheet_xml=sheet)).text == "[表]\n1"

    def test_a_bomb_with_true_sizes_is_refused_by_its_declared_size(self) -> None:
        size = 201 * 1024 * 1024
        bomb = bomb_zip("xl/worksheets/sheet2.xml", size, parts=_XLSX_PARTS)
        got = read_file(bomb)
        declared = size + sum(len(text) for text in _XLSX_PARTS.values())
        assert (got.kind, got.text, got.error) == (
            "xlsx",
            None,
            f"too large when decompressed (declared {declared} bytes; cap {200 * 1024 * 1024})",
        )

    def test_a_bomb_that_lies_about_its_size_is_refused_by_its_actual_size(self) -> None:
        bomb = bomb_zip("xl/worksheets/sheet2.xml", 201 * 1024 * 1024, lie=True, parts=_XLSX_PARTS)
        got = read_file(bomb)
        assert got.text is None
        assert got.error == (
            "member 'xl/worksheets/sheet2.xml' decompresses to more than its declared 1000 bytes"
        )

    def test_the_cap_counts_all_members_together(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(zipbounds, "MAX_INFLATED", 2000)
        got = read_file(xlsx_bytes({"表": [["x" * 600]] * 3}))
        assert got.text is None and got.error is not None
        assert got.error.startswith("too large when decompressed (declared")

    def test_xls_and_et_that_cannot_be_read_say_so(self) -> None:
        for name, kind in (("a.xls", "xls"), ("a.et", "et")):
            got = read_file(SHEETS, filename=name)
            assert (got.kind, got.text) == (kind, None)
            assert got.error is not None and got.error.startswith("a workbook that cannot be read")

    def test_an_et_in_wps_own_format_is_not_read(self) -> None:
        got = read_file(b"\x00\x01kingsoft", filename="表.et")
        assert got == FileText(
            "et",
            None,
            None,
            "a WPS spreadsheet (.et) in WPS's own format, not Excel's: no maintained reader",
        )


_XLSX_PARTS = {
    "xl/workbook.xml": "<workbook/>",
    "[Content_Types].xml": "<Types/>",
}


class TestOfd:
    def test_text_of_every_page(self) -> None:
        assert read_file(OFD) == FileText("ofd", OFD_TEXT, "ofd-xml 1", None)

    def test_characters_placed_one_by_one_in_any_order_come_back_as_lines(self) -> None:
        assert read_file(
            ofd_bytes([["关于印发工作要点的通知", "一、总体要求"]], per_char=True)
        ).text == ("关于印发工作要点的通知\n一、总体要求")

    def test_a_dtd_is_refused(self) -> None:
        broken = _replace_member(
            OFD, "OFD.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
        )
        got = read_file(broken, filename="a.ofd")
        assert (
            got.text is None and got.error == "an OFD that cannot be read (OFD.xml declares a DTD)"
        )

    def test_a_missing_page_is_an_error(self) -> None:
        broken = _replace_member(OFD, "Doc_0/Pages/Page_1/Content.xml", None)
        got = read_file(broken)
        assert got.kind == "ofd" and got.text is None
        assert got.error == "an OFD that cannot be read (no part 'Doc_0/Pages/Page_1/Content.xml')"

    def test_no_text_layer(self) -> None:
        got = read_file(ofd_bytes([[]]))
        assert (got.text, got.error) == (None, "an OFD without a text layer (scanned?)")


def _replace_member(data: bytes, name: str, text: str | None) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
            elif text is not None:
                target.writestr(info, text)
    return out.getvalue()


class TestWord97:
    def test_paragraphs_and_table_rows(self) -> None:
        assert read_file(DOC) == FileText("doc", DOC_TEXT, "word97-piece-table 1", None)

    def test_a_wps_file_in_word_format_reads_the_same(self) -> None:
        got = read_file(DOC, filename="通知.wps")
        assert (got.kind, got.text) == ("wps", DOC_TEXT)

    def test_eight_bit_and_utf16_pieces(self) -> None:
        got = read_file(doc_bytes(["正文"], ascii_first="Notice No. 12 – café"))
        assert got.text == "Notice No. 12 – café\n正文"

    def test_fields_keep_their_result_and_breaks_end_lines(self) -> None:
        paragraph = '见\x13 HYPERLINK "http://x" \x14附件1\x15说明\x0b第二行\x01'
        assert read_file(doc_bytes([paragraph])).text == "见附件1说明\n第二行"

    def test_encrypted(self) -> None:
        got = read_file(doc_bytes(["x"], encrypted=True))
        assert (got.text, got.error) == (None, "an encrypted Word document that needs a password")

    def test_corrupt(self) -> None:
        got = read_file(DOC[:3000], filename="a.doc")
        assert got.kind == "doc" and got.text is None
        assert got.error is not None and got.error.startswith("a Word document that cannot be read")

    def test_a_wps_in_wps_own_old_format_is_not_read(self) -> None:
        got = read_file(b"\x00\x01kingsoft", filename="a.wps")
        assert (got.kind, got.text) == ("wps", None)
        assert got.error == (
            "a WPS document (.wps) in WPS's own old format, not Word's: no maintained reader"
        )


@pytest.mark.parametrize(
    ("data", "filename", "kind", "error"),
    [
        (OTHER_ZIP, None, "zip", "an archive (zip): its members are not read"),
        (b"Rar!\x1a\x07\x00rest", None, "rar", "an archive (rar): its members are not read"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", None, "7z", "an archive (7z): its members are not read"),
        (b"\x89PNG\r\n\x1a\n\0\0", None, "image", "an image: its text is not read (no OCR)"),
        (
            b"<html><body>\xe7\x99\xbb\xe5\xbd\x95</body></html>",
            "a.pdf",
            "html",
            "an HTML page, not a file (an error, login or preview page?)",
        ),
        (
            ole_bytes({"EncryptedPackage": b"x"}),
            "a.docx",
            "docx",
            "an encrypted (password-protected) .docx: not read",
        ),
        (
            ole_bytes({"PowerPoint Document": b"x"}),
            None,
            "other",
            "unsupported format: an OLE file that is neither Word nor Excel (PowerPoint?)",
        ),
        (b"\x00\x01\x02", None, "other", "unsupported format"),
        (b"", "a.pdf", "pdf", "an empty file"),
    ],
)
def test_files_not_read_say_what_they_are(
    data: bytes, filename: str | None, kind: str, error: str
) -> None:
    assert read_file(data, filename=filename) == FileText(kind, None, None, error)


def test_text_files_are_decoded() -> None:
    got = read_file("项目,金额\r\n道路,100\r\n".encode("gbk"), content_type="text/csv")
    assert (got.kind, got.text, got.extractor) == ("text", "项目,金额\n道路,100", "plain-text 1")


def test_a_long_text_is_cut_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_TEXT_CHARACTERS", 5)
    got = read_file(DOC)
    assert (got.text, got.error) == (DOC_TEXT[:5], "text cut at 5 characters")


def test_read_file_to_dict_is_the_dataclass_as_a_dict_and_picklable() -> None:
    got = read_file_to_dict(XLSX, None, "a.xlsx")
    assert got == dataclasses.asdict(read_file(XLSX, filename="a.xlsx"))
    assert pickle.loads(pickle.dumps(read_file_to_dict)) is read_file_to_dict


_SAMPLES = [pdf_bytes(NOTICE), DOCX, XLSX, OFD, DOC, SHEETS]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(_SAMPLES),
    cuts=st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8)), max_size=4),
    filename=st.sampled_from([None, "a.pdf", "a.docx", "a.xlsx", "a.ofd", "a.doc", "a.et"]),
)
def test_damaged_files_never_raise(
    sample: bytes, cuts: list[tuple[int, bytes]], filename: str | None
) -> None:
    data = bytearray(sample)
    for position, replacement in cuts:
        at = position % max(len(data), 1)
        data[at : at + len(replacement)] = replacement
    got = read_file(bytes(data), filename=filename)
    assert got.kind in FILE_KINDS
    assert (got.text is None) == (got.extractor is None)
    assert got.text is not None or got.error
