"""scraper/commands/common.py: one error class per exit code, and the one place where
library errors become them."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from scraper.commands.common import (
    EXIT_BUSY,
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_USAGE,
    BadUsage,
    Busy,
    CommandError,
    DatabaseUnusable,
    WorkFailed,
    translated_errors,
)
from scraper.errors import ConfigError, GovarchiveError
from storage.errors import (
    DiskFullError,
    OutdatedSchemaError,
    StorageError,
    UnknownRecordError,
    UnknownVersionError,
)

DB = "sqlite:///archive.db"


@pytest.mark.parametrize(
    ("error", "code"),
    [(WorkFailed, 1), (BadUsage, 2), (DatabaseUnusable, 3), (Busy, 4)],
)
def test_each_error_class_carries_its_exit_code(error: type[CommandError], code: int) -> None:
    assert issubclass(error, CommandError) and issubclass(error, click.ClickException)
    assert error.exit_code == code
    assert error("why").exit_code == code
    assert not issubclass(error, click.UsageError)  # no usage line printed with the message


def test_the_exit_code_constants_are_the_documented_ones() -> None:
    assert (EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE, EXIT_BUSY) == (1, 2, 3, 4)


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (ConfigError("no sources", where="config.yaml"), BadUsage,
         "config error: config.yaml: no sources"),
        # a wrong argument, told without the database's URL
        (UnknownRecordError("no source named 'nope'", database=DB), BadUsage,
         "no source named 'nope'"),
        (UnknownVersionError("page 1 has no version 9", database=DB), BadUsage,
         "page 1 has no version 9"),
        (StorageError("no crawl lock", database=DB), DatabaseUnusable, f"{DB}: no crawl lock"),
        (DiskFullError("disk full", database=DB), DatabaseUnusable, f"{DB}: disk full"),
        (OutdatedSchemaError("run upgrade", database=DB), DatabaseUnusable, f"{DB}: run upgrade"),
        (GovarchiveError("it broke"), WorkFailed, "it broke"),
    ],
)  # fmt: skip
def test_library_errors_become_command_errors(
    raised: Exception, expected: type[CommandError], message: str
) -> None:
    with pytest.raises(CommandError) as caught, translated_errors():
        raise raised
    assert type(caught.value) is expected
    assert caught.value.message == message
    assert caught.value.__cause__ is raised


def test_other_errors_pass_through() -> None:
    with pytest.raises(KeyError), translated_errors():
        raise KeyError("a bug, not a user's problem")


def test_a_command_error_ends_a_command_with_its_code_and_message() -> None:
    @click.command()
    def fails() -> None:
        with translated_errors():
            raise UnknownRecordError("no page id 7 in the archive", database=DB)

    result = CliRunner().invoke(fails, [])
    assert result.exit_code == 2
    assert result.output == "Error: no page id 7 in the archive\n"
