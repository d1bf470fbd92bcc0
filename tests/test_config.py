"""Tests for scraper.config: precedence, merging and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.config import database_url
from scraper.errors import ConfigError


def _write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestDatabaseUrl:
    def test_cli_beats_env_and_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        env = {"GOVARCHIVE_DATABASE_URL": "sqlite:///env.db"}
        assert database_url("sqlite:///cli.db", path, env) == "sqlite:///cli.db"

    def test_env_beats_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        env = {"GOVARCHIVE_DATABASE_URL": "postgresql+psycopg://u@h/db"}
        assert database_url(None, path, env) == "postgresql+psycopg://u@h/db"

    def test_file_beats_default(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\nsources: []\n")
        assert database_url(None, path, {}) == "sqlite:///file.db"

    def test_default_without_file(self) -> None:
        assert database_url(None, None, {}) == "sqlite:///archive.db"

    def test_default_when_file_has_no_database_key(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "crawl: {}\n")
        assert database_url(None, path, {}) == "sqlite:///archive.db"

    def test_empty_env_value_is_ignored(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: sqlite:///file.db\n")
        assert database_url(None, path, {"GOVARCHIVE_DATABASE_URL": " "}) == "sqlite:///file.db"

    def test_cli_value_does_not_read_a_broken_file(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: [unclosed\n")
        assert database_url("sqlite:///cli.db", path, {}) == "sqlite:///cli.db"

    def test_given_missing_file_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="config file not found"):
            database_url(None, tmp_path / "nope.yaml", {})

    def test_invalid_yaml_names_the_line(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "crawl:\n  timeout: 3\ndatabase: [unclosed\n")
        with pytest.raises(ConfigError, match=r"config\.yaml: line \d+: invalid YAML"):
            database_url(None, path, {})

    def test_non_string_database_is_refused(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "database: 5\n")
        with pytest.raises(ConfigError, match=r"config\.yaml: database: must be a non-empty"):
            database_url(None, path, {})
