"""storage.warcexport and `govarchive export --format warc`: records, headers, digests,
rotation, filters, refused options, and a crawl of the local site exported as WARC."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update
from warcio.archiveiterator import ArchiveIterator

from scraper.cli import cli
from scraper.crawling.pipeline import crawl
from storage.archive import archive_page
from storage.errors import BlobError
from storage.export import ExportError, ExportFilters, verify_manifest
from storage.migrate import head_revision
from storage.models import Blob, PageVersion
from storage.runs import ensure_source, start_run
from storage.warcexport import export_warc, http_headers, warc_date
from tests.crawl_site import DisclosureSite, fixture_pages
from tests.documents import pdf_bytes
from tests.site.server import TestSite
from tests.storage.factories import attachment, make_doc, no_reparse

T0 = datetime(2024, 3, 1, 2, 0, 0, 123456, tzinfo=UTC)
REPORT = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2149331.html"
NOTICE = "https://sjzy.xuancheng.gov.cn/OpennessContent/show/2150002.html"
OTHER = "https://www.xuancheng.gov.cn/OpennessContent/show/2723068.html"
PDF_URL = "https://sjzy.xuancheng.gov.cn/uploadfiles/plan.pdf"
PDF = pdf_bytes(["Plan 2024"])
BODY_A = "<html><body>甲 version A</body></html>".encode()
BODY_B = "<html><body>乙 version B, longer</body></html>".encode()
NOTICE_BODY = "<html><body>通知</body></html>".encode("gbk")
SERVED = [
    ["Server", "nginx"],
    ["Content-Type", "text/html; charset=utf-8"],
    ["Content-Encoding", "gzip"],
    ["Transfer-Encoding", "chunked"],
    ["content-length", "17"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
]


@dataclass(frozen=True, slots=True)
class Built:
    """What the archive holds, for the assertions."""

    dates: dict[int, datetime]  # version id → fetched_at


def _store(
    engine: Engine,
    source: tuple[int, int],
    url: str,
    raw: bytes,
    at: datetime,
    *,
    headers: list[list[str]] | None,
    content_type: str = "text/html; charset=utf-8",
    status: int = 200,
    **kw: Any,
) -> Any:
    source_id, run_id = source
    return archive_page(
        engine,
        run_id=run_id,
        source_id=source_id,
        url=url,
        requested_at=at,
        http_status=status,
        raw=raw,
        content_type=content_type,
        doc=make_doc(body=raw.decode("utf-8", "replace")),
        parser_version="1",
        reparse=no_reparse,
        etag=None,
        last_modified=None,
        elapsed_ms=10,
        response_headers=[(n, v) for n, v in headers] if headers else (),
        **kw,
    )


def build(engine: Engine) -> Built:
    """REPORT: A → B → A (three versions, served headers, one PDF attachment on the first
    two); NOTICE: one version archived before headers were kept (GBK, no headers); OTHER
    (source xuancheng-gov): one version, served with status 203."""
    sjzy = ensure_source(engine, "xuancheng-sjzy", config_json={"base_url": "https://sjzy"})
    sjzy_run = (sjzy, start_run(engine, sjzy, now=T0))
    pdf = [attachment(1, PDF_URL, PDF, at=T0 + timedelta(seconds=1, microseconds=7))]
    _store(engine, sjzy_run, REPORT, BODY_A, T0, headers=SERVED, attachments=pdf)
    _store(
        engine,
        sjzy_run,
        NOTICE,
        NOTICE_BODY,
        T0 + timedelta(minutes=1),
        headers=None,
        content_type="text/html; charset=gbk",
    )
    carried = [attachment(1, PDF_URL, None, carried=PDF, download_error="HTTP 503")]
    _store(
        engine,
        sjzy_run,
        REPORT,
        BODY_B,
        T0 + timedelta(days=1),
        headers=SERVED,
        attachments=carried,
    )
    _store(engine, sjzy_run, REPORT, BODY_A, T0 + timedelta(days=2, microseconds=1), headers=SERVED)
    gov = ensure_source(engine, "xuancheng-gov", config_json={"base_url": "https://www"})
    gov_run = (gov, start_run(engine, gov, now=T0))
    _store(
        engine,
        gov_run,
        OTHER,
        BODY_B,
        T0 + timedelta(days=3),
        headers=[["Content-Type", "text/html"]],
        status=203,
    )
    with engine.connect() as conn:
        rows = conn.execute(select(PageVersion.id, PageVersion.fetched_at)).all()
    return Built({row.id: row.fetched_at for row in rows})


def read_warc(path: Path) -> list[Any]:
    """Every record of a WARC file, with its body read (content_stream: decoded as served)."""
    records = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            record.body = record.content_stream().read()
            records.append(record)
    return records


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run `warcio check -v` on ``path`` with the warcio installed beside this Python."""
    script = Path(sys.executable).with_name("warcio")
    return subprocess.run(
        [str(script), "check", "-v", str(path)], capture_output=True, text=True, check=False
    )


