"""Re-parse stored raw bytes with a newer parser and fix the parsed columns in place.

:func:`reparse` walks ``page_versions`` in id order, in batches, re-running ``parse``
(injected: storage never imports the parser) over each version's stored raw body. Where
a stored value differs from the new parse it rewrites the version's parsed columns,
``content_hash`` and its ``task_sections`` rows (in place, by section number); every
version it read gets ``parser_version``. It never fetches, never creates or deletes a
version and never renumbers one.

Resumable: each batch is one transaction, and versions already at ``parser_version``
are skipped, so a run killed at any moment loses at most the batch in hand and a rerun
carries on where it stopped. A version whose parse fails is left untouched (still at
its old parser version, so the next run tries again) and reported.

Consecutive versions of one page that become identical under the new parser are
reported, not merged: merging would rewrite history a researcher may already have cited.

Attachments: a version's content hash keeps covering its files' SHA-256 (their bytes
do not change). With ``extract`` given, the text of each file of a re-parsed version is
read again from its blob (once per distinct file in a run) and its ``kind``, ``text``,
``extractor`` and ``extract_error`` are rewritten where they differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from storage.blobs import read_blob, read_blobs
from storage.content import (
    CANONICAL_FIELDS,
    SECTION_FIELDS,
    ParsedDoc,
    content_hash,
    section_values,
    version_values,
)
from storage.engine import database_errors, write_transaction
from storage.models import (
    ATTACHMENTS,
    PAGE_VERSIONS,
    TASK_SECTIONS,
    Page,
    PageVersion,
    TaskSection,
)
from storage.selection import resolve_sources

#: ``(raw bytes, content type) -> ParsedDoc``: the parser, e.g.
#: ``lambda raw, ct: parse_page(raw, headers={"content-type": ct}).to_dict()``.
ParseFn = Callable[[bytes, str | None], ParsedDoc]

#: ``[(raw bytes, content type), …] -> [ParsedDoc, or the exception its parse raised, …]``
#: in the same order: how one batch is parsed. By default each is parsed in turn by the
#: ParseFn (:func:`parse_each`); ``govarchive reparse`` parses a batch in worker processes.
ParseManyFn = Callable[[Sequence[tuple[bytes, str | None]]], list[ParsedDoc | Exception]]

#: ``(bytes, content type, file name) -> {"kind", "text", "extractor", "error"}``: how
#: an attachment's text is read (scraper.extract.files.read_file_to_dict).
ExtractFn = Callable[[bytes, str | None, str | None], dict[str, Any]]

#: The ``attachments`` columns an extraction produces, and the keys it gives them as.
EXTRACTED_COLUMNS: dict[str, str] = {
    "kind": "kind",
    "text": "text",
    "extractor": "extractor",
    "extract_error": "error",
}

#: Versions read, parsed and written per transaction.
DEFAULT_BATCH_SIZE = 500

#: The ``page_versions`` columns a parse produces (compared and rewritten).
PARSED_COLUMNS: tuple[str, ...] = (
    *CANONICAL_FIELDS,
    "metadata_extra",
    "body_text",
    "encoding",
    "encoding_source",
    "warnings",
)

#: Per-section values compared (besides the number, which identifies the section).
SECTION_COLUMNS: tuple[str, ...] = ("title", *SECTION_FIELDS, "extra")

#: Failures kept in the report with their message (all are counted).
MAX_REPORTED_FAILURES = 50


@dataclass(frozen=True, slots=True)
class ReparseFailure:
    """A version that could not be re-parsed; it was left as it was."""

    version_id: int
    page_id: int
    error: str


@dataclass(frozen=True, slots=True)
class IdenticalPair:
    """Two consecutive versions of a page with the same content under the parser."""

    page_id: int
    url: str
    older: int
    newer: int


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One version whose parsed values differ under the parser: value name → (old, new).

    Names are ``page_versions`` columns, ``section N COLUMN`` for a task section's value,
    ``section N`` (old or new title None) for a section added or removed, and
    ``attachment ID COLUMN`` for an attachment's text columns.
    """

    version_id: int
    page_id: int
    url: str
    version: int
    values: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready values (dates and times in ISO 8601)."""
        return {
            "version_id": self.version_id,
            "page_id": self.page_id,
            "url": self.url,
            "version": self.version,
            "values": {
                name: {"old": _jsonable(old), "new": _jsonable(new)}
                for name, (old, new) in self.values.items()
            },
        }


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass(slots=True)
class ReparseReport:
    """What a :func:`reparse` run did (or, with ``dry_run``, would do).

    ``candidates``: versions not yet at ``parser_version`` when the run started, within
    the filters; ``examined``: versions parsed; ``changed``: versions with at least one
    parsed value different; ``fields``: versions changed per column (``sections`` when
    any of its sections differ); ``section_values``: sections changed per value, plus
    ``added``/``removed``; ``already_current``: versions skipped as already at
    ``parser_version``; ``changes``: with ``list_changes``, every version changed and
    its values old → new (None otherwise).
    """

    parser_version: str
    dry_run: bool
    candidates: int = 0
    already_current: int = 0
    examined: int = 0
    changed: int = 0
    batches: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    section_values: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    failures: list[ReparseFailure] = field(default_factory=list)
    identical: list[IdenticalPair] = field(default_factory=list)
    changes: list[VersionChange] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values (``changes`` only when listed)."""
        listed = {} if self.changes is None else {"changes": [c.to_dict() for c in self.changes]}
        return {
            "parser_version": self.parser_version,
            "dry_run": self.dry_run,
            "candidates": self.candidates,
            "already_current": self.already_current,
            "examined": self.examined,
            "changed": self.changed,
            "batches": self.batches,
            "fields": dict(sorted(self.fields.items())),
            "section_values": dict(sorted(self.section_values.items())),
            "failed": self.failed,
            "failures": [vars_of(f) for f in self.failures],
            "identical_consecutive_versions": [vars_of(p) for p in self.identical],
            **listed,
        }


