"""Revision 0004: procrastinate's job queue, installed by our migrations and pinned.

PostgreSQL: the schema procrastinate 3.10.0 ships, usable by procrastinate itself; an
identical install made beforehand is adopted, any other refused; another procrastinate
version is refused. SQLite: nothing (tests/storage/test_migrations.py checks that, and
the downgrade, on both databases).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import procrastinate
import pytest
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from alembic import command
from storage.engine import make_engine
from storage.errors import SchemaError
from storage.migrate import (
    SCRIPT_LOCATION,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from tests.plugins.db import PostgresServer
from tests.storage.jobs import TASK, defer, make_app, opened, work

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = SCRIPT_LOCATION / "versions" / "0004_procrastinate_schema.py"


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revision_0004", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database."""
    url = postgres_server.create_database("queue")
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_the_migration_pins_the_installed_procrastinate() -> None:
    """A procrastinate bump without its schema migration fails here: the version 0004
    installs, the installed one and pyproject.toml's pin are one and the same."""
    pinned = migration().PROCRASTINATE_VERSION
    assert pinned == "3.10.0"
    assert importlib.metadata.version("procrastinate") == pinned
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.findall(r'"procrastinate==([^"]+)"', pyproject) == [pinned]


@pytest.mark.postgres
def test_procrastinate_uses_the_schema_our_migrations_install(pg: Engine, pg_url: str) -> None:
    upgrade(pg)
    assert current_revision(pg) == head_revision()

    async def scenario() -> None:
        async with opened(pg_url) as app:
            assert await app.job_manager.check_connection_async()
            job_id = await defer(app, "alpha")
            with pytest.raises(AlreadyEnqueued):  # the queueing lock source:alpha holds
                await defer(app, "alpha")
            jobs = list(await app.job_manager.list_jobs_async())
            assert [(j.id, j.task_name, j.queue, j.task_kwargs) for j in jobs] == [
                (job_id, TASK, "crawl", {"source": "alpha"})
            ]
            assert jobs[0].queueing_lock == "source:alpha" and jobs[0].lock == "host:a.gov.cn"
            await work(app)
            status = await app.job_manager.get_job_status_async(job_id)
            assert status == procrastinate.jobs.Status.SUCCEEDED

    asyncio.run(scenario())


@pytest.mark.postgres
def test_percent_signs_reach_the_functions_intact(pg: Engine) -> None:
    """schema.sql's RAISE messages hold `%`: run through the driver, each must arrive once."""
    upgrade(pg)
    refused = r"not in \"doing\" or \"todo\" status \(job id: 999\)"
    with pytest.raises(DBAPIError, match=refused), pg.connect() as conn:
        conn.execute(text("SELECT procrastinate_finish_job_v1(999, 'failed', false)"))


@pytest.mark.postgres
def test_another_procrastinate_version_is_refused_and_nothing_written(
    pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "3.11.0" if name == "procrastinate" else real(name),
    )
    with pytest.raises(SchemaError) as info:
        upgrade(pg)
    message = str(info.value)
    assert "revision 0004 installs procrastinate 3.10.0's job-queue schema" in message
    assert "procrastinate 3.11.0 is installed" in message
    assert "procrastinate==3.10.0" in message and "Nothing was written" in message
    assert current_revision(pg) is None and tables(pg) == set()  # one transaction: 0001-0003 too


def test_another_version_does_not_matter_to_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "3.11.0" if name == "procrastinate" else real(name),
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_identical_install_made_beforehand_is_adopted_with_its_jobs(
    pg: Engine, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone ran `procrastinate schema --apply` (here: its SchemaManager) and queued a
    job before `govarchive db upgrade`: the schema is 3.10.0's, so it is kept as it is."""

    async def apply_and_defer() -> int:
        async with opened(pg_url) as app:
            await app.schema_manager.apply_schema_async()
            return await defer(app, "alpha")

    job_id = asyncio.run(apply_and_defer())
    with caplog.at_level(logging.WARNING, logger="govarchive.storage"):
        upgrade(pg)
    assert current_revision(pg) == head_revision()
    assert "already installed in schema public (not by govarchive)" in caplog.text
    with pg.connect() as conn:
        kept = conn.execute(text("SELECT id, args->>'source' FROM procrastinate_jobs")).all()
        scratch = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%procrastinate%'")
        ).scalar_one()
    assert [tuple(row) for row in kept] == [(job_id, "alpha")]
    assert scratch == 0  # the comparison's scratch schema was rolled back
    downgrade(pg, "0003")  # adopted: our migrations own it now
    assert not any(name.startswith("procrastinate") for name in tables(pg))


@pytest.mark.postgres
def test_a_different_install_made_beforehand_is_refused_and_nothing_written(
    pg: Engine, pg_url: str
) -> None:
    """An older procrastinate's schema (here: 3.10.0's without retry_job_v2, as before
    3.4, and with a function of its own) is not what 0004 stands for: refused, named."""

    async def apply() -> None:
        async with make_app(pg_url).open_async() as app:
            await app.schema_manager.apply_schema_async()

    asyncio.run(apply())
    with pg.begin() as conn:
        conn.execute(text("DROP FUNCTION procrastinate_retry_job_v2"))
        conn.execute(text("ALTER TABLE procrastinate_jobs ALTER COLUMN priority SET DEFAULT 1"))
        conn.execute(
            text("CREATE FUNCTION procrastinate_old_v0() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        )
    before = tables(pg)
    with pytest.raises(SchemaError) as info:
        upgrade(pg)
    message = str(info.value)
    assert "already exist in schema public but are not procrastinate 3.10.0's schema" in message
    assert "missing function procrastinate_retry_job_v2(job_id bigint, " in message
    assert "different column procrastinate_jobs.priority" in message
    assert "unexpected function procrastinate_old_v0()" in message
    assert "Nothing was written" in message and "Upgrading procrastinate" in message
    assert current_revision(pg) is None and tables(pg) == before


@pytest.mark.postgres
def test_offline_sql_prints_the_schema_as_procrastinate_ships_it(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`alembic upgrade 0003:0004 --sql` writes schema.sql itself: single `%` signs, since
    psql and other clients take the script as it is."""
    config = alembic_config()
    config.attributes["url"] = pg_url
    command.upgrade(config, "0003:0004", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE procrastinate_jobs (" in out
    assert "(job id: %)" in out and "%%" not in out
    assert "UPDATE alembic_version SET version_num='0004'" in out
