"""`govarchive db upgrade` and `govarchive db current`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from scraper.cli import cli
from storage.engine import make_engine, redact_url
from storage.migrate import current_revision, head_revision

HEAD = head_revision()

NO_ENV = {"GOVARCHIVE_DATABASE_URL": None}


def run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["db", *args], env=env or NO_ENV)
    return result.exit_code, result.output


def test_upgrade_creates_the_schema_and_current_reports_it(empty_database_url: str) -> None:
    shown = redact_url(empty_database_url)
    code, out = run("current", "--database", empty_database_url)
    assert code == 0
    assert "no database file" in out or "no schema yet" in out
    code, out = run("upgrade", "--database", empty_database_url)
    upgraded = f"{shown}: upgraded from an empty database to revision {HEAD} (head)\n"
    assert (code, out) == (0, upgraded)
    code, out = run("upgrade", "--database", empty_database_url)
    assert (code, out) == (0, f"{shown}: already at revision {HEAD} (head)\n")
    code, out = run("current", "--database", empty_database_url)
    assert (code, out) == (0, f"{shown}: revision {HEAD} (head)\n")


def test_current_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    code, out = run("current", "--database", f"sqlite:///{path}")
    assert (code, out) == (0, f"sqlite:///{path}: no database file at {path} (head is {HEAD})\n")
    assert not path.exists()


def test_url_precedence_flag_env_config(tmp_path: Path) -> None:
    flag, env, configured = (tmp_path / n for n in ("flag.db", "env.db", "config.db"))
    config = tmp_path / "config.yaml"
    config.write_text(f"database: sqlite:///{configured}\n")
    env_vars: dict[str, str | None] = {"GOVARCHIVE_DATABASE_URL": f"sqlite:///{env}"}

    run("upgrade", "--config", str(config))
    assert configured.exists() and not env.exists()
    run("upgrade", "--config", str(config), env=env_vars)
    assert env.exists() and not flag.exists()
    run("upgrade", "--config", str(config), "--database", f"sqlite:///{flag}", env=env_vars)
    assert flag.exists()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert run("upgrade", "--database", url)[0] == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    code, out = run("current", "--database", url)
    assert code == 0
    assert f"revision 0099, unknown to this govarchive (head {HEAD})" in out
    code, out = run("upgrade", "--database", url)
    assert code == 3
    assert f"which this govarchive (head {HEAD}) does not know" in out
    assert current_revision(engine) == "0099"
    engine.dispose()


def test_unreachable_database_is_a_clear_error_without_the_password() -> None:
    url = "postgresql://archiver:hunter2@127.0.0.1:1/archive"
    for command in ("upgrade", "current"):
        code, out = run(command, "--database", url)
        assert code == 3
        assert "postgresql+psycopg://archiver:***@127.0.0.1:1/archive: cannot open" in out
        assert "hunter2" not in out


def test_unsupported_url_is_refused_without_the_password() -> None:
    code, out = run("upgrade", "--database", "mysql://u:pw@h/db")
    assert code == 3
    assert "unsupported database 'mysql' in 'mysql://u:***@h/db'" in out
    assert "u:pw@" not in out
