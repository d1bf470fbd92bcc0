"""storage.datasette: the metadata dict for an archive at head, and for one without the
full-text indexes (before revision 0006)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from storage.datasette import archive_tables, datasette_metadata, is_hidden
from storage.descriptions import TABLE_DOCS
from storage.engine import make_engine
from storage.models import Base
from storage.recipes import RECIPES

MODEL_TABLES = {table.name for table in Base.metadata.sorted_tables}
VISIBLE = (MODEL_TABLES - {"blobs", "blob_dicts"}) | {"latest_versions", "section_changes"}


@pytest.fixture
def head_tables(tmp_path: Path, sqlite_template: Path) -> dict[str, list[str]]:
    """Every table and view of an SQLite archive at head, with its columns."""
    path = tmp_path / "archive.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        return archive_tables(engine)
    finally:
        engine.dispose()


def tables_of(metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = metadata["databases"]["archive"]["tables"]
    return tables


def test_archive_tables_lists_tables_views_and_fts_shadow_tables(
    head_tables: dict[str, list[str]],
) -> None:
    assert set(head_tables) >= MODEL_TABLES | {"alembic_version", "latest_versions"}
    assert {"page_versions_fts", "page_versions_fts_data", "attachments_fts_idx"} <= set(
        head_tables
    )
    assert not [name for name in head_tables if name.startswith("sqlite_")]
    assert head_tables["page_versions_fts"] == ["title", "body_text"]
    assert head_tables["sources"] == ["id", "name", "config_json", "created_at", "blob_dict_id"]


def test_hides_blobs_revision_fts_tables_and_the_job_queue(
    head_tables: dict[str, list[str]],
) -> None:
    tables = tables_of(datasette_metadata("archive", {**head_tables, "procrastinate_jobs": ["id"]}))
    assert set(tables) == {*head_tables, "procrastinate_jobs"}
    hidden = {name for name, entry in tables.items() if entry.get("hidden")}
    assert set(tables) - hidden == VISIBLE
    assert {"blobs", "blob_dicts", "alembic_version", "procrastinate_jobs"} <= hidden
    assert all(name in hidden for name in tables if "_fts" in name)
    assert all(tables[name] == {"hidden": True} for name in hidden)


def test_describes_every_column_of_every_visible_table(head_tables: dict[str, list[str]]) -> None:
    tables = tables_of(datasette_metadata("archive", head_tables))
    for name in VISIBLE:
        assert list(tables[name]["columns"]) == head_tables[name], name
        assert all(tables[name]["columns"].values()), name
    for name in VISIBLE & MODEL_TABLES:
        assert tables[name]["description"] == TABLE_DOCS[name].description.replace("`", "")
    assert tables["page_versions"]["columns"]["content_hash"] == (
        "SHA-256 of the parsed content (see above); indexed (text (64))"
    )
    # no Markdown left: Datasette shows descriptions as plain text
    assert tables["page_versions"]["columns"]["body_text"].count("`") == 0
    assert "(cells joined with  | );" in tables["page_versions"]["columns"]["body_text"]
    assert tables["section_changes"]["columns"]["old_status"].startswith(
        "the task's status in the old version (null when the task is not in it): 完成状态"
    )
    assert tables["latest_versions"]["columns"]["gone_at"].startswith("null unless the page is")


def test_search_box_on_the_indexed_tables_and_the_latest_versions_view(
    head_tables: dict[str, list[str]],
) -> None:
    tables = tables_of(datasette_metadata("archive", head_tables))
    fts = {
        name: (entry["fts_table"], entry["fts_pk"])
        for name, entry in tables.items()
        if "fts_table" in entry
    }
    assert fts == {
        "page_versions": ("page_versions_fts", "id"),
        "latest_versions": ("page_versions_fts", "version_id"),
        "task_sections": ("task_sections_fts", "id"),
        "attachments": ("attachments_fts", "id"),
    }
    # the default (escaped) search mode quotes each word: a trigram phrase, never a syntax error
    assert not any("searchmode" in entry for entry in tables.values())


def test_no_search_box_without_the_full_text_indexes() -> None:
    before_0006 = {name: list(TABLE_DOCS[name].columns) for name in MODEL_TABLES}
    before_0006 |= {"alembic_version": ["version_num"], "latest_versions": ["version_id"]}
    tables = tables_of(datasette_metadata("archive", before_0006))
    assert not any("fts_table" in entry for entry in tables.values())


def test_recipes_are_canned_queries_under_the_database_name() -> None:
    metadata = datasette_metadata("my-archive", {"pages": ["id", "url"]})
    queries = metadata["databases"]["my-archive"]["queries"]
    assert list(queries) == [recipe.name for recipe in RECIPES]
    pages_gone = queries["pages_gone"]
    assert pages_gone["title"] == "Pages that disappeared, and when"
    assert pages_gone["sql"].startswith("SELECT lv.source_name, lv.url")
    assert "description" not in pages_gone  # the doc has none: Datasette shows the title
    assert queries["page_on_date"]["description"] == (
        "The newest version first seen at or before the date (midnight UTC)."
    )


@pytest.mark.parametrize(
    ("table", "hidden"),
    [
        ("blobs", True),
        ("page_versions_fts_config", True),
        ("procrastinate_workers", True),
        ("page_versions", False),
        ("latest_versions", False),
    ],
)
def test_is_hidden(table: str, hidden: bool) -> None:
    assert is_hidden(table) is hidden
