"""An archive built through the real write path, for the export/history/reparse tests.

Raw pages carry their parsed record as JSON inside a ``<script>`` plus a volatile view
counter, and :func:`parse_v1` / :func:`parse_v2` read them back: two "parser versions"
whose difference is known exactly. ``parse_v1`` keeps a status's trailing "。" (as an
old parser did); ``parse_v2`` strips it and reads the 信息格式 label into
``metadata_extra`` — so re-parsing a v1 archive with v2 must change exactly those values.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from storage.archive import archive_page, ensure_source, finish_run, record_fetch, start_run
from storage.content import ParsedDoc, ParsedSection
from storage.models import FetchOutcome, RunStatus

T0 = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)

REPORT_URL = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2149331.html"
NOTICE_URL = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2150002.html"
OTHER_URL = "https://www.xuancheng.gov.cn/OpennessContent/show/2723068.html"


def section(number: int, title: str, status: str, progress: str, **extra: Any) -> ParsedSection:
    """Return one task section as the parser gives it."""
    return {
        "number": number,
        "title": title,
        "status": status,
        "progress": progress,
        "problems": extra.pop("problems", None),
        "next_steps": extra.pop("next_steps", "一是加强与已签约地区的沟通交流。"),
        "extra": {k: str(v) for k, v in extra.items()},
    }


def doc(
    title: str,
    sections: list[ParsedSection],
    *,
    body: str | None = None,
    published: str = "2021-10-11",
    extra: dict[str, str] | None = None,
) -> ParsedDoc:
    """Return a ParsedDoc of a 宣城 progress report."""
    lines = [title]
    for s in sections:
        lines += [
            f"{_numeral(s['number'])}、{s['title']}",
            f"完成状态：{s['status']}",
            f"进展情况：{s['progress']}",
        ]
    return {
        "encoding": "utf-8",
        "encoding_source": "meta",
        "metadata": {
            "title": title,
            "index_no": "11341700744889543Y/202110-00006",
            "category": "决策部署落实情况",
            "publisher": "市数据资源局(市政务服务局)",
            "topic": "其他",
            "doc_number": None,
            "published_date": published,
            "published_at": f"{published}T09:25:00+08:00",
            "written_date": None,
            "effective_date": None,
            "expiry_date": None,
            "validity": None,
            "info_source": "市数据资源局(市政务服务局)",
            "keywords": None,
            "summary": None,
            "metadata_extra": dict(extra or {}),
        },
        "sections": copy.deepcopy(sections),
        "body_text": body if body is not None else "\n".join(lines),
        "warnings": [],
    }


def _numeral(n: int) -> str:
    return "一二三四五六七八九十"[n - 1]


def raw_page(d: ParsedDoc, *, views: int = 0) -> bytes:
    """Return the HTML a site would serve for ``d``; ``views`` is a volatile counter.

    The 信息格式 label is in the page (for parse_v2 to find) and the statuses carry the
    trailing "。" the site prints."""
    stored = copy.deepcopy(d)
    for s in stored["sections"]:
        if s["status"] and not s["status"].endswith("。"):
            s["status"] += "。"
    payload = json.dumps(stored, ensure_ascii=False, sort_keys=True)
    return (
        "<html><head><meta charset='utf-8'></head><body>"
        f"<span class='hits'>浏览次数：{views}</span><table><tr><td>信息格式</td><td>中文</td>"
        f"</tr></table><script type='application/json'>{payload}</script></body></html>"
    ).encode()


def _embedded(raw: bytes) -> ParsedDoc:
    text = raw.decode("utf-8")
    marker = "<script type='application/json'>"
    start = text.index(marker) + len(marker)
    result: ParsedDoc = json.loads(text[start : text.index("</script>", start)])
    return result


def parse_v1(raw: bytes, content_type: str | None) -> ParsedDoc:
    """The "old parser": statuses keep the page's trailing "。"."""
    return _embedded(raw)


def parse_v2(raw: bytes, content_type: str | None) -> ParsedDoc:
    """The "new parser": strips the status's trailing "。", reads 信息格式 into extra."""
    d = _embedded(raw)
    for s in d["sections"]:
        if s["status"]:
            s["status"] = s["status"].rstrip("。")
    if "<td>信息格式</td><td>中文</td>" in raw.decode("utf-8"):
        d["metadata"]["metadata_extra"]["信息格式"] = "中文"
    return d


