"""Readable diffs of Chinese text, for people reading a page's history. Pure.

Government pages change by a few characters at a time (a status 持续推进 → 已完成, a
figure in a progress paragraph), and their paragraphs are long lines without spaces, so
a plain line diff would show two near-identical 500-character lines. :func:`text_diff`
diffs line by line and marks the changed characters inside a changed line, in the
notation of ``git diff --word-diff``: ``[-removed-]`` and ``{+added+}``.

Line prefixes: ``"- "`` a removed line, ``"+ "`` an added line, ``"~ "`` a changed line
with in-line marks, ``"  "`` an unchanged line shown for context, ``"  …"`` unchanged
lines left out.
"""

from __future__ import annotations

from difflib import SequenceMatcher

#: Unchanged characters kept on each side of a change inside a long line.
CONTEXT_CHARS = 24
#: Below this similarity two lines are shown as removed + added, not marked in-line.
INLINE_MIN_RATIO = 0.4


def text_diff(old: str | None, new: str | None) -> list[str]:
    """Return the lines of a readable diff from ``old`` to ``new`` (None: absent).

    Equal texts give ``[]``. Unchanged lines next to a change are shown for context;
    runs of other unchanged lines become one ``"  … (n unchanged lines)"``.
    """
    if old == new:
        return []
    a = old.split("\n") if old is not None else []
    b = new.split("\n") if new is not None else []
    out: list[str] = []
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            out.extend(_context(a[i1:i2], first=index == 0, last=index == len(opcodes) - 1))
        elif tag == "delete":
            out.extend(f"- {line}" for line in a[i1:i2])
        elif tag == "insert":
            out.extend(f"+ {line}" for line in b[j1:j2])
        else:
            out.extend(_replace(a[i1:i2], b[j1:j2]))
    return out


def inline_diff(old: str, new: str) -> str | None:
    """Return ``old`` with its changes to ``new`` marked ``[-…-]{+…+}``, long unchanged
    stretches shortened to ``…``; None when the two are too different to mark in-line."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < INLINE_MIN_RATIO:
        return None
    parts: list[str] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            parts.append(_shorten(old[i1:i2], first=index == 0, last=index == len(opcodes) - 1))
            continue
        if tag in ("delete", "replace"):
            parts.append(f"[-{old[i1:i2]}-]")
        if tag in ("insert", "replace"):
            parts.append(f"{{+{new[j1:j2]}+}}")
    return "".join(parts)


def _replace(a: list[str], b: list[str]) -> list[str]:
    out: list[str] = []
    for old, new in zip(a, b, strict=False):
        marked = inline_diff(old, new)
        if marked is None:
            out.extend((f"- {old}", f"+ {new}"))
        else:
            out.append(f"~ {marked}")
    out.extend(f"- {line}" for line in a[len(b) :])
    out.extend(f"+ {line}" for line in b[len(a) :])
    return out


def _context(lines: list[str], *, first: bool, last: bool) -> list[str]:
    """Unchanged lines: the one next to each change, the rest counted."""
    keep_head = 0 if first else 1
    keep_tail = 0 if last else 1
    if len(lines) <= keep_head + keep_tail + 1:
        return [f"  {line}" for line in lines]
    skipped = len(lines) - keep_head - keep_tail
    return (
        [f"  {line}" for line in lines[:keep_head]]
        + [f"  … ({skipped} unchanged lines)"]
        + [f"  {line}" for line in lines[len(lines) - keep_tail :]]
    )


def _shorten(text: str, *, first: bool, last: bool) -> str:
    """Keep CONTEXT_CHARS next to each change; elide the middle of a long equal run."""
    head = 0 if first else CONTEXT_CHARS
    tail = 0 if last else CONTEXT_CHARS
    if len(text) <= head + tail + 1:
        return text
    return text[:head] + "…" + (text[len(text) - tail :] if tail else "")
