"""Full-text search over the archive: titles, body text, task sections, attachment text.

:func:`search` finds the versions whose text contains every term of a query and returns
one :class:`SearchHit` per matching part of a version — its title and body, one of its
task sections, or one of its attachments — with the page, the version and a snippet of
the field that matched, the terms marked. Reads only.

The query is literal text: it is split at whitespace into terms (``城市大脑 滞后`` is two
terms, both required) and nothing in it is syntax — a ``"``, ``%``, ``_``, ``*`` or
``OR`` is searched for as typed. Matching is substring matching, case-insensitive for
Latin letters, so ``大脑`` finds ``城市大脑``.

How, on each database (revision 0006 built the indexes):

- SQLite: terms of three characters or more go to the FTS5 trigram tables
  (``page_versions_fts`` …) as one MATCH of quoted phrases; shorter terms, which a
  trigram index cannot answer, are checked with ``LIKE`` on the rows — on the FTS
  matches when there is a long term too, else on every row (a scan).
- PostgreSQL: every term is a ``LIKE '%term%'`` on each column (``ILIKE`` when the term
  has Latin or other cased letters); the pg_trgm GIN
  indexes answer those of three characters or more, and the planner scans for shorter
  ones as on SQLite.

The snippet is cut from the stored text in Python on both databases, so it has the same
shape everywhere and marks short terms too (FTS5's ``snippet()`` sees only the terms
that went through MATCH).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    exists,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import aliased

from storage.engine import database_errors
from storage.models import Attachment, Page, PageVersion, Source, TaskSection
from storage.selection import resolve_sources

#: A trigram index answers terms of at least this many characters; shorter ones are
#: matched by scanning (LIKE on SQLite, ILIKE without index help on PostgreSQL).
MIN_INDEXED_CHARS = 3

#: Characters of text around the first match in a snippet (ellipses not counted).
SNIPPET_CHARS = 80

#: The hits returned when no limit is given.
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Snippet:
    """A piece of a field's text with the search terms' places in it.

    ``text`` starts and/or ends with "…" where it was cut; ``marks`` are (start, end)
    offsets into ``text``, in order, not overlapping."""

    text: str
    marks: tuple[tuple[int, int], ...]

    def marked(self, before: str, after: str) -> str:
        """Return the text with ``before`` and ``after`` around every mark."""
        out: list[str] = []
        done = 0
        for start, end in self.marks:
            out.extend((self.text[done:start], before, self.text[start:end], after))
            done = end
        out.append(self.text[done:])
        return "".join(out)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One part of one version that contains every term.

    ``where`` names the part: ``title`` or ``body`` (the version's own text),
    ``section N`` (its task section number N) or ``attachment N`` (its attachment at
    position N); ``field`` is the column the snippet comes from (``body_text``,
    ``progress``, ``text`` …)."""

    source: str
    url: str
    page_id: int
    version: int
    version_id: int
    title: str | None
    published_date: date | None
    where: str
    field: str
    snippet: Snippet

    def to_dict(self) -> dict[str, Any]:
        """Return the hit as JSON-ready values; ``highlights`` are [start, end] offsets
        into ``snippet``."""
        return {
            "source": self.source,
            "url": self.url,
            "page_id": self.page_id,
            "version": self.version,
            "version_id": self.version_id,
            "title": self.title,
            "published_date": self.published_date.isoformat() if self.published_date else None,
            "where": self.where,
            "field": self.field,
            "snippet": self.snippet.text,
            "highlights": [list(mark) for mark in self.snippet.marks],
        }


def query_terms(query: str) -> list[str]:
    """Return the terms of ``query``: its whitespace-separated words (full-width spaces
    too), each once, in order. Empty when the query holds nothing to search for."""
    return list(dict.fromkeys(query.split()))


@dataclass(frozen=True, slots=True)
class _Part:
    """One searchable part of a version: a table, its indexed columns, and how a row of
    it is named in a hit."""

    name: str  # "version", "section", "attachment"
    model: Any
    columns: tuple[str, ...]
    key: str | None  # the column numbering the part within its version

    @property
    def fts(self) -> str:
        return f"{self.model.__tablename__}_fts"


#: The parts searched, in the order their hits are listed within one version. The
#: columns are those revision 0006 indexes.
_PARTS: tuple[_Part, ...] = (
    _Part("version", PageVersion, ("title", "body_text"), None),
    _Part(
        "section", TaskSection, ("title", "status", "progress", "problems", "next_steps"), "number"
    ),
    _Part("attachment", Attachment, ("filename", "link_text", "text"), "position"),
)