def vars_of(obj: ReparseFailure | IdenticalPair) -> dict[str, Any]:
    """Return a slotted dataclass's fields as a dict."""
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class _Stored:
    """One version as read for re-parsing."""

    id: int
    page_id: int
    raw_hash: str
    content_type: str | None
    content_hash: str
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to write for one version: changed columns and section edits."""

    version_id: int
    columns: dict[str, Any]
    section_updates: list[tuple[int, dict[str, Any]]]  # (section id, changed values)
    section_inserts: list[dict[str, Any]]
    section_deletes: list[int]
    new_hash: str
    attachment_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class ParseFailed(Exception):
    """A page's parse failed where its exception could not be kept (in another process);
    the message names the original exception, as a failure is reported."""


def parse_each(parse: ParseFn) -> ParseManyFn:
    """Return a ParseManyFn that parses each page of a batch in turn with ``parse``, in
    this process, giving back each failure's exception in its place."""

    def parse_many(items: Sequence[tuple[bytes, str | None]]) -> list[ParsedDoc | Exception]:
        docs: list[ParsedDoc | Exception] = []
        for raw, content_type in items:
            try:
                docs.append(parse(raw, content_type))
            except Exception as exc:  # reported per version; the batch goes on
                docs.append(exc)
        return docs

    return parse_many


