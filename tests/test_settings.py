"""scraper.settings holds every default once; docs/config.md and config.yaml state them."""

from __future__ import annotations

import re
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

import pytest

from scraper import __version__
from scraper.settings import CrawlSettings, SchedulerSettings

ROOT = Path(__file__).resolve().parents[1]


def _spellings(default: Any) -> set[str]:
    """How the docs may write a default: YAML's words, a whole float with or without .0."""
    if isinstance(default, bool) or default is None:
        return {{True: "true", False: "false", None: "null"}[default]}
    if isinstance(default, tuple):
        return {"[" + ", ".join(default) + "]"}
    if isinstance(default, float) and default.is_integer():
        return {str(default), str(int(default))}
    return {str(default).replace(__version__, "<version>")}


@pytest.mark.parametrize(
    "field", [*fields(CrawlSettings), *fields(SchedulerSettings)], ids=lambda f: f.name
)
def test_every_default_is_stated_as_settings_py_has_it(field: Field[Any]) -> None:
    """docs/config.md's Default column and the comment above the key in config.yaml state
    the default scraper/settings.py has, so the one documented default cannot drift."""
    stated = _spellings(field.default)
    docs = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{field.name}` \| [^|]+ \| [^|]+ \| `([^`]*)`", docs, re.M)
    assert row is not None, f"docs/config.md has no row for {field.name}"
    assert row.group(1) in stated
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    block = re.search(rf"((?:\n  #.*)+)\n  #? ?{field.name}:", shipped)
    assert block is not None, f"config.yaml has no comment above {field.name}"
    said = re.search(r'Default:? (?:"([^"]+)"|(\S+))', block.group(1))
    if said is None:  # allowed_hosts: "Empty (the default) means …"
        assert "(the default)" in block.group(1), field.name
    else:
        assert (said.group(1) or said.group(2)) in stated, field.name
