"""Citing one archived version of a page: as text (GB/T 7714-2015), CSL-JSON or BibTeX.

- :func:`cited_version` — the one read: a page (id or exact URL) and one of its versions
  (default the newest), with what a citation names. Reads only.
- :func:`citation_text`, :func:`citation_csl`, :func:`citation_bibtex` — pure formatting.

A citation names the publisher (发布机构), the title, the document number (文号), the
publication date and the URL, then the archive's own record: the version number, when the
archive first saw that content (the version's ``fetched_at``), when a fetch last confirmed
it (the latest fetch that observed it, as ``history`` counts them), the SHA-256 of the raw
page as served (``page_versions.raw_hash``) and the govarchive that made the citation.

The text follows GB/T 7714-2015's form for an electronic resource::

    发布机构. 题名: 文号[EB/OL]. (发布日期)[引用日期]. URL.

The 引用日期 (date of access) is the day the archive last confirmed the version: the last
day on which the URL is known to have served exactly what is cited. Times are China
Standard Time (UTC+8), the time the pages themselves are written in, whatever the
machine's zone, so one version is cited alike everywhere. A field the page does not state
is left out with its punctuation, never written as "None".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func, select

from storage.engine import database_errors, describe
from storage.errors import UnknownVersionError
from storage.history import find_page, integer_fits, load_snapshots
from storage.models import PageVersion

#: China Standard Time: the zone citations are written in (no daylight saving).
CST = timezone(timedelta(hours=8), "UTC+8")


@dataclass(frozen=True, slots=True)
class CitedVersion:
    """What a citation of one version names. ``last_confirmed_at`` is the latest fetch
    (or imported capture) that observed the version (its ``fetched_at`` when no later one
    did); None when it is not known (the citation then leaves it out and dates the access
    by ``fetched_at``)."""

    url: str
    version: int
    title: str | None
    publisher: str | None
    doc_number: str | None
    published_date: date | None
    fetched_at: datetime
    last_confirmed_at: datetime | None
    raw_hash: str

    @property
    def accessed(self) -> date:
        """The 引用日期: the day (UTC+8) the archive last confirmed the version."""
        return _day(self.last_confirmed_at or self.fetched_at)


def cited_version(engine: Engine, ref: int | str, version: int | None = None) -> CitedVersion:
    """Return what a citation of version ``version`` (None: the newest) of page ``ref``
    (an id, or an exact URL) names. Reads only.

    Raises UnknownRecordError (from :func:`storage.history.find_page`) when the page does
    not exist, UnknownVersionError naming the versions it has when the version does not."""
    with database_errors(engine, "reading a version to cite"), engine.connect() as conn:
        page = find_page(conn, ref)
        count = conn.execute(
            select(func.count()).where(PageVersion.page_id == page.page_id)
        ).scalar_one()
        wanted = count if version is None else version
        found = (
            load_snapshots(conn, page.page_id, [wanted])
            if wanted and integer_fits(conn, wanted)
            else []
        )
        if not found:
            have = f"it has versions 1 to {count}" if count else "it has no versions"
            raise UnknownVersionError(
                f"{page.url}: no version {version}; {have}", database=describe(conn)
            )
    s = found[0]
    return CitedVersion(
        url=page.url,
        version=s.version,
        title=s.fields.get("title"),
        publisher=s.fields.get("publisher"),
        doc_number=s.fields.get("doc_number"),
        published_date=s.fields.get("published_date"),
        fetched_at=s.fetched_at,
        last_confirmed_at=s.last_seen_at,
        raw_hash=s.raw_hash,
    )


def _clean(text: str | None) -> str | None:
    """The value on one line, or None when there is nothing to cite."""
    if text is None:
        return None
    value = " ".join(text.split())
    return value or None


def _when(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M") + " UTC+8"


def _day(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def archive_note(cited: CitedVersion, generator: str) -> str:
    """The archive's record of the version, in one sentence. Pure."""
    seen = f"Archived version {cited.version}, first seen {_when(cited.fetched_at)}"
    if cited.last_confirmed_at is not None:
        seen += f", last confirmed {_when(cited.last_confirmed_at)}"
    return f"{seen}; raw page SHA-256 {cited.raw_hash}; archived with {generator}."


