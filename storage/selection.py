"""Choosing rows by source name, shared by export and reparse. Reads only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from storage.engine import describe
from storage.errors import UnknownRecordError
from storage.models import Source


def resolve_sources(conn: Connection, names: Sequence[str]) -> list[int] | None:
    """Return the ids of the sources called ``names``, in that order; None when
    ``names`` is empty (meaning every source).

    Raises UnknownRecordError naming the first unknown name and the sources the
    archive holds.
    """
    if not names:
        return None
    rows = conn.execute(select(Source.name, Source.id).where(Source.name.in_(names))).all()
    found = {name: source_id for name, source_id in rows}
    missing = [n for n in names if n not in found]
    if missing:
        known = conn.execute(select(Source.name).order_by(Source.name)).scalars().all()
        raise UnknownRecordError(
            f"no source named {missing[0]!r} in the archive; it holds: "
            f"{', '.join(known) or 'no sources yet'}",
            database=describe(conn),
        )
    return [found[n] for n in dict.fromkeys(names)]
