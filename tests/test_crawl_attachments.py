"""Attachments end to end: a crawl of the local site archives the files its pages link.

Issue 12. Each file is stored once however many pages link it; a replaced file makes
exactly one new version of each page linking it (also when the page itself answers 304);
a download that fails, an HTML page served in a file's place, an oversized file or a
host the source may not fetch from make no version and lose nothing. Crawled into SQLite
and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from sqlalchemy import Engine

from scraper.crawling.pipeline import SourceRun, crawl
from tests import attachment_files
from tests.crawl_site import DisclosureSite, outcomes, rows, scalar
from tests.documents import DOCX_TYPE, docx_bytes, pdf_bytes
from tests.site.server import TestSite, serve

pytestmark = pytest.mark.timeout(120)

PDF_PATH = "/uploadfile/2023/0301/gongzuo-yaodian.pdf"
DOCX_PATH = "/uploadfile/2023/0301/renwu-fengong.docx"
HANDLER_PATH = "/module/download/downfile.jsp"
HANDLER_QUERY = "?classid=0&filename=yusuan.docx"


def detail_page(number: int, links: list[tuple[str, str]], *, note: str = "") -> bytes:
    """A disclosure page: metadata table, article, and an attachment list in the article."""
    title = f"关于印发2023年第{number}号工作要点的通知"
    items = "".join(f'<p><a href="{href}" target="_blank">{text}</a></p>' for href, text in links)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body>"
        "<div class='header'><a href='/'>首页</a><a href='/xxgk/'>信息公开</a></div>"
        "<table class='xxgk_table'>"
        f"<tr><th>索引号：</th><td>11340000/2023-0{number:04d}</td>"
        "<th>发布机构：</th><td>某市人民政府办公室</td></tr>"
        f"<tr><th>名称：</th><td>{title}</td><th>发布日期：</th><td>2023-03-01</td></tr>"
        "</table>"
        f"<div class='article'><h1>{title}</h1><div class='content' id='zoom'>"
        "<p>各县（市、区）人民政府，市政府各部门：</p>"
        "<p>现将《2023年工作要点》印发给你们，请结合实际认真贯彻落实。各单位要加强组织领导，"
        "明确责任分工，确保各项任务按期完成，并于每季度末报送工作进展情况。</p>"
        f"<p>{note}</p>"
        f"<p>附件：</p>{items}"
        "<p style='text-align:right'>某市人民政府办公室</p></div></div>"
        "<div class='footer'>主办：某市人民政府办公室</div></body></html>"
    ).encode()


class AttachmentSite:
    """Two pages linking one shared PDF and a Word file of their own each."""

    def __init__(self, site: TestSite) -> None:
        self.site = site
        self.docs = DisclosureSite(site, count=2, per_page=2)
        # a Chinese government document in a CID font, as real 通知 PDFs are
        self.pdf = attachment_files.pdf_bytes(attachment_files.government_document(1))
        self.word = {
            0: docx_bytes(["城市大脑建设任务分工", "牵头单位：市数据资源局"]),
            1: docx_bytes(["数字政府建设任务分工", "牵头单位：市政务服务中心"]),
        }
        self.serve_file(PDF_PATH, self.pdf, "application/pdf")
        for i in (0, 1):
            self.serve_file(self.word_path(i), self.word[i], DOCX_TYPE)
            self.serve_page(i)

    def word_path(self, i: int) -> str:
        return DOCX_PATH.replace(".docx", f"-{i}.docx")

    def links(self, i: int) -> list[tuple[str, str]]:
        return [(PDF_PATH, "1.2023年工作要点.pdf"), (self.word_path(i), "2.任务分工表.docx")]

    def serve_page(
        self, i: int, *, note: str = "", extra: list[tuple[str, str]] | None = None
    ) -> None:
        self.docs.serve(i, detail_page(i, [*self.links(i), *(extra or [])], note=note))

    def serve_file(self, path: str, body: bytes, content_type: str, **kwargs: Any) -> None:
        tag = f'"{hashlib.sha1(body).hexdigest()[:12]}"'
        self.site.add(path, body, content_type=content_type, etag=tag, **kwargs)

    def config(self, database_url: str, **settings: Any) -> Any:
        return self.docs.config(database_url, **settings)


def _crawl(config: Any, engine: Engine) -> SourceRun:
    (run,) = asyncio.run(crawl(config, engine))
    return run


def versions(engine: Engine) -> list[tuple[str, int]]:
    return rows(
        engine,
        "SELECT p.url, max(v.version) FROM pages p JOIN page_versions v ON v.page_id = p.id "
        "GROUP BY p.url ORDER BY p.url",
    )


def attachment_outcomes(engine: Engine, run_id: int) -> dict[str, int]:
    found = rows(
        engine,
        "SELECT outcome, COUNT(*) FROM fetches WHERE crawl_run_id = :r AND attachment "
        "GROUP BY outcome",
        r=run_id,
    )
    return {outcome: count for outcome, count in found}


def latest_files(engine: Engine, url: str) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT a.position, a.url, a.filename, a.kind, a.sha256, a.download_error "
        "FROM attachments a JOIN page_versions v ON v.id = a.version_id "
        "JOIN pages p ON p.id = v.page_id WHERE p.url = :u AND v.version = "
        "(SELECT max(version) FROM page_versions WHERE page_id = p.id) ORDER BY a.position",
        u=url,
    )


def test_a_crawl_archives_every_attachment_once_with_its_text(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    run = _crawl(files.config(database_url), engine)
    assert outcomes(engine, run.run_id) == {"new_version": 2, "list_page": 2}
    assert run.summary.pages_seen == 2  # attachment requests are not pages
    assert attachment_outcomes(engine, run.run_id) == {"new_version": 4}
    assert site.hits(PDF_PATH) == 2  # once per page: each visit checks its files

    pdf_hash = hashlib.sha256(files.pdf).hexdigest()
    for i in (0, 1):
        got = latest_files(engine, files.docs.doc_url(i))
        assert [(p, u, f, k) for p, u, f, k, _, _ in got] == [
            (1, site.url(PDF_PATH), "1.2023年工作要点.pdf", "pdf"),
            (2, site.url(files.word_path(i)), "2.任务分工表.docx", "docx"),
        ]
        assert got[0][4] == pdf_hash
        assert got[1][4] == hashlib.sha256(files.word[i]).hexdigest()
        assert [error for *_, error in got] == [None, None]
    # the shared file is one blob
    assert scalar(engine, "SELECT count(*) FROM blobs WHERE hash = :h", h=pdf_hash) == 1
    # and its Chinese text, and the Word files', can be found with SQL
    found = rows(
        engine,
        "SELECT DISTINCT a.sha256, a.extractor FROM attachments a WHERE a.text LIKE :t",
        t="%优化营商环境工作要点%",
    )
    assert [sha for sha, _ in found] == [pdf_hash]
    assert found[0][1].startswith("pypdfium2")
    owners = rows(
        engine,
        "SELECT p.url FROM attachments a JOIN page_versions v ON v.id = a.version_id "
        "JOIN pages p ON p.id = v.page_id WHERE a.text LIKE :t",
        t="%城市大脑%",
    )
    assert owners == [(files.docs.doc_url(0),)]


def test_an_unchanged_recrawl_makes_no_version_and_asks_conditionally(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    config = files.config(database_url)
    _crawl(config, engine)
    site.clear_log()
    again = _crawl(config, engine)
    assert outcomes(engine, again.run_id) == {"not_modified": 2, "list_page": 2}
    assert attachment_outcomes(engine, again.run_id) == {"not_modified": 4}
    assert all(r.headers.get("if-none-match") for r in site.requests_to(PDF_PATH))
    assert [v for _, v in versions(engine)] == [1, 1]


def test_a_replaced_file_makes_exactly_one_new_version_of_each_page_linking_it(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    config = files.config(database_url)
    _crawl(config, engine)
    new_pdf = pdf_bytes(["Work plan 2023", "Task one: city brain, revised"])
    files.serve_file(PDF_PATH, new_pdf, "application/pdf")
    replaced = _crawl(config, engine)
    # the pages answered 304; their files were checked again, one had changed, so each
    # page was fetched again and archived with the new file
    assert outcomes(engine, replaced.run_id) == {"new_version": 2, "list_page": 2}
    assert [v for _, v in versions(engine)] == [2, 2]
    for i in (0, 1):
        got = latest_files(engine, files.docs.doc_url(i))
        assert got[0][4] == hashlib.sha256(new_pdf).hexdigest()
    assert site.hits(PDF_PATH) == 2 + 2  # not downloaded again for the re-fetched page
    settled = _crawl(config, engine)
    assert outcomes(engine, settled.run_id) == {"not_modified": 2, "list_page": 2}
    assert [v for _, v in versions(engine)] == [2, 2]


@pytest.mark.parametrize(
    "failure",
    ["server-error", "html-instead", "too-large", "gone"],
)
def test_a_failed_download_makes_no_version_and_loses_nothing(
    site: TestSite, engine: Engine, database_url: str, failure: str
) -> None:
    files = AttachmentSite(site)
    config = files.config(database_url, max_attachment_bytes=20_000)
    _crawl(config, engine)
    word = files.word_path(0)
    if failure == "server-error":
        site.add(word, "Internal Server Error", status=500, content_type="text/plain")
    elif failure == "html-instead":
        site.add(word, "<!DOCTYPE html><html><body><p>请先登录</p></body></html>")
    elif failure == "too-large":
        site.add(word, b"PK\x03\x04" + b"x" * 30_000, content_type=DOCX_TYPE)
    else:
        site.add(word, "not found", status=404, content_type="text/plain")
    # the page changes too, so it is fetched in full and its files with it
    files.serve_page(0, note="（2023年3月5日更新）")
    run = _crawl(config, engine)
    assert outcomes(engine, run.run_id)["new_version"] == 1
    expected = {
        "server-error": "error",
        "html-instead": "error",
        "too-large": "too_large",
        "gone": "gone",
    }[failure]
    assert attachment_outcomes(engine, run.run_id)[expected] == 1
    got = latest_files(engine, files.docs.doc_url(0))
    # the Word file is the previous version's, carried with the reason
    assert got[1][4] == hashlib.sha256(files.word[0]).hexdigest()
    assert got[1][5] is not None and got[1][5].startswith(expected)
    # the page alone changing made one version; the failure none, now or on the next crawl
    _crawl(config, engine)
    assert dict(versions(engine))[files.docs.doc_url(0)] == 2
    assert dict(versions(engine))[files.docs.doc_url(1)] == 1


def test_a_failed_download_of_an_unchanged_page_makes_no_version(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    config = files.config(database_url)
    _crawl(config, engine)
    site.add(PDF_PATH, "Bad Gateway", status=502, content_type="text/plain")
    run = _crawl(config, engine)
    assert outcomes(engine, run.run_id) == {"not_modified": 2, "list_page": 2}
    assert attachment_outcomes(engine, run.run_id)["error"] == 2
    assert [v for _, v in versions(engine)] == [1, 1]


def test_a_file_on_a_host_not_allowed_is_recorded_not_fetched_unless_named(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    with serve("127.0.0.2") as files_host:
        offsite = files_host.url("/files/plan.pdf")
        files_host.add("/files/plan.pdf", pdf_bytes(["Plan"]), content_type="application/pdf")
        files = AttachmentSite(site)
        files.serve_page(0, extra=[(offsite, "3.附件三.pdf")])
        _crawl(files.config(database_url), engine)
        assert files_host.hits("/files/plan.pdf") == 0
        got = latest_files(engine, files.docs.doc_url(0))
        assert got[2][1:] == (
            offsite,
            "3.附件三.pdf",
            None,
            None,
            f"not fetched: {files_host.host} is in neither allowed_hosts nor attachment_hosts",
        )
        named = files.config(database_url, attachment_hosts=[files_host.host])
        run = _crawl(named, engine)
        assert files_host.hits("/files/plan.pdf") == 1
        # the file now archived is a change of what the version holds: one version
        assert outcomes(engine, run.run_id)["new_version"] == 1
        assert latest_files(engine, files.docs.doc_url(0))[2][3] == "pdf"


def test_a_download_handler_link_and_a_corrupt_file(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    site.add(
        HANDLER_PATH, b"%PDF-1.4\n% broken beyond repair", content_type="application/octet-stream"
    )
    files.serve_page(1, extra=[(HANDLER_PATH + HANDLER_QUERY, "预算表")])
    _crawl(files.config(database_url), engine)
    (row,) = rows(
        engine,
        "SELECT filename, kind, text, extract_error, size FROM attachments WHERE url LIKE :u",
        u="%downfile.jsp%",
    )
    filename, kind, text, error, size = row
    assert filename == "yusuan.docx"
    assert kind == "pdf"  # the bytes decide, not the name
    assert text is None and error
    assert size == len(b"%PDF-1.4\n% broken beyond repair")


def test_spreadsheets_and_ofd_files_are_read(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    table = attachment_files.xlsx_bytes({"任务表": [["序号", "工作任务"], ["1", "城市大脑二期"]]})
    ofd = attachment_files.ofd_bytes([["关于数字政府建设的实施意见", "一、总体要求"]])
    files.serve_file("/uploadfile/renwu.xlsx", table, "application/vnd.ms-excel")
    files.serve_file("/uploadfile/yijian.ofd", ofd, "application/octet-stream")
    files.serve_page(
        1,
        extra=[
            ("/uploadfile/renwu.xlsx", "3.任务表.xlsx"),
            ("/uploadfile/yijian.ofd", "4.实施意见.ofd"),
        ],
    )
    _crawl(files.config(database_url), engine)
    got = rows(
        engine,
        "SELECT kind, text FROM attachments WHERE position > 2 ORDER BY position",
    )
    assert [kind for kind, _ in got] == ["xlsx", "ofd"]
    assert "城市大脑二期" in got[0][1] and "任务表" in got[0][1]
    assert "关于数字政府建设的实施意见" in got[1][1]


def test_attachments_off_fetches_none(site: TestSite, engine: Engine, database_url: str) -> None:
    files = AttachmentSite(site)
    run = _crawl(files.config(database_url, attachments=False), engine)
    assert attachment_outcomes(engine, run.run_id) == {}
    assert site.hits(PDF_PATH) == 0
    assert scalar(engine, "SELECT count(*) FROM attachments") == 0


def test_a_compression_bomb_served_as_a_file_is_too_large(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    site.gzip_bomb(files.word_path(0), decompressed_size=64 * 1024 * 1024)
    run = _crawl(files.config(database_url, max_attachment_bytes=1024 * 1024), engine)
    assert attachment_outcomes(engine, run.run_id)["too_large"] == 1
    got = latest_files(engine, files.docs.doc_url(0))
    assert got[1][4] is None and got[1][5].startswith("too_large")


def test_a_file_whose_text_takes_too_long_is_kept_without_it(
    site: TestSite, engine: Engine, database_url: str
) -> None:
    files = AttachmentSite(site)
    long_pdf = attachment_files.pdf_bytes(attachment_files.government_document(12))
    files.serve_file(PDF_PATH, long_pdf, "application/pdf")
    _crawl(files.config(database_url, attachment_timeout=0.005), engine)
    got = rows(
        engine,
        "SELECT DISTINCT kind, sha256, text, extract_error FROM attachments WHERE position = 1",
    )
    assert got == [
        (
            "pdf",
            hashlib.sha256(long_pdf).hexdigest(),
            None,
            "reading its text took longer than 0.005 s; stopped",
        )
    ]
    assert scalar(engine, "SELECT size FROM blobs WHERE hash = :h", h=got[0][1]) == len(long_pdf)