def citation_text(cited: CitedVersion, generator: str) -> str:
    """Return the GB/T 7714-2015 reference of ``cited`` followed by the archive's record,
    on one line. ``generator`` is e.g. ``govarchive 0.1.0``. Pure."""
    publisher, title, number = (
        _clean(cited.publisher),
        _clean(cited.title),
        _clean(cited.doc_number),
    )
    head = ": ".join(part for part in (title, number) if part)
    parts = [f"{publisher}. " if publisher else "", f"{head}[EB/OL]. "]
    published = f"({cited.published_date.isoformat()})" if cited.published_date else ""
    parts.append(f"{published}[{cited.accessed.isoformat()}]. ")
    parts.append(f"{cited.url}. ")
    return "".join(parts) + archive_note(cited, generator)


def _date_parts(day: date) -> dict[str, list[list[int]]]:
    return {"date-parts": [[day.year, day.month, day.day]]}


def citation_csl(cited: CitedVersion, generator: str) -> dict[str, Any]:
    """Return one CSL-JSON item for ``cited`` (Zotero imports a list of them). Pure.

    Type ``webpage``: a disclosure column holds progress reports, notices and plans as
    well as regulations, and what is cited is the page as served at a URL on a date;
    ``legislation`` (Zotero's Statute) would misfile most of them. The publisher is the
    author as an institution (a ``literal`` name, never split into family and given), the
    文号 is the item's ``number``, and the archive's record is the ``note`` and
    ``archive``/``archive_location``."""
    item: dict[str, Any] = {
        "id": f"govarchive-{cited.raw_hash[:12]}",
        "type": "webpage",
        "URL": cited.url,
        "accessed": _date_parts(cited.accessed),
        "archive": generator,
        "archive_location": f"version {cited.version}, sha256 {cited.raw_hash}",
        "note": archive_note(cited, generator),
    }
    title, publisher, number = (
        _clean(cited.title),
        _clean(cited.publisher),
        _clean(cited.doc_number),
    )
    if title:
        item["title"] = title
    if publisher:
        item["author"] = [{"literal": publisher}]
        item["publisher"] = publisher
    if number:
        item["number"] = number
    if cited.published_date:
        item["issued"] = _date_parts(cited.published_date)
    return item


_BIBTEX_SPECIAL = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "%": r"\%",
        "&": r"\&",
        "#": r"\#",
        "$": r"\$",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


def _bib(text: str) -> str:
    return text.translate(_BIBTEX_SPECIAL)


def citation_bibtex(cited: CitedVersion, generator: str) -> str:
    """Return a BibTeX ``@misc`` entry for ``cited`` (UTF-8; biblatex's ``urldate`` and
    ``date``, which Zotero and biber read, with ``year`` for plain BibTeX). The publisher
    is double-braced so that it stays one institutional name. Pure."""
    fields: list[tuple[str, str]] = []
    publisher, title, number = (
        _clean(cited.publisher),
        _clean(cited.title),
        _clean(cited.doc_number),
    )
    if publisher:
        fields.append(("author", f"{{{_bib(publisher)}}}"))
    if title:
        fields.append(("title", _bib(title)))
    if number:
        fields.append(("number", _bib(number)))
    if cited.published_date:
        fields.append(("date", cited.published_date.isoformat()))
        fields.append(("year", str(cited.published_date.year)))
    fields.append(("url", cited.url.replace("{", "%7B").replace("}", "%7D")))
    fields.append(("urldate", cited.accessed.isoformat()))
    fields.append(("note", _bib(archive_note(cited, generator))))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{govarchive-{cited.raw_hash[:12]},\n{body}\n}}"


def latest_row_citation(row: Mapping[str, Any], generator: str) -> str:
    """Return :func:`citation_text` for one row of the ``latest`` export (the columns of
    ``latest_versions``). Pure.

    The page's ``last_fetched_at`` is the version's last confirmation only when the row
    is the page's newest version (its ``fetched_at`` is the page's ``last_changed_at``);
    a row of an export ``--until`` an earlier date may be an older version, whose last
    confirmation is then left out."""
    newest = row["fetched_at"] == row["last_changed_at"]
    cited = CitedVersion(
        url=row["url"],
        version=row["version"],
        title=row["title"],
        publisher=row["publisher"],
        doc_number=row["doc_number"],
        published_date=row["published_date"],
        fetched_at=row["fetched_at"],
        last_confirmed_at=row["last_fetched_at"] if newest else None,
        raw_hash=row["raw_hash"],
    )
    return citation_text(cited, generator)
