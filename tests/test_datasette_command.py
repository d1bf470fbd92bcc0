"""``govarchive datasette-metadata``, and Datasette serving an archive with what it writes:
the real ``datasette serve`` on 127.0.0.1, read through its JSON API."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from scraper.cli import cli
from storage.engine import make_engine
from storage.recipes import RECIPES
from tests.storage.test_search import BRAIN, OTHER, build

#: How long Datasette may take to start before the test fails.
STARTUP_SECONDS = 30


@pytest.fixture
def archive(tmp_path: Path, sqlite_template: Path) -> Path:
    """An SQLite archive at head holding the search tests' pages (城市大脑 in two titles)."""
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        build(engine)
    finally:
        engine.dispose()
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["datasette-metadata", *args])
    return result.exit_code, result.stdout, result.stderr


def test_writes_json_to_stdout_named_after_the_file(archive: Path) -> None:
    code, out, _ = run("--database", str(archive))
    assert code == 0, out
    metadata = json.loads(out)
    assert list(metadata["databases"]) == ["archive"]
    tables = metadata["databases"]["archive"]["tables"]
    assert tables["blobs"] == {"hidden": True}
    assert tables["page_versions"]["fts_table"] == "page_versions_fts"


def test_writes_yaml_by_the_files_suffix_or_format(archive: Path, tmp_path: Path) -> None:
    code, json_out, _ = run("--database", f"sqlite:///{archive}")
    assert code == 0
    out = tmp_path / "metadata.yml"
    code, _, err = run("--database", str(archive), "-o", str(out))
    assert code == 0, err
    assert "datasette" in err and str(out) in err
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == json.loads(json_out)
    code, yaml_out, _ = run("--database", str(archive), "--format", "yaml")
    assert code == 0 and yaml.safe_load(yaml_out) == json.loads(json_out)


def test_refuses_a_missing_file_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    code, _, err = run("--database", str(missing))
    assert code == 2 and "does not exist" in err
    assert not missing.exists()


def test_refuses_postgresql() -> None:
    code, _, err = run("--database", "postgresql://user@127.0.0.1:5432/archive")
    assert code == 2
    assert "Datasette serves SQLite files only" in err


def test_refuses_an_unwritable_output(archive: Path, tmp_path: Path) -> None:
    code, _, err = run("--database", str(archive), "-o", str(tmp_path / "no" / "m.json"))
    assert code == 2 and "cannot write" in err


@pytest.fixture
def datasette_url(archive: Path, tmp_path: Path) -> Iterator[str]:
    """``datasette serve`` on 127.0.0.1, a port the system chose, with the command's
    metadata; its base URL once it answers. Always stopped."""
    metadata = tmp_path / "metadata.json"
    code, _, err = run("--database", str(archive), "-o", str(metadata))
    assert code == 0, err
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(archive),
            "-m",
            str(metadata),
            "-h",
            "127.0.0.1",
            "-p",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert server.stderr is not None
    reader = threading.Thread(target=_read_lines, args=(server.stderr, lines))
    reader.start()
    try:
        yield _wait_for_address(server, lines)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        reader.join(timeout=10)


def _read_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_address(server: subprocess.Popen[str], lines: queue.Queue[str]) -> str:
    """Return uvicorn's address from its startup line, then wait until it answers."""
    deadline = time.monotonic() + STARTUP_SECONDS
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            assert server.poll() is None, f"datasette exited: {''.join(seen)}"
            continue
        seen.append(line)
        found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            base = found.group(1)
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{base}/-/versions.json", timeout=2).raise_for_status()
                    return base
                except httpx.TransportError:
                    time.sleep(0.1)
    raise AssertionError(f"datasette did not start in {STARTUP_SECONDS}s: {''.join(seen)}")


def get(base: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{base}{path}", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.mark.slow
def test_datasette_serves_the_archive_as_the_metadata_says(datasette_url: str) -> None:
    assert get(datasette_url, "/-/versions.json")["datasette"]["version"].startswith("0.")

    tables = get(datasette_url, "/archive.json")["tables"]
    shown = {table["name"] for table in tables if not table["hidden"]}
    assert shown == {
        "sources",
        "pages",
        "page_versions",
        "task_sections",
        "crawl_runs",
        "fetches",
        "attachments",
        "warc_captures",
    }
    assert {"blobs", "blob_dicts", "alembic_version", "page_versions_fts"} <= {
        table["name"] for table in tables if table["hidden"]
    }

    metadata = get(datasette_url, "/-/metadata.json")
    described = metadata["databases"]["archive"]["tables"]["page_versions"]["columns"]
    assert described["content_hash"].startswith("SHA-256 of the parsed content")

    query = RECIPES[[r.name for r in RECIPES].index("latest_run_per_source")]
    rows = get(datasette_url, f"/archive/{query.name}.json", _shape="array")
    assert [row["name"] for row in rows] == ["hefei", "xuancheng-sjzy"]

    for table, key in (("page_versions", "id"), ("latest_versions", "version_id")):
        found = get(datasette_url, f"/archive/{table}.json", _search="城市大脑", _shape="objects")
        assert "page_versions_fts" in found["query"]["sql"]
        assert sorted(row["title"] for row in found["rows"]) == [
            "合肥城市大脑",
            "宣城城市大脑建设进展情况",
        ]
        assert all(row[key] for row in found["rows"])
    found = get(
        datasette_url, "/archive/latest_versions.json", _search="宣城城市大脑", _shape="array"
    )
    assert [row["url"] for row in found] == [BRAIN]
    assert OTHER not in {row["url"] for row in found}

    # a two-character word has no trigram: no rows, and no error
    assert get(datasette_url, "/archive/page_versions.json", _search="大脑", _shape="array") == []

    page = httpx.get(f"{datasette_url}/archive/page_versions", timeout=10).text
    assert 'name="_search"' in page
