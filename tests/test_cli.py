"""The CLI group itself: every command documents itself, and ``--help`` imports none."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from scraper import __version__
from scraper.cli import cli, load_command
from scraper.commands.registry import COMMANDS


def _walk(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_walk(command, (*prefix, name)))
    return found


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_every_command_has_help_text() -> None:
    for path, command in _walk(cli):
        assert command.help, f"govarchive {' '.join(path)} has no help text"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_registry_names_each_command_and_its_short_help(name: str) -> None:
    entry = COMMANDS[name]
    command = load_command(entry.target)
    assert command.name == name
    # What click would show for the command's own help, the whole first sentence.
    assert entry.short_help == command.get_short_help_str(limit=10_000)


#: Modules that `govarchive --help` must not import: they cost most of the start-up.
HEAVY = ("sqlalchemy", "alembic", "httpx", "storage", "selectolax", "apscheduler")


def _imported_by(*argv: str) -> set[str]:
    snippet = (
        "import sys\n"
        "from scraper.cli import cli\n"
        f"try:\n    cli.main({list(argv)!r}, prog_name='govarchive')\n"
        "except SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, check=True
    )
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_imports_no_command_and_no_heavy_library() -> None:
    modules = _imported_by("--help")
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    assert not any(
        m.startswith("scraper.commands.") and m != "scraper.commands.registry" for m in modules
    )


def test_a_command_is_imported_when_it_runs() -> None:
    assert "scraper.commands.history" in _imported_by("history", "--help")
