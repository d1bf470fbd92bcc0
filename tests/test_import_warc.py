"""``import-warc`` end to end: WARC files of the local disclosure site (written by wget and
by warcio's writer) imported into SQLite and PostgreSQL archives, alone and merged with
crawled history."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from warcio.archiveiterator import ArchiveIterator

from scraper.cli import cli
from scraper.config import SourceConfig
from scraper.crawling.parsepool import ParserPool
from scraper.crawling.pipeline import crawl
from scraper.warc.importer import ImportReport, import_warc
from storage.models import PAGE_VERSIONS, PAGES, WARC_CAPTURES
from tests.crawl_site import LIST_PATH, DisclosureSite, rows, scalar
from tests.site.server import TestSite
from tests.warc_files import Rec, write_warc

OLD = datetime(2023, 3, 1, 2, 30, 15, 123456, tzinfo=UTC)


def run_import(
    engine: Engine, source: SourceConfig, *paths: Path, url_pattern: str | None = None
) -> ImportReport:
    with ParserPool(1, 30.0) as pool:
        return asyncio.run(
            import_warc(
                engine,
                source,
                list(paths),
                pool,
                url_pattern=re.compile(url_pattern) if url_pattern else None,
            )
        )


def list_page(docs: DisclosureSite, n: int = 1) -> str:
    return docs.site.url(LIST_PATH.format(n=n))


def list_body(docs: DisclosureSite) -> bytes:
    """The first list page as the local site serves it."""
    return httpx.get(list_page(docs)).content


def site_warc(docs: DisclosureSite, path: Path, at: datetime, **changed: bytes) -> Path:
    """The site's list page and documents as captured at ``at`` (a second apart), with
    ``changed`` bodies (by document number as a string) instead of the served ones."""
    records = [Rec(list_page(docs), at, list_body(docs))]
    for i in range(docs.count):
        body = changed.get(str(i), docs.bodies[i])
        records.append(Rec(docs.doc_url(i), at + timedelta(seconds=i + 1), body))
    return write_warc(path, records)


def versions_of(engine: Engine, url: str) -> list[tuple[int, datetime, str | None]]:
    v = PAGE_VERSIONS.c
    with engine.connect() as conn:
        found = conn.execute(
            select(v.version, v.fetched_at, v.title)
            .join(PAGES, PAGES.c.id == v.page_id)
            .where(PAGES.c.url == url)
            .order_by(v.version)
        )
        return [(row[0], row[1], row[2]) for row in found]


def test_a_foreign_warc_backfills_every_document_at_its_capture_time(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=4, per_page=4)
    source = docs.config(database_url).sources[0]
    warc = site_warc(docs, tmp_path / "colleague.warc.gz", OLD)

    report = run_import(engine, source, warc)

    assert report.problems == []
    assert (report.page_urls, report.captures, report.new_pages) == (4, 4, 4)
    assert report.outcomes == {"new_version": 4}
    for i in range(4):
        [(version, fetched_at, title)] = versions_of(engine, docs.doc_url(i))
        assert (version, fetched_at) == (1, OLD + timedelta(seconds=i + 1))
        assert title
    # the list page is how pages were found, not a page of the source
    assert scalar(engine, "SELECT COUNT(*) FROM pages") == 4
    with engine.connect() as conn:
        provenance = conn.execute(
            select(WARC_CAPTURES.c.warc_file, WARC_CAPTURES.c.record_id, WARC_CAPTURES.c.outcome)
        ).all()
    assert {(f, o) for f, _, o in provenance} == {("colleague.warc.gz", "new_version")}
    assert all(record_id.startswith("<urn:uuid:") for _, record_id, _ in provenance)


def test_a_second_import_of_the_same_file_changes_nothing(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    source = docs.config(database_url).sources[0]
    warc = site_warc(docs, tmp_path / "a.warc.gz", OLD)
    run_import(engine, source, warc)
    copy = shutil.copy(warc, tmp_path / "copy-of-a.warc.gz")

    again = run_import(engine, source, warc, Path(copy))

    assert (again.captures, again.already, again.outcomes) == (0, 3, {})
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 3
    assert scalar(engine, "SELECT COUNT(*) FROM warc_captures") == 3


def test_captures_before_the_first_crawl_go_before_it(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Crawled today; a WARC from 2023 holds document 0 as it was then (another text) and
    the others as they are: document 0 gets its 2023 version first, the others are the
    same content seen earlier."""
    docs = DisclosureSite(site, count=3, per_page=3)
    config = docs.config(database_url)
    asyncio.run(crawl(config, engine))
    crawled = {i: versions_of(engine, docs.doc_url(i)) for i in range(3)}
    old_body = docs.bodies[0].replace("持续推进".encode(), "已完成".encode())
    assert old_body != docs.bodies[0]
    warc = site_warc(docs, tmp_path / "2023.warc.gz", OLD, **{"0": old_body})

    report = run_import(engine, config.sources[0], warc)

    assert report.outcomes == {"new_version": 1, "earlier": 2}
    assert report.renumbered == 1
    first = versions_of(engine, docs.doc_url(0))
    assert [(v, at) for v, at, _ in first] == [
        (1, OLD + timedelta(seconds=1)),
        (2, crawled[0][0][1]),
    ]
    for i in (1, 2):
        assert [(v, at) for v, at, _ in versions_of(engine, docs.doc_url(i))] == [
            (1, OLD + timedelta(seconds=i + 1))
        ]
    changes = rows(
        engine,
        "SELECT old_status, new_status FROM section_changes sc JOIN pages p"
        " ON p.id = sc.page_id WHERE p.url = :u AND sc.old_version = 1",
        u=docs.doc_url(0),
    )
    assert ("已完成", "持续推进") in changes


