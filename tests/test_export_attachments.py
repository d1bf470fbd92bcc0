"""`export --what attachments [--attachment-files]`: one row per attachment of the
selected versions, and each distinct file's bytes once, hashed in the manifest."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from scraper.cli import cli
from storage.errors import BlobError
from storage.export import ExportError, ExportFilters, export, file_sha256, verify_manifest
from storage.exportattachments import file_name
from storage.models import Blob
from tests.attachment_archive import (
    A1,
    A2,
    ANQING,
    AQ,
    B1,
    C1,
    D1,
    NOTICE,
    PUBLISHER,
    REPORT,
    TEXT_A2,
    URL_A,
    URL_D,
    build,
)
from tests.test_export import read_rows


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_one_row_per_attachment_with_what_identifies_it(
    engine: Engine, tmp_path: Path, fmt: str
) -> None:
    build(engine)
    result = export(engine, tmp_path, datasets=["attachments"], fmt=fmt)  # type: ignore[arg-type]
    rows = read_rows(tmp_path / f"attachments.{fmt}", fmt)
    assert len(rows) == 3 + 3 + 3 + 1 + 1
    by_place = {(r["page_url"], int(r["version"]), int(r["position"])): r for r in rows}
    a2 = by_place[(REPORT, 2, 1)]
    assert a2["url"] == URL_A
    assert a2["source_name"] == "xuancheng-sjzy"
    assert a2["title"] == "关于印发2023年工作要点的通知"
    assert a2["publisher"] == PUBLISHER
    assert str(a2["published_date"]) == "2023-03-01"
    assert a2["sha256"] == sha(A2)
    assert int(a2["size"]) == len(A2)
    assert a2["kind"] == "pdf"
    assert a2["text"] == TEXT_A2
    assert a2["link_text"] == "附件1：2023年工作要点.pdf"
    never = by_place[(REPORT, 2, 3)]
    assert never["url"] == URL_D
    assert never["sha256"] in ("", None)
    assert never["download_error"] == "HTTP 503"
    carried = by_place[(REPORT, 2, 2)]
    assert carried["sha256"] == sha(B1) and carried["download_error"] == "timeout after 30 s"
    assert {r["parser_version"] for r in rows} == {"1"}
    assert result.manifest["rows"] == {"attachments": 11}
    assert result.manifest["parser_versions"] == ["1"]
    assert "attachment_files" not in result.manifest  # not asked for
    assert not (tmp_path / "attachments").exists()


def test_filters_select_the_versions(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    export(
        engine,
        tmp_path / "anqing",
        datasets=["attachments"],
        fmt="jsonl",
        filters=ExportFilters(sources=("anqing-xxgk",)),
    )
    rows = read_rows(tmp_path / "anqing" / "attachments.jsonl", "jsonl")
    assert [(r["page_url"], r["sha256"]) for r in rows] == [(ANQING, sha(AQ))]

    # the report's version 3 (2023-03-04) and the notice (2023-03-05) only
    window = ExportFilters(
        since=datetime(2023, 3, 4, tzinfo=UTC), until=datetime(2023, 3, 6, tzinfo=UTC)
    )
    export(engine, tmp_path / "window", datasets=["attachments"], fmt="jsonl", filters=window)
    rows = read_rows(tmp_path / "window" / "attachments.jsonl", "jsonl")
    assert sorted((r["page_url"], r["version"]) for r in rows) == [
        (REPORT, 3),
        (REPORT, 3),
        (REPORT, 3),
        (NOTICE, 1),
    ]


def test_files_written_once_each_and_hashed_in_the_manifest(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    result = export(
        engine, tmp_path, datasets=["versions", "attachments"], fmt="csv", attachment_files=True
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest == result.manifest
    entries = manifest["attachment_files"]
    # A2 is named by the report's versions 2 and 3 and by the notice: one file
    expected = {
        f"attachments/{sha(A1)}.pdf": A1,
        f"attachments/{sha(A2)}.pdf": A2,
        f"attachments/{sha(B1)}.docx": B1,
        f"attachments/{sha(C1)}.xls": C1,
        f"attachments/{sha(D1)}.pdf": D1,
        f"attachments/{sha(AQ)}.pdf": AQ,
    }
    assert sorted(e["name"] for e in entries) == sorted(expected)
    for entry in entries:
        path = tmp_path / entry["name"]
        assert path.read_bytes() == expected[entry["name"]]
        assert entry["sha256"] == file_sha256(path) == sha(expected[entry["name"]])
        assert entry["bytes"] == path.stat().st_size
    assert sorted(p.name for p in (tmp_path / "attachments").iterdir()) == sorted(
        name.split("/")[1] for name in expected
    )
    assert [f.to_dict() for f in result.attachment_files] == entries
    assert verify_manifest(tmp_path) == []

    changed = tmp_path / f"attachments/{sha(C1)}.xls"
    changed.write_bytes(b"tampered")
    assert verify_manifest(tmp_path) == [
        f"attachments/{sha(C1)}.xls: SHA-256 differs from the manifest"
    ]


def test_attachment_files_need_the_attachments_dataset(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="add --what attachments"):
        export(engine, tmp_path / "out", datasets=["versions"], fmt="csv", attachment_files=True)
    assert not (tmp_path / "out").exists()


def test_an_earlier_attachments_folder_is_kept_unless_overwrite(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    out = tmp_path / "out"
    (out / "attachments").mkdir(parents=True)
    (out / "attachments" / "mine.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"already holds attachments/"):
        export(engine, out, datasets=["attachments"], fmt="csv", attachment_files=True)
    assert [p.name for p in out.iterdir()] == ["attachments"]
    assert [p.name for p in (out / "attachments").iterdir()] == ["mine.txt"]
    export(engine, out, datasets=["attachments"], fmt="csv", attachment_files=True, overwrite=True)
    assert (out / "attachments" / "mine.txt").read_text() == "keep me"
    assert len(list((out / "attachments").iterdir())) == 1 + 6
    assert verify_manifest(out) == []


def test_a_damaged_blob_is_named_and_nothing_is_left(engine: Engine, tmp_path: Path) -> None:
    build(engine)
    with engine.begin() as conn:
        conn.execute(update(Blob).where(Blob.hash == sha(C1)).values(data=b"not zstd"))
    out = tmp_path / "out"
    with pytest.raises(BlobError) as caught:
        export(engine, out, datasets=["attachments"], fmt="csv", attachment_files=True)
    message = str(caught.value)
    assert sha(C1) in message
    assert f"{REPORT} version 1" in message
    assert not out.exists()  # no dataset, no files, no manifest, no folder


def test_file_names_take_the_kind_then_the_file_name() -> None:
    digest = "ab" * 32
    assert file_name(digest, "pdf", "附件.PDF") == f"{digest}.pdf"
    assert file_name(digest, "text", "a.csv") == f"{digest}.txt"
    assert file_name(digest, "image", "扫描件.JPG") == f"{digest}.jpg"
    assert file_name(digest, "other", None) == f"{digest}.bin"
    assert file_name(digest, "other", "../../etc/passwd") == f"{digest}.bin"
    assert file_name(digest, None, "x.tar.gz") == f"{digest}.gz"


def test_cli_export_attachment_files(database_url: str, engine: Engine, tmp_path: Path) -> None:
    build(engine)
    out = tmp_path / "cli"
    args = ["export", "--database", database_url, "--what", "attachments", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--attachment-files", "--source", "xuancheng-sjzy"])
    assert result.exit_code == 0, result.output
    assert "attachments.csv: 10 rows" in result.output
    assert "5 files" in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "--what attachments" in manifest["command"]
    assert "--attachment-files" in manifest["command"]
    assert len(manifest["attachment_files"]) == 5
    assert verify_manifest(out) == []

    alone = CliRunner().invoke(
        cli,
        [
            "export",
            "--database",
            database_url,
            "--what",
            "versions",
            "--attachment-files",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert alone.exit_code == 2
    assert "add --what attachments" in alone.output

    with engine.begin() as conn:
        conn.execute(update(Blob).where(Blob.hash == sha(A1)).values(data=b"not zstd"))
    damaged = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "d"), "--attachment-files"])
    assert damaged.exit_code == 3
    assert sha(A1) in damaged.output and "version 1" in damaged.output
    assert not (tmp_path / "d").exists()


def test_published_date_filters_select_the_attachments_versions(
    engine: Engine, tmp_path: Path
) -> None:
    """The notice was published 2022-12-01, the report 2023-03-01, the Anqing page
    2021-10-11."""
    build(engine)
    filters = ExportFilters(published_since=date(2022, 1, 1), published_until=date(2022, 12, 31))
    export(engine, tmp_path, datasets=["attachments"], fmt="jsonl", filters=filters)
    rows = read_rows(tmp_path / "attachments.jsonl", "jsonl")
    assert rows and {(r["page_url"], r["published_date"]) for r in rows} == {(NOTICE, "2022-12-01")}


def test_overwrite_removes_every_file_of_the_earlier_export_and_nothing_else(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    out = tmp_path / "out"
    export(engine, out, datasets=["versions", "attachments"], fmt="csv", attachment_files=True)
    earlier = json.loads((out / "manifest.json").read_text("utf-8"))
    files = [entry["name"] for entry in earlier["attachment_files"]]
    assert files
    (out / "notes.txt").write_text("mine", "utf-8")
    (out / "attachments" / "mine.pdf").write_bytes(b"%PDF mine")
    (out / "latest.csv").write_text("a file of someone else's", "utf-8")

    result = export(engine, out, datasets=["versions"], fmt="csv", overwrite=True)

    assert result.removed == tuple(sorted(["attachments.csv", *files]))
    assert not (out / "attachments.csv").exists()
    assert not any((out / name).exists() for name in files)
    # not the earlier export's: kept, and said so
    assert result.kept == ("attachments/mine.pdf", "latest.csv", "notes.txt")
    assert (out / "attachments" / "mine.pdf").read_bytes() == b"%PDF mine"
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert verify_manifest(out) == []

    # with nothing of anyone else's left, the attachment folder goes too
    (out / "attachments" / "mine.pdf").unlink()
    export(engine, out, datasets=["attachments"], fmt="csv", attachment_files=True, overwrite=True)
    again = export(engine, out, datasets=["versions"], fmt="csv", overwrite=True)
    assert "attachments.csv" in again.removed
    assert not (out / "attachments").exists()


def test_overwrite_never_removes_a_file_outside_the_folder(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(engine, out, datasets=["versions"], fmt="csv")
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    manifest["files"].append({"name": "../outside.txt", "sha256": ""})
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (tmp_path / "outside.txt").write_text("keep", "utf-8")
    result = export(engine, out, datasets=["versions"], fmt="csv", overwrite=True)
    assert result.removed == ()
    assert (tmp_path / "outside.txt").read_text("utf-8") == "keep"


def test_cli_overwrite_notes_the_files_it_kept(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    out = tmp_path / "out"
    args = ["export", "--database", database_url, "--what", "versions", "--out", str(out)]
    assert CliRunner().invoke(cli, [*args, "--what", "attachments"]).exit_code == 0
    (out / "notes.txt").write_text("mine", "utf-8")
    result = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "removed 1 files of the earlier export that this one does not have: attachments.csv" in (
        result.stdout
    )
    assert result.stderr == (
        f"note: kept {out / 'notes.txt'}: neither this export nor the earlier one lists it\n"
    )
