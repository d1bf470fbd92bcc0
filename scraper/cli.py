"""The ``govarchive`` command: a thin click group over the library.

Each command lives in :mod:`scraper.commands` and parses arguments, calls the
library and turns library errors into click errors. Error → exit code mapping is
here, in one place.
"""

from __future__ import annotations

import click

from scraper import __version__
from scraper.commands.registry import all_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govarchive")
def cli() -> None:
    """Scrape Chinese government disclosure pages (政府信息公开) into a versioned SQL archive.

    Start with `govarchive crawl` (reads config.yaml, writes archive.db), then query
    the archive with any SQL client; see docs/querying.md.
    """


for _command in all_commands():
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="govarchive")


if __name__ == "__main__":  # pragma: no cover
    main()
