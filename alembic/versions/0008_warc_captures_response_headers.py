"""warc_captures, and each version's HTTP answer (status and headers) as served.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Issue 14 (WARC in and out):

- ``page_versions.http_status`` and ``page_versions.response_headers``: the status and
  the response headers (a JSON list of ``[name, value]`` pairs, in the order and case
  served) of the answer that first brought a version's content, so that
  ``export --format warc`` writes a response record as it was served. NULL for versions
  archived before this revision: their export synthesises a minimal header from
  ``content_type`` and says so.
- ``warc_captures``: one row per WARC or ARC record ``import-warc`` read for a source,
  with the file, the record's id and offset, its WARC-Date and what the import made of
  it (``outcome``; ``version_id`` when it made, confirmed or moved a version earlier).
  ``record_id`` is unique: a second import of the same file writes nothing.

Like every revision, a snapshot: it does not import storage's models. Adding and
dropping nullable columns is a plain ALTER TABLE on both databases (no table copy on
SQLite, so the ``section_changes`` view is untouched; dropping needs SQLite 3.35+).
Downgrading drops the table and the two columns: imported versions stay, their
provenance and every version's headers go.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OUTCOMES = (
    "new_version",
    "unchanged",
    "earlier",
    "redirect",
    "gone",
    "blocked",
    "suspect",
    "error",
    "unresolved",
)


def _timestamp(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode's table copy: on SQLite a copy of page_versions
    # breaks the section_changes view that reads it.
    op.add_column("page_versions", sa.Column("http_status", sa.Integer(), nullable=True))
    op.add_column("page_versions", sa.Column("response_headers", JSON_DOC, nullable=True))
    op.create_table(
        "warc_captures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("warc_file", sa.Text(), nullable=False),
        sa.Column("record_offset", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        _timestamp("captured_at"),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _timestamp("imported_at"),
        sa.CheckConstraint(
            f"outcome IN ({', '.join(repr(o) for o in OUTCOMES)})",
            name=op.f("ck_warc_captures_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["pages.id"], name=op.f("fk_warc_captures_page_id_pages")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_warc_captures_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["page_versions.id"],
            name=op.f("fk_warc_captures_version_id_page_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_captures")),
        sa.UniqueConstraint("record_id", name=op.f("uq_warc_captures_record_id")),
    )
    for column in ("source_id", "page_id", "version_id"):
        op.create_index(op.f(f"ix_warc_captures_{column}"), "warc_captures", [column])


def downgrade() -> None:
    for column in ("source_id", "page_id", "version_id"):
        op.drop_index(op.f(f"ix_warc_captures_{column}"), table_name="warc_captures")
    op.drop_table("warc_captures")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: see upgrade.
    op.drop_column("page_versions", "response_headers")
    op.drop_column("page_versions", "http_status")