def reparse(
    engine: Engine,
    parse: ParseFn,
    parser_version: str,
    *,
    sources: Sequence[str] = (),
    since: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[ReparseReport], None] | None = None,
    extract: ExtractFn | None = None,
    list_changes: bool = False,
    parse_many: ParseManyFn | None = None,
) -> ReparseReport:
    """Re-parse every version not yet at ``parser_version`` (of ``sources``, fetched at or
    after ``since``) and rewrite what differs; return the report.

    Writes, per batch and in one transaction: changed parsed columns and
    ``content_hash`` of ``page_versions``, updated/inserted/deleted ``task_sections``
    rows, and ``parser_version`` of every version parsed without error; with
    ``extract``, its attachments' text columns where a new reading differs (counted as
    the field ``attachments``). With ``dry_run`` nothing is written. ``on_batch`` is
    called after each batch. With ``list_changes``, ``report.changes`` lists each
    changed version's values old → new (held in memory: narrow a large run with
    ``sources``/``since``). ``parse_many``, when given, parses each batch in place of
    ``parse`` (e.g. in worker processes); it must give the same results.
    Raises UnknownRecordError for an unknown source name.
    """
    report = ReparseReport(parser_version, dry_run, changes=[] if list_changes else None)
    parse_batch = parse_many or parse_each(parse)
    readings = _Readings(extract)
    with database_errors(engine, "re-parsing"):
        with engine.connect() as conn:
            source_ids = resolve_sources(conn, sources)
            report.candidates, report.already_current = _counts(
                conn, parser_version, source_ids, since
            )
        preview: dict[int, str] = {}
        last_id = 0
        while True:
            if dry_run:
                with engine.connect() as conn:
                    plans, last_id, size = _batch(
                        conn, parse_batch, parser_version, source_ids, since, last_id,
                        batch_size, report, readings,
                    )  # fmt: skip
                    preview.update((p.version_id, p.new_hash) for p in plans)
            else:
                with write_transaction(engine) as conn:
                    plans, last_id, size = _batch(
                        conn, parse_batch, parser_version, source_ids, since, last_id,
                        batch_size, report, readings,
                    )  # fmt: skip
                    _apply(conn, plans, parser_version)
            if size == 0:
                break
            report.batches += 1
            if on_batch is not None:
                on_batch(report)
        with engine.connect() as conn:
            report.identical = _identical_pairs(
                conn, parser_version, source_ids, preview if dry_run else None
            )
    return report


def _scope(stmt: Any, source_ids: list[int] | None, since: datetime | None) -> Any:
    if source_ids is not None:
        stmt = stmt.where(
            PageVersion.page_id.in_(select(Page.id).where(Page.source_id.in_(source_ids)))
        )
    if since is not None:
        stmt = stmt.where(PageVersion.fetched_at >= since)
    return stmt


def _counts(
    conn: Connection, parser_version: str, source_ids: list[int] | None, since: datetime | None
) -> tuple[int, int]:
    """Return (versions to re-parse, versions already at parser_version) in scope."""
    current = PageVersion.parser_version == parser_version
    stmt = _scope(
        select(func.count(), func.coalesce(func.sum(case((current, 1), else_=0)), 0)),
        source_ids,
        since,
    )
    total, done = conn.execute(stmt).one()
    return int(total) - int(done), int(done)


