"""Builders for parsed documents, raw pages and archive calls used by the storage tests."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from storage.archive import ArchiveResult, archive_page, ensure_source, record_fetch, start_run
from storage.attachments import AttachmentFile
from storage.content import ParsedDoc, ParsedSection
from storage.models import FetchOutcome

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

SECTION_ONE: ParsedSection = {
    "number": 1,
    "title": "深化服务共享，扩大与沪苏浙城市政务服务“一网通办”覆盖面",
    "status": "持续推进",
    "progress": "一是以市政府办名义印发《宣城市2021年长三角地区政务服务“一网通办”工作实施方案》。",
    "problems": None,
    "next_steps": "一是加强与已签约地区的沟通交流，上线企业群众需求急切、条件成熟的事项。",
    "extra": {"责任单位": "市数据资源局"},
}
SECTION_TWO: ParsedSection = {
    "number": 2,
    "title": "建设宣城城市大脑运营指挥中心实体场馆",
    "status": "滞后",
    "progress": "现正协商指挥中心三至五层楼体设计方案。",
    "problems": "场馆选址尚未确定。",
    "next_steps": "尽快启动实体场馆建设。",
    "extra": {},
}


def make_doc(
    *,
    body: str = "一、深化服务共享。\n完成状态：持续推进",
    sections: list[ParsedSection] | None = None,
    encoding: str = "utf-8",
    warnings: list[str] | None = None,
    **metadata: Any,
) -> ParsedDoc:
    """Return a ParsedDoc like the parser's for a 宣城 progress report."""
    meta: dict[str, Any] = {
        "title": "2021年度三季度政府工作报告任务进展情况",
        "index_no": "11341700744889543Y/202110-00006",
        "category": "决策部署落实情况",
        "publisher": "市数据资源局(市政务服务局)",
        "topic": "其他",
        "doc_number": None,
        "published_date": "2021-10-11",
        "published_at": "2021-10-11T09:25:00+08:00",
        "written_date": None,
        "effective_date": None,
        "expiry_date": None,
        "validity": None,
        "info_source": "市数据资源局(市政务服务局)",
        "keywords": None,
        "summary": None,
        "metadata_extra": {"信息格式/语种": "中文"},
    }
    meta.update(metadata)
    doc = {
        "encoding": encoding,
        "encoding_source": "meta",
        "metadata": meta,
        "sections": copy.deepcopy(sections if sections is not None else [SECTION_ONE, SECTION_TWO]),
        "body_text": body,
        "warnings": warnings or [],
    }
    return doc  # type: ignore[return-value]


def raw_page(doc: ParsedDoc, *, views: int = 0) -> bytes:
    """Return HTML bytes for ``doc``; ``views`` is a volatile counter the parser ignores."""
    title = doc["metadata"]["title"] or ""
    body = "".join(f"<p>{line}</p>" for line in doc["body_text"].splitlines())
    return (
        f"<html><head><title>{title}</title></head><body><div class='chrome'>宣城市人民政府"
        f"</div><span class='hits'>浏览次数：{views}</span><div id='zoom'>{body}</div>"
        "</body></html>"
    ).encode()


def attachment(
    position: int,
    url: str,
    data: bytes | None,
    *,
    kind: str | None = "pdf",
    filename: str | None = None,
    link_text: str | None = None,
    text: str | None = None,
    extract_error: str | None = None,
    download_error: str | None = None,
    carried: bytes | None = None,
    at: datetime | None = None,
) -> AttachmentFile:
    """Return one attachment of a page as a crawl hands it to ``archive_page``.

    ``data``: the bytes downloaded in this crawl (stored as a blob), None when none came
    (then ``download_error`` says why). ``carried``: the bytes of the previous version's
    file at this URL, kept because this crawl's download failed (already stored: only its
    SHA-256 is given)."""
    kept = data if data is not None else carried
    name = filename if filename is not None else url.rsplit("/", 1)[-1]
    return AttachmentFile(
        position=position,
        url=url,
        link_text=link_text if link_text is not None else name,
        filename=name,
        kind=kind if kept is not None else None,
        content_type="application/pdf" if kind == "pdf" and kept is not None else None,
        size=len(kept) if kept is not None else None,
        sha256=hashlib.sha256(kept).hexdigest() if kept is not None else None,
        raw=data,
        text=text if kept is not None else None,
        extractor="test 1" if text is not None and kept is not None else None,
        extract_error=extract_error,
        download_error=download_error,
        fetched_at=(at or T0) if data is not None else None,
    )


def no_reparse(raw: bytes, content_type: str | None) -> ParsedDoc:
    """A reparse callback for tests where the parser version never changes."""
    raise AssertionError("reparse must not be called when parser versions match")


@dataclass
class Crawl:
    """One source and one open run on an engine, for concise archive calls."""

    engine: Engine
    source_id: int
    run_id: int
    clock: datetime = T0

    @classmethod
    def start(cls, engine: Engine, name: str = "xuancheng-sjzy") -> Crawl:
        source_id = ensure_source(engine, name)
        return cls(engine, source_id, start_run(engine, source_id, now=T0))

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def page(
        self,
        url: str,
        doc: ParsedDoc,
        *,
        raw: bytes | None = None,
        parser_version: str = "1",
        reparse: Callable[[bytes, str | None], ParsedDoc] = no_reparse,
        etag: str | None = None,
        last_modified: str | None = None,
        at: datetime | None = None,
        final_url: str | None = None,
        attachments: Sequence[AttachmentFile] = (),
    ) -> ArchiveResult:
        """Archive ``doc`` (and ``attachments``, see :func:`attachment`) as fetched now."""
        body = raw if raw is not None else raw_page(doc)
        return archive_page(
            self.engine,
            run_id=self.run_id,
            source_id=self.source_id,
            url=url,
            requested_at=at or self.tick(),
            http_status=200,
            raw=body,
            content_type="text/html; charset=utf-8",
            doc=doc,
            parser_version=parser_version,
            reparse=reparse,
            etag=etag,
            last_modified=last_modified,
            elapsed_ms=120,
            final_url=final_url,
            attachments=attachments,
        )

    def fetch(self, url: str, outcome: str, at: datetime | None = None, **kw: Any) -> None:
        """Record a fetch that wrote no version; ``outcome`` is a fetches.outcome value."""
        record_fetch(
            self.engine,
            run_id=self.run_id,
            source_id=self.source_id,
            url=url,
            requested_at=at or self.tick(),
            outcome=FetchOutcome(outcome),
            **kw,
        )
