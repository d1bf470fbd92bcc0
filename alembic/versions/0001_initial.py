"""Initial archive schema: sources, pages, versions, sections, fetches, runs, blobs, views.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Migrations are snapshots: they never import storage's models, so later model changes
cannot change what an old revision does. docs/schema.md describes every column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SHA256 = sa.String(length=64)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

FETCH_OUTCOMES = (
    "new_version",
    "unchanged",
    "not_modified",
    "gone",
    "error",
    "blocked",
    "skipped_robots",
    "offsite",
    "too_large",
    "skipped_host_paused",
    "list_page",
)
RUN_STATUSES = ("running", "completed", "failed", "blocked", "interrupted")
CANONICAL_COLUMNS = (
    "title, index_no, category, publisher, topic, doc_number, published_date, published_at, "
    "written_date, effective_date, expiry_date, validity, source, keywords, summary"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware UTC timestamp (timestamptz on PostgreSQL, UTC text on SQLite)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


LATEST_VERSIONS = f"""
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
       {", ".join(f"v.{c.strip()} AS {c.strip()}" for c in CANONICAL_COLUMNS.split(","))},
       v.metadata_extra AS metadata_extra,
       v.body_text AS body_text,
       v.encoding AS encoding,
       v.parser_version AS parser_version
FROM pages p
JOIN sources s ON s.id = p.source_id
JOIN page_versions v ON v.page_id = p.id
WHERE v.version = (SELECT max(v2.version) FROM page_versions v2 WHERE v2.page_id = p.id)
"""

_SIDES = """
       ov.id AS old_version_id, ov.version AS old_version, ov.fetched_at AS old_fetched_at,
       nv.id AS new_version_id, nv.version AS new_version, nv.fetched_at AS new_fetched_at,"""


def _section_changes(distinct: str) -> str:
    """The section_changes view; ``distinct`` is the dialect's null-safe ``<>``."""
    fields = ("title", "status", "progress", "problems", "next_steps")
    both = ",\n       ".join(f"os.{f} AS old_{f}, ns.{f} AS new_{f}" for f in fields)
    added = ",\n       ".join(f"NULL AS old_{f}, ns.{f} AS new_{f}" for f in fields)
    removed = ",\n       ".join(f"os.{f} AS old_{f}, NULL AS new_{f}" for f in fields)
    differs = " OR ".join(
        f"os.{f} {distinct} ns.{f}" for f in ("status", "progress", "problems", "next_steps")
    )
    pair = """FROM page_versions nv
JOIN page_versions ov ON ov.page_id = nv.page_id AND ov.version = nv.version - 1
JOIN pages p ON p.id = nv.page_id
JOIN sources s ON s.id = p.source_id"""
    head = "SELECT nv.page_id AS page_id, p.url AS url, s.name AS source_name,"
    return f"""
CREATE VIEW section_changes AS
{head} ns.number AS number, 'changed' AS change,{_SIDES}
       {both}
{pair}
JOIN task_sections ns ON ns.version_id = nv.id
JOIN task_sections os ON os.version_id = ov.id AND os.number = ns.number
WHERE {differs}
UNION ALL
{head} ns.number AS number, 'added' AS change,{_SIDES}
       {added}
{pair}
JOIN task_sections ns ON ns.version_id = nv.id
WHERE NOT EXISTS (SELECT 1 FROM task_sections os
                  WHERE os.version_id = ov.id AND os.number = ns.number)
UNION ALL
{head} os.number AS number, 'removed' AS change,{_SIDES}
       {removed}
{pair}
JOIN task_sections os ON os.version_id = ov.id
WHERE NOT EXISTS (SELECT 1 FROM task_sections ns
                  WHERE ns.version_id = nv.id AND ns.number = os.number)
"""


