"""The pure decisions about attachments: which links, what a body is, what is carried,
what a request's outcome is, and what a version's content hash covers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from scraper.crawling.filefetch import (
    WantedAttachment,
    carried,
    changed_files,
    choose_attachments,
    not_a_file,
    wanted_again,
)
from scraper.settings import CrawlSettings
from storage.attachments import (
    AttachmentFile,
    AttachmentRequest,
    StoredAttachment,
    attachment_hashes,
    attachment_outcome,
)
from storage.content import ParsedDoc, content_hash
from storage.models import FetchOutcome

AT = datetime(2024, 5, 1, tzinfo=UTC)
SETTINGS = CrawlSettings(allowed_hosts=("www.gov.cn",))


def link(url: str, extension: str, *, text: str = "", image: bool = False) -> dict[str, Any]:
    return {"url": url, "text": text, "filename": None, "extension": extension, "image": image}


def stored(url: str, sha256: str | None = "a" * 64, **extra: Any) -> StoredAttachment:
    values: dict[str, Any] = {
        "version_id": 7,
        "position": 1,
        "url": url,
        "link_text": "附件1",
        "filename": "plan.pdf",
        "kind": "pdf",
        "content_type": "application/pdf",
        "size": 10,
        "sha256": sha256,
        "text": "计划",
        "extractor": "pypdf 5",
        "extract_error": None,
        "fetched_at": AT,
        "etag": '"e1"',
        "last_modified": None,
    }
    values.update(extra)
    return StoredAttachment(**values)


def test_links_are_kept_by_type_numbered_and_deduplicated() -> None:
    links = [
        link("http://www.gov.cn/a.pdf", "pdf", text="1.计划.pdf"),
        link("http://www.gov.cn/photo.jpg", "jpg"),
        link("http://www.gov.cn/img/1.png", "png", image=True),
        link("http://www.gov.cn/downfile.jsp?id=3", ""),  # a handler: the bytes tell
        link("http://www.gov.cn/a.pdf", "pdf"),  # linked twice
        link("http://www.gov.cn/page.html", "html"),
        link("http://www.gov.cn/b.XLSX", "XLSX"),
    ]
    wanted, over = choose_attachments(links, SETTINGS)
    assert [(w.position, w.url, w.extension) for w in wanted] == [
        (1, "http://www.gov.cn/a.pdf", "pdf"),
        (2, "http://www.gov.cn/downfile.jsp?id=3", ""),
        (3, "http://www.gov.cn/b.XLSX", "xlsx"),
    ]
    assert wanted[0].link_text == "1.计划.pdf"
    assert over == 0


def test_images_only_when_their_type_is_listed() -> None:
    links = [link("http://www.gov.cn/img/1.png", "png", image=True)]
    assert choose_attachments(links, SETTINGS)[0] == []
    with_images = replace(SETTINGS, attachment_types=("pdf", "png"))
    assert [w.url for w in choose_attachments(links, with_images)[0]] == [links[0]["url"]]


def test_the_per_page_cap_and_the_switch() -> None:
    links = [link(f"http://www.gov.cn/{i}.pdf", "pdf") for i in range(5)]
    wanted, over = choose_attachments(links, replace(SETTINGS, max_attachments_per_page=2))
    assert [w.position for w in wanted] == [1, 2] and over == 3
    assert choose_attachments(links, replace(SETTINGS, attachments=False)) == ([], 0)


def test_a_file_on_another_host_is_kept_with_the_reason_unless_named() -> None:
    links = [link("http://cdn.example.cn/a.pdf", "pdf")]
    (refused,), _ = choose_attachments(links, SETTINGS)
    assert refused.refused == (
        "not fetched: cdn.example.cn is in neither allowed_hosts nor attachment_hosts"
    )
    named = replace(SETTINGS, attachment_hosts=("cdn.example.cn",))
    (allowed,), _ = choose_attachments(links, named)
    assert allowed.refused is None


def test_an_html_page_is_not_the_linked_file() -> None:
    assert not_a_file(b"%PDF-1.4 ...", "pdf") is None
    assert not_a_file(b"", "pdf") == "an empty body where a file was linked"
    page = b"<!DOCTYPE html><html><body>\xe8\xaf\xb7\xe7\x99\xbb\xe5\xbd\x95</body></html>"
    assert "an HTML page where a file was linked" in (not_a_file(page, "pdf") or "")
    assert "an HTML page" in (not_a_file(page, "") or "")  # a handler answering a page
    assert not_a_file(page, "html") is None
    assert not_a_file(b"a,b\n1,2\n", "csv") is None


def test_a_failed_download_carries_the_previous_file() -> None:
    wanted = WantedAttachment(2, "http://www.gov.cn/a.pdf", "附件", None, "pdf")
    request = AttachmentRequest(AT, FetchOutcome.ERROR, 502, "HTTP 502")
    kept = carried(wanted, stored(wanted.url), error="error: HTTP 502", request=request)
    assert (kept.position, kept.sha256, kept.text, kept.filename) == (
        2,
        "a" * 64,
        "计划",
        "plan.pdf",
    )
    assert kept.download_error == "error: HTTP 502" and kept.raw is None
    assert kept.fetched_at == AT  # when the carried bytes were fetched
    nothing = carried(wanted, None, error="error: HTTP 502", request=request)
    assert nothing.sha256 is None and nothing.download_error == "error: HTTP 502"


def test_wanted_again_and_changed_files() -> None:
    previous = {"http://www.gov.cn/a.pdf": stored("http://www.gov.cn/a.pdf")}
    (again,) = wanted_again(list(previous.values()))
    assert (again.url, again.extension, again.refused) == ("http://www.gov.cn/a.pdf", "pdf", None)
    same = AttachmentFile(1, again.url, "", sha256="a" * 64, request=AttachmentRequest(AT, None))
    assert not changed_files([same], previous)
    assert changed_files([replace(same, sha256="b" * 64)], previous)
    not_modified = replace(same, request=AttachmentRequest(AT, FetchOutcome.NOT_MODIFIED))
    failed = replace(same, sha256="a" * 64, request=AttachmentRequest(AT, FetchOutcome.ERROR))
    assert not changed_files([not_modified, failed], previous)


def test_the_outcome_of_an_attachment_request() -> None:
    previous = {"http://x/a.pdf": "a" * 64}
    file = AttachmentFile(
        1, "http://x/a.pdf", "", sha256="a" * 64, request=AttachmentRequest(AT, None)
    )
    assert attachment_outcome(file, previous) is FetchOutcome.UNCHANGED
    assert attachment_outcome(replace(file, sha256="b" * 64), previous) is FetchOutcome.NEW_VERSION
    assert attachment_outcome(replace(file, url="http://x/new.pdf"), previous) is (
        FetchOutcome.NEW_VERSION
    )
    gone = replace(file, request=AttachmentRequest(AT, FetchOutcome.GONE))
    assert attachment_outcome(gone, previous) is FetchOutcome.GONE
    assert attachment_outcome(replace(file, request=None), previous) is None


def test_the_content_hash_covers_attachments_only_when_there_are_any() -> None:
    doc: ParsedDoc = {
        "encoding": "utf-8",
        "encoding_source": "meta",
        "metadata": {"title": "通知", "publisher": "某市"},
        "sections": [],
        "body_text": "正文",
        "warnings": [],
        "attachments": [],
    }
    plain = content_hash(doc)
    assert content_hash(doc, attachments=[]) == plain  # pages without files hash as before
    one = content_hash(doc, attachments=["a" * 64])
    assert one != plain
    assert content_hash(doc, attachments=["b" * 64]) != one
    assert content_hash(doc, attachments=[None]) not in (plain, one)
    files = [
        AttachmentFile(2, "http://x/2", "", sha256="b" * 64),
        AttachmentFile(1, "http://x/1", "", sha256=None),
    ]
    assert attachment_hashes(files) == [None, "b" * 64]
