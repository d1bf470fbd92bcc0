"""An archive with attachments, built through the real write path, for the export,
history and raw tests: every change an attachment can go through between two versions.

``xuancheng-sjzy``, the report (市发展改革委, published 2023-03-01):

- v1: 1 A.pdf (text read), 2 B.docx (text read), 3 C.xls (no text: no reader);
- v2: A replaced under the same URL; B's download failed (carried from v1); C gone from
  the page; 3 D.pdf new, its download failed (never downloaded);
- v3: A and B unchanged; D downloaded at last.

``xuancheng-sjzy``, the notice (市政府办公室, published 2022-12-01): v1 links one file
whose bytes are A's of v2 (another URL): a file named by two rows.

``anqing-xxgk``, one page with one PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage.attachments import AttachmentFile
from tests.documents import docx_bytes, ole_bytes, pdf_bytes
from tests.storage.factories import Crawl, attachment, make_doc

T0 = datetime(2023, 3, 2, 1, 0, tzinfo=UTC)

REPORT = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/3000001.html"
NOTICE = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/3000002.html"
ANQING = "https://www.anqing.gov.cn/xxgk/show-400001.html"
FILES = "https://sjzy.xuancheng.gov.cn/uploadfiles/"
URL_A, URL_B, URL_C, URL_D = (FILES + n for n in ("A.pdf", "B.docx", "C.xls", "D.pdf"))
URL_NOTICE_FILE = FILES + "notice.pdf"
URL_ANQING_FILE = "https://www.anqing.gov.cn/files/aq.pdf"

PUBLISHER = "市发展改革委"
A1 = pdf_bytes(["Plan 2023", "draft"])
A2 = pdf_bytes(["Plan 2023", "final"], stamp="20230401080000")
B1 = docx_bytes(["年度重点任务", "第二段"])
C1 = ole_bytes(b"xls payload")
D1 = pdf_bytes(["Annex D"])
AQ = pdf_bytes(["Anqing"])
TEXT_A1 = "2023年重点任务清单（征求意见稿）"
TEXT_A2 = "2023年重点任务清单（正式稿）"
TEXT_B = "年度重点任务\n第二段"


@dataclass(frozen=True, slots=True)
class Built:
    """The ids the tests need."""

    report_id: int
    notice_id: int
    anqing_id: int


def _report(version: int) -> list[AttachmentFile]:
    at = T0 + timedelta(days=version - 1)
    b = attachment(2, URL_B, B1, kind="docx", text=TEXT_B, at=at)
    if version == 1:
        return [
            attachment(1, URL_A, A1, text=TEXT_A1, at=at, link_text="附件1：2023年工作要点.pdf"),
            b,
            attachment(3, URL_C, C1, kind="xls", extract_error="no reader for xls", at=at),
        ]
    if version == 2:
        return [
            attachment(1, URL_A, A2, text=TEXT_A2, at=at, link_text="附件1：2023年工作要点.pdf"),
            attachment(
                2,
                URL_B,
                None,
                kind="docx",
                text=TEXT_B,
                carried=B1,
                download_error="timeout after 30 s",
            ),
            attachment(3, URL_D, None, download_error="HTTP 503"),
        ]
    return [
        attachment(1, URL_A, A2, text=TEXT_A2, at=at, link_text="附件1：2023年工作要点.pdf"),
        b,
        attachment(3, URL_D, D1, extract_error="no text layer", at=at),
    ]


def build(engine: Engine) -> Built:
    """Write the archive described in the module docstring; return its page ids."""
    xc = Crawl.start(engine, "xuancheng-sjzy")
    report = make_doc(
        title="关于印发2023年工作要点的通知",
        publisher=PUBLISHER,
        published_date="2023-03-01",
        sections=[],
    )
    for version in (1, 2, 3):
        result = xc.page(
            REPORT,
            report,
            attachments=_report(version),
            at=T0 + timedelta(days=version - 1),
        )
        assert result.version == version
    notice = xc.page(
        NOTICE,
        make_doc(
            title="市政府办公室通知",
            publisher="市政府办公室",
            published_date="2022-12-01",
            sections=[],
        ),
        attachments=[attachment(1, URL_NOTICE_FILE, A2, text=TEXT_A2, filename="通知附件.pdf")],
        at=T0 + timedelta(days=3),
    )
    aq = Crawl.start(engine, "anqing-xxgk")
    other = aq.page(
        ANQING,
        make_doc(title="安庆通知", publisher="安庆市人民政府", sections=[]),
        attachments=[attachment(1, URL_ANQING_FILE, AQ)],
        at=T0 + timedelta(days=4),
    )
    first = xc.page(REPORT, report, attachments=_report(3), at=T0 + timedelta(days=5))
    assert first.version == 3  # an unchanged recrawl makes no version
    return Built(first.page_id, notice.page_id, other.page_id)