def upgrade() -> None:
    op.create_table(
        "blob_dicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", SHA256, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blob_dicts")),
        sa.UniqueConstraint("hash", name=op.f("uq_blob_dicts_hash")),
    )
    op.create_table(
        "blobs",
        sa.Column("hash", SHA256, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("codec", sa.Text(), nullable=False),
        sa.Column("dict_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(_in("codec", ("zstd",)), name=op.f("ck_blobs_codec")),
        sa.ForeignKeyConstraint(
            ["dict_id"], ["blob_dicts.id"], name=op.f("fk_blobs_dict_id_blob_dicts")
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_blobs")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("config_json", JSON_DOC, nullable=True),
        _ts("created_at"),
        sa.Column("blob_dict_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_dict_id"], ["blob_dicts.id"], name=op.f("fk_sources_blob_dict_id_blob_dicts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "pages_seen",
                "new_pages",
                "new_versions",
                "unchanged",
                "not_modified",
                "gone",
                "errors",
                "skipped",
            )
        ),
        sa.CheckConstraint(_in("status", RUN_STATUSES), name=op.f("ck_crawl_runs_status")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_crawl_runs_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_index(op.f("ix_crawl_runs_source_id"), "crawl_runs", ["source_id"])
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        _ts("first_seen_at"),
        _ts("last_fetched_at"),
        _ts("last_changed_at"),
        _ts("gone_at", nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_pages_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("url", name=op.f("uq_pages_url")),
    )
    op.create_index(op.f("ix_pages_source_id"), "pages", ["source_id"])
    op.create_table(
        "page_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("fetched_at"),
        sa.Column("content_hash", SHA256, nullable=False),
        sa.Column("raw_hash", SHA256, nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("index_no", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("doc_number", sa.Text(), nullable=True),
        sa.Column("published_date", sa.Date(), nullable=True),
        _ts("published_at", nullable=True),
        sa.Column("written_date", sa.Date(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("validity", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("metadata_extra", JSON_DOC, nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("encoding", sa.Text(), nullable=False),
        sa.Column("encoding_source", sa.Text(), nullable=False),
        sa.Column("warnings", JSON_DOC, nullable=False),
        sa.Column("parser_version", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_page_versions_version_positive")),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
            name=op.f("fk_page_versions_page_id_pages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["raw_hash"], ["blobs.hash"], name=op.f("fk_page_versions_raw_hash_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_versions")),
        sa.UniqueConstraint("page_id", "version", name=op.f("uq_page_versions_page_id_version")),
    )
    op.create_index(op.f("ix_page_versions_content_hash"), "page_versions", ["content_hash"])
    op.create_table(
        "fetches",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        _ts("requested_at"),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("raw_hash", SHA256, nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("outcome", FETCH_OUTCOMES), name=op.f("ck_fetches_outcome")),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_fetches_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_fetches_page_id_pages")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["page_versions.id"],
            name=op.f("fk_fetches_version_id_page_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetches")),
    )
    op.create_index(op.f("ix_fetches_crawl_run_id"), "fetches", ["crawl_run_id"])
    op.create_index(op.f("ix_fetches_page_id"), "fetches", ["page_id"])
    op.create_table(
        "task_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("extra", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["page_versions.id"],
            name=op.f("fk_task_sections_version_id_page_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_sections")),
        sa.UniqueConstraint(
            "version_id", "number", name=op.f("uq_task_sections_version_id_number")
        ),
    )
    # SQLite spells the null-safe "differs" IS NOT; PostgreSQL IS DISTINCT FROM.
    distinct = "IS NOT" if op.get_bind().dialect.name == "sqlite" else "IS DISTINCT FROM"
    op.execute(LATEST_VERSIONS)
    op.execute(_section_changes(distinct))


def downgrade() -> None:
    op.execute("DROP VIEW section_changes")
    op.execute("DROP VIEW latest_versions")
    op.drop_table("task_sections")
    op.drop_index(op.f("ix_fetches_page_id"), table_name="fetches")
    op.drop_index(op.f("ix_fetches_crawl_run_id"), table_name="fetches")
    op.drop_table("fetches")
    op.drop_index(op.f("ix_page_versions_content_hash"), table_name="page_versions")
    op.drop_table("page_versions")
    op.drop_index(op.f("ix_pages_source_id"), table_name="pages")
    op.drop_table("pages")
    op.drop_index(op.f("ix_crawl_runs_source_id"), table_name="crawl_runs")
    op.drop_table("crawl_runs")
    op.drop_table("sources")
    op.drop_table("blobs")
    op.drop_table("blob_dicts")
