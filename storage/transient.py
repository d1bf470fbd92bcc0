"""Does an answer look like a bad moment of a page that was healthy? Pure.

A government site under load or in maintenance answers ``200`` with junk: an empty body,
a 系统繁忙 / 系统维护 page (bare, or inside the site's chrome), HTML cut off mid-page, a
template that rendered without its data. Archived as it comes, a page that recovers on
the next crawl leaves A → junk → A: two false versions in a researcher's history. So a
changed answer of a known page whose latest version is healthy is compared with that
version first (:func:`transient_failure`); when it looks like such a failure it is
recorded as a ``suspect`` fetch instead of a version, and becomes a version only when
the next crawl confirms it (:func:`is_confirmed`). A real edit of a healthy page keeps
the page's shape and is a version at once.

The comparison uses coarse measures of both contents (:class:`ContentShape`), built from
the same column values for the new answer and for the stored version
(:func:`shape_of`). docs/schema.md ("Suspect fetches") states the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storage.content import CANONICAL_FIELDS, SECTION_FIELDS
from storage.models import FetchOutcome

#: A suspect answer followed by this many answers in a row that are all suspect (this
#: one included) is archived even when no two were alike: a state that lasts that long
#: is not a bad moment, and a page whose junk never repeats byte for byte (a clock in a
#: maintenance page) must not hold a real change back for ever.
SUSPECT_LIMIT = 3
#: Fewer characters of text than this (body, fields and sections together) is "near-empty".
NEAR_EMPTY_TEXT = 50
#: A busy or maintenance notice is a short page: a long document may mention 系统维护.
SHORT_PAGE_TEXT = 2000
#: A version with at least this much text, two metadata fields or a section is healthy.
HEALTHY_TEXT = 200

#: Words of the pages a busy or down site answers with (matched in the title and body
#: text; ASCII ones case-insensitively).
BUSY_MARKERS: tuple[str, ...] = (
    *("系统繁忙", "服务器繁忙", "网络繁忙", "访问繁忙", "系统忙", "服务繁忙"),
    *("系统维护", "网站维护", "升级维护", "维护中", "正在维护", "系统升级", "网站升级"),
    *("请稍后再试", "请稍后重试", "请稍后访问", "稍后再访问", "访问人数过多", "访问量过大"),
    *("访问过于频繁", "服务暂不可用", "服务不可用", "数据库连接失败", "数据库错误"),
    *("service unavailable", "server is busy", "server busy", "temporarily unavailable"),
    *("under maintenance", "too many requests", "internal server error", "bad gateway"),
    *("gateway timeout", "database error"),
)
_ASCII_MARKERS = tuple(m for m in BUSY_MARKERS if m.isascii())
_CJK_MARKERS = tuple(m for m in BUSY_MARKERS if not m.isascii())
# The end of a page: without it, HTML was cut off (the server died mid-page and closed
# the chunked stream cleanly, so no byte count gave it away).
_HTML_END = re.compile(rb"</(?:html|body)\s*>", re.IGNORECASE)
_MARKUP_START = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*<")
#: Fetch outcomes that say what a page held; errors and skips in between are no answer.
CONTENT_OUTCOMES: tuple[FetchOutcome, ...] = (
    FetchOutcome.NEW_VERSION,
    FetchOutcome.UNCHANGED,
    FetchOutcome.NOT_MODIFIED,
    FetchOutcome.SUSPECT,
    FetchOutcome.GONE,
)


@dataclass(frozen=True, slots=True)
class ContentShape:
    """The coarse measures of one content that :func:`transient_failure` compares.

    ``text_size``: characters of body text, metadata values and section texts;
    ``fields``: canonical metadata fields set, the title not counted (<title> gives
    nearly every page one); ``sections``: task sections; ``markers``: the
    :data:`BUSY_MARKERS` its title and body show; ``closed``: False only for HTML that
    ends without ``</body>`` or ``</html>``.
    """

    text_size: int
    fields: int
    sections: int
    markers: frozenset[str] = frozenset()
    closed: bool = True

    @property
    def busy_page(self) -> bool:
        """A short page naming a busy or maintenance state."""
        return bool(self.markers) and self.text_size < SHORT_PAGE_TEXT

    @property
    def healthy(self) -> bool:
        """Enough content to lose, and not itself a busy page."""
        substantial = self.text_size >= HEALTHY_TEXT or self.fields >= 2 or self.sections > 0
        return substantial and not self.busy_page


def shape_of(
    values: Mapping[str, Any],
    sections: Sequence[Mapping[str, Any]],
    raw: bytes | None = None,
) -> ContentShape:
    """Return the shape of a content given as ``page_versions`` column values (the
    canonical fields, ``metadata_extra``, ``body_text``) and ``task_sections`` rows;
    ``raw``, when given, is the body it was read from (for ``closed``). Pure."""
    fields = [values.get(name) for name in CANONICAL_FIELDS]
    extra = values.get("metadata_extra") or {}
    body = values.get("body_text") or ""
    texts = [body, *(str(v) for v in fields if v is not None), *map(str, extra.values())]
    for section in sections:
        texts.append(str(section.get("title") or ""))
        texts.extend(str(section.get(name) or "") for name in SECTION_FIELDS)
        texts.extend(map(str, (section.get("extra") or {}).values()))
    return ContentShape(
        text_size=sum(len(text) for text in texts),
        fields=sum(1 for value in fields[1:] if value is not None),
        sections=len(sections),
        markers=busy_markers(f"{values.get('title') or ''}\n{body}"),
        closed=raw is None or html_closed(raw),
    )


def busy_markers(text: str) -> frozenset[str]:
    """Return the busy/maintenance markers that occur in ``text``. Pure."""
    lowered = text.lower()
    return frozenset(
        {m for m in _CJK_MARKERS if m in text} | {m for m in _ASCII_MARKERS if m in lowered}
    )


def html_closed(raw: bytes) -> bool:
    """Return False for a body that starts as markup but never closes ``<body>`` or
    ``<html>``; True for anything else (documents, text, complete pages). Pure."""
    return _MARKUP_START.match(raw) is None or _HTML_END.search(raw) is not None


def transient_failure(new: ContentShape, latest: ContentShape) -> str | None:
    """Return why a changed answer of a page looks like a transient failure compared
    with the page's latest version, or None when it does not (a real change, or a
    latest version that is not healthy and so has nothing to lose). Pure.

    Looks like a failure, in this order: a short page naming a busy or maintenance
    state the latest did not name; an empty or near-empty answer (under
    NEAR_EMPTY_TEXT characters and under half the latest's); HTML cut off before
    ``</body>``/``</html>`` with less text than the latest; most metadata fields gone
    (fewer than half of at least two); every task section gone.
    """
    if not latest.healthy:
        return None
    shown = sorted(new.markers - latest.markers)
    if new.busy_page and shown:
        return f"a busy or maintenance page ({', '.join(shown)})"
    if new.text_size < NEAR_EMPTY_TEXT and new.text_size * 2 < latest.text_size:
        return (
            f"an empty or near-empty answer: {new.text_size} characters of text, "
            f"the latest version has {latest.text_size}"
        )
    if not new.closed and new.text_size < latest.text_size:
        return (
            "truncated HTML: no </body> or </html>, and less text than the latest version "
            f"({new.text_size} characters, was {latest.text_size})"
        )
    if latest.fields >= 2 and new.fields * 2 < latest.fields:
        return (
            f"lost the metadata fields it had: {new.fields} of the latest version's {latest.fields}"
        )
    if latest.sections and not new.sections:
        return f"lost its task sections: none of the latest version's {latest.sections}"
    return None


def is_confirmed(content_hash: str, recent: Iterable[tuple[str, str | None]]) -> bool:
    """Return whether a suspect-looking answer with ``content_hash`` is confirmed by the
    page's fetches before it, ``recent`` = (outcome, content_hash) of its latest fetches
    with an outcome in :data:`CONTENT_OUTCOMES`, newest first: the one before was a
    suspect answer with the same content, or the SUSPECT_LIMIT − 1 before were all
    suspect. Pure."""
    before = list(recent)[: SUSPECT_LIMIT - 1]
    if before and before[0] == (FetchOutcome.SUSPECT, content_hash):
        return True
    return len(before) == SUSPECT_LIMIT - 1 and all(o == FetchOutcome.SUSPECT for o, _ in before)
