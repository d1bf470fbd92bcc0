"""The ``--since`` / ``--until`` options shared by export, reparse and changes.

A bare date is a whole UTC day: ``--since 2024-01-01`` starts at 2024-01-01T00:00Z and
``--until 2024-03-31`` ends just before 2024-04-01T00:00Z, so both ends are inclusive
as written. A full ISO 8601 datetime with an offset is taken as given; one without an
offset is read as UTC (the archive stores UTC). ``--until 9999-12-31`` reaches the last
moment there is; a datetime whose UTC time falls before year 1 or after 9999 is refused
with a message (the database drivers could not convert it). ``changes --since`` also
takes a span back from now: ``36h``, ``7d``, ``2w``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    # click >= 8.2 types ParamType as a generic; older click (allowed by pyproject)
    # cannot subscript it at run time.
    _ParamType = click.ParamType[datetime, "str | datetime"]
    _SpanParamType = click.ParamType[datetime | timedelta, "str | datetime | timedelta"]
else:
    _ParamType = _SpanParamType = click.ParamType


def parse_moment(text: str, *, end_of_day: bool) -> datetime:
    """Return the aware datetime ``text`` means; ValueError naming the text if none.

    With ``end_of_day``, a bare date gives the start of the next day (an exclusive bound).
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not end_of_day:
            return start
        # The day after 9999-12-31 does not exist: "until the end of time" is the last moment.
        return start + timedelta(days=1) if day < date.max else datetime.max.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 datetime") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:  # the archive compares in UTC; the database drivers convert to it
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{text!r} is outside the times the archive can hold (0001-01-01 to 9999-12-31, in UTC)"
        ) from None
    return moment


class MomentType(_ParamType):
    """A click type for ``--since`` (start of day) or ``--until`` (end of day)."""

    name = "DATE"

    def __init__(self, *, end_of_day: bool) -> None:
        self.end_of_day = end_of_day

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value), end_of_day=self.end_of_day)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SINCE = MomentType(end_of_day=False)
UNTIL = MomentType(end_of_day=True)


#: A span of time back from now: a number and h (hours), d (days) or w (weeks).
_SPAN = re.compile(r"(\d{1,6})([hdw])")
_SPAN_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_span(text: str) -> timedelta | None:
    """Return the span ``text`` means (``36h``, ``7d``, ``2w``), or None when it is not one."""
    match = _SPAN.fullmatch(text.strip())
    if match is None:
        return None
    return timedelta(**{_SPAN_UNITS[match.group(2)]: int(match.group(1))})


class RecentType(_SpanParamType):
    """A click type for ``--since`` that also takes a span back from now (``7d``,
    ``36h``, ``2w``): the value is then that span, for the command to subtract from its
    clock; otherwise what :data:`SINCE` gives."""

    name = "DATE|SPAN"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime | timedelta:
        if isinstance(value, datetime | timedelta):
            return value
        span = parse_span(str(value))
        if span is not None:
            return span
        try:
            return parse_moment(str(value), end_of_day=False)
        except ValueError as exc:
            self.fail(f"{exc}, nor a span such as 7d, 36h or 2w", param, ctx)


RECENT = RecentType()
