"""cron's day-of-week field translated for APScheduler (scraper/scheduling/cron.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.scheduling.cron import apscheduler_day_of_week
from scraper.scheduling.schedule import fire_times, make_trigger

croniter = pytest.importorskip("croniter").croniter


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("*", "*"),
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("MON-Fri", "mon,tue,wed,thu,fri"),
        ("0,6", "sat,sun"),
        ("sat,sun", "sat,sun"),
        ("5-7", "fri,sat,sun"),
        ("0-7", "*"),
        ("*/2", "tue,thu,sat,sun"),
        ("1-5/2", "mon,wed,fri"),
        ("1/2", "mon,wed,fri,sun"),
        ("1,1,1", "mon"),
    ],
)
def test_cron_days_become_apscheduler_names(cron: str, expected: str) -> None:
    assert apscheduler_day_of_week(cron) == expected


@pytest.mark.parametrize("bad", ["8", "5-1", "*/0", "*/x", "mo", "", "1-", "-1", "1,,2"])
def test_what_cron_refuses_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        apscheduler_day_of_week(bad)


def test_monday_at_seven_is_a_monday() -> None:
    # 2026-05-04 is a Monday; from the Sunday before, the next fire is that Monday.
    trigger = make_trigger("0 7 * * 1", "UTC")
    fire = trigger.get_next_fire_time(None, datetime(2026, 5, 3, 12, tzinfo=UTC))
    assert fire == datetime(2026, 5, 4, 7, tzinfo=UTC)
    assert fire.strftime("%A") == "Monday"


@st.composite
def _dow_part(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["day", "range", "star", "step"]))
    if kind == "day":
        return draw(st.one_of(st.integers(0, 7).map(str), st.sampled_from(["sun", "mon", "fri"])))
    if kind == "star":
        return "*"
    low = draw(st.integers(0, 6))
    high = draw(st.integers(low + 1, 7))  # croniter reads "6-6" as every day
    span = f"{low}-{high}" if kind == "range" else draw(st.sampled_from(["*", f"{low}-{high}"]))
    return f"{span}/{draw(st.integers(1, 7))}" if kind == "step" else span


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(_dow_part(), min_size=1, max_size=3),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_next_fires_match_cron(parts: list[str], start: datetime) -> None:
    """The trigger's next fires are croniter's, the reference reading of cron."""
    schedule = f"30 6 * * {','.join(parts)}"
    start = start.replace(tzinfo=UTC)
    end = start + timedelta(days=30)
    reference = croniter(schedule, start)
    expected: list[datetime] = []
    while (fire := reference.get_next(datetime)) <= end:
        expected.append(fire)
    assert list(fire_times(make_trigger(schedule, "UTC"), start, end)) == expected
