"""`govarchive crawl` whose only source (or every source) another process is crawling
says so and exits 4, of its own (issue 16): it used to print an empty summary and exit
0, so cron and scripts could not tell "crawled" from "did nothing"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scraper.cli import cli
from scraper.commands.common import EXIT_BUSY
from storage.engine import make_engine
from storage.locks import SourceLock, try_lock_source
from tests.crawl_site import DisclosureSite, scalar
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)


def _config(tmp_path: Path, docs: DisclosureSite, database: str, sources: list[str]) -> Path:
    document = docs.document(database, {"requests_per_second": 1000, "retries": 0})
    template = document["sources"][0]
    document["sources"] = [{**template, "name": name} for name in sources]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _hold(database_url: str, *names: str) -> tuple[object, list[SourceLock]]:
    engine = make_engine(database_url)
    locks = [try_lock_source(engine, name) for name in names]
    assert all(lock is not None for lock in locks)
    return engine, [lock for lock in locks if lock is not None]


@pytest.mark.parametrize("sources", [["local"], ["local", "mirror"]], ids=["one", "every"])
def test_every_source_held_elsewhere_exits_4(
    site: TestSite, tmp_path: Path, database_url: str, sources: list[str]
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(tmp_path, docs, database_url, sources)
    engine, locks = _hold(database_url, *sources)
    site.clear_log()
    try:
        result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])
    finally:
        for lock in locks:
            lock.release()
        engine.dispose()  # type: ignore[attr-defined]

    assert EXIT_BUSY == 4
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    for name in sources:
        assert f"skipped: {name}: another process is crawling it (" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: nothing crawled:")
    assert "another process" in last
    assert site.requests == []


def test_some_sources_held_elsewhere_is_still_success(
    site: TestSite, tmp_path: Path, database_url: str
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    config = _config(tmp_path, docs, database_url, ["local", "mirror"])
    engine, locks = _hold(database_url, "mirror")
    try:
        result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])
    finally:
        for lock in locks:
            lock.release()
        engine.dispose()  # type: ignore[attr-defined]

    assert result.exit_code == 0, result.output
    assert "skipped: mirror: another process is crawling it (" in result.output
    check = make_engine(database_url)
    try:
        assert scalar(check, "SELECT COUNT(*) FROM page_versions") == 2
    finally:
        check.dispose()


def test_the_exit_status_is_documented() -> None:
    result = CliRunner().invoke(cli, ["crawl", "--help"])
    assert "4 when every source was skipped" in " ".join(result.output.split())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "4 nothing was crawled" in " ".join(readme.split())
