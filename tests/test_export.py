"""storage.export and `govarchive export`: round trips, manifest, filters, formats."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Date, Engine, MetaData, Table, func, select, text, update

from scraper.cli import cli
from storage import export as export_module
from storage.export import (
    DATASETS,
    FIRST_COLUMNS,
    LATEST_LEAVES_OUT,
    ExportError,
    ExportFilters,
    column_kind,
    export,
    file_sha256,
    verify_manifest,
)
from storage.migrate import head_revision
from storage.models import (
    ATTACHMENTS,
    BLOBS,
    CANONICAL_FIELDS,
    FETCHES,
    PAGE_VERSIONS,
    PAGES,
    SOURCES,
    TASK_SECTIONS,
    Fetch,
    PageVersion,
    TaskSection,
)
from tests.research_archive import NOTICE_URL, OTHER_URL, REPORT_URL, T0, build


def read_rows(path: Path, fmt: str) -> list[dict[str, Any]]:
    """Read an exported file back as dicts of text/JSON values."""
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]


def db_count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_round_trip_rows_and_manifest(engine: Engine, tmp_path: Path, fmt: str) -> None:
    build(engine)
    out = tmp_path / "dataset"
    result = export(
        engine,
        out,
        datasets=list(DATASETS),
        fmt=fmt,  # type: ignore[arg-type]
        command="govarchive export --what all",
        batch_size=3,
    )

    # rows in = rows out, for every dataset
    versions = read_rows(out / f"versions.{fmt}", fmt)
    sections = read_rows(out / f"sections.{fmt}", fmt)
    fetches = read_rows(out / f"fetches.{fmt}", fmt)
    latest = read_rows(out / f"latest.{fmt}", fmt)
    assert len(versions) == db_count(engine, PageVersion) == 6
    assert len(sections) == db_count(engine, TaskSection) == 8
    assert len(fetches) == db_count(engine, Fetch) == 8
    assert len(latest) == 3

    # values survive: Chinese text, newlines inside a field, dates, JSON, NULLs
    with engine.connect() as conn:
        stored = {
            r.id: r
            for r in conn.execute(
                select(
                    PageVersion.id,
                    PageVersion.content_hash,
                    PageVersion.body_text,
                    PageVersion.published_date,
                    PageVersion.metadata_extra,
                )
            )
        }
    for row in versions:
        db = stored[int(row["version_id"])]
        assert row["content_hash"] == db.content_hash
        assert row["body_text"] == db.body_text
        published = row["published_date"]
        assert str(published) == db.published_date.isoformat()
    report = next(r for r in latest if r["url"] == REPORT_URL)
    assert int(report["version"]) == 3
    assert report["title"] == "2021年度三季度政府工作报告任务进展情况（更新）"
    assert "\n" in report["body_text"]
    assert report["doc_number"] in ("", None)
    statuses = sorted(
        (int(s["version"]), int(s["number"]), s["status"])
        for s in sections
        if s["url"] == REPORT_URL
    )
    assert statuses == [
        (1, 1, "持续推进。"),
        (1, 2, "滞后。"),
        (2, 1, "已完成。"),
        (2, 2, "滞后。"),
        (3, 1, "已完成。"),
        (3, 3, "持续推进。"),
    ]
    extra = next(s["extra"] for s in sections if s["number"] in (1, "1"))
    assert (json.loads(extra) if isinstance(extra, str) else extra) == {"责任单位": "市数据资源局"}
    assert sorted(f["outcome"] for f in fetches).count("error") == 1

    # the manifest: hashes match the files, counts, revision, parser versions, range
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest == result.manifest
    assert verify_manifest(out) == []
    for entry in manifest["files"]:
        assert entry["sha256"] == file_sha256(out / entry["name"])
        assert entry["bytes"] == (out / entry["name"]).stat().st_size
    assert manifest["rows"] == {
        "latest": 3,
        "versions": 6,
        "sections": 8,
        "fetches": 8,
        "attachments": 0,  # this archive's pages link none (tests/test_export_attachments.py)
    }
    assert manifest["schema_revision"] == head_revision()
    assert manifest["parser_versions"] == ["1"]
    assert manifest["command"] == "govarchive export --what all"
    assert manifest["time_range"]["min"] == "2024-03-01T02:01:00+00:00"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{d}.{fmt}" for d in DATASETS] + ["manifest.json"]
    )


def test_manifest_detects_a_changed_file(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    export(engine, tmp_path, datasets=["versions"], fmt="csv")
    path = tmp_path / "versions.csv"
    path.write_bytes(path.read_bytes().replace("持续推进".encode(), "已完成".encode(), 1))
    assert verify_manifest(tmp_path) == ["versions.csv: SHA-256 differs from the manifest"]


def test_filters_source_and_time(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    # the report's second version was fetched about 90 days after T0
    until = datetime(2024, 6, 15, tzinfo=UTC)
    filters = ExportFilters(sources=("xuancheng-sjzy",), until=until)
    export(
        engine, tmp_path, datasets=["latest", "versions", "fetches"], fmt="jsonl", filters=filters
    )
    latest = read_rows(tmp_path / "latest.jsonl", "jsonl")
    # as of `until`, the report was at version 2; the other source is left out
    assert {(r["url"], r["version"]) for r in latest} == {
        (REPORT_URL, 2),
        ("https://sjzy.xuancheng.gov.cn/OpennessContent/show/2150002.html", 1),
    }
    versions = read_rows(tmp_path / "versions.jsonl", "jsonl")
    assert sorted(r["version"] for r in versions if r["url"] == REPORT_URL) == [1, 2]
    assert all(r["url"] != OTHER_URL for r in versions)
    assert all(r["fetched_at"] < "2024-06-15" for r in versions)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["filters"]["sources"] == ["xuancheng-sjzy"]
    assert manifest["filters"]["until_exclusive"] == "2024-06-15T00:00:00+00:00"

    since_dir = tmp_path / "since"
    export(
        engine,
        since_dir,
        datasets=["versions"],
        fmt="csv",
        filters=ExportFilters(since=datetime(2024, 8, 1, tzinfo=UTC)),
    )
    rows = read_rows(since_dir / "versions.csv", "csv")
    assert sorted((r["url"], r["version"]) for r in rows) == [
        (REPORT_URL, "3"),
        (OTHER_URL, "1"),
        (OTHER_URL, "2"),
    ]


def test_filters_by_published_date(engine: Engine, tmp_path: Path) -> None:
    """The report and the notice were published 2021-10-11, the other page 2023-05-09,
    whenever they were fetched (2024): the published-date bounds select by the former."""
    build(engine)
    filters = ExportFilters(published_since=date(2021, 10, 11), published_until=date(2021, 10, 11))
    export(
        engine,
        tmp_path,
        datasets=["latest", "versions", "sections"],
        fmt="jsonl",
        filters=filters,
    )
    latest = read_rows(tmp_path / "latest.jsonl", "jsonl")
    assert sorted(r["url"] for r in latest) == sorted([REPORT_URL, NOTICE_URL])
    versions = read_rows(tmp_path / "versions.jsonl", "jsonl")
    assert sorted((r["url"], r["version"]) for r in versions) == [
        (REPORT_URL, 1),
        (REPORT_URL, 2),
        (REPORT_URL, 3),
        (NOTICE_URL, 1),
    ]
    sections = read_rows(tmp_path / "sections.jsonl", "jsonl")
    assert sections and {r["url"] for r in sections} == {REPORT_URL}
    assert {r["published_date"] for r in sections} == {"2021-10-11"}
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["filters"]["published_since"] == "2021-10-11"
    assert manifest["filters"]["published_until"] == "2021-10-11"

    later = tmp_path / "later"
    export(
        engine,
        later,
        datasets=["latest", "versions"],
        fmt="csv",
        filters=ExportFilters(published_since=date(2022, 1, 1)),
    )
    assert [r["url"] for r in read_rows(later / "latest.csv", "csv")] == [OTHER_URL]
    assert len(read_rows(later / "versions.csv", "csv")) == 2
    manifest = json.loads((later / "manifest.json").read_text("utf-8"))
    assert manifest["filters"]["published_until"] is None


def test_latest_is_filtered_on_the_newest_versions_published_date(
    engine: Engine, tmp_path: Path
) -> None:
    """A page whose newest version moved its published date out of the window is not in
    ``latest``, though an older version of it would match."""
    build(engine)
    with engine.begin() as conn:
        newest = select(func.max(PageVersion.id)).where(PageVersion.page_id == 1)
        conn.execute(
            update(PageVersion)
            .where(PageVersion.id == newest.scalar_subquery())
            .values(published_date=date(2021, 12, 1))
        )
    filters = ExportFilters(published_until=date(2021, 10, 31))
    export(engine, tmp_path, datasets=["latest", "versions"], fmt="csv", filters=filters)
    assert [r["url"] for r in read_rows(tmp_path / "latest.csv", "csv")] == [NOTICE_URL]
    versions = read_rows(tmp_path / "versions.csv", "csv")
    assert sorted((r["url"], r["version"]) for r in versions) == [
        (REPORT_URL, "1"),
        (REPORT_URL, "2"),
        (NOTICE_URL, "1"),
    ]


def test_published_date_filters_refuse_fetches(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    with pytest.raises(ExportError, match=r"fetches have no published date"):
        export(
            engine,
            tmp_path / "out",
            datasets=["versions", "fetches"],
            fmt="csv",
            filters=ExportFilters(published_since=date(2021, 1, 1)),
        )
    assert not (tmp_path / "out").exists()


def test_sections_carry_the_reports_title_publisher_and_date(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    export(engine, tmp_path, datasets=["sections"], fmt="parquet")
    rows = read_rows(tmp_path / "sections.parquet", "parquet")
    other = [r for r in rows if r["url"] == OTHER_URL]
    assert {r["report_title"] for r in other} == {"2023年市政府工作报告目标任务进展情况通报"}
    assert {r["publisher"] for r in other} == {"市数据资源局(市政务服务局)"}
    assert {r["published_date"] for r in other} == {date(2023, 5, 9)}
    assert all(r["title"] != r["report_title"] for r in rows)  # the section's own title stays
    schema = pq.read_schema(tmp_path / "sections.parquet")
    assert str(schema.field("published_date").type) == "date32[day]"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_versions_and_latest_export_the_records_warnings(
    engine: Engine, tmp_path: Path, fmt: str
) -> None:
    build(engine)
    said = ["no 发布日期 label found", "body text is empty"]
    with engine.begin() as conn:
        conn.execute(update(PageVersion).where(PageVersion.page_id == 2).values(warnings=said))
    export(engine, tmp_path, datasets=["latest", "versions"], fmt=fmt)  # type: ignore[arg-type]
    for name in ("latest", "versions"):
        rows = read_rows(tmp_path / f"{name}.{fmt}", fmt)
        got = {r["url"]: r["warnings"] for r in rows}
        if fmt != "jsonl":  # JSON text in CSV and Parquet, nested in JSON Lines
            got = {url: json.loads(value) for url, value in got.items()}
        assert got[NOTICE_URL] == said, name
        assert got[REPORT_URL] == [], name


def test_unknown_source_is_named(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    with pytest.raises(Exception, match=r"no source named 'nope'.*xuancheng-gov, xuancheng-sjzy"):
        export(
            engine,
            tmp_path,
            datasets=["versions"],
            fmt="csv",
            filters=ExportFilters(sources=("nope",)),
        )


def test_streams_in_batches(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    batches: list[tuple[str, int]] = []
    export(
        engine,
        tmp_path,
        datasets=["versions", "sections"],
        fmt="jsonl",
        batch_size=4,
        on_rows=lambda name, n: batches.append((name, n)),
    )
    assert batches == [("versions", 4), ("versions", 2), ("sections", 4), ("sections", 4)]


def test_csv_bom_and_empty_export(engine: Engine, tmp_path: Path) -> None:
    export(engine, tmp_path, datasets=["versions"], fmt="csv", bom=True)
    data = (tmp_path / "versions.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfversion_id,page_id,")
    assert data.count(b"\r\n") == 1  # the header only
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["rows"] == {"versions": 0}
    assert manifest["time_range"] == {"min": None, "max": None}
    assert manifest["csv_bom"] is True


def test_refuses_to_overwrite(engine: Engine, tmp_path: Path) -> None:
    export(engine, tmp_path, datasets=["fetches"], fmt="csv")
    with pytest.raises(ExportError, match=r"already holds fetches\.csv, manifest\.json"):
        export(engine, tmp_path, datasets=["fetches"], fmt="csv")
    export(engine, tmp_path, datasets=["fetches"], fmt="csv", overwrite=True)


def test_parquet_missing_gives_install_hint(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "parquet_available", lambda: False)
    with pytest.raises(ExportError, match=r"pip install 'govarchive\[parquet\]'"):
        export(engine, tmp_path / "out", datasets=["versions"], fmt="parquet")
    assert not (tmp_path / "out").exists()


def test_parquet_types(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    export(engine, tmp_path, datasets=["versions"], fmt="parquet")
    schema = pq.read_schema(tmp_path / "versions.parquet")
    assert str(schema.field("published_date").type) == "date32[day]"
    assert str(schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("version").type) == "int64"
    first = pq.read_table(tmp_path / "versions.parquet").to_pylist()[0]
    assert first["fetched_at"] == T0.replace(minute=1)


def test_cli_export(database_url: str, engine: Engine, tmp_path: Path) -> None:
    build(engine)
    out = tmp_path / "cli"
    args = [
        "export",
        "--database",
        database_url,
        "--format",
        "csv",
        "--what",
        "versions",
        "--what",
        "sections",
        "--source",
        "xuancheng-gov",
        "--since",
        "2024-01-01",
        "--until",
        "2030-12-31",
        "--bom",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["rows"] == {"versions": 2, "sections": 2}
    assert "--what versions --what sections" in manifest["command"]
    assert "password" not in manifest["database"]
    assert "versions.csv" in result.output and "2 rows" in result.output

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2
    assert "already holds" in again.output

    bad = CliRunner().invoke(
        cli,
        [
            "export",
            "--database",
            database_url,
            "--what",
            "versions",
            "--out",
            str(tmp_path / "x"),
            "--since",
            "yesterday",
        ],
    )
    assert bad.exit_code == 2
    assert "yesterday" in bad.output

    unknown = CliRunner().invoke(
        cli,
        [
            "export",
            "--database",
            database_url,
            "--what",
            "versions",
            "--out",
            str(tmp_path / "y"),
            "--source",
            "nope",
        ],
    )
    assert unknown.exit_code == 2
    assert "no source named 'nope'" in unknown.output


def test_cli_export_with_no_rows_warns_and_writes_the_manifest(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    out = tmp_path / "none"
    args = ["export", "--database", database_url, "--what", "latest", "--what", "versions"]
    args += ["--source", "xuancheng-gov", "--published-since", "2021-01-01"]
    args += ["--published-until", "2021-12-31", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {name}.csv has no rows: the filters --source xuancheng-gov, "
        "--published-since 2021-01-01, --published-until 2021-12-31 excluded every row"
        for name in ("latest", "versions")
    ]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["rows"] == {"latest": 0, "versions": 0}
    assert "--published-since 2021-01-01 --published-until 2021-12-31" in manifest["command"]
    assert verify_manifest(out) == []

    some = ["export", "--database", database_url, "--what", "latest", "--source"]
    some += ["xuancheng-gov", "--published-since", "2023-01-01", "--out", str(tmp_path / "s")]
    found = CliRunner().invoke(cli, some)
    assert found.exit_code == 0, found.output
    assert found.stderr == ""

    fetches = CliRunner().invoke(
        cli,
        [
            "export",
            "--database",
            database_url,
            "--what",
            "fetches",
            "--published-since",
            "2021-01-01",
            "--out",
            str(tmp_path / "f"),
        ],
    )
    assert fetches.exit_code == 2
    assert "fetches have no published date" in fetches.output


# -- columns: read from the models, existing order kept, new ones last ------------------

#: The headers the files had before their columns were read from the models (schema
#: revision 0003). Researchers' scripts read them by position: these must stay the first
#: columns of each file, in this order, whatever columns the models gain.
PUBLISHED_HEADERS: dict[str, list[str]] = {
    "latest": [
        "page_id",
        "source_id",
        "source_name",
        "url",
        "first_seen_at",
        "last_fetched_at",
        "last_changed_at",
        "gone_at",
        "version_id",
        "version",
        "fetched_at",
        "content_hash",
        "raw_hash",
        "title",
        "index_no",
        "category",
        "publisher",
        "topic",
        "doc_number",
        "published_date",
        "published_at",
        "written_date",
        "effective_date",
        "expiry_date",
        "validity",
        "info_source",
        "keywords",
        "summary",
        "metadata_extra",
        "body_text",
        "encoding",
        "parser_version",
        "warnings",
    ],
    "versions": [
        "version_id",
        "page_id",
        "source_name",
        "url",
        "version",
        "fetched_at",
        "content_hash",
        "raw_hash",
        "content_type",
        "title",
        "index_no",
        "category",
        "publisher",
        "topic",
        "doc_number",
        "published_date",
        "published_at",
        "written_date",
        "effective_date",
        "expiry_date",
        "validity",
        "info_source",
        "keywords",
        "summary",
        "metadata_extra",
        "body_text",
        "encoding",
        "encoding_source",
        "parser_version",
        "warnings",
    ],
    "sections": [
        "section_id",
        "version_id",
        "page_id",
        "source_name",
        "url",
        "version",
        "fetched_at",
        "number",
        "title",
        "status",
        "progress",
        "problems",
        "next_steps",
        "extra",
        "parser_version",
    ],
    "fetches": [
        "fetch_id",
        "crawl_run_id",
        "source_name",
        "page_id",
        "url",
        "requested_at",
        "http_status",
        "outcome",
        "error",
        "elapsed_ms",
        "bytes",
        "raw_hash",
        "version_id",
    ],
    # since revision 0005
    "attachments": [
        "attachment_id",
        "version_id",
        "page_id",
        "source_name",
        "page_url",
        "version",
        "version_fetched_at",
        "title",
        "publisher",
        "published_date",
        "position",
        "url",
        "link_text",
        "filename",
        "kind",
        "content_type",
        "size",
        "sha256",
        "text",
        "extractor",
        "extract_error",
        "download_error",
        "fetched_at",
        "etag",
        "last_modified",
        "parser_version",
    ],
}


def _model_columns(table: Table, key: str, leave_out: tuple[str, ...] = ()) -> set[str]:
    """The names a dataset gives ``table``'s columns: all of them, ``id`` as ``key``."""
    return {key if c.name == "id" else c.name for c in table.columns if c.name not in leave_out}


