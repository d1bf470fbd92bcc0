"""One vocabulary: ``FetchOutcome`` and ``RunStatus`` are the only spelling of
``fetches.outcome`` and ``crawl_runs.status``; the CHECK constraints the migrations wrote,
the values stored and docs/schema.md all agree with them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import CheckConstraint, Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.archive import finish_run, run_summary
from storage.models import Base, Fetch, FetchOutcome, RunStatus
from storage.runs import ERROR_OUTCOMES, SKIPPED_OUTCOMES
from tests.storage.factories import Crawl

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
VOCABULARIES = [
    pytest.param("fetches", "outcome", FetchOutcome, id="fetches.outcome"),
    pytest.param("crawl_runs", "status", RunStatus, id="crawl_runs.status"),
]


def _quoted(sql: str) -> list[str]:
    return re.findall(r"'([a-z_]+)'", sql)


@pytest.mark.parametrize(("table", "column", "vocabulary"), VOCABULARIES)
def test_the_migrated_check_constraint_allows_exactly_the_enum(
    engine: Engine, table: str, column: str, vocabulary: type[FetchOutcome | RunStatus]
) -> None:
    """The database built by the migrations accepts the enum's values, in its order; on
    SQLite (which keeps the DDL as written) the model's constraint is byte-identical."""
    with engine.connect() as conn:
        (check,) = inspect(conn).get_check_constraints(table)
    assert check["name"] == f"ck_{table}_{column}"
    assert _quoted(check["sqltext"]) == [member.value for member in vocabulary]
    if engine.dialect.name == "sqlite":
        (model,) = (
            c for c in Base.metadata.tables[table].constraints if isinstance(c, CheckConstraint)
        )
        assert check["sqltext"] == str(model.sqltext)


def test_stored_values_are_the_plain_strings(engine: Engine) -> None:
    """The enums change nothing in the database: rows hold the same text as before, and
    what is read back compares equal to the members."""
    crawl = Crawl.start(engine)
    crawl.fetch("https://www.example.gov.cn/gone.html", "gone", http_status=404)
    finish_run(engine, crawl.run_id, RunStatus.COMPLETED)
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM crawl_runs")).scalar_one()
        outcome = conn.execute(select(Fetch.outcome)).scalar_one()
        with pytest.raises(IntegrityError):
            conn.execute(text("UPDATE crawl_runs SET status = 'finished'"))
    assert (type(status), status) == (str, "completed")
    assert (type(outcome), outcome) == (str, "gone") and outcome == FetchOutcome.GONE
    assert run_summary(engine, crawl.run_id).status is RunStatus.COMPLETED


def _backticked(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"`([a-z_]+)`", text)))


def _table_row(doc: str, heading: str, column: str) -> str:
    section = doc.split(f"### `{heading}`", 1)[1]
    return next(line for line in section.splitlines() if line.startswith(f"| `{column}` |"))


def test_docs_explain_every_outcome() -> None:
    doc = DOC.read_text(encoding="utf-8")
    paragraph = doc.split("`outcome` is one of: ", 1)[1].split("\n\n", 1)[0]
    explained = re.findall(r"`([a-z_]+)` \(", paragraph)  # `gone` (404, 410 …)
    assert sorted(explained) == sorted(FetchOutcome)


def test_docs_name_every_run_status() -> None:
    row = _table_row(DOC.read_text(encoding="utf-8"), "crawl_runs", "status")
    assert _backticked(row.split("|")[3]) == list(RunStatus)


@pytest.mark.parametrize(
    ("column", "outcomes"), [("errors", ERROR_OUTCOMES), ("skipped", SKIPPED_OUTCOMES)]
)
def test_docs_name_the_outcomes_each_count_counts(
    column: str, outcomes: tuple[FetchOutcome, ...]
) -> None:
    row = _table_row(DOC.read_text(encoding="utf-8"), "crawl_runs", column)
    assert _backticked(row.split("|")[3]) == list(outcomes)
