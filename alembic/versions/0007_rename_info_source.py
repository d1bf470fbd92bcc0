"""page_versions.source becomes info_source: the page's 来源 never shares a name with our sources.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Issue 13 (item 4): the page's own 来源 / 信息来源 / 文章来源 field (the body that issued the
document, as the page names it) was the column ``page_versions.source``, while everywhere
else — ``latest_versions.source_name``, the exports, ``history --json`` — "source" means
the configured source (``sources.name``). A researcher joining or filtering on
``source`` could not tell the two apart, so the page's field is now ``info_source``.

- ``page_versions.source`` is renamed ``info_source`` in place (``ALTER TABLE … RENAME
  COLUMN``: SQLite 3.25+ and PostgreSQL; no table copy, so no row is rewritten, and the
  ``section_changes`` view, which a batch-mode copy of the table would break, is left
  alone). Values are kept as they are.
- ``latest_versions`` names the column explicitly, so it is dropped before the rename and
  created again with ``info_source`` in the place ``source`` had (a view cannot be
  altered on SQLite, and its column would otherwise keep the old name).
- The full-text search objects of 0006 index ``title`` and ``body_text`` only: its FTS5
  tables and triggers (SQLite) and trigram indexes (PostgreSQL) do not name the column
  and need nothing; the rename never fires the update trigger.

Content hashes do not change: storage.content hashes ``info_source`` under its old name.

Like every revision, a snapshot: it does not import storage's models.
Downgrading renames the column back and recreates the view as 0002 made it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _canonical_columns(source: str) -> tuple[str, ...]:
    """The view's metadata columns, with the page's 来源 column named ``source``."""
    return (
        "title",
        "index_no",
        "category",
        "publisher",
        "topic",
        "doc_number",
        "published_date",
        "published_at",
        "written_date",
        "effective_date",
        "expiry_date",
        "validity",
        source,
        "keywords",
        "summary",
    )


def _latest_versions(source: str) -> str:
    """The view as of revision 0002, with the page's 来源 column named ``source``."""
    canonical = ",\n       ".join(f"v.{name} AS {name}" for name in _canonical_columns(source))
    return f"""
CREATE VIEW latest_versions AS
SELECT p.id AS page_id,
       p.source_id AS source_id,
       s.name AS source_name,
       p.url AS url,
       p.first_seen_at AS first_seen_at,
       p.last_fetched_at AS last_fetched_at,
       p.last_changed_at AS last_changed_at,
       p.gone_at AS gone_at,
       v.id AS version_id,
       v.version AS version,
       v.fetched_at AS fetched_at,
       v.content_hash AS content_hash,
       v.raw_hash AS raw_hash,
       {canonical},
       v.metadata_extra AS metadata_extra,
       v.body_text AS body_text,
       v.encoding AS encoding,
       v.parser_version AS parser_version,
       v.warnings AS warnings
FROM pages p
JOIN sources s ON s.id = p.source_id
JOIN page_versions v ON v.page_id = p.id
WHERE v.version = (SELECT max(v2.version) FROM page_versions v2 WHERE v2.page_id = p.id)
"""


def _rename(old: str, new: str) -> None:
    op.execute("DROP VIEW latest_versions")
    # recreate="never": rename in place on SQLite too (batch mode's default would copy
    # the table, which breaks the section_changes view).
    with op.batch_alter_table("page_versions", recreate="never") as batch:
        batch.alter_column(old, new_column_name=new)
    op.execute(_latest_versions(new))


def upgrade() -> None:
    _rename("source", "info_source")


def downgrade() -> None:
    _rename("info_source", "source")