#: What each file must hold: every column of its models (minus the documented
#: exclusions of ``latest``) and the names of the page and source it belongs to.
EXPECTED_COLUMNS: dict[str, set[str]] = {
    "latest": _model_columns(PAGES, "page_id", LATEST_LEAVES_OUT["pages"])
    | _model_columns(PAGE_VERSIONS, "version_id", LATEST_LEAVES_OUT["page_versions"])
    | {"source_name", "citation"},
    "versions": _model_columns(PAGE_VERSIONS, "version_id") | {"source_name", "url"},
    "sections": _model_columns(TASK_SECTIONS, "section_id")
    | {"page_id", "source_name", "url", "version", "fetched_at", "parser_version"}
    | {"report_title", "publisher", "published_date"},
    "fetches": _model_columns(FETCHES, "fetch_id") | {"source_name"},
    "attachments": _model_columns(ATTACHMENTS, "attachment_id")
    | {
        "page_id",
        "source_name",
        "page_url",
        "version",
        "version_fetched_at",
        "title",
        "publisher",
        "published_date",
        "parser_version",
    },
}


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_every_model_column_is_exported(engine: Engine, tmp_path: Path) -> None:
    """A column added to a model is in the export without anyone listing it again."""
    build(engine)
    export(engine, tmp_path, datasets=list(DATASETS), fmt="csv")
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        header = _csv_header(tmp_path / entry["name"])
        assert entry["columns"] == header
        assert len(header) == len(set(header)), header
        assert set(header) == EXPECTED_COLUMNS[entry["dataset"]], entry["dataset"]
        if entry["dataset"] in ("latest", "versions"):  # every metadata field is there
            assert set(CANONICAL_FIELDS) <= set(header)


