"""Cron's day-of-week field, translated for APScheduler. Pure; imports nothing heavy.

cron numbers the days 0–7 with both 0 and 7 Sunday; APScheduler 3's CronTrigger numbers
them 0–6 from Monday, and steps over its own numbering (``*/2`` is Mon/Wed/Fri/Sun
there, Sun/Tue/Thu/Sat in cron). So ``0 7 * * 1`` handed over as is would run on a
Tuesday. :func:`apscheduler_day_of_week` expands cron's field into the set of days it
means and spells that set in day names, which both read the same way.
"""

from __future__ import annotations

#: Day names in cron's numbering: index 0 (and 7) is Sunday.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def apscheduler_day_of_week(field: str) -> str:
    """Return APScheduler's ``day_of_week`` for cron's day-of-week ``field``. Pure.

    Accepts what cron accepts: ``*``, numbers 0–7 (0 and 7 are Sunday), names
    (``mon``, case-insensitive), ranges (``1-5``, ``mon-fri``), steps (``*/2``,
    ``1-5/2``, ``1/2``) and comma lists of these. Returns ``*`` when every day is
    meant, else day names in week order (``mon,tue,wed,thu,fri``). Raises ValueError
    for anything else.
    """
    days: set[int] = set()
    for part in field.lower().split(","):
        days |= _days_of(part, field)
    if len(days) == 7:
        return "*"
    return ",".join(_DAY_NAMES[d] for d in sorted(days, key=lambda d: (d - 1) % 7))


def _days_of(part: str, field: str) -> set[int]:
    """Return the days (0 = Sunday … 6) that one comma-separated ``part`` means."""
    span, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ValueError(f"bad step {step_text!r} in day of week {field!r}")
        step = int(step_text)
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        low, _, high = span.partition("-")
        first, last = _day_number(low, field), _day_number(high, field)
        if last < first:
            raise ValueError(f"range {span!r} runs backwards in day of week {field!r}")
    else:
        first = _day_number(span, field)
        # "1/2" is cron's "1-7/2"; a lone day without a step is just that day.
        last = 7 if slash else first
    return {d % 7 for d in range(first, last + 1, step)}


def _day_number(text: str, field: str) -> int:
    """Return cron's number 0–7 for a day written as a number or a name."""
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    if text.isdigit() and int(text) <= 7:
        return int(text)
    raise ValueError(f"{text!r} is not a day of week (0-7 or sun-sat) in {field!r}")