def _batch(
    conn: Connection,
    parse_many: ParseManyFn,
    parser_version: str,
    source_ids: list[int] | None,
    since: datetime | None,
    after_id: int,
    size: int,
    report: ReparseReport,
    readings: _Readings,
) -> tuple[list[_Plan], int, int]:
    """Read and parse the next batch after ``after_id``; return the write plans (every
    version parsed without error gets one), the last id read and the batch size."""
    columns = [getattr(PageVersion, name) for name in PARSED_COLUMNS]
    stmt = _scope(
        select(
            PageVersion.id,
            PageVersion.page_id,
            PageVersion.raw_hash,
            PageVersion.content_type,
            PageVersion.content_hash,
            *columns,
        )
        .where(PageVersion.id > after_id, PageVersion.parser_version != parser_version)
        .order_by(PageVersion.id)
        .limit(size),
        source_ids,
        since,
    )
    stored = [
        _Stored(id_, page_id, raw, ctype, chash, dict(zip(PARSED_COLUMNS, rest, strict=True)))
        for id_, page_id, raw, ctype, chash, *rest in conn.execute(stmt).all()
    ]
    if not stored:
        return [], after_id, 0
    sections = _sections(conn, [v.id for v in stored])
    files = _attachments(conn, [v.id for v in stored])
    raws = read_blobs(conn, {v.raw_hash for v in stored})
    readable: list[tuple[_Stored, bytes]] = []
    for version in stored:
        report.examined += 1
        try:
            if version.raw_hash not in raws:  # missing or corrupt: the BlobError says which
                raws[version.raw_hash] = read_blob(conn, version.raw_hash)
        except Exception as exc:  # one bad blob never stops the run
            _failed(report, version, exc)
            continue
        readable.append((version, raws[version.raw_hash]))
    docs = parse_many([(raw, version.content_type) for version, raw in readable])
    plans: list[_Plan] = []
    listed_before = len(report.changes or ())
    for (version, raw), doc in zip(readable, docs, strict=True):
        try:
            if isinstance(doc, Exception):
                raise doc
            attached = files.get(version.id, [])
            plan = _plan(version, doc, raw, sections.get(version.id, {}), attached, report)
            plan.attachment_updates.extend(readings.changes(conn, attached))
            if report.changes is not None:
                listed = _listed(version, plan, sections.get(version.id, {}), attached)
                if listed:
                    report.changes.append(listed)
            if plan.attachment_updates:
                report.fields["attachments"] += 1
                edited = plan.section_updates or plan.section_inserts or plan.section_deletes
                if not (plan.columns or edited):
                    report.changed += 1
        except Exception as exc:  # one bad page never stops the run
            _failed(report, version, exc)
            continue
        plans.append(plan)
    if report.changes:
        _name_versions(conn, report.changes, listed_before)
    return plans, stored[-1].id, len(stored)


def _failed(report: ReparseReport, version: _Stored, exc: Exception) -> None:
    """Count a version that could not be re-parsed; keep its message while there is room."""
    report.failed += 1
    if len(report.failures) < MAX_REPORTED_FAILURES:
        message = str(exc) if isinstance(exc, ParseFailed) else f"{type(exc).__name__}: {exc}"
        report.failures.append(ReparseFailure(version.id, version.page_id, message))


def _listed(
    version: _Stored,
    plan: _Plan,
    stored_sections: dict[int, dict[str, Any]],
    attached: list[dict[str, Any]],
) -> VersionChange | None:
    """Return one version's values old → new from its plan, or None if nothing differs
    (URL and version number are filled in per batch by :func:`_name_versions`)."""
    values: dict[str, tuple[Any, Any]] = {
        name: (version.values[name], new)
        for name, new in plan.columns.items()
        if name != "content_hash"
    }
    by_id = {row["id"]: (number, row) for number, row in stored_sections.items()}
    for section_id, diff in plan.section_updates:
        number, old = by_id[section_id]
        values.update((f"section {number} {c}", (old[c], new)) for c, new in diff.items())
    for row in plan.section_inserts:
        values[f"section {row['number']}"] = (None, row["title"])
    for section_id in plan.section_deletes:
        number, old = by_id[section_id]
        values[f"section {number}"] = (old["title"], None)
    files = {row["id"]: row for row in attached}
    for attachment_id, diff in plan.attachment_updates:
        values.update(
            (f"attachment {attachment_id} {c}", (files[attachment_id][c], new))
            for c, new in diff.items()
        )
    if not values:
        return None
    return VersionChange(version.id, version.page_id, "", 0, values)


def _name_versions(conn: Connection, changes: list[VersionChange], start: int) -> None:
    """Fill in the URL and version number of ``changes[start:]`` (this batch's), in place."""
    todo = range(start, len(changes))
    if not todo:
        return
    stmt = (
        select(PageVersion.id, PageVersion.version, Page.url)
        .join(Page, Page.id == PageVersion.page_id)
        .where(PageVersion.id.in_([changes[i].version_id for i in todo]))
    )
    named = {id_: (number, url) for id_, number, url in conn.execute(stmt).all()}
    for i in todo:
        number, url = named[changes[i].version_id]
        changes[i] = replace(changes[i], url=url, version=number)


