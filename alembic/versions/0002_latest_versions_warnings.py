"""latest_versions gains warnings: what the parser guessed or could not read, per page.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

The parser's warnings ("title taken from <title> …", "article container guessed by text
density", "no metadata block found") have been stored with each version since 0001; the
view now shows them beside the fields they qualify, so a researcher can filter on them.
The view is recreated (SQLite cannot alter a view); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANONICAL_COLUMNS = (
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
    "source",
    "keywords",
    "summary",
)


def _latest_versions(with_warnings: bool) -> str:
    """The view as of this revision (or, without warnings, as 0001 made it)."""
    canonical = ",\n       ".join(f"v.{name} AS {name}" for name in CANONICAL_COLUMNS)
    warnings = ",\n       v.warnings AS warnings" if with_warnings else ""
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
       v.parser_version AS parser_version{warnings}
FROM pages p
JOIN sources s ON s.id = p.source_id
JOIN page_versions v ON v.page_id = p.id
WHERE v.version = (SELECT max(v2.version) FROM page_versions v2 WHERE v2.page_id = p.id)
"""


def upgrade() -> None:
    op.execute("DROP VIEW latest_versions")
    op.execute(_latest_versions(with_warnings=True))


def downgrade() -> None:
    op.execute("DROP VIEW latest_versions")
    op.execute(_latest_versions(with_warnings=False))