def test_revisits_blocks_redirects_and_gone_captures_are_counted_not_archived(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    source = docs.config(database_url).sources[0]
    a, b = docs.doc_url(0), docs.doc_url(1)
    challenge = b"<html><script>var _0x=1;document.cookie='__jsl_clearance=1';</script></html>"
    warc = write_warc(
        tmp_path / "mixed.warc.gz",
        [
            Rec(list_page(docs), OLD, list_body(docs)),
            Rec(a, OLD + timedelta(days=1), docs.bodies[0]),
            Rec(a, OLD + timedelta(days=2), docs.bodies[0], revisit=True),
            Rec(a, OLD + timedelta(days=3), challenge, status=521),
            Rec(b, OLD + timedelta(days=1), b"", status=302, headers=[("Location", "/login")]),
            Rec(b, OLD + timedelta(days=2), b"<html><body>Not Found</body></html>", status=404),
        ],
    )

    report = run_import(engine, source, warc)

    assert report.outcomes == {
        "new_version": 1,
        "unchanged": 1,
        "blocked": 1,
        "redirect": 1,
        "gone": 1,
    }
    assert scalar(engine, "SELECT COUNT(*) FROM page_versions") == 1
    with engine.connect() as conn:
        kinds = conn.execute(
            select(WARC_CAPTURES.c.record_type, WARC_CAPTURES.c.outcome).order_by(
                WARC_CAPTURES.c.captured_at, WARC_CAPTURES.c.url
            )
        ).all()
    assert ("revisit", "unchanged") in [tuple(k) for k in kinds]


def test_a_truncated_file_keeps_the_records_before_the_cut(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    source = docs.config(database_url).sources[0]
    whole = site_warc(docs, tmp_path / "whole.warc.gz", OLD).read_bytes()
    with (tmp_path / "whole.warc.gz").open("rb") as stream:
        starts = [record_start for record_start in _offsets(stream)]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[: starts[-1] + 40])  # the last document's record cut short

    report = run_import(engine, source, cut)

    assert len(report.problems) == 1
    assert report.problems[0].path == cut
    assert report.problems[0].offset == starts[-1]
    assert report.outcomes == {"new_version": 2}
    # the whole file later: only the record that was cut is new
    cut.write_bytes(whole)
    again = run_import(engine, source, cut)
    assert (again.already, again.outcomes, again.problems) == (2, {"new_version": 1}, [])


def _offsets(stream: object) -> list[int]:
    iterator = ArchiveIterator(stream)
    found = []
    for _record in iterator:
        found.append(iterator.get_record_offset())
    return found


def test_url_pattern_picks_the_pages_without_walking_lists(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    source = docs.config(database_url).sources[0]
    # no list page in this file: only the pattern can find the documents
    warc = write_warc(
        tmp_path / "docs.warc",
        [Rec(docs.doc_url(i), OLD, docs.bodies[i]) for i in range(3)],
        gzip=False,
    )
    assert run_import(engine, source, warc).outcomes == {}
    report = run_import(engine, source, warc, url_pattern=r"/show/100[01]\.html$")
    assert report.outcomes == {"new_version": 2}


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_a_wget_warc_of_the_live_site_imports_with_wgets_dates(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    source = docs.config(database_url).sources[0]
    subprocess.run(
        [
            "wget", "--quiet", "--recursive", "--level=1", "--no-verbose",
            "--tries=1", "--timeout=10", "-e", "robots=off", "--directory-prefix",
            str(tmp_path / "mirror"), "--warc-file", str(tmp_path / "wget"),
            list_page(docs),
        ],
        check=False,
        timeout=60,
    )  # fmt: skip
    warc = tmp_path / "wget.warc.gz"
    assert warc.exists()
    with warc.open("rb") as stream:
        dates = {
            r.rec_headers.get_header("WARC-Target-URI"): r.rec_headers.get_header("WARC-Date")
            for r in ArchiveIterator(stream)
            if r.rec_type == "response"
        }

    report = run_import(engine, source, warc)

    assert report.outcomes == {"new_version": 3}
    for i in range(3):
        [(version, fetched_at, _)] = versions_of(engine, docs.doc_url(i))
        wget_date = datetime.fromisoformat(dates[docs.doc_url(i)].replace("Z", "+00:00"))
        assert (version, fetched_at) == (1, wget_date)


def _config_file(docs: DisclosureSite, database_url: str, tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(docs.document(database_url, {"requests_per_second": 1000})),
        encoding="utf-8",
    )
    return path


def test_the_command_reports_and_refuses_what_is_not_a_warc(
    site: TestSite, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config_file(docs, database_url, tmp_path)
    warc = site_warc(docs, tmp_path / "site.warc.gz", OLD)
    runner = CliRunner()

    done = runner.invoke(
        cli, ["import-warc", str(warc), "--source", "local", "--config", str(config)]
    )
    assert done.exit_code == 0, done.output
    assert "2 new_version" in done.output
    assert "2 page URL(s)" in done.output

    not_warc = tmp_path / "notes.txt"
    not_warc.write_text("这不是WARC文件\n", encoding="utf-8")
    refused = runner.invoke(
        cli, ["import-warc", str(not_warc), "--source", "local", "--config", str(config)]
    )
    assert refused.exit_code == 2
    assert "notes.txt" in refused.output

    unknown = runner.invoke(
        cli, ["import-warc", str(warc), "--source", "nope", "--config", str(config)]
    )
    assert unknown.exit_code == 2
    assert "no source named 'nope'" in unknown.output

    bad = runner.invoke(
        cli,
        [
            "import-warc",
            str(warc),
            "--source",
            "local",
            "--config",
            str(config),
            "--url-pattern",
            "(",
        ],
    )
    assert bad.exit_code == 2
    assert "--url-pattern" in bad.output


def test_the_command_exits_1_naming_a_truncated_file(
    site: TestSite, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config_file(docs, database_url, tmp_path)
    whole = site_warc(docs, tmp_path / "site.warc.gz", OLD).read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[:-30])
    result = CliRunner().invoke(
        cli, ["import-warc", str(cut), "--source", "local", "--config", str(config)]
    )
    assert result.exit_code == 1
    assert "cut.warc.gz: unreadable from byte" in result.output


@pytest.mark.timeout(120)
@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_attachments_come_from_the_files_and_hash_as_a_crawl_of_the_site(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """wget's WARC of a site whose pages link a PDF and Word files, imported, gives each
    page the content hash a crawl of the same site gives it: the same files, read alike."""
    from storage.engine import make_engine
    from storage.migrate import ensure_current
    from tests.test_crawl_attachments import AttachmentSite

    files = AttachmentSite(site)
    config = files.config(database_url)
    subprocess.run(
        [
            "wget", "--quiet", "--recursive", "--level=2", "--tries=1", "--timeout=10",
            "-e", "robots=off", "--directory-prefix", str(tmp_path / "mirror"),
            "--warc-file", str(tmp_path / "site"), list_page(files.docs),
        ],
        check=False,
        timeout=60,
    )  # fmt: skip

    report = run_import(engine, config.sources[0], tmp_path / "site.warc.gz")
    assert report.outcomes == {"new_version": 2}

    crawled = make_engine(f"sqlite:///{tmp_path / 'crawled.db'}")
    try:
        ensure_current(crawled, create=True)
        asyncio.run(crawl(config, crawled))
        query = "SELECT p.url, v.content_hash FROM page_versions v JOIN pages p ON p.id = v.page_id"
        assert sorted(rows(engine, query)) == sorted(rows(crawled, query))
        attached = (
            "SELECT a.url, a.sha256, a.kind, a.text IS NOT NULL FROM attachments a"
            " ORDER BY a.version_id, a.position"
        )
        imported = rows(engine, attached)
        assert sorted(imported) == sorted(rows(crawled, attached))
        assert {kind for _, _, kind, _ in imported} == {"pdf", "docx"}
        assert all(has_text for *_, has_text in imported)
    finally:
        crawled.dispose()


def test_an_arc_file_imports_with_its_archive_dates(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The Internet Archive's older ARC format (here gzipped per record), whose records
    carry a 14-digit date and no record id."""
    docs = DisclosureSite(site, count=2, per_page=2)
    source = docs.config(database_url).sources[0]
    meta = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    members = [b"filedesc://ia.arc 0.0.0.0 20190501080000 text/plain %d\n" % len(meta) + meta]
    for i, date in ((0, "20190502081530"), (1, "20190503091500")):
        body = docs.bodies[i]
        block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
        header = f"{docs.doc_url(i)} 10.0.0.1 {date} text/html {len(block)}\n".encode()
        members.append(header + block)
    arc = tmp_path / "ia.arc.gz"
    arc.write_bytes(b"".join(gzip.compress(member + b"\n") for member in members))

    report = run_import(engine, source, arc, url_pattern=r"/show/\d+\.html$")

    assert report.outcomes == {"new_version": 2}
    assert [at for _, at, _ in versions_of(engine, docs.doc_url(0))] == [
        datetime(2019, 5, 2, 8, 15, 30, tzinfo=UTC)
    ]
    again = run_import(engine, source, arc, url_pattern=r"/show/\d+\.html$")
    assert (again.already, again.outcomes) == (2, {})


@pytest.mark.timeout(180)
def test_a_crawl_exported_as_warc_imports_into_an_empty_archive_exactly(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The round trip: two crawls (a page edited, a linked file replaced in between),
    ``export --format warc``, ``import-warc`` into an empty archive: the same versions at
    the same times, the same fields, sections, attachments and content hashes."""
    from storage.engine import make_engine
    from storage.migrate import ensure_current
    from storage.models import ATTACHMENTS, CANONICAL_FIELDS, TASK_SECTIONS
    from storage.warcexport import export_warc
    from tests.documents import pdf_bytes
    from tests.test_crawl_attachments import PDF_PATH, AttachmentSite

    files = AttachmentSite(site)
    config = files.config(database_url)
    asyncio.run(crawl(config, engine))
    files.serve_page(0, note="（2023年3月15日补充说明：第三项任务调整。）")
    files.serve_file(PDF_PATH, pdf_bytes(["Work plan 2023", "revised"]), "application/pdf")
    asyncio.run(crawl(config, engine))
    out = tmp_path / "export"
    export_warc(engine, out)
    warcs = sorted(out.glob("*.warc.gz"))

    v = PAGE_VERSIONS.c
    version_columns = [
        v.version, v.fetched_at, v.content_hash, v.raw_hash, v.content_type, v.http_status,
        v.response_headers, v.metadata_extra, v.body_text, v.encoding, v.encoding_source,
        *(v[name] for name in CANONICAL_FIELDS),
    ]  # fmt: skip

    def archive(of: Engine) -> list[tuple[object, ...]]:
        with of.connect() as conn:
            versions = conn.execute(
                select(PAGES.c.url, *version_columns, v.id)
                .join(PAGES, PAGES.c.id == v.page_id)
                .order_by(PAGES.c.url, v.version)
            ).all()
            found = []
            for row in versions:
                sections = conn.execute(
                    select(TASK_SECTIONS.c.number, TASK_SECTIONS.c.title, TASK_SECTIONS.c.status)
                    .where(TASK_SECTIONS.c.version_id == row.id)
                    .order_by(TASK_SECTIONS.c.number)
                ).all()
                attached = conn.execute(
                    select(ATTACHMENTS.c.position, ATTACHMENTS.c.url, ATTACHMENTS.c.sha256)
                    .where(ATTACHMENTS.c.version_id == row.id)
                    .order_by(ATTACHMENTS.c.position)
                ).all()
                found.append(
                    (*row[:-1], [tuple(s) for s in sections], [tuple(a) for a in attached])
                )
            return found

    copy = make_engine(f"sqlite:///{tmp_path / 'from-warc.db'}")
    try:
        ensure_current(copy, create=True)
        report = run_import(copy, config.sources[0], *warcs)
        original = archive(engine)
        assert report.outcomes == {"new_version": len(original)}
        assert len(original) >= 4  # each page twice: a file replaced, a page edited
        assert archive(copy) == original
    finally:
        copy.dispose()


def test_served_headers_undo_the_exports_rewriting_and_keep_other_tools_as_recorded() -> None:
    from scraper.warc import CaptureRef
    from scraper.warc.importer import served_headers
    from storage.warcexport import http_headers

    stored = [
        ["Server", "nginx"],
        ["content-encoding", "gzip"],
        ["Transfer-Encoding", "chunked"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["Content-Type", "text/html"],
    ]
    head, synthesized = http_headers(200, stored, content_type="text/html", length=1234)
    assert not synthesized
    ref = CaptureRef(
        path=Path("x.warc.gz"), offset=0, record_id="<urn:uuid:1>", kind="response",
        url="http://x/", captured_at=OLD, status=200, payload_digest=None, refers_to=None,
        refers_to_url=None, refers_to_date=None, profile=None, source_name="local",
    )  # fmt: skip
    lines = tuple(head.headers)
    assert served_headers(ref, lines) == tuple((name, value) for name, value in stored)
    other_tool = dataclasses.replace(ref, source_name=None)
    assert served_headers(other_tool, lines) == lines
    made_up = dataclasses.replace(ref, govarchive_headers="synthesized")
    assert served_headers(made_up, lines) is None


def test_history_counts_imported_captures_and_names_their_files(
    site: TestSite, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from storage.history import page_history

    docs = DisclosureSite(site, count=1, per_page=1)
    source = docs.config(database_url).sources[0]
    warc = write_warc(
        tmp_path / "colleague.warc.gz",
        [
            Rec(list_page(docs), OLD, list_body(docs)),
            Rec(docs.doc_url(0), OLD, docs.bodies[0]),
            Rec(docs.doc_url(0), OLD + timedelta(days=9), docs.bodies[0]),
        ],
    )
    run_import(engine, source, warc)
    [entry] = page_history(engine, docs.doc_url(0)).entries
    snapshot = entry.snapshot
    assert (snapshot.fetches, snapshot.captures) == (0, 2)
    assert snapshot.warc_files == ("colleague.warc.gz",)
    assert (snapshot.fetched_at, snapshot.last_seen_at) == (OLD, OLD + timedelta(days=9))
    assert entry.to_dict()["captures"] == 2


def test_the_command_says_how_to_name_pages_when_it_finds_none(
    site: TestSite, database_url: str, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    config = _config_file(docs, database_url, tmp_path)
    warc = write_warc(tmp_path / "docs.warc.gz", [Rec(docs.doc_url(0), OLD, docs.bodies[0])])
    result = CliRunner().invoke(
        cli, ["import-warc", str(warc), "--source", "local", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "0 page URL(s)" in result.output
    assert "--url-pattern REGEX" in result.output
