"""`export --out` and `raw --out` on a bad path, a read-only folder or a full disk end
with one line naming the path and the problem — exit 2 for a path that cannot be what
was asked (a folder, a missing folder, a file in the way), 1 when writing failed — and
leave no `.partial` file and nothing half-written (issue 16: they used to end in a
traceback, leaving `versions.csv.partial`).

A full disk is an OSError(ENOSPC) from the writer, a read-only folder an
OSError(EROFS/EACCES) from open (tests run as root, whom chmod does not stop); the same
happens for real on a tiny tmpfs and a read-only bind mount in test_*_on_real_mounts."""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from storage import exportfiles
from storage.engine import make_engine
from tests.hostile.cli_mounts import (
    read_only_bind,
    require_mount_namespaces,
    run_mounted,
    tiny_disk,
)
from tests.research_archive import REPORT_URL, build

pytestmark = pytest.mark.timeout(240)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"GOVARCHIVE_DATABASE_URL": None})
    return result.exit_code, result.output


def _error_line(output: str) -> str:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ")
    return lines[0]


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256 (nothing half-written may appear)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _failing(error: int, *, after_batches: int = 0) -> Any:
    """A replacement for open_writer whose writer raises OSError(``error``)."""
    real = exportfiles.open_writer

    def open_writer(path: Path, *args: Any, **kwargs: Any) -> Any:
        if after_batches < 0:
            raise OSError(error, __import__("os").strerror(error), str(path))
        writer = real(path, *args, **kwargs)
        calls = {"n": 0}
        write = writer.write

        def failing_write(rows: Any) -> None:
            calls["n"] += 1
            if calls["n"] > after_batches:
                raise OSError(error, __import__("os").strerror(error))
            write(rows)

        writer.write = failing_write  # type: ignore[method-assign]
        return writer

    return open_writer


# --- export ------------------------------------------------------------------------------


def test_export_into_a_path_under_a_file_is_bad_usage(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build(engine)
    place = tmp_path / "place"  # (the SQLite archive is in tmp_path)
    place.mkdir()
    blocker = place / "notes.txt"
    blocker.write_text("a file, not a folder")
    out = blocker / "export"

    code, output = _run(
        "export", "--what", "versions", "--out", str(out), "--database", database_url
    )

    assert code == 2, output
    line = _error_line(output)
    assert str(out) in line and "not a folder" in line
    assert _tree(place) == {"notes.txt": hashlib.sha256(b"a file, not a folder").hexdigest()}


@pytest.mark.parametrize(
    ("error", "after", "said"),
    [
        (errno.ENOSPC, 0, "the disk is full"),
        (errno.EDQUOT, 0, "disk quota"),
        (errno.EROFS, -1, "read-only"),
        (errno.EACCES, -1, "permission denied"),
    ],
    ids=["disk-full", "quota", "read-only", "permission"],
)
def test_export_that_cannot_write_says_why_and_leaves_no_partial_file(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: int,
    after: int,
    said: str,
) -> None:
    build(engine)
    out = tmp_path / "export"
    monkeypatch.setattr("storage.export.open_writer", _failing(error, after_batches=after))

    code, output = _run(
        "export", "--what", "latest", "--what", "versions", "--out", str(out),
        "--database", database_url,
    )  # fmt: skip

    assert code == 1, output
    line = _error_line(output)
    assert f"cannot write {out / 'latest.csv'}" in line
    assert said in line
    assert not out.exists()  # it created the folder, and removed it again


def test_a_failed_export_over_an_earlier_one_leaves_the_earlier_one_whole(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine)
    out = tmp_path / "export"
    args = ["export", "--what", "latest", "--what", "versions", "--out", str(out)]
    assert _run(*args, "--database", database_url)[0] == 0
    before = _tree(out)
    # the second file fails: the first was complete, but is not put in place alone
    monkeypatch.setattr("storage.export.open_writer", _failing(errno.ENOSPC, after_batches=1))
    real = exportfiles.open_writer
    opened: list[Path] = []

    def first_file_fine(path: Path, *a: Any, **k: Any) -> Any:
        opened.append(path)
        if len(opened) == 1:
            return real(path, *a, **k)
        return _failing(errno.ENOSPC)(path, *a, **k)

    monkeypatch.setattr("storage.export.open_writer", first_file_fine)

    code, output = _run(*args, "--overwrite", "--database", database_url)

    assert code == 1, output
    assert f"cannot write {out / 'versions.csv'}" in _error_line(output)
    assert _tree(out) == before


def test_export_manifest_that_cannot_be_written_leaves_nothing(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine)
    out = tmp_path / "export"
    out.mkdir()

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)

    code, output = _run("export", "--what", "latest", "--out", str(out), "--database", database_url)

    assert code == 1, output
    assert f"cannot write {out / 'manifest.json'}" in _error_line(output)
    assert list(out.iterdir()) == []


