"""storage.descriptions and storage.recipes say exactly what docs/schema.md says: every
model column is described, in the doc's words, and the recipes are the doc's."""

from __future__ import annotations

import re
from pathlib import Path

from storage.descriptions import TABLE_DOCS, plain
from storage.models import Base
from storage.recipes import RECIPES
from tests.storage.test_schema_doc import recipes

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def doc_tables() -> dict[str, tuple[str, dict[str, tuple[str, str]]]]:
    """Return table → (heading after the dash, column → (type, meaning)) from the doc's
    ``### `table` — …`` sections before "Views"."""
    doc = DOC.read_text(encoding="utf-8").split("\n## Views\n", 1)[0]
    found: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {}
    for match in re.finditer(r"\n### `(\w+)` — (.*)\n", doc):
        section = doc[match.end() :].split("\n### ", 1)[0]
        rows = {
            row.group(1): (row.group(2), row.group(3))
            for row in re.finditer(r"^\| `(\w+)` \| (.*?) \| (.*) \|$", section, re.M)
        }
        found[match.group(1)] = (match.group(2), rows)
    return found


def test_every_model_column_is_described_in_model_order() -> None:
    assert set(TABLE_DOCS) == {table.name for table in Base.metadata.sorted_tables}
    for table in Base.metadata.sorted_tables:
        assert list(TABLE_DOCS[table.name].columns) == [c.name for c in table.columns], table


def test_the_doc_says_exactly_what_the_descriptions_say() -> None:
    doc = doc_tables()
    for table, described in TABLE_DOCS.items():
        heading, rows = doc[table]
        assert heading == described.description, table
        assert rows == {name: tuple(column) for name, column in described.columns.items()}, table


def test_the_recipes_are_the_docs() -> None:
    assert {r.title: r.sql for r in RECIPES} == recipes()
    assert [r.title for r in RECIPES] == list(recipes())
    doc = DOC.read_text(encoding="utf-8")
    for recipe in RECIPES:
        intro = doc.split(f"\n### {recipe.title}\n", 1)[1].split("```sql", 1)[0]
        assert " ".join(intro.split()) == recipe.description, recipe.title


def test_recipe_names_are_distinct_url_segments() -> None:
    names = [r.name for r in RECIPES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)


def test_plain_drops_the_docs_markdown() -> None:
    assert plain("cells joined with ` \\| `; **and** `x`") == "cells joined with  | ; and x"