@dataclass
class Archive:
    """A source and a run on an engine, with a clock that advances per fetch."""

    engine: Engine
    source: str = "xuancheng-sjzy"
    clock: datetime = T0
    source_id: int = 0
    run_id: int = 0
    written: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source_id = ensure_source(self.engine, self.source)
        self.run_id = start_run(self.engine, self.source_id, now=self.clock)

    def advance(self, **delta: float) -> datetime:
        self.clock += timedelta(**delta) if delta else timedelta(minutes=1)
        return self.clock

    def fetch(
        self, url: str, d: ParsedDoc, *, views: int = 0, parser: str = "1", parse: Any = parse_v1
    ) -> Any:
        """Archive ``d`` at ``url`` as the pipeline would (parsed by ``parse``)."""
        return self.fetch_raw(url, raw_page(d, views=views), parser=parser, parse=parse)

    def fetch_raw(self, url: str, raw: bytes, *, parser: str = "1", parse: Any = parse_v1) -> Any:
        """Archive the page body ``raw`` at ``url``, parsed by ``parse``."""
        result = archive_page(
            self.engine,
            run_id=self.run_id,
            source_id=self.source_id,
            url=url,
            requested_at=self.advance(),
            http_status=200,
            raw=raw,
            content_type="text/html; charset=utf-8",
            doc=parse(raw, "text/html; charset=utf-8"),
            parser_version=parser,
            reparse=parse,
            etag=None,
            last_modified=None,
            elapsed_ms=80,
        )
        self.written.append(result)
        return result

    def failure(
        self, url: str, outcome: FetchOutcome = FetchOutcome.ERROR, status: int | None = 503
    ) -> None:
        record_fetch(
            self.engine,
            run_id=self.run_id,
            source_id=self.source_id,
            url=url,
            requested_at=self.advance(),
            outcome=outcome,
            http_status=status,
            error="HTTP 503" if outcome is FetchOutcome.ERROR else None,
        )

    def finish(self) -> None:
        finish_run(self.engine, self.run_id, RunStatus.COMPLETED, now=self.advance())


SECTION_A = section(
    1,
    "深化服务共享，扩大“一网通办”覆盖面",
    "持续推进",
    "一是印发《实施方案》。\n二是确认63个事项。",
    责任单位="市数据资源局",
)
SECTION_B = section(
    2, "建设城市大脑运营指挥中心", "滞后", "现正协商设计方案。", problems="场馆选址尚未确定。"
)
SECTION_C = section(3, "推动数据资源融合开发利用", "持续推进", "上线数据共享交换平台。")


def three_versions() -> list[ParsedDoc]:
    """The report's three versions: v2 finishes section 1 and rewrites its progress;
    v3 drops section 2, adds section 3 and changes the title."""
    v1 = doc("2021年度三季度政府工作报告任务进展情况", [SECTION_A, SECTION_B])
    done = dict(SECTION_A, status="已完成", progress="一是印发《实施方案》。\n二是确认75个事项。")
    v2 = doc("2021年度三季度政府工作报告任务进展情况", [done, SECTION_B])  # type: ignore[list-item]
    v3 = doc("2021年度三季度政府工作报告任务进展情况（更新）", [done, SECTION_C])  # type: ignore[list-item]
    return [v1, v2, v3]


def build(engine: Engine) -> Archive:
    """Build the standard test archive, parsed by parse_v1 (parser_version "1"):

    - REPORT_URL: three versions (three_versions()), plus an unchanged recrawl of v3
      with a different view counter;
    - NOTICE_URL: one version without sections;
    - OTHER_URL (source "xuancheng-gov"): two versions;
    - one failed fetch.
    """
    a = Archive(engine)
    v1, v2, v3 = three_versions()
    a.fetch(REPORT_URL, v1, views=10)
    notice = doc("关于开展数据归集工作的通知", [], body="各县市区：\n请按要求开展数据归集。")
    a.fetch(NOTICE_URL, notice)
    a.advance(days=90)
    a.fetch(REPORT_URL, v2, views=55)
    a.failure(NOTICE_URL)
    a.advance(days=90)
    a.fetch(REPORT_URL, v3, views=99)
    a.advance(days=1)
    a.fetch(REPORT_URL, v3, views=120)  # unchanged: only the counter moved
    a.finish()
    b = Archive(engine, source="xuancheng-gov", clock=a.clock)
    title = "2023年市政府工作报告目标任务进展情况通报"
    b.fetch(OTHER_URL, doc(title, [SECTION_C], published="2023-05-09"))
    b.advance(days=30)
    finished = dict(SECTION_C, status="已完成")
    b.fetch(OTHER_URL, doc(title, [finished], published="2023-05-09"))  # type: ignore[list-item]
    b.finish()
    return a
