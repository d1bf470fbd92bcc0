"""The job-queue commands on a SQLite archive: refused, with what to do instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.schedule.helpers import far_schedule, write_config


@pytest.mark.parametrize(
    "args",
    [["worker", "--burst"], ["crawl", "--enqueue"], ["schedule", "--workers"]],
    ids=["worker", "crawl-enqueue", "schedule-workers"],
)
def test_queue_commands_refuse_a_sqlite_archive(tmp_path: Path, args: list[str]) -> None:
    source = {"name": "s1", "start_urls": ["http://127.0.0.1:9/list.html"],
              "schedule": far_schedule()}  # fmt: skip
    config = write_config(tmp_path / "config.yaml", [source])
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    result = CliRunner().invoke(cli, [*args, "--config", str(config), "--database", database])
    assert result.exit_code == 2, result.output
    assert "PostgreSQL archive" in result.output
