"""A database with tables named like the archive's but no Alembic revision (issue 16):
`db current` used to call it "no schema yet … any command creates it" (wrong: every
command then fails) and `db upgrade` to fail with "table sources already exists". Both
now say what it is and what to do, and change nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from scraper.cli import cli
from storage.engine import make_engine


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"GOVARCHIVE_DATABASE_URL": None})
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["status"]])
def test_tables_without_a_revision_are_explained(
    empty_database_url: str, command: list[str]
) -> None:
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:  # someone else's tables, or an archive that lost its record
        conn.execute(text("CREATE TABLE sources (id INTEGER PRIMARY KEY, label TEXT)"))
        conn.execute(text("CREATE TABLE pages (id INTEGER PRIMARY KEY, url TEXT)"))
        conn.execute(text("INSERT INTO sources (id, label) VALUES (1, 'mine')"))

    code, output = _run(*command, "--database", empty_database_url)

    assert code == 3, output
    assert "Traceback" not in output and "already exists" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "tables named like govarchive's (pages, sources)" in output
    assert "no alembic_version record" in output
    assert "Point --database" in output and "an empty database" in output
    assert "restore it from a backup" in output
    with engine.connect() as conn:  # nothing was created or changed
        assert sorted(inspect(conn).get_table_names()) == ["pages", "sources"]
        assert conn.execute(text("SELECT label FROM sources")).scalar() == "mine"
    engine.dispose()
