"""The commands that read refuse a SQLite path that does not exist, and do not create it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli

READ_COMMANDS = [
    ["history", "https://example.gov.cn/a.html"],
    ["raw", "https://example.gov.cn/a.html"],
    ["status"],
    ["export", "--what", "latest", "--out", "{out}"],
    ["search", "城市大脑"],
    ["changes", "--since", "7d"],
    ["cite", "https://example.gov.cn/a.html"],
    ["reparse", "--dry-run"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: a[0])
def test_a_missing_sqlite_archive_is_refused_and_not_created(
    tmp_path: Path, args: list[str]
) -> None:
    path = tmp_path / "none.db"
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in args]
    result = CliRunner().invoke(
        cli, [*argv, "--database", f"sqlite:///{path}"], env={"GOVARCHIVE_DATABASE_URL": None}
    )
    assert result.exit_code == 2, result.output
    assert f"no archive at {path}: the file does not exist" in result.output
    assert "govarchive crawl" in result.output and "govarchive demo" in result.output
    assert not path.exists()
