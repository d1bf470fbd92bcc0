"""``govarchive raw`` and storage.audit: the stored bytes of a version, exactly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from scraper.cli import cli
from storage.audit import raw_version
from storage.errors import UnknownRecordError, UnknownVersionError
from tests.research_archive import REPORT_URL, build, raw_page, three_versions


def test_raw_version_returns_each_versions_bytes(engine: Engine) -> None:
    build(engine)
    v1, _, v3 = three_versions()

    first = raw_version(engine, REPORT_URL, 1)
    newest = raw_version(engine, REPORT_URL)

    assert first.version == 1 and first.data == raw_page(v1, views=10)
    assert newest.version == 3 and newest.data == raw_page(v3, views=99)
    assert hashlib.sha256(newest.data).hexdigest() == newest.raw_hash
    assert newest.content_type == "text/html; charset=utf-8"


def test_raw_version_names_what_is_missing(engine: Engine) -> None:
    build(engine)
    with pytest.raises(UnknownVersionError, match="no version 9; it has versions 1 to 3"):
        raw_version(engine, REPORT_URL, 9)
    with pytest.raises(UnknownRecordError, match="no page id 4242"):
        raw_version(engine, 4242)


def test_raw_command_writes_the_bytes(engine: Engine, database_url: str, tmp_path: Path) -> None:
    build(engine)
    v1, _, v3 = three_versions()
    runner = CliRunner()

    to_stdout = runner.invoke(cli, ["raw", REPORT_URL, "--database", database_url])
    out = tmp_path / "v1.html"
    to_file = runner.invoke(
        cli, ["raw", REPORT_URL, "--version", "1", "--out", str(out), "--database", database_url]
    )

    assert to_stdout.exit_code == 0, to_stdout.output
    assert to_stdout.stdout_bytes == raw_page(v3, views=99)
    assert "version 3" in to_stdout.stderr and "sha256" in to_stdout.stderr
    assert to_file.exit_code == 0, to_file.output
    assert out.read_bytes() == raw_page(v1, views=10)


def test_raw_command_wrong_page_or_version_is_a_usage_error(
    engine: Engine, database_url: str
) -> None:
    build(engine)
    runner = CliRunner()
    no_page = runner.invoke(cli, ["raw", "999999", "--database", database_url])
    no_version = runner.invoke(
        cli, ["raw", REPORT_URL, "--version", "9", "--database", database_url]
    )
    assert no_page.exit_code == 2 and "no page id 999999" in no_page.output
    assert no_version.exit_code == 2 and "no version 9" in no_version.output