def test_existing_columns_keep_their_place_and_new_ones_come_last(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    export(engine, tmp_path, datasets=list(DATASETS), fmt="csv")
    for name, published in PUBLISHED_HEADERS.items():
        header = _csv_header(tmp_path / f"{name}.csv")
        assert header[: len(published)] == published, name
    # fetches gained the columns revisions 0003 and 0005 added to the table, after the old ones
    assert _csv_header(tmp_path / "fetches.csv")[len(PUBLISHED_HEADERS["fetches"]) :] == [
        "final_url",
        "content_hash",
        "attachment",
    ]
    assert [list(FIRST_COLUMNS[name]) for name in DATASETS] == [
        PUBLISHED_HEADERS[name] for name in DATASETS
    ]


def test_fetches_export_final_url_and_content_hash(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    with engine.begin() as conn:
        first = conn.execute(select(Fetch.id).order_by(Fetch.id).limit(1)).scalar_one()
        conn.execute(
            update(Fetch)
            .where(Fetch.id == first)
            .values(final_url="https://example.gov.cn/moved.html", content_hash="ab" * 32)
        )
    export(engine, tmp_path, datasets=["fetches"], fmt="jsonl")
    row = next(r for r in read_rows(tmp_path / "fetches.jsonl", "jsonl") if r["fetch_id"] == first)
    assert row["final_url"] == "https://example.gov.cn/moved.html"
    assert row["content_hash"] == "ab" * 32


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_fetches_export_the_boolean_attachment_column(
    engine: Engine, tmp_path: Path, fmt: str
) -> None:
    """A boolean column is written as a boolean in every format: true/false in CSV, JSON
    booleans, a Parquet bool column."""
    build(engine)
    with engine.begin() as conn:
        first = conn.execute(select(Fetch.id).order_by(Fetch.id).limit(1)).scalar_one()
        conn.execute(update(Fetch).where(Fetch.id == first).values(attachment=True))
    export(engine, tmp_path, datasets=["fetches"], fmt=fmt)  # type: ignore[arg-type]
    rows = read_rows(tmp_path / f"fetches.{fmt}", fmt)
    flags = {int(r["fetch_id"]): r["attachment"] for r in rows}
    expected: dict[str, tuple[Any, Any]] = {
        "csv": ("true", "false"),
        "jsonl": (True, False),
        "parquet": (True, False),
    }
    yes, no = expected[fmt]
    assert flags.pop(first) == yes
    assert flags and set(flags.values()) == {no}
    assert {type(v) for v in flags.values()} == {type(no)}  # a bool, not 0/1
    if fmt == "parquet":
        assert str(pq.read_schema(tmp_path / "fetches.parquet").field("attachment").type) == "bool"
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["files"][0]["columns"][-1] == "attachment"


def test_latest_has_the_columns_of_the_latest_versions_view(engine: Engine) -> None:
    """The view (made by the migrations) and the export agree: a migration adding a field
    recreates the view with it last, as the export puts it."""
    with engine.connect() as conn:
        view = list(conn.execute(text("SELECT * FROM latest_versions")).keys())
    assert [*view, "citation"] == [name for name, _ in DATASETS["latest"].columns]


def test_a_column_a_model_gains_is_exported_last_with_its_kind() -> None:
    """What adding a metadata field does to the versions export, on a copy of the table."""
    table = PAGE_VERSIONS.to_metadata(MetaData())
    table.append_column(Column("signed_date", Date, nullable=True))
    columns = [
        *export_module._table_columns(table, key="version_id"),
        SOURCES.c.name.label("source_name"),
        PAGES.c.url.label("url"),
    ]
    ordered = export_module._ordered("versions", columns)
    names = [column.name for column in ordered]
    assert names[: len(PUBLISHED_HEADERS["versions"])] == PUBLISHED_HEADERS["versions"]
    assert names[-1] == "signed_date"
    assert column_kind(ordered[-1]) == "date"


def test_a_column_no_format_can_hold_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"blobs\.data"):
        column_kind(BLOBS.c.data)


def test_querying_doc_names_what_latest_leaves_out() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "querying.md").read_text("utf-8")
    for table, names in LATEST_LEAVES_OUT.items():
        for name in names:
            assert f"`{table}.{name}`" in doc, name


