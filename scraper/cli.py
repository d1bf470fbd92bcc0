"""The ``govarchive`` command: a thin click group over the library.

Each command lives in :mod:`scraper.commands` and parses arguments, calls the
library and turns library errors into click errors. Error → exit code mapping is
in :mod:`scraper.commands.common`, in one place.

The group is lazy (click's "lazily loading subcommands" pattern): a command's module,
and with it SQLAlchemy, Alembic or httpx, is imported only when that command runs or
shows its own help. ``govarchive --help`` lists the commands from
:data:`scraper.commands.registry.COMMANDS` without importing any of them.
"""

from __future__ import annotations

import importlib

import click

from scraper import __version__
from scraper.commands.registry import COMMANDS, CommandEntry


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use from ``"module:attr"``."""

    def __init__(self, *args: object, lazy_commands: dict[str, CommandEntry], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(load_command(self.lazy_commands[cmd_name].target), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with the registry's short help, importing none of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            entry = self.lazy_commands.get(name)
            # A stand-in with the registry's line: click shortens it as it would the
            # command's own help, without importing the command.
            command = self.commands.get(name) or click.Command(
                name, help=entry and entry.short_help
            )
            text = command.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_command(target: str) -> click.Command:
    """Import ``"module:attribute"`` and return the click command it names."""
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="govarchive")
def cli() -> None:
    """Scrape Chinese government disclosure pages (政府信息公开) into a versioned SQL archive.

    Start with `govarchive crawl` (reads config.yaml, writes archive.db), then query
    the archive with any SQL client; see docs/querying.md.
    """


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="govarchive")


if __name__ == "__main__":  # pragma: no cover
    main()
