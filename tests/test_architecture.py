"""The layering rules, read from the source: who may import what.

- ``storage`` never imports ``scraper`` (the archive is usable without the crawler);
- only ``scraper/scheduling/tasks.py`` and ``worker.py`` import procrastinate (storage
  reads the job queue's tables with plain SQL);
- only ``scraper/fetching/fetch.py`` and ``transport.py`` (the connections under it)
  import httpx, and only ``transport.py`` imports aiohttp (one owner of HTTP);
- only ``scraper/parse/`` imports selectolax, and neither the parser nor anything it
  imports uses httpx, storage or SQLAlchemy (it is pure: bytes in, records out).

Imports under ``if TYPE_CHECKING:`` are annotations only and do not count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("scraper/**/*.py"), *ROOT.glob("storage/**/*.py")])


def _imports(path: Path) -> Iterator[str]:
    """The modules ``path`` imports at run time (not under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _offenders(prefix: str, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for path in SOURCES:
        name = _name(path)
        if name.startswith(allowed):
            continue
        found += [
            f"{name} imports {module}"
            for module in _imports(path)
            if module == prefix or module.startswith(prefix + ".")
        ]
    return found


def test_the_sources_are_found() -> None:
    names = {_name(path) for path in SOURCES}
    assert {"scraper/fetching/fetch.py", "scraper/parse/page.py", "storage/archive.py"} <= names


def test_storage_never_imports_scraper() -> None:
    storage = [path for path in SOURCES if _name(path).startswith("storage/")]
    found = [
        f"{_name(path)} imports {module}"
        for path in storage
        for module in _imports(path)
        if module.split(".")[0] == "scraper"
    ]
    assert not found


def test_only_the_queue_modules_import_procrastinate() -> None:
    """The archive stays readable without the job queue's library (storage.jobqueue reads
    procrastinate's tables with plain SQL), and the crawler knows procrastinate in two
    modules: what a job is (tasks.py) and the worker that runs them (worker.py)."""
    allowed = ("scraper/scheduling/tasks.py", "scraper/scheduling/worker.py")
    assert not _offenders("procrastinate", allowed)


def test_only_the_fetching_module_imports_httpx() -> None:
    allowed = ("scraper/fetching/fetch.py", "scraper/fetching/transport.py")
    assert not _offenders("httpx", allowed)


def test_only_the_transport_imports_aiohttp() -> None:
    assert not _offenders("aiohttp", ("scraper/fetching/transport.py",))


def test_only_the_parser_imports_selectolax() -> None:
    assert not _offenders("selectolax", ("scraper/parse/",))


def _module_path(module: str) -> Path | None:
    """The source file of a ``scraper``/``storage`` module, or None for other packages."""
    if module.split(".")[0] not in ("scraper", "storage"):
        return None
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _reachable(start: list[Path]) -> dict[Path, set[str]]:
    """Every project file ``start`` imports, directly or not, with its imports."""
    seen: dict[Path, set[str]] = {}
    todo = list(start)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = set(_imports(path))
        todo += [found for m in seen[path] if (found := _module_path(m)) is not None]
    return seen


@pytest.mark.parametrize("forbidden", ["httpx", "storage", "sqlalchemy"])
def test_the_parser_is_pure(forbidden: str) -> None:
    """Neither the parser nor anything it imports (scraper.fetching.urls …) uses the network or
    the database."""
    parser = [path for path in SOURCES if _name(path).startswith("scraper/parse/")]
    found = [
        f"{_name(path)} imports {module}"
        for path, modules in _reachable(parser).items()
        for module in modules
        if module == forbidden or module.startswith(forbidden + ".")
    ]
    assert not found


def _layout_map() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_layout_map_names_every_module_and_no_ghost() -> None:
    """README's map names each module of storage/ and of scraper/ outside parse/,
    commands/ and demo/ (listed as folders), and names nothing that is not there."""
    layout = _layout_map()
    named = set(re.findall(r"\b(\w+\.py)\b", layout)) | set(re.findall(r"\b(\w+)/", layout))
    expected: set[str] = set()
    for folder in ("scraper", "scraper/fetching", "scraper/crawling", "scraper/scheduling"):
        for path in (ROOT / folder).iterdir():
            is_package = path.is_dir() and (path / "__init__.py").exists()
            if is_package or (path.suffix == ".py" and path.name != "__init__.py"):
                expected.add(path.name)
    expected |= {p.name for p in (ROOT / "storage").glob("*.py") if p.name != "__init__.py"}
    assert sorted(expected - named) == []
    existing = {p.name for p in ROOT.glob("**/*.py") if ".venv" not in p.parts}
    existing |= {p.name for p in ROOT.glob("**/") if ".venv" not in p.parts}
    ghosts = [name for name in named if name.removesuffix("/") not in existing]
    assert sorted(ghosts) == []


def test_no_two_modules_share_a_name() -> None:
    """One name, one module: command modules are named after their command and each
    top-level package has its own errors.py; otherwise a name says which module."""
    seen: dict[str, list[str]] = {}
    for path in SOURCES:
        name = _name(path)
        if path.name in {"__init__.py", "errors.py"} or name.startswith("scraper/commands/"):
            continue
        seen.setdefault(path.name, []).append(name)
    assert {n: paths for n, paths in seen.items() if len(paths) > 1} == {}


def test_vulture_finds_no_dead_code() -> None:
    """Dead code cannot creep back: ``vulture``, as configured in pyproject.toml's
    ``[tool.vulture]`` (scraper/ and storage/, 60% confidence), reports nothing. A false
    positive (a framework hook, a field read by name) goes into its ``ignore_names``,
    with why; anything else is deleted, or used where it was meant to be."""
    import subprocess
    import sys

    found = subprocess.run(
        [sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")
