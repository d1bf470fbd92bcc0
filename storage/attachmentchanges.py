"""How a version's attachments differ from the previous version's, for ``history``.

- :func:`load_attachments` — the attachments of some versions, in page order (their
  text is not loaded: only whether there is one). Reads only.
- :func:`compare_attachments` — what became of each file from one version to the next
  (pure). A file is followed by its URL (the k-th link to a URL with the k-th link to it
  before), so a file that moved on the page is the same file:

  ============  ==========================================================================
  change        meaning
  ============  ==========================================================================
  new           the page did not link this URL before
  replaced      same URL, other bytes (another SHA-256)
  unchanged     same URL, same bytes
  carried       this crawl's download failed (``download_error``): the bytes shown are
                the previous version's, kept because a failed download proves no change
  downloaded    the previous version has no bytes for this URL (its download failed),
                this one has
  removed       the previous version linked it, this one does not
  ============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from storage.models import ATTACHMENTS

AttachmentChangeKind = Literal["new", "replaced", "unchanged", "carried", "downloaded", "removed"]


@dataclass(frozen=True, slots=True)
class AttachmentSnapshot:
    """One attachment of a version as stored, without its text (``text_read`` says
    whether there is one)."""

    position: int
    url: str
    link_text: str
    filename: str | None
    kind: str | None
    size: int | None
    sha256: str | None
    text_read: bool
    extract_error: str | None
    download_error: str | None
    fetched_at: datetime | None

    @property
    def name(self) -> str:
        """The file's name, else its URL."""
        return self.filename or self.url

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "url": self.url,
            "link_text": self.link_text,
            "filename": self.filename,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "text_read": self.text_read,
            "extract_error": self.extract_error,
            "download_error": self.download_error,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
        }


@dataclass(frozen=True, slots=True)
class AttachmentChange:
    """What became of one file: ``attachment`` is this version's (the previous
    version's for ``removed``); ``previous_sha256`` the previous version's bytes at this
    URL (None for ``new``, or when it had none)."""

    change: AttachmentChangeKind
    attachment: AttachmentSnapshot
    previous_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.attachment.to_dict(),
            "change": self.change,
            "previous_sha256": self.previous_sha256,
        }


def compare_attachments(
    old: Sequence[AttachmentSnapshot], new: Sequence[AttachmentSnapshot]
) -> tuple[list[AttachmentChange], list[AttachmentChange]]:
    """Return what became of each of ``new``'s files (in ``new``'s order) and the files
    of ``old`` that ``new`` no longer links (in ``old``'s order). ``old`` is empty for a
    page's first version: every file is then new. Pure."""
    waiting: dict[str, list[AttachmentSnapshot]] = {}
    for file in old:
        waiting.setdefault(file.url, []).append(file)
    changes: list[AttachmentChange] = []
    for after in new:
        same_url = waiting.get(after.url)
        before = same_url.pop(0) if same_url else None
        previous = before.sha256 if before is not None else None
        changes.append(AttachmentChange(_change(before, after), after, previous))
    removed = [
        AttachmentChange("removed", file, file.sha256) for left in waiting.values() for file in left
    ]
    removed.sort(key=lambda c: c.attachment.position)
    return changes, removed


def _change(before: AttachmentSnapshot | None, after: AttachmentSnapshot) -> AttachmentChangeKind:
    if before is None:
        return "new"
    if after.download_error is not None:
        return "carried"
    if before.sha256 is None and after.sha256 is not None:
        return "downloaded"
    if before.sha256 != after.sha256:
        return "replaced"
    return "unchanged"


_SNAPSHOT = select(
    ATTACHMENTS.c.version_id,
    ATTACHMENTS.c.position,
    ATTACHMENTS.c.url,
    ATTACHMENTS.c.link_text,
    ATTACHMENTS.c.filename,
    ATTACHMENTS.c.kind,
    ATTACHMENTS.c.size,
    ATTACHMENTS.c.sha256,
    ATTACHMENTS.c.text.is_not(None),
    ATTACHMENTS.c.extract_error,
    ATTACHMENTS.c.download_error,
    ATTACHMENTS.c.fetched_at,
).order_by(ATTACHMENTS.c.version_id, ATTACHMENTS.c.position)


def load_attachments(
    conn: Connection, version_ids: Sequence[int]
) -> dict[int, list[AttachmentSnapshot]]:
    """Return version id → its attachments in page order (an empty list for a version
    without any). Reads only."""
    found: dict[int, list[AttachmentSnapshot]] = {i: [] for i in version_ids}
    if not version_ids:
        return found
    rows = conn.execute(_SNAPSHOT.where(ATTACHMENTS.c.version_id.in_(list(version_ids))))
    for version_id, *values in rows:
        position, url, link_text, filename, kind, size, sha256, has_text, *rest = values
        found[version_id].append(
            AttachmentSnapshot(
                position, url, link_text, filename, kind, size, sha256, bool(has_text), *rest
            )
        )
    return found
