"""The list of CLI commands. Add a command here when its module exists."""

from __future__ import annotations

import click

from scraper.commands.check_source import check_source_command
from scraper.commands.crawl import crawl_command
from scraper.commands.db import db
from scraper.commands.demo import demo_command
from scraper.commands.export import export_command
from scraper.commands.history import history_command
from scraper.commands.parse import parse_command
from scraper.commands.reparse import reparse_command
from scraper.commands.schedule import schedule_command
from scraper.commands.status import sources_command, status_command


def all_commands() -> list[click.Command]:
    """Return every top-level command, in the order ``--help`` lists them."""
    commands: list[click.Command] = []
    commands += [crawl_command, check_source_command]
    commands.append(db)
    commands += [schedule_command, status_command, sources_command]
    commands.append(export_command)
    commands.append(history_command)
    commands.append(parse_command)
    commands.append(reparse_command)
    commands.append(demo_command)
    return commands