def warc_files(out: Path) -> list[Path]:
    return sorted(out.glob("govarchive-*.warc.gz"))


def test_records_dates_headers_bodies_and_digests(engine: Engine, tmp_path: Path) -> None:
    built = build(engine)
    out = tmp_path / "warc"
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    result = export_warc(engine, out, command="govarchive export --format warc", now=now)

    [path] = warc_files(out)
    assert path.name == "govarchive-20260102030405-00000.warc.gz"
    records = read_warc(path)
    assert [r.rec_type for r in records] == ["warcinfo"] + ["response"] * 6
    info = records[0]
    assert info.rec_headers.get_header("WARC-Filename") == path.name
    assert info.rec_headers.protocol == "WARC/1.1"
    fields = info.body.decode("utf-8")
    assert "format: WARC File Format 1.1\r\n" in fields
    assert f"schema-revision: {head_revision()}\r\n" in fields
    assert "command: govarchive export --format warc\r\n" in fields
    configs = [
        json.loads(line.split(": ", 1)[1])
        for line in fields.splitlines()
        if line.startswith("source-config: ")
    ]
    assert configs == [
        {"config": {"base_url": "https://www"}, "name": "xuancheng-gov"},
        {"config": {"base_url": "https://sjzy"}, "name": "xuancheng-sjzy"},
    ]

    versions = records[1:6]
    assert [r.rec_headers.get_header("WARC-Target-URI") for r in versions] == [
        REPORT,
        NOTICE,
        REPORT,
        REPORT,
        OTHER,
    ]
    ids = [int(r.rec_headers.get_header("WARC-Govarchive-Version-Id")) for r in versions]
    assert [r.rec_headers.get_header("WARC-Date") for r in versions] == [
        warc_date(built.dates[i]) for i in ids
    ]
    assert versions[0].rec_headers.get_header("WARC-Date") == "2024-03-01T02:00:00.123456Z"
    assert versions[3].rec_headers.get_header("WARC-Date") == "2024-03-03T02:00:00.123457Z"
    assert [r.body for r in versions] == [BODY_A, NOTICE_BODY, BODY_B, BODY_A, BODY_B]
    for record in versions:
        content_hash = record.rec_headers.get_header("WARC-Govarchive-Content-Hash")
        assert content_hash == hashlib.sha256(record.body).hexdigest()
        assert record.rec_headers.get_header("WARC-Block-Digest").startswith("sha1:")
        assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")

    served = versions[0].http_headers
    assert served.statusline == "200 OK"
    assert served.headers == [
        ("Server", "nginx"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("X-Archive-Orig-Content-Encoding", "gzip"),
        ("X-Archive-Orig-Transfer-Encoding", "chunked"),
        ("X-Archive-Orig-content-length", "17"),  # the name as the server spelt it
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Length", str(len(BODY_A))),
    ]
    assert versions[0].rec_headers.get_header("WARC-Govarchive-Headers") is None
    notice = versions[1]
    assert notice.http_headers.statusline == "200 OK"
    assert notice.http_headers.headers == [
        ("Content-Type", "text/html; charset=gbk"),
        ("Content-Length", str(len(NOTICE_BODY))),
    ]
    assert notice.rec_headers.get_header("WARC-Govarchive-Headers") == "synthesized"
    assert versions[4].http_headers.statusline == "203 Non-Authoritative Information"

    [pdf] = records[6:]
    assert pdf.rec_headers.get_header("WARC-Target-URI") == PDF_URL
    assert pdf.rec_headers.get_header("WARC-Date") == "2024-03-01T02:00:01.123463Z"
    assert pdf.body == PDF
    assert pdf.http_headers.get_header("Content-Type") == "application/pdf"
    assert pdf.rec_headers.get_header("WARC-Govarchive-Headers") == "synthesized"
    assert (
        pdf.rec_headers.get_header("WARC-Govarchive-Content-Hash")
        == hashlib.sha256(PDF).hexdigest()
    )

    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["format"] == "warc"
    assert manifest["records"] == {"versions": 5, "attachments": 1, "warcinfo": 1, "total": 7}
    assert (result.versions, result.attachments) == (5, 1)
    [entry] = manifest["files"]
    assert entry["name"] == path.name and entry["bytes"] == path.stat().st_size
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify_manifest(out) == []
    assert not list(out.glob("*.partial"))


def test_rotation_starts_each_file_with_warcinfo(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    out = tmp_path / "warc"

    result = export_warc(engine, out, max_bytes=600)

    paths = warc_files(out)
    assert len(paths) == len(result.files) >= 3
    assert [p.name[-14:] for p in paths] == [f"-{i:05d}.warc.gz" for i in range(len(paths))]
    responses = 0
    for path in paths:
        records = read_warc(path)
        assert records[0].rec_type == "warcinfo"
        assert records[0].rec_headers.get_header("WARC-Filename") == path.name
        assert {r.rec_type for r in records[1:]} == {"response"}
        responses += len(records) - 1
        assert warcio_check(path).returncode == 0
    assert responses == 6
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [e["name"] for e in manifest["files"]] == [p.name for p in paths]
    for entry, path in zip(manifest["files"], paths, strict=True):
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
    assert sum(e["records"] for e in manifest["files"]) == 6


def test_since_and_source_filters(engine: Engine, tmp_path: Path) -> None:
    build(engine)

    export_warc(engine, tmp_path / "since", filters=ExportFilters(since=T0 + timedelta(hours=1)))
    export_warc(engine, tmp_path / "gov", filters=ExportFilters(sources=("xuancheng-gov",)))

    [since] = warc_files(tmp_path / "since")
    # B and the second A of the report, OTHER; the PDF only v1 (before --since) downloaded,
    # but v2 (selected) names it too: its bytes come with it
    uris = [r.rec_headers.get_header("WARC-Target-URI") for r in read_warc(since)[1:]]
    assert uris == [REPORT, REPORT, OTHER, PDF_URL]
    [gov] = warc_files(tmp_path / "gov")
    records = read_warc(gov)
    assert [r.rec_headers.get_header("WARC-Target-URI") for r in records[1:]] == [OTHER]
    assert "xuancheng-sjzy" not in records[0].body.decode("utf-8")


def test_refuses_an_earlier_export_unless_overwrite(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    out = tmp_path / "warc"
    first = export_warc(engine, out, now=T0)
    with pytest.raises(ExportError, match="already holds"):
        export_warc(engine, out)

    again = export_warc(engine, out, overwrite=True, now=T0 + timedelta(days=1))

    assert again.removed == (first.files[0].name,)
    assert [p.name for p in warc_files(out)] == [again.files[0].name]


def test_http_headers_without_a_status_phrase_and_without_content_type() -> None:
    head, synthesized = http_headers(299, [["X-A", "1"]], content_type=None, length=3)
    assert (head.statusline, head.headers, synthesized) == (
        "299",
        [("X-A", "1"), ("Content-Length", "3")],
        False,
    )
    head, synthesized = http_headers(None, None, content_type=None, length=0)
    assert (head.statusline, head.headers, synthesized) == (
        "200 OK",
        [("Content-Length", "0")],
        True,
    )


def test_cli_export_warc(database_url: str, engine: Engine, tmp_path: Path) -> None:
    build(engine)
    out = tmp_path / "cli"
    args = ["export", "--database", database_url, "--format", "warc", "--out", str(out)]

    result = CliRunner().invoke(
        cli, [*args, "--source", "xuancheng-sjzy", "--warc-max-bytes", "700"]
    )

    assert result.exit_code == 0, result.output
    assert "4 versions and 1 attachment files" in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert len(manifest["files"]) >= 2
    assert "--format warc --source xuancheng-sjzy" in manifest["command"]
    assert "--tz" not in manifest["command"]
    assert manifest["command"].endswith("--warc-max-bytes 700")
    assert manifest["generator"].startswith("govarchive ")


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--what", "versions"], "--what"),
        (["--tz", "UTC", "--bom"], "--tz, --bom"),
        (["--excel"], "--excel"),
        (["--attachment-files"], "--attachment-files"),
    ],
)
def test_cli_refuses_dataset_options_with_warc(
    tmp_path: Path, extra: list[str], named: str
) -> None:
    db = f"sqlite:///{tmp_path / 'none.db'}"
    args = ["export", "--database", db, "--format", "warc", "--out", str(tmp_path / "o")]

    result = CliRunner().invoke(cli, [*args, *extra])

    assert result.exit_code == 2
    assert f"{named} cannot be used with --format warc" in result.output
    assert not (tmp_path / "o").exists()


def test_cli_still_needs_what_and_refuses_warc_max_bytes_for_datasets(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'none.db'}"
    args = ["export", "--database", db, "--out", str(tmp_path / "o")]
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code == 2 and "--what" in missing.output
    sized = CliRunner().invoke(cli, [*args, "--what", "versions", "--warc-max-bytes", "9"])
    assert sized.exit_code == 2 and "--warc-max-bytes applies to --format warc" in sized.output


def test_a_crawl_of_the_local_site_exports_its_served_headers(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    corpus = fixture_pages()
    docs.serve(1, docs.bodies[1], content_type=corpus[1][1], gzip=True)
    docs.serve(2, docs.bodies[2], content_type=corpus[2][1], chunked=True)
    asyncio.run(crawl(docs.config(database_url), engine))
    out = tmp_path / "crawl"

    result = export_warc(engine, out)

    [path] = warc_files(out)
    responses = read_warc(path)[1:]
    assert result.versions == len(responses) == 4
    by_url = {r.rec_headers.get_header("WARC-Target-URI"): r for r in responses}
    assert set(by_url) == {docs.doc_url(i) for i in range(4)}
    for i in range(4):
        record = by_url[docs.doc_url(i)]
        assert record.body == docs.bodies[i]  # as served, decoded
        assert record.http_headers.statusline == "200 OK"
        assert record.rec_headers.get_header("WARC-Govarchive-Headers") is None
        assert record.http_headers.get_header("Content-Length") == str(len(docs.bodies[i]))
        assert record.http_headers.get_header("Content-Encoding") is None
        assert record.http_headers.get_header("Transfer-Encoding") is None
    gzipped = by_url[docs.doc_url(1)].http_headers
    assert gzipped.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert gzipped.get_header("X-Archive-Orig-Content-Length") is not None
    chunked = by_url[docs.doc_url(2)].http_headers
    assert chunked.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_damaged_blob_fails_the_export_and_leaves_no_file(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    damaged = hashlib.sha256(NOTICE_BODY).hexdigest()
    with engine.begin() as conn:
        conn.execute(update(Blob).where(Blob.hash == damaged).values(data=b"not zstd"))
    out = tmp_path / "warc"

    with pytest.raises(BlobError, match=f"{NOTICE} version 1"):
        export_warc(engine, out, max_bytes=600)

    assert not out.exists()  # its partial files, then the folder it created, removed


def test_an_empty_selection_is_one_file_with_its_warcinfo(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    out = tmp_path / "none"
    args = ["export", "--database", database_url, "--format", "warc", "--out", str(out)]

    result = CliRunner().invoke(cli, [*args, "--since", "2030-01-01"])

    assert result.exit_code == 0, result.output
    assert "warning: no versions were exported" in result.output
    [path] = warc_files(out)
    assert [r.rec_type for r in read_warc(path)] == ["warcinfo"]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["records"] == {"versions": 0, "attachments": 0, "warcinfo": 1, "total": 1}
    assert manifest["filters"]["since"] == "2030-01-01T00:00:00+00:00"