def _sections(conn: Connection, version_ids: list[int]) -> dict[int, dict[int, dict[str, Any]]]:
    """Return version id → section number → stored row (with its ``id``)."""
    out: dict[int, dict[int, dict[str, Any]]] = {}
    stmt = select(
        TaskSection.id,
        TaskSection.version_id,
        TaskSection.number,
        *(getattr(TaskSection, c) for c in SECTION_COLUMNS),
    ).where(TaskSection.version_id.in_(version_ids))
    for row in conn.execute(stmt).mappings():
        out.setdefault(row["version_id"], {})[row["number"]] = dict(row)
    return out


def _attachments(conn: Connection, version_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Return version id → its attachments (id, sha256, content_type, filename and the
    extracted columns), in page order."""
    out: dict[int, list[dict[str, Any]]] = {}
    stmt = (
        select(
            ATTACHMENTS.c.id,
            ATTACHMENTS.c.version_id,
            ATTACHMENTS.c.sha256,
            ATTACHMENTS.c.content_type,
            ATTACHMENTS.c.filename,
            *(ATTACHMENTS.c[name] for name in EXTRACTED_COLUMNS),
        )
        .where(ATTACHMENTS.c.version_id.in_(version_ids))
        .order_by(ATTACHMENTS.c.version_id, ATTACHMENTS.c.position)
    )
    for row in conn.execute(stmt).mappings():
        out.setdefault(row["version_id"], []).append(dict(row))
    return out


class _Readings:
    """Attachments' text read again, once per distinct file (SHA-256) in a run."""

    def __init__(self, extract: ExtractFn | None) -> None:
        self.extract = extract
        self.read: dict[str, dict[str, Any] | None] = {}

    def changes(
        self, conn: Connection, attached: list[dict[str, Any]]
    ) -> list[tuple[int, dict[str, Any]]]:
        """Return (attachment id, changed extracted columns) for the files whose new
        reading differs. A file whose blob cannot be read or whose reading fails keeps
        its columns (the failure is logged by the caller's report as no change)."""
        if self.extract is None:
            return []
        updates = []
        for row in attached:
            sha = row["sha256"]
            if sha is None:
                continue
            if sha not in self.read:
                self.read[sha] = self._read(conn, sha, row["content_type"], row["filename"])
            reading = self.read[sha]
            if reading is None:
                continue
            diff = {
                column: reading.get(key)
                for column, key in EXTRACTED_COLUMNS.items()
                if row[column] != reading.get(key)
            }
            if diff:
                updates.append((row["id"], diff))
        return updates

    def _read(
        self, conn: Connection, sha: str, content_type: str | None, filename: str | None
    ) -> dict[str, Any] | None:
        assert self.extract is not None
        try:
            return self.extract(read_blob(conn, sha), content_type, filename)
        except Exception:  # a missing blob or a failing reader: the stored text stays
            return None


def _plan(
    version: _Stored,
    doc: ParsedDoc,
    raw: bytes,
    stored_sections: dict[int, dict[str, Any]],
    attached: list[dict[str, Any]],
    report: ReparseReport,
) -> _Plan:
    """Compare one new parse (of ``raw``) with the stored version (whose attachments are
    ``attached``); count the differences. Pure apart from the report. Raises ValueError
    when the parse cannot be stored."""
    new_values = version_values(doc)
    new_hash = content_hash(doc, raw, [row["sha256"] for row in attached])
    changed = {
        name: new_values[name]
        for name in PARSED_COLUMNS
        if not _same(version.values[name], new_values[name])
    }
    updates: list[tuple[int, dict[str, Any]]] = []
    inserts: list[dict[str, Any]] = []
    new_sections = {row["number"]: row for row in section_values(doc)}
    for number, row in new_sections.items():
        old = stored_sections.get(number)
        if old is None:
            inserts.append({"version_id": version.id, **row})
            report.section_values["added"] += 1
            continue
        diff = {c: row[c] for c in SECTION_COLUMNS if old[c] != row[c]}
        if diff:
            updates.append((old["id"], diff))
            report.section_values.update(diff.keys())
    deletes = [old["id"] for n, old in stored_sections.items() if n not in new_sections]
    if deletes:
        report.section_values["removed"] += len(deletes)
    if new_hash != version.content_hash:
        changed["content_hash"] = new_hash
    if changed or updates or inserts or deletes:
        report.changed += 1
        report.fields.update(k for k in changed if k != "content_hash")
        if updates or inserts or deletes:
            report.fields["sections"] += 1
    return _Plan(version.id, changed, updates, inserts, deletes, new_hash)


def _same(stored: Any, new: Any) -> bool:
    # Timestamps come back from the database in UTC and from the parser in +08:00;
    # aware datetimes compare by instant, so equal instants are the same value.
    return bool(stored == new)


def _apply(conn: Connection, plans: list[_Plan], parser_version: str) -> None:
    """Write one batch's plans in a few statements: one UPDATE for the versions whose
    only change is the parser version, one executemany per set of changed columns."""
    unchanged = [p.version_id for p in plans if not p.columns]
    if unchanged:
        conn.execute(
            update(PageVersion)
            .where(PageVersion.id.in_(unchanged))
            .values(parser_version=parser_version)
        )
    versions = _grouped(
        (p.version_id, {**p.columns, "parser_version": parser_version}) for p in plans if p.columns
    )
    sections = _grouped(update for p in plans for update in p.section_updates)
    files = _grouped(update for p in plans for update in p.attachment_updates)
    for table, groups in (
        (PAGE_VERSIONS, versions),
        (TASK_SECTIONS, sections),
        (ATTACHMENTS, files),
    ):
        for columns, rows in groups.items():
            stmt = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({c: bindparam(f"new_{c}") for c in columns})
            )
            conn.execute(stmt, rows)
    deletes = [i for p in plans for i in p.section_deletes]
    if deletes:
        conn.execute(delete(TaskSection).where(TaskSection.id.in_(deletes)))
    inserts = [row for p in plans for row in p.section_inserts]
    if inserts:
        conn.execute(insert(TaskSection), inserts)


