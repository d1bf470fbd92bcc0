"""storage.models against docs/schema.md: every column a researcher can query is described."""

from __future__ import annotations

import re
from pathlib import Path

from storage.models import Base

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_every_column_is_documented() -> None:
    """Each table's section of docs/schema.md has a row for every column of its model,
    so a column added to storage/models.py is described where researchers look."""
    doc = DOC.read_text(encoding="utf-8").split("\n## Views\n", 1)[0]
    for table in Base.metadata.sorted_tables:
        heading = f"\n### `{table.name}` — "
        assert heading in doc, table.name
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        rows = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
        missing = {c.name for c in table.columns} - rows
        assert not missing, f"{table.name}: {sorted(missing)}"
