"""Run govarchive commands in a private mount namespace (``unshare -rm``): on a read-only
bind mount, or on a tiny tmpfs that fills up. Root cannot be stopped by chmod, but it can
by a read-only mount; nothing outside the namespace sees these mounts.

Not a test module: the CLI hostile tests import it, and skip when user namespaces (or
``unshare``/``mount``) are unavailable.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PYTHON = sys.executable


@cache
def mount_namespaces_available() -> str | None:
    """Return None when ``unshare -rm`` can make a read-only bind mount, else why not."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount not installed"
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && echo ok"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0 or "ok" not in probe.stdout:
        return f"no private mount namespaces here: {probe.stderr.strip()[:200]}"
    return None


def require_mount_namespaces() -> None:
    """Skip the calling test when private mount namespaces are unavailable."""
    problem = mount_namespaces_available()
    if problem is not None:
        pytest.skip(problem)


def run_mounted(mounts: list[str], commands: list[list[str]], work: Path) -> list[tuple[int, str]]:
    """Make ``mounts`` (shell lines such as ``read_only_bind(src, dst)``) in a private
    mount namespace, run each ``govarchive`` command there, and return (exit status,
    output) of each. Output files go to ``work`` (outside the mounts)."""
    lines = ["set -e", *mounts, "set +e"]
    for index, args in enumerate(commands):
        out, code = work / f"out{index}", work / f"rc{index}"
        command = shlex.join([PYTHON, "-m", "scraper.cli", *args])
        lines.append(
            f"{command} > {shlex.quote(str(out))} 2>&1; echo $? > {shlex.quote(str(code))}"
        )
    env = {k: v for k, v in os.environ.items() if k != "GOVARCHIVE_DATABASE_URL"}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "\n".join(lines)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    return [
        (int((work / f"rc{i}").read_text()), (work / f"out{i}").read_text())
        for i in range(len(commands))
    ]


def read_only_bind(source: Path, target: Path) -> str:
    """The shell lines that show ``source`` read-only at ``target`` (created here)."""
    target.mkdir(parents=True, exist_ok=True)
    s, t = shlex.quote(str(source)), shlex.quote(str(target))
    return f"mount --bind {s} {t}\nmount -o remount,bind,ro {t}"


def tiny_disk(target: Path, size_kib: int) -> str:
    """The shell line that mounts a tmpfs of ``size_kib`` KiB at ``target`` (created here)."""
    target.mkdir(parents=True, exist_ok=True)
    return f"mount -t tmpfs -o size={size_kib}k none {shlex.quote(str(target))}"
