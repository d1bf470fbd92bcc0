"""``govarchive demo``: crawl a bundled replica site twice into demo.db and query it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select

from scraper.commands.common import (
    BadUsage,
    database_option,
    open_archive,
    translated_errors,
)
from scraper.crawling.pipeline import SourceRun
from scraper.demo.run import DEMO_SOURCE, DemoResult, QueryResult, run_demo
from storage.engine import make_engine
from storage.models import Source

NEXT_STEPS = """\
What happened: the first crawl archived every document; the second found one report
changed (task 二: 持续推进 → 已完成) and one new report, so it wrote two new versions;
four pages whose view counter and generation stamp had moved stayed "unchanged", two
answered 304 "not_modified", the withdrawn notice was recorded "gone", and the draft
that robots.txt disallows was never requested.

Look around:
  sqlite3 {db} "SELECT * FROM section_changes"
  govarchive history --database {url} {report_url}
  govarchive history --database {url} {report_url} --diff 1 2
  govarchive export --database {url} --format csv --what versions --what sections --out demo-export

Point it at real sources:
  1. Edit config.yaml: one entry per column, with its list page as start_urls and a CSS
     selector for the document links as detail_links (docs/config.md, "Finding the
     selectors of a new site"; docs/querying.md walks through the whole workflow).
  2. govarchive check-source NAME   (what discovery and the parser find, without archiving)
  3. govarchive crawl               (archive.db), then govarchive schedule to run daily.
Be polite: keep requests_per_second at 1 or lower and a user_agent that names you."""


def _is_demo_archive(path: Path) -> bool:
    """True when the SQLite file at ``path`` holds only the demo's source."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            names = set(conn.execute(select(Source.name)).scalars())
    except Exception:
        return False
    finally:
        engine.dispose()
    return names <= {DEMO_SOURCE}


def _prepare_file(db: Path) -> None:
    """Remove an earlier demo archive at ``db``; refuse to touch any other file."""
    if not db.exists():
        return
    if not _is_demo_archive(db):
        raise BadUsage(
            f"{db} exists and is not a demo archive; it was left untouched. "
            "Choose another path with --db",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _require_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        names = list(conn.execute(select(Source.name)).scalars())
    if names:
        raise BadUsage(
            f"the demo needs an empty archive, and this one holds sources "
            f"({', '.join(names)}); use --db PATH for a SQLite file of its own",
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    # SQLite returns timestamps from views as stored text (UTC, microseconds)
    return text[:19] if len(text) == 26 and text[4] == "-" and text[10] == " " else text


def _crawl_table(n: int, runs: list[SourceRun]) -> Table:
    table = Table(title=f"crawl {n}", title_justify="left")
    for name in (
        "run",
        "status",
        "pages seen",
        "new pages",
        "new versions",
        "unchanged",
        "not modified",
        "gone",
        "skipped",
    ):
        table.add_column(name, justify="left" if name == "status" else "right")
    for run in runs:
        s = run.summary
        table.add_row(
            str(run.run_id),
            run.status,
            str(s.pages_seen),
            str(s.new_pages),
            str(s.new_versions),
            str(s.unchanged),
            str(s.not_modified),
            str(s.gone),
            str(s.skipped),
        )
    return table


def _result_table(result: QueryResult) -> Table:
    table = Table(title_justify="left", show_lines=False)
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def print_demo(console: Console, result: DemoResult, db_label: str, url: str) -> None:
    """Print the queries with their results, then what to do next."""
    for answer in result.results:
        click.echo(f"\n{answer.query.question}")
        click.secho(answer.query.sql, fg="cyan")
        console.print(_result_table(answer))
    report = next((row[0] for row in result.results[1].rows), "URL")
    click.echo()
    click.echo(NEXT_STEPS.format(db=db_label, url=url, report_url=report))


@click.command("demo")
@database_option
@click.option(
    "--db",
    "db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("demo.db"),
    show_default=True,
    help="SQLite file to crawl into (an earlier demo archive there is replaced; any other "
    "file is refused). Ignored when --database is given.",
)
def demo_command(database: str | None, db: Path) -> None:
    """Try govarchive offline: crawl a bundled replica of a disclosure site twice.

    Serves a small copy of a 政府信息公开 column (list pages, progress reports with
    task sections, notices, robots.txt) on 127.0.0.1, crawls it with the real
    crawler into demo.db, changes one report's task from 持续推进 to 已完成, crawls
    again, and prints SQL queries with their results: versions, the status change,
    what each crawl fetched. Needs no network. --database URL uses an empty archive
    (e.g. PostgreSQL) instead of the file.
    """
    if database is None:
        _prepare_file(db)
        url = f"sqlite:///{db}"
        label = str(db)
    else:
        url = database
        label = database
    engine = open_archive(url, None)
    # Wide enough for URLs when the output goes to a file or pipe (rich assumes 80).
    console = Console(width=None if Console().is_terminal else 140)
    try:
        if database is not None:
            _require_empty(engine)
        click.echo(f"Serving the replica site on 127.0.0.1 and crawling it into {label} …")
        with translated_errors():
            result = run_demo(
                engine,
                database=url,
                on_crawl=lambda n, runs: console.print(_crawl_table(n, runs)),
            )
    finally:
        engine.dispose()
    print_demo(console, result, label, url if database is None else "URL")
