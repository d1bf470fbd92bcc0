"""The exception tree drawn in each errors.py docstring is the tree of classes as they are:
every subclass of the package's base error defined in scraper/ or storage/ is drawn, under
its parent, and nothing else is."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import scraper
import storage
from scraper import errors as scraper_errors
from storage import errors as storage_errors

_BRANCH = re.compile(r"^(?P<indent>[│ ]*)[├└]── (?P<name>\w+)")


def _drawn(module: ModuleType) -> dict[str, str | None]:
    """Class name → parent name, read from the ``::`` block of the module's docstring."""
    assert module.__doc__ is not None
    block = module.__doc__.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    lines = [line[4:] for line in block.splitlines()]  # the block is indented by 4
    root = lines[0].split()[0]
    tree: dict[str, str | None] = {root: None}
    parents = [root]  # parents[d] is the latest class drawn at depth d
    for line in lines[1:]:
        match = _BRANCH.match(line)
        if match is None:  # a description carried onto the next line
            continue
        depth = len(match["indent"]) // 4 + 1
        tree[match["name"]] = parents[depth - 1]
        parents[depth:] = [match["name"]]
    return tree


def _defined(base: type[Exception]) -> dict[str, str | None]:
    """Class name → parent name of ``base`` and every subclass defined in the project."""
    for package in (scraper, storage):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
    found: dict[str, str | None] = {base.__name__: None}
    todo = [base]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in ("scraper", "storage"):
                found[sub.__name__] = cls.__name__
                todo.append(sub)
    return found


@pytest.mark.parametrize(
    ("module", "base"),
    [
        (scraper_errors, scraper_errors.GovarchiveError),
        (storage_errors, storage_errors.StorageError),
    ],
    ids=["scraper", "storage"],
)
def test_the_drawn_tree_is_the_class_tree(module: ModuleType, base: type[Exception]) -> None:
    assert _drawn(module) == _defined(base)