def search(
    engine: Engine,
    query: str,
    *,
    sources: Sequence[str] = (),
    published_since: date | None = None,
    all_versions: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> list[SearchHit]:
    """Return up to ``limit`` hits for ``query``, newest publication first (then by page,
    newest version first, and title/body before sections before attachments).

    Only each page's latest version is searched unless ``all_versions``. ``sources``
    (names) and ``published_since`` (a version's published_date on or after it; versions
    without one are left out) narrow the search. Raises ValueError for a query without
    terms or a limit below 1, UnknownRecordError for an unknown source name. Reads only.
    """
    terms = query_terms(query)
    if not terms:
        raise ValueError("the query has no terms to search for")
    if limit < 1:
        raise ValueError(f"the limit must be at least 1, not {limit}")
    hits: list[SearchHit] = []
    with database_errors(engine, "searching"), engine.connect() as conn:
        source_ids = resolve_sources(conn, sources)
        for part in _PARTS:
            stmt = _statement(conn, part, terms, source_ids, published_since, all_versions)
            rows = conn.execute(stmt.limit(limit)).all()
            hits.extend(_hit(part, row, terms) for row in rows)
    hits.sort(key=_order)
    return hits[:limit]


def _order(hit: SearchHit) -> tuple[Any, ...]:
    published = hit.published_date.toordinal() if hit.published_date else 0
    part = hit.where.split(" ")
    rank = 0 if part[0] in ("title", "body") else 1 if part[0] == "section" else 2
    number = int(part[1]) if len(part) > 1 else 0
    return (hit.published_date is None, -published, hit.page_id, -hit.version, rank, number)


def _statement(
    conn: Connection,
    part: _Part,
    terms: list[str],
    source_ids: list[int] | None,
    published_since: date | None,
    all_versions: bool,
) -> Select[Any]:
    """The SELECT of one part's rows containing every term, with their version's page."""
    version = PageVersion.__table__
    rows = part.model.__table__
    columns = [rows.c[name] for name in part.columns]
    key = rows.c[part.key] if part.key else literal_column("0")
    stmt = select(
        Source.name,
        Page.url,
        Page.id,
        version.c.version,
        version.c.id,
        version.c.title,
        version.c.published_date,
        key,
        *(column.label(f"text_{column.name}") for column in columns),
    ).select_from(rows)
    if rows is not version:
        stmt = stmt.join(version, version.c.id == rows.c.version_id)
    stmt = stmt.join(Page, Page.id == version.c.page_id).join(Source, Source.id == Page.source_id)
    stmt = stmt.where(*_text_conditions(conn.dialect.name, part, columns, rows.c.id, terms))
    if source_ids is not None:
        stmt = stmt.where(Page.source_id.in_(source_ids))
    if published_since is not None:
        stmt = stmt.where(version.c.published_date >= published_since)
    if not all_versions:
        later = aliased(PageVersion)
        stmt = stmt.where(
            ~exists().where(later.page_id == version.c.page_id, later.version > version.c.version)
        )
    order = [version.c.published_date.desc().nulls_last(), Page.id, version.c.version.desc()]
    return stmt.order_by(*order, *([key] if part.key else []))


def _text_conditions(
    dialect: str,
    part: _Part,
    columns: list[Any],
    row_id: Any,
    terms: list[str],
) -> list[ColumnElement[bool]]:
    """The WHERE conditions requiring every term somewhere in the part's columns."""
    if dialect == "postgresql":
        # ILIKE only where case can matter: for a term without cased letters (Chinese,
        # digits) LIKE finds the same rows, and pg_trgm's recheck of each candidate's
        # text runs ~2x faster without case folding (bench/search.py).
        return [
            or_(
                *(
                    column.ilike(_like_pattern(term))
                    if _has_case(term)
                    # No ESCAPE clause: backslash is PostgreSQL's default escape.
                    else column.like(_like_pattern(term))
                    for column in columns
                )
            )
            for term in terms
        ]
    long_terms = [term for term in terms if len(term) >= MIN_INDEXED_CHARS]
    conditions: list[ColumnElement[bool]] = [
        or_(*(column.like(_like_pattern(term), escape="\\") for column in columns))
        for term in terms
        if len(term) < MIN_INDEXED_CHARS
    ]
    if long_terms:
        fts = table(part.fts, literal_column("rowid"))
        matching: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(fts)
            .where(literal_column(part.fts).op("MATCH")(fts5_query(long_terms)))
        )
        conditions.insert(0, row_id.in_(matching))
    return conditions


def _has_case(term: str) -> bool:
    """Whether ``term`` has a letter with an upper and a lower case (Latin, Greek …)."""
    return term.lower() != term.upper()


def fts5_query(terms: Sequence[str]) -> str:
    """Return an FTS5 MATCH expression requiring every term as literal text: each a
    quoted string (a ``"`` in it doubled), joined by spaces (FTS5's implicit AND)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards and the escape character in ``term`` escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hit(part: _Part, row: Any, terms: list[str]) -> SearchHit:
    values = dict(zip(part.columns, row[8:], strict=True))
    field = max(part.columns, key=lambda name: _terms_in(values[name], terms))
    if part.name == "version":
        where = "title" if field == "title" else "body"
    else:
        where = f"{part.name} {row[7]}"
    return SearchHit(
        source=row[0],
        url=row[1],
        page_id=row[2],
        version=row[3],
        version_id=row[4],
        title=row[5],
        published_date=row[6],
        where=where,
        field=field,
        snippet=make_snippet(values[field] or "", terms),
    )


def _terms_in(text: str | None, terms: list[str]) -> int:
    """How many of ``terms`` occur in ``text`` (case-insensitively); max() keeps the
    first column of the highest count, so a title wins a tie with the body."""
    folded = (text or "").casefold()
    return sum(term.casefold() in folded for term in terms)


def make_snippet(text: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> Snippet:
    """Return about ``width`` characters of ``text`` starting a little before the first
    occurrence of any term, every occurrence in it marked. Line breaks and tabs become
    spaces. Pure."""
    flat = re.sub(r"\s", " ", text)
    alternatives = sorted(terms, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(term) for term in alternatives), re.IGNORECASE)
    found = list(pattern.finditer(flat))
    first = found[0].start() if found else 0
    start = max(0, first - width // 4)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    marks = tuple(
        (m.start() + shift, m.end() + shift) for m in found if m.start() >= start and m.end() <= end
    )
    return Snippet(prefix + flat[start:end] + suffix, marks)
