"""The list of CLI commands. Add a command here when its module exists."""

from __future__ import annotations

import click

from scraper.commands.changes import changes_command
from scraper.commands.check_source import check_source_command
from scraper.commands.cite import cite_command
from scraper.commands.crawl import crawl_command
from scraper.commands.datasette import datasette_command
from scraper.commands.db import db
from scraper.commands.demo import demo_command
from scraper.commands.export import export_command
from scraper.commands.history import history_command
from scraper.commands.parse import parse_command
from scraper.commands.raw import raw_command
from scraper.commands.reparse import reparse_command
from scraper.commands.schedule import schedule_command
from scraper.commands.search import search_command
from scraper.commands.status import sources_command, status_command
from scraper.commands.worker import worker_command


def all_commands() -> list[click.Command]:
    """Return every top-level command (``--help`` lists them alphabetically)."""
    return [
        # crawling
        crawl_command,
        check_source_command,
        parse_command,
        schedule_command,
        worker_command,
        status_command,
        sources_command,
        # the archive
        db,
        history_command,
        changes_command,
        cite_command,
        search_command,
        datasette_command,
        raw_command,
        export_command,
        reparse_command,
        demo_command,
    ]
