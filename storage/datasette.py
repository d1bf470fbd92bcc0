"""Datasette metadata for an SQLite archive: what to hide, what each column means, the
schema's recipes as canned queries, and the full-text indexes behind the search box.

Written for Datasette 0.6x (tested with 0.65), whose ``metadata.json`` (or ``.yaml``) holds
``databases → <name> → tables`` (``hidden``, ``description``, ``columns``, ``fts_table``,
``fts_pk``, ``label_column``) and ``queries``. Datasette 1.0 (alpha) moves most of this into
a separate configuration file; it is not supported yet.

``datasette_metadata`` is pure: it takes the database's tables and views with their columns
and returns the dict. ``archive_tables`` is the one function here that reads a database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Engine, text

from storage.descriptions import TABLE_DOCS, plain
from storage.models import SECTION_FIELDS
from storage.recipes import RECIPES

#: Tables a researcher never reads through Datasette: zstd-compressed bytes and their
#: dictionaries (SQL cannot decompress them; ``govarchive raw`` can), the schema revision.
HIDDEN_TABLES = frozenset({"blobs", "blob_dicts", "alembic_version"})

#: Name prefixes of tables hidden too: procrastinate's job queue (PostgreSQL only, listed
#: so that a copied or future SQLite database with them still hides them).
HIDDEN_PREFIXES = ("procrastinate_",)

#: Table or view → (its FTS5 table, the column whose value is the FTS table's rowid).
#: Revision 0006 made the FTS5 tables with ``content_rowid='id'``; the view
#: ``latest_versions`` searches its versions through ``version_id``.
SEARCHABLE: dict[str, tuple[str, str]] = {
    "page_versions": ("page_versions_fts", "id"),
    "latest_versions": ("page_versions_fts", "version_id"),
    "task_sections": ("task_sections_fts", "id"),
    "attachments": ("attachments_fts", "id"),
}

#: The column Datasette shows in place of a foreign key's id.
LABEL_COLUMNS = {"sources": "name", "pages": "url", "page_versions": "title"}

VIEW_DOCS = {
    "latest_versions": "one row per page: its newest version, with the page's and its "
    "source's columns (gone pages included: filter on gone_at IS NULL for live ones)",
    "section_changes": "how each task changed between consecutive versions of a page: "
    "changed, added or removed, with the old_ and new_ title, status, progress, problems "
    "and next_steps",
}

#: The columns of ``latest_versions`` that come from ``pages`` rather than ``page_versions``
#: (the same names and meanings as there); the rest are the newest version's.
_FROM_PAGES = ("url", "first_seen_at", "last_fetched_at", "last_changed_at", "gone_at")

#: The task-section fields that ``section_changes`` has an old_ and a new_ column for.
_SECTION_FIELDS = ("title", *SECTION_FIELDS)


def is_hidden(table: str) -> bool:
    """Return whether Datasette should leave ``table`` out of its table list: the blobs, the
    schema revision, procrastinate's tables and every full-text index with its shadow
    tables (``*_fts``, ``*_fts_data`` …). Pure."""
    return table in HIDDEN_TABLES or table.startswith(HIDDEN_PREFIXES) or "_fts" in table


def _columns(table: str) -> dict[str, str]:
    return {
        name: f"{plain(doc.meaning)} ({plain(doc.type)})"
        for name, doc in TABLE_DOCS[table].columns.items()
    }


def _view_columns(view: str) -> dict[str, str]:
    """Return the descriptions of a view's columns, from those of the tables they come from."""
    pages, versions = _columns("pages"), _columns("page_versions")
    columns = {
        "page_id": "the page (pages.id)",
        "url": pages["url"],
        "source_name": "the name in config.yaml of the source that first archived the page "
        "(sources.name)",
    }
    if view == "latest_versions":
        columns |= {
            "source_id": "the source that first archived the page (sources.id)",
            "version_id": "the newest version (page_versions.id)",
        }
        columns |= {name: pages[name] for name in _FROM_PAGES}
        columns |= {k: v for k, v in versions.items() if k not in ("id", "page_id")}
        return columns
    sections = _columns("task_sections")
    columns |= {
        "number": sections["number"],
        "change": "changed (present in both versions and its status, progress, problems or "
        "next_steps differ; a title-only edit is not a change), added (only in the new "
        "version) or removed (only in the old one)",
    }
    for side, n in (("old", "n - 1"), ("new", "n")):
        columns |= {
            f"{side}_version_id": f"the {side} version (page_versions.id)",
            f"{side}_version": f"its version number ({n})",
            f"{side}_fetched_at": f"request time of the fetch that first saw the {side} version",
        }
        columns |= {
            f"{side}_{field}": f"the task's {field} in the {side} version (null when the task "
            f"is not in it): {sections[field]}"
            for field in _SECTION_FIELDS
        }
    return columns


def datasette_metadata(database: str, tables: Mapping[str, Collection[str]]) -> dict[str, Any]:
    """Return Datasette metadata for the archive Datasette names ``database`` (its file
    name without ``.db``), whose tables and views are ``tables`` (name → column names).
    Pure.

    Every table of ``tables`` is either hidden (``is_hidden``) or described with those of
    its columns it has; the search box is configured only where the FTS5 table exists
    (revision 0006 or later); each recipe of docs/schema.md is a canned query.
    """
    described: dict[str, dict[str, Any]] = {}
    for table in sorted(tables):
        if is_hidden(table):
            described[table] = {"hidden": True}
            continue
        entry: dict[str, Any] = {}
        if table in TABLE_DOCS or table in VIEW_DOCS:
            if table in TABLE_DOCS:
                entry["description"] = plain(TABLE_DOCS[table].description)
                known = _columns(table)
            else:
                entry["description"] = VIEW_DOCS[table]
                known = _view_columns(table)
            entry["columns"] = {c: known[c] for c in tables[table] if c in known}
        if table in LABEL_COLUMNS:
            entry["label_column"] = LABEL_COLUMNS[table]
        if table in SEARCHABLE and SEARCHABLE[table][0] in tables:
            entry["fts_table"], entry["fts_pk"] = SEARCHABLE[table]
        described[table] = entry
    queries: dict[str, dict[str, str]] = {}
    for recipe in RECIPES:
        queries[recipe.name] = {"title": recipe.title, "sql": recipe.sql}
        if recipe.description:
            queries[recipe.name]["description"] = plain(recipe.description)
    return {
        "title": "govarchive archive",
        "description": (
            "Versioned archive of Chinese government disclosure pages. Search finds words "
            "of three characters or more (the index is of trigrams); the canned queries are "
            "the recipes of docs/schema.md: edit their URLs, names and dates."
        ),
        "source": "govarchive: docs/schema.md describes every table and column",
        "databases": {database: {"tables": described, "queries": queries}},
    }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def archive_tables(engine: Engine) -> dict[str, list[str]]:
    """Return every table (virtual and shadow tables included) and view of an SQLite
    archive, as Datasette lists them, with its column names. Reads the schema only."""
    with engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ).scalars()
        return {
            name: [row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({_quoted(name)})")]
            for name in list(names)
        }
