"""``govarchive raw --attachment N`` and storage.audit.raw_attachment: a version's
attachment byte for byte, and the refusals when there is none to give."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from scraper.cli import cli
from storage.audit import raw_attachment
from storage.errors import UnknownAttachmentError, UnknownVersionError
from storage.models import Blob
from tests.attachment_archive import A1, A2, B1, C1, REPORT, URL_B, URL_D, build
from tests.research_archive import REPORT_URL
from tests.research_archive import build as build_without_attachments


def test_raw_attachment_returns_each_versions_bytes(engine: Engine) -> None:
    build(engine)
    first = raw_attachment(engine, REPORT, 1, 1)
    newest = raw_attachment(engine, REPORT, None, 1)
    assert (first.version, first.data) == (1, A1)
    assert (newest.version, newest.data) == (3, A2)
    assert newest.sha256 == hashlib.sha256(A2).hexdigest()
    assert newest.filename == "A.pdf" and newest.kind == "pdf"

    carried = raw_attachment(engine, REPORT, 2, 2)
    assert (carried.url, carried.data) == (URL_B, B1)
    assert carried.download_error == "timeout after 30 s"

    never = raw_attachment(engine, REPORT, 2, 3)
    assert (never.url, never.data, never.sha256) == (URL_D, None, None)
    assert never.download_error == "HTTP 503"


def test_raw_attachment_names_what_is_missing(engine: Engine) -> None:
    build(engine)
    with pytest.raises(UnknownAttachmentError, match="version 2 has no attachment 4; its attach"):
        raw_attachment(engine, REPORT, 2, 4)
    with pytest.raises(UnknownVersionError, match="no version 7; it has versions 1 to 3"):
        raw_attachment(engine, REPORT, 7, 1)


def test_a_version_without_attachments(engine: Engine) -> None:
    build_without_attachments(engine)
    with pytest.raises(UnknownAttachmentError, match="version 3 has no attachment 1; it has no"):
        raw_attachment(engine, REPORT_URL, None, 1)


def test_raw_command_writes_an_attachment(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build(engine)
    runner = CliRunner()
    base = ["raw", REPORT, "--database", database_url]

    to_stdout = runner.invoke(cli, [*base, "--attachment", "1"])
    assert to_stdout.exit_code == 0, to_stdout.output
    assert to_stdout.stdout_bytes == A2
    assert "version 3 attachment 1" in to_stdout.stderr
    assert hashlib.sha256(A2).hexdigest() in to_stdout.stderr

    out = tmp_path / "c.xls"
    to_file = runner.invoke(cli, [*base, "--version", "1", "--attachment", "3", "--out", str(out)])
    assert to_file.exit_code == 0, to_file.output
    assert out.read_bytes() == C1

    carried = runner.invoke(cli, [*base, "--version", "2", "--attachment", "2"])
    assert carried.exit_code == 0, carried.output
    assert carried.stdout_bytes == B1
    assert "download failed (timeout after 30 s)" in carried.stderr


def test_raw_command_refuses_a_missing_or_never_downloaded_attachment(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build(engine)
    runner = CliRunner()
    base = ["raw", REPORT, "--database", database_url]

    missing = runner.invoke(cli, [*base, "--attachment", "9"])
    assert missing.exit_code == 2
    assert "version 3 has no attachment 9; its attachments are 1, 2, 3" in missing.output
    assert missing.stdout_bytes == b""  # no bytes: the message is on standard error

    out = tmp_path / "d.pdf"
    never = runner.invoke(cli, [*base, "--version", "2", "--attachment", "3", "--out", str(out)])
    assert never.exit_code == 1
    assert f"attachment 3 ({URL_D}) was never downloaded: HTTP 503" in never.output
    assert not out.exists()

    zero = runner.invoke(cli, [*base, "--attachment", "0"])
    assert zero.exit_code == 2

    with engine.begin() as conn:
        conn.execute(
            update(Blob).where(Blob.hash == hashlib.sha256(C1).hexdigest()).values(data=b"x")
        )
    damaged = runner.invoke(cli, [*base, "--version", "1", "--attachment", "3"])
    assert damaged.exit_code == 3
    assert hashlib.sha256(C1).hexdigest() in damaged.output
