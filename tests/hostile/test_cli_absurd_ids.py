"""Absurd page ids, version numbers and dates end in the same clear message on SQLite and
PostgreSQL (issue 16): SQLite's driver used to overflow (a traceback) and PostgreSQL to
fail with "integer out of range" (exit 3, as if the database were broken)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from scraper.cli import cli
from storage.errors import UnknownRecordError, UnknownVersionError
from storage.history import find_page, page_history, version_diff
from tests.research_archive import REPORT_URL, build

HUGE = "99999999999999999999999"  # beyond 64 bits
BEYOND_INT4 = "9999999999"  # beyond PostgreSQL's integer, within SQLite's


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"GOVARCHIVE_DATABASE_URL": None})
    return result.exit_code, result.output


def _one_line_error(output: str) -> str:
    assert "Traceback" not in output
    assert "out of range" not in output and "Overflow" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("ref", [HUGE, BEYOND_INT4, "0" + HUGE, "9" * 5000])
@pytest.mark.parametrize("command", ["history", "raw"])
def test_an_absurd_page_id_is_no_such_page(
    engine: Engine, database_url: str, command: str, ref: str
) -> None:
    build(engine)

    code, output = _run(command, ref, "--database", database_url)

    assert code == 2, output
    line = _one_line_error(output)
    assert line.startswith("Error: no page id ")
    assert line.endswith(" in the archive")
    assert len(line) < 200


def test_storage_says_no_such_page_for_ids_no_column_can_hold(engine: Engine) -> None:
    build(engine)
    for ref in (int(HUGE), int(BEYOND_INT4), -int(HUGE), 0):
        with pytest.raises(UnknownRecordError, match=f"no page id {ref} in the archive"):
            page_history(engine, ref)
        with engine.connect() as conn, pytest.raises(UnknownRecordError):
            find_page(conn, ref)


def test_storage_says_no_such_version_for_absurd_version_numbers(engine: Engine) -> None:
    build(engine)
    with pytest.raises(UnknownVersionError, match=f"has no version {HUGE}; it has versions 1 to 3"):
        version_diff(engine, REPORT_URL, 1, int(HUGE))


@pytest.mark.parametrize(
    "args",
    [
        ["raw", REPORT_URL, "--version", HUGE],
        ["history", REPORT_URL, "--diff", "1", HUGE],
        ["history", REPORT_URL, "--diff", BEYOND_INT4, "1"],
    ],
    ids=["raw-version", "diff-huge", "diff-int4"],
)
def test_an_absurd_version_number_is_a_usage_error(
    engine: Engine, database_url: str, args: list[str]
) -> None:
    build(engine)

    code, output = _run(*args, "--database", database_url)

    assert code == 2, output
    assert "Traceback" not in output and "out of range" not in output.replace("range 1<=", "")
    assert "2147483647" in output or "no version" in output


def test_a_non_ascii_digit_is_read_as_a_url_not_an_id(engine: Engine, database_url: str) -> None:
    build(engine)
    code, output = _run("history", "²", "--database", database_url)
    assert code == 2
    assert _one_line_error(output) == "Error: no page with URL ² in the archive"


@pytest.mark.parametrize(
    ("option", "value", "expect_code"),
    [
        ("--until", "9999-12-31", 0),  # "until the end of time": every row
        ("--since", "0001-01-01", 0),
        ("--since", "0001-01-01T00:00:00+14:00", 2),  # before year 1 in UTC
        ("--until", "9999-12-31T23:59:59-14:00", 2),  # after year 9999 in UTC
    ],
)
def test_export_date_filters_at_the_ends_of_the_calendar(
    engine: Engine, database_url: str, tmp_path: Path, option: str, value: str, expect_code: int
) -> None:
    build(engine)
    out = tmp_path / "export"

    code, output = _run(
        "export", "--what", "versions", "--out", str(out), option, value,
        "--database", database_url,
    )  # fmt: skip

    assert code == expect_code, output
    assert "Traceback" not in output and "Overflow" not in output
    if expect_code == 0:
        with engine.connect() as conn:
            count = conn.execute(text("SELECT COUNT(*) FROM page_versions")).scalar_one()
        assert f"versions.csv: {count} rows" in output
    else:  # click's usage error: the usage line, then one line naming the value
        error = output.strip().splitlines()[-1]
        assert error.startswith(f"Error: Invalid value for '{option}': '{value}' is outside")
        assert "UTC" in error
