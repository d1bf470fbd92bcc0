"""Build hook: ship the top-level alembic/ migrations inside the wheel.

The design keeps the Alembic scripts at the repository's top level; an editable
install finds them there. A regular (wheel) install has no repository, so the
scripts are copied into the ``storage`` package as ``storage/_alembic``, where
:mod:`storage.migrate` looks first. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).parent / "alembic"
        target = Path(self.build_lib) / "storage" / "_alembic"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithMigrations})
