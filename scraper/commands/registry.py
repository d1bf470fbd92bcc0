"""The list of CLI commands. Add a command here when its module exists."""

from __future__ import annotations

import click


def all_commands() -> list[click.Command]:
    """Return every top-level command, in the order ``--help`` lists them."""
    commands: list[click.Command] = []
    return commands
