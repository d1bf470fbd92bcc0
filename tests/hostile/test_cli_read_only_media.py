"""A SQLite archive on read-only media (issue 16): the read commands either work or say
exactly what to do. They used to fail with "unable to open database file" (SQLite must
create ``archive.db-shm`` next to a WAL database). The answer is the read-only, immutable
URI ``sqlite:///file:/path/archive.db?mode=ro&immutable=1&uri=true``, which the message
names; with it status, history, raw, export and db current work and write nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from storage.engine import make_engine, read_only_url
from tests.hostile.cli_mounts import read_only_bind, require_mount_namespaces, run_mounted
from tests.research_archive import REPORT_URL, build

pytestmark = pytest.mark.timeout(240)


def _read_commands(url: str, out: Path) -> list[list[str]]:
    return [
        ["status", "--database", url],
        ["history", REPORT_URL, "--database", url],
        ["raw", REPORT_URL, "--version", "1", "--database", url],
        ["export", "--what", "versions", "--out", str(out), "--database", url],
        ["db", "current", "--database", url],
    ]


@pytest.fixture
def archive(tmp_path: Path, sqlite_template: Path) -> Path:
    """A SQLite archive with three versions of a page, closed (no -wal/-shm beside it)."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "archive.db"
    shutil.copyfile(sqlite_template, path)
    engine: Engine = make_engine(f"sqlite:///{path}")
    try:
        build(engine)
    finally:
        engine.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_read_only_url_reads_and_writes_nothing(archive: Path, tmp_path: Path) -> None:
    before = _digest(archive)
    url = read_only_url(archive)
    assert url == f"sqlite:///file:{archive}?mode=ro&immutable=1&uri=true"
    runner = CliRunner()

    for args in _read_commands(url, tmp_path / "export"):
        result = runner.invoke(cli, args, env={"GOVARCHIVE_DATABASE_URL": None})
        assert result.exit_code == 0, (args, result.output)

    assert (tmp_path / "export" / "versions.csv").read_text().count("\n") > 1
    assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.db"]
    assert _digest(archive) == before


def test_a_write_through_the_read_only_url_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "new.db"
    empty.touch()  # an empty file is an empty database: upgrading it must write
    url = read_only_url(empty)
    result = CliRunner().invoke(
        cli, ["db", "upgrade", "--database", url], env={"GOVARCHIVE_DATABASE_URL": None}
    )
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert f"{empty} cannot be written" in result.output
    assert "read-only" in result.output and "mode=ro" in result.output
    assert empty.stat().st_size == 0


def test_read_commands_on_a_read_only_mount(archive: Path, tmp_path: Path) -> None:
    require_mount_namespaces()
    mounted = tmp_path / "cdrom"
    on_media = mounted / archive.name
    plain = f"sqlite:///{on_media}"
    immutable = read_only_url(on_media)
    work = tmp_path / "work"
    work.mkdir()

    results = run_mounted(
        [read_only_bind(archive.parent, mounted)],
        _read_commands(plain, tmp_path / "export-plain")
        + _read_commands(immutable, tmp_path / "export-immutable"),
        work,
    )

    plain_results, immutable_results = results[:5], results[5:]
    for code, output in plain_results:  # each says what is wrong and what to type instead
        assert code == 3, output
        assert "Traceback" not in output
        assert f"cannot open {on_media}" in output
        assert "read-only" in output and f"--database '{immutable}'" in output
    for code, output in immutable_results:
        assert code == 0, output
    assert (tmp_path / "export-immutable" / "versions.csv").exists()
