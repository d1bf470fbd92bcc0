"""fetches: the outcome ``suspect``, ``final_url`` and ``content_hash``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

Issue 16 (hostile and broken sites):

- ``outcome`` may be ``suspect``: a known page answered with what looks like a transient
  failure (an empty body, a busy or maintenance page, truncated HTML, a page that lost
  the fields it always had); no version is written unless the next crawl confirms it.
- ``content_hash``: the content hash of a suspect answer; it is how the next crawl
  confirms it.
- ``final_url``: where the answer came from when redirects led away from the URL asked
  for. Fetch rows now always carry the requested URL (and its page), so a page that
  redirects to an error page is the page marked gone.

The CHECK constraint on ``outcome`` is replaced by a wider one: on SQLite, whose ALTER
TABLE cannot change a constraint, batch mode copies the table (its time and disk space
grow with the number of fetches). Downgrading turns ``suspect`` rows into ``error``
rows whose ``error`` starts with ``suspect:``, and drops the two columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES_0001 = (
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
OUTCOMES_0003 = ("new_version", "unchanged", "suspect", *OUTCOMES_0001[2:])


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("fetches") as batch:
        batch.add_column(sa.Column("final_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch.drop_constraint(op.f("ck_fetches_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_fetches_outcome"), _in("outcome", OUTCOMES_0003))


def downgrade() -> None:
    op.execute(
        "UPDATE fetches SET outcome = 'error', error = 'suspect: ' || COALESCE(error, '') "
        "WHERE outcome = 'suspect'"
    )
    with op.batch_alter_table("fetches") as batch:
        batch.drop_constraint(op.f("ck_fetches_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_fetches_outcome"), _in("outcome", OUTCOMES_0001))
        batch.drop_column("content_hash")
        batch.drop_column("final_url")