# -- time zones: --tz and --excel ---------------------------------------------------------


def _cli_export(database_url: str, out: Path, *extra: str) -> Any:
    args = ["export", "--database", database_url, "--what", "versions", "--out", str(out)]
    return CliRunner().invoke(cli, [*args, *extra])


def test_cli_writes_times_in_shanghai_by_default_and_in_the_zone_asked(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    # the first version was fetched at T0 + 1 min: 2024-03-01 02:01 UTC, 10:01 in Shanghai
    assert _cli_export(database_url, tmp_path / "sh").exit_code == 0
    first = read_rows(tmp_path / "sh" / "versions.csv", "csv")[0]
    assert first["fetched_at"] == "2024-03-01T10:01:00+08:00"
    manifest = json.loads((tmp_path / "sh" / "manifest.json").read_text("utf-8"))
    assert (manifest["time_zone"], manifest["time_format"]) == ("Asia/Shanghai", "iso8601")
    assert "--tz Asia/Shanghai" in manifest["command"]
    # the manifest's own times stay UTC
    assert manifest["time_range"]["min"] == "2024-03-01T02:01:00+00:00"

    assert (
        _cli_export(database_url, tmp_path / "utc", "--tz", "UTC", "--format", "jsonl").exit_code
        == 0
    )
    first = read_rows(tmp_path / "utc" / "versions.jsonl", "jsonl")[0]
    assert first["fetched_at"] == "2024-03-01T02:01:00+00:00"

    result = _cli_export(database_url, tmp_path / "pq", "--format", "parquet")
    assert result.exit_code == 0, result.output
    first = read_rows(tmp_path / "pq" / "versions.parquet", "parquet")[0]
    assert first["fetched_at"] == T0.replace(minute=1)
    schema = pq.read_schema(tmp_path / "pq" / "versions.parquet")
    assert str(schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    manifest = json.loads((tmp_path / "pq" / "manifest.json").read_text("utf-8"))
    assert manifest["time_zone"] == "UTC"


def test_cli_excel_preset(database_url: str, engine: Engine, tmp_path: Path) -> None:
    build(engine)
    result = _cli_export(database_url, tmp_path / "x", "--excel", "--tz", "Asia/Urumqi")
    assert result.exit_code == 0, result.output
    data = (tmp_path / "x" / "versions.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfversion_id,")
    first = read_rows(tmp_path / "x" / "versions.csv", "csv")[0]
    assert first["fetched_at"] == "2024-03-01 08:01:00"  # UTC+6, no offset written
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text("utf-8"))
    assert (manifest["time_zone"], manifest["time_format"]) == ("Asia/Urumqi", "excel")
    assert manifest["csv_bom"] is True
    assert "--tz Asia/Urumqi --excel" in manifest["command"]


def test_cli_refuses_an_unknown_zone_and_excel_with_another_format(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    bad = _cli_export(database_url, tmp_path / "a", "--tz", "Mars/Olympus")
    assert bad.exit_code == 2
    assert "--tz 'Mars/Olympus' is not a time zone" in bad.output
    excel = _cli_export(database_url, tmp_path / "b", "--excel", "--format", "jsonl")
    assert excel.exit_code == 2
    assert "--excel writes CSV" in excel.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