def _grouped(
    updates: Iterable[tuple[int, dict[str, Any]]],
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Group (row id, new values) by the columns they set, as executemany parameters."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in updates:
        params = {"row_id": row_id, **{f"new_{c}": v for c, v in values.items()}}
        groups.setdefault(tuple(sorted(values)), []).append(params)
    return groups


def _identical_pairs(
    conn: Connection,
    parser_version: str,
    source_ids: list[int] | None,
    preview: dict[int, str] | None,
) -> list[IdenticalPair]:
    """Return consecutive versions with equal content hashes, both parsed by
    ``parser_version`` (or, in a dry run, about to be: ``preview`` holds their new
    hashes). Streams the versions in page order; holds one page at a time."""
    stmt = select(
        PageVersion.page_id,
        PageVersion.version,
        PageVersion.id,
        PageVersion.content_hash,
        PageVersion.parser_version,
    ).order_by(PageVersion.page_id, PageVersion.version)
    stmt = _scope(stmt, source_ids, None)
    found: list[tuple[int, int, int]] = []
    previous: tuple[int, int, str | None] | None = None  # page id, version, hash if current
    result = conn.execute(stmt.execution_options(yield_per=5000))
    for page_id, version, version_id, stored_hash, stored_version in result:
        if preview is not None and version_id in preview:
            current: str | None = preview[version_id]
        else:
            current = stored_hash if stored_version == parser_version else None
        if (
            previous is not None
            and previous[0] == page_id
            and current is not None
            and previous[2] == current
        ):
            found.append((page_id, previous[1], version))
        previous = (page_id, version, current)
    result.close()
    if not found:
        return []
    rows = conn.execute(select(Page.id, Page.url).where(Page.id.in_({p for p, _, _ in found})))
    urls = {page_id: url for page_id, url in rows}
    return [IdenticalPair(p, urls[p], a, b) for p, a, b in found]
