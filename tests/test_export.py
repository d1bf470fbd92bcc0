"""storage.export and `govarchive export`: round trips, manifest, filters, formats."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from scraper.cli import cli
from storage import export as export_module
from storage.export import (
    DATASETS,
    ExportError,
    ExportFilters,
    export,
    file_sha256,
    verify_manifest,
)
from storage.migrate import head_revision
from storage.models import Fetch, PageVersion, TaskSection
from tests.research_archive import OTHER_URL, REPORT_URL, T0, build


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
    assert manifest["rows"] == {"latest": 3, "versions": 6, "sections": 8, "fetches": 8}
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