# --- raw ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "said"),
    [
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: tmp / "missing" / "page.html", "does not exist"),
        (lambda tmp: tmp / "notes.txt" / "page.html", "is not a folder"),
    ],
    ids=["a-folder", "missing-folder", "under-a-file"],
)
def test_raw_to_a_bad_path_is_bad_usage(
    engine: Engine, database_url: str, tmp_path: Path, target: Any, said: str
) -> None:
    build(engine)
    place = tmp_path / "place"  # (the SQLite archive is in tmp_path)
    place.mkdir()
    (place / "notes.txt").write_text("x")
    out = target(place)
    before = _tree(place)

    code, output = _run("raw", REPORT_URL, "--out", str(out), "--database", database_url)

    assert code == 2, output
    line = _error_line(output)
    assert str(out) in line and said in line
    assert _tree(place) == before


@pytest.mark.parametrize(
    ("error", "said"),
    [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission")],
    ids=["disk-full", "read-only", "permission"],
)
def test_raw_that_cannot_write_says_why_and_leaves_the_old_file(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: int,
    said: str,
) -> None:
    build(engine)
    place = tmp_path / "place"  # (the SQLite archive is in tmp_path)
    place.mkdir()
    out = place / "page.html"
    out.write_bytes(b"an older copy")
    real_open = Path.open

    def failing_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and self.parent == place:
            handle = real_open(self, mode, *args, **kwargs)
            if error != errno.ENOSPC:
                handle.close()
                self.unlink()
                raise OSError(error, __import__("os").strerror(error), str(self))
            handle.write = lambda data: (_ for _ in ()).throw(  # type: ignore[method-assign]
                OSError(error, __import__("os").strerror(error))
            )
            return handle
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)

    code, output = _run("raw", REPORT_URL, "--out", str(out), "--database", database_url)

    assert code == 1, output
    line = _error_line(output.replace(_stderr_header(output), ""))
    assert f"cannot write {out}" in line and said in line
    assert sorted(p.name for p in place.iterdir()) == ["page.html"]
    assert out.read_bytes() == b"an older copy"


def _stderr_header(output: str) -> str:
    """raw prints where the bytes came from on stderr before writing them."""
    first = output.splitlines()[0] if output else ""
    return first + "\n" if first.startswith("http") else ""


# --- the same on real file systems ----------------------------------------------------


@pytest.fixture
def archive_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        build(engine)
    finally:
        engine.dispose()
    return f"sqlite:///{path}"


def test_export_and_raw_on_real_mounts(archive_url: str, tmp_path: Path) -> None:
    require_mount_namespaces()
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    read_only, tiny = tmp_path / "read-only", tmp_path / "tiny"
    work = tmp_path / "work"
    work.mkdir()
    ro_mount = read_only_bind(shelf, read_only)
    tiny_mount = tiny_disk(tiny, 4)  # one page: versions.csv needs two

    results = run_mounted(
        [ro_mount, tiny_mount],
        [
            [
                "export",
                "--what",
                "versions",
                "--out",
                str(read_only / "e"),
                "--database",
                archive_url,
            ],
            ["export", "--what", "versions", "--out", str(tiny / "e"), "--database", archive_url],
            ["raw", REPORT_URL, "--out", str(read_only / "p.html"), "--database", archive_url],
        ],
        work,
    )

    (ro_code, ro_out), (full_code, full_out), (raw_code, raw_out) = results
    assert ro_code == 1 and "read-only" in ro_out and str(read_only / "e") in ro_out, ro_out
    assert full_code == 1 and "the disk is full" in full_out, full_out
    assert str(tiny / "e" / "versions.csv") in full_out
    assert raw_code == 1 and "read-only" in raw_out and str(read_only / "p.html") in raw_out
    for output in (ro_out, full_out, raw_out):
        assert "Traceback" not in output and ".partial" not in output
    assert list(shelf.iterdir()) == []
