"""A small archive with one of every change, for the `changes` and `cite` tests.

Source ``xuancheng-sjzy``: on 2024-05-01 the report (two task sections, one PDF) and the
notice are archived. On 2024-05-02, in the period the tests report on: the report's
version 2 (a new title, task 1 持续推进 → 已完成 in the body and the section, the PDF
replaced), a new page, the
notice gone, a blocked fetch of the report, and a recrawl of the report whose PDF download
fails (an attachment ``error``; the file is carried, no version). Source ``wuhu-gk``: one
new page on 2024-05-02. On 2024-05-03, after the period: the new page's version 2.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import Engine

from storage.attachments import AttachmentRequest
from storage.content import ParsedSection
from storage.models import FetchOutcome
from tests.storage.factories import SECTION_ONE, SECTION_TWO, Crawl, attachment, make_doc

REPORT = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405711.html"
NOTICE = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405712.html"
NEW = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2405800.html"
WUHU = "https://www.wuhu.gov.cn/openness/public/6596211/1.html"
PDF = "https://sjzy.xuancheng.gov.cn/group1/M00/附件1.pdf"

DAY1 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
DAY2 = datetime(2024, 5, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
DAY3 = datetime(2024, 5, 3, 1, 0, tzinfo=UTC)

#: The period the tests report on: all of 2024-05-02, UTC.
SINCE = datetime(2024, 5, 2, tzinfo=UTC)
UNTIL = datetime(2024, 5, 3, tzinfo=UTC)

FINISHED: ParsedSection = {**SECTION_ONE, "status": "已完成"}


def _at(day: datetime, minutes: int) -> datetime:
    return day.replace(minute=minutes)


def build(engine: Engine) -> None:
    """Write the archive described in the module's docstring."""
    crawl = Crawl.start(engine)
    report_v1 = make_doc(doc_number="宣数据〔2024〕3号")
    crawl.page(REPORT, report_v1, at=DAY1, attachments=[attachment(1, PDF, b"%PDF-1 v1")])
    crawl.page(
        NOTICE,
        make_doc(title="关于调整政务服务大厅办公时间的通知", sections=[], body="通知全文。"),
        at=_at(DAY1, 1),
    )

    report_v2 = make_doc(
        title="2021年度三季度政府工作报告任务进展情况（更新）",
        doc_number="宣数据〔2024〕3号",
        sections=[FINISHED, SECTION_TWO],
        body="一、深化服务共享。\n完成状态：已完成",
    )
    crawl.page(
        REPORT,
        report_v2,
        at=_at(DAY2, 0),
        attachments=[attachment(1, PDF, b"%PDF-1 v2", at=_at(DAY2, 0))],
    )
    crawl.page(
        NEW,
        make_doc(
            title="2024年一季度重点工作进展",
            sections=[],
            publisher=None,
            published_date=None,
            published_at=None,
        ),
        at=_at(DAY2, 1),
    )
    crawl.fetch(NOTICE, "gone", at=_at(DAY2, 2), http_status=404)
    crawl.fetch(REPORT, "blocked", at=_at(DAY2, 3), http_status=412)
    failed = attachment(
        1, PDF, None, download_error="HTTP 503", carried=b"%PDF-1 v2", at=_at(DAY2, 4)
    )
    request = AttachmentRequest(_at(DAY2, 4), FetchOutcome.ERROR, 503, "HTTP 503")
    crawl.page(
        REPORT,
        report_v2,
        at=_at(DAY2, 4),
        attachments=[dataclasses.replace(failed, request=request)],
    )

    wuhu = Crawl.start(engine, "wuhu-gk")
    wuhu.page(WUHU, make_doc(title="芜湖市政务公开工作要点", sections=[]), at=_at(DAY2, 5))
    crawl.page(
        NEW,
        make_doc(title="2024年一季度重点工作进展（修订）", sections=[], publisher=None),
        at=DAY3,
    )
