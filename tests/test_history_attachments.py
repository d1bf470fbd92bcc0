"""`history` and its attachments: what became of each file from one version to the next
(new, replaced, unchanged, carried, downloaded, removed), as text and as JSON."""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from scraper.commands.history import render_history
from storage.attachmentchanges import AttachmentSnapshot, compare_attachments
from storage.history import page_history, version_diff
from tests.attachment_archive import A1, A2, B1, C1, NOTICE, REPORT, build
from tests.research_archive import REPORT_URL
from tests.research_archive import build as build_without_attachments


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snap(
    position: int, url: str, sha256: str | None, download_error: str | None = None
) -> AttachmentSnapshot:
    return AttachmentSnapshot(
        position, url, url, url, "pdf", 1, sha256, True, None, download_error, None
    )


def test_compare_follows_files_by_url() -> None:
    old = [snap(1, "a", "1"), snap(2, "b", "2"), snap(3, "c", "3"), snap(4, "d", None)]
    new = [
        snap(1, "b", "2"),  # moved up the page: the same file
        snap(2, "a", "9"),
        snap(3, "c", "3", download_error="HTTP 500"),
        snap(4, "d", "4"),
        snap(5, "e", None, download_error="HTTP 404"),
    ]
    files, removed = compare_attachments(old, new)
    assert [(f.attachment.url, f.change, f.previous_sha256) for f in files] == [
        ("b", "unchanged", "2"),
        ("a", "replaced", "1"),
        ("c", "carried", "3"),
        ("d", "downloaded", None),
        ("e", "new", None),
    ]
    assert removed == []
    files, removed = compare_attachments(new, old[:1])
    assert [(f.attachment.url, f.change) for f in files] == [("a", "replaced")]
    assert [(f.attachment.url, f.change) for f in removed] == [
        ("b", "removed"),
        ("c", "removed"),
        ("d", "removed"),
        ("e", "removed"),
    ]


def test_compare_pairs_a_url_linked_twice_in_order() -> None:
    old = [snap(1, "a", "1"), snap(2, "a", "2")]
    files, removed = compare_attachments(old, [snap(1, "a", "1"), snap(2, "a", "3")])
    assert [f.change for f in files] == ["unchanged", "replaced"]
    files, removed = compare_attachments(old, [snap(1, "a", "1")])
    assert [(f.change, f.attachment.position) for f in removed] == [("removed", 2)]


def test_history_labels_every_change(engine: Engine) -> None:
    built = build(engine)
    history = page_history(engine, built.report_id)
    seen = [
        [(a.attachment.position, a.attachment.name, a.change) for a in e.attachments]
        + [(a.attachment.position, a.attachment.name, a.change) for a in e.removed_attachments]
        for e in history.entries
    ]
    v1 = [(1, "A.pdf", "new"), (2, "B.docx", "new"), (3, "C.xls", "new")]
    v2 = [(1, "A.pdf", "replaced"), (2, "B.docx", "carried"), (3, "D.pdf", "new")]
    v3 = [(1, "A.pdf", "unchanged"), (2, "B.docx", "unchanged"), (3, "D.pdf", "downloaded")]
    assert seen == [v1, [*v2, (3, "C.xls", "removed")], v3]
    second = history.entries[1]
    replaced, carried, never = second.attachments
    assert (replaced.previous_sha256, replaced.attachment.sha256) == (sha(A1), sha(A2))
    assert carried.attachment.sha256 == sha(B1) and carried.attachment.download_error
    assert never.attachment.sha256 is None
    assert second.removed_attachments[0].attachment.sha256 == sha(C1)
    assert [e.attachments_changed for e in history.entries] == [True, True, True]
    assert not history.entries[0].attachments[2].attachment.text_read  # the .xls


def test_history_text_lists_files_and_changes(engine: Engine) -> None:
    built = build(engine)
    lines = render_history(page_history(engine, built.report_id))
    text = "\n".join(lines)
    assert "    attachments (3): 1 replaced, 1 carried, 1 new, 1 removed" in lines
    assert (
        f"      1 A.pdf (pdf, {len(A2):,} bytes, sha256 {sha(A2)[:12]}, text read): "
        f"replaced (same URL, was sha256 {sha(A1)[:12]})"
    ) in lines
    assert (
        f"      2 B.docx (docx, {len(B1):,} bytes, sha256 {sha(B1)[:12]}, text read): "
        "download failed (timeout after 30 s); the file is v1's"
    ) in lines
    assert "      3 D.pdf (not downloaded): new; download failed: HTTP 503" in lines
    assert (
        f"      - C.xls (xls, {len(C1)} bytes, sha256 {sha(C1)[:12]}, no text): "
        "removed (was attachment 3)"
    ) in lines
    assert "downloaded (v2's download had failed)" in text
    # a version that differs only by its files is not "no difference"
    assert "no difference in the parsed content" not in text


def test_history_of_a_page_without_attachments_is_as_before(engine: Engine) -> None:
    build_without_attachments(engine)
    lines = render_history(page_history(engine, REPORT_URL))
    assert not any("attachment" in line for line in lines)
    entry = page_history(engine, REPORT_URL).to_dict()["versions"][0]
    assert entry["attachments"] == [] and entry["removed_attachments"] == []


def test_diff_lists_the_files_that_differ(engine: Engine) -> None:
    built = build(engine)
    diff = version_diff(engine, built.report_id, 1, 3)
    assert [(a.attachment.name, a.change) for a in diff.attachments] == [
        ("A.pdf", "replaced"),
        ("D.pdf", "new"),
        ("C.xls", "removed"),
    ]
    assert not diff.identical
    # from 2 to 3 the report's A and B are the same files: only D differs
    carried_only = version_diff(engine, built.report_id, 2, 3)
    assert [(a.attachment.name, a.change) for a in carried_only.attachments] == [
        ("D.pdf", "downloaded")
    ]


def test_cli_history_text_and_json(database_url: str, engine: Engine) -> None:
    build(engine)
    result = CliRunner().invoke(cli, ["history", "--database", database_url, REPORT])
    assert result.exit_code == 0, result.output
    assert "1 A.pdf (pdf" in result.output and "replaced (same URL" in result.output

    as_json = CliRunner().invoke(cli, ["history", "--database", database_url, REPORT, "--json"])
    assert as_json.exit_code == 0, as_json.output
    versions = json.loads(as_json.output)["versions"]
    assert [[a["change"] for a in v["attachments"]] for v in versions] == [
        ["new", "new", "new"],
        ["replaced", "carried", "new"],
        ["unchanged", "unchanged", "downloaded"],
    ]
    assert [[a["url"] for a in v["removed_attachments"]] for v in versions] == [
        [],
        ["https://sjzy.xuancheng.gov.cn/uploadfiles/C.xls"],
        [],
    ]
    v2 = versions[1]["attachments"]
    assert v2[0]["sha256"] == sha(A2) and v2[0]["previous_sha256"] == sha(A1)
    assert v2[1]["download_error"] == "timeout after 30 s" and v2[1]["text_read"] is True
    assert v2[2]["sha256"] is None

    diff = CliRunner().invoke(
        cli, ["history", "--database", database_url, NOTICE, "--diff", "1", "1"]
    )
    assert diff.exit_code == 0, diff.output
    assert "the two versions have the same parsed content" in diff.output
