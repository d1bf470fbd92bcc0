"""The list of CLI commands: where each one lives and the line ``govarchive --help`` shows.

Nothing here imports a command: :class:`scraper.cli.LazyGroup` imports a command's
module only when that command runs or shows its own help, so ``govarchive --help``
does not pay for SQLAlchemy, Alembic or httpx. Add a command here when its module
exists; ``tests/test_cli.py`` checks that each short help equals the first sentence
of the command's own help.
"""

from __future__ import annotations

from typing import NamedTuple


class CommandEntry(NamedTuple):
    """Where a command is (``"module:attribute"``) and its one-line help."""

    target: str
    short_help: str


#: Every top-level command by name (``--help`` lists them alphabetically).
COMMANDS: dict[str, CommandEntry] = {
    # crawling
    "crawl": CommandEntry(
        "scraper.commands.crawl:crawl_command",
        "Crawl the configured sources once and archive what changed.",
    ),
    "check-source": CommandEntry(
        "scraper.commands.check_source:check_source_command",
        "Fetch a source's first list pages and one detail page, and show what was found.",
    ),
    "parse": CommandEntry(
        "scraper.commands.parse:parse_command",
        "Parse pages (saved files, - for stdin, or http(s) URLs fetched once) and print their "
        "metadata, task sections and body text (a PDF, .docx, text or JSON document: its "
        "text, as a crawl archives it).",
    ),
    "schedule": CommandEntry(
        "scraper.commands.schedule:schedule_command",
        "Run every source's crawl on its `schedule` (cron) until stopped.",
    ),
    "worker": CommandEntry(
        "scraper.commands.worker:worker_command",
        "Crawl sources from the archive's job queue (PostgreSQL archives only).",
    ),
    "status": CommandEntry(
        "scraper.commands.status:status_command",
        "Show each source's last run, next scheduled run, pages and recent error rate, then "
        "the job queue.",
    ),
    "sources": CommandEntry(
        "scraper.commands.status:sources_command",
        "List the configured sources, their cron schedules and next run times.",
    ),
    # the archive
    "db": CommandEntry(
        "scraper.commands.db:db",
        "Create, upgrade and inspect the archive database's schema.",
    ),
    "history": CommandEntry(
        "scraper.commands.history:history_command",
        "Show a page's versions in order and what changed between them.",
    ),
    "changes": CommandEntry(
        "scraper.commands.changes:changes_command",
        "Report what changed in the archive in a period: new pages, pages changed (which "
        "fields, old → new), task status changes (持续推进 → 已完成), attachments new, "
        "replaced or removed, pages gone, and per source the fetches that failed (blocked, "
        "error, too_large, suspect; attachment requests apart).",
    ),
    "cite": CommandEntry(
        "scraper.commands.cite:cite_command",
        "Print a citation of a version of URL_OR_PAGE_ID (a URL as archived or a page id).",
    ),
    "search": CommandEntry(
        "scraper.commands.search:search_command",
        "Find pages whose title, body text, task sections or attachment text contain every "
        "word of QUERY.",
    ),
    "datasette-metadata": CommandEntry(
        "scraper.commands.datasette:datasette_command",
        "Write Datasette metadata for an SQLite archive.",
    ),
    "raw": CommandEntry(
        "scraper.commands.raw:raw_command",
        "Write the raw response body archived for PAGE (a URL or page id), byte for byte.",
    ),
    "export": CommandEntry(
        "scraper.commands.export:export_command",
        "Export archive data to files, with a manifest.json for citing the dataset.",
    ),
    "import-warc": CommandEntry(
        "scraper.commands.import_warc:import_warc_command",
        "Backfill a source's history from WARC or ARC files (gzipped or not).",
    ),
    "reparse": CommandEntry(
        "scraper.commands.reparse:reparse_command",
        "Re-parse stored pages with this version's parser and fix their parsed columns.",
    ),
    "demo": CommandEntry(
        "scraper.commands.demo:demo_command",
        "Try govarchive offline: crawl a bundled replica of a disclosure site twice.",
    ),
}
