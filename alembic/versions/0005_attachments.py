"""attachments: the files a version's page links, and ``fetches.attachment``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Issue 12 (attachments): disclosure pages often carry the document itself as an attachment
(附件：1. ….pdf 2. ….docx). Each version now records the files its page linked when it was
archived, one ``attachments`` row per file, with the bytes in ``blobs`` (content-addressed:
a file linked from a hundred pages is stored once) and their text.

- ``attachments``: version_id, position (1-based, as linked), url, link_text, filename,
  kind (sniffed: pdf, docx, xlsx …), content_type, size, sha256 (the blob; NULL when never
  downloaded), text, extractor, extract_error, download_error, fetched_at, etag,
  last_modified (the validators of the conditional request on the next crawl).
- ``fetches.attachment``: true for a request made for an attachment (``page_id`` is the
  page linking it); false for every row before this revision.

Like every revision, a snapshot: it does not import storage's models.

Adding a column with a constant default is a plain ALTER TABLE on both databases (no
table copy on SQLite). Downgrading drops the table and the column: the attachments' rows
go, their blobs stay (unreferenced bytes are harmless; nothing else is lost).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("link_text", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("extractor", sa.Text(), nullable=True),
        sa.Column("extract_error", sa.Text(), nullable=True),
        sa.Column("download_error", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blobs.hash"], name=op.f("fk_attachments_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["page_versions.id"],
            name=op.f("fk_attachments_version_id_page_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint(
            "version_id", "position", name=op.f("uq_attachments_version_id_position")
        ),
    )
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"], unique=False)
    with op.batch_alter_table("fetches") as batch:
        batch.add_column(
            sa.Column("attachment", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("fetches") as batch:
        batch.drop_column("attachment")
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_table("attachments")
