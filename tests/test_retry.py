"""scraper.fetching.retry: which failures are retried and how long each wait is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.fetching.retry import is_retryable, parse_retry_after, retry_delay
from scraper.settings import CrawlSettings

NOW = datetime(2024, 5, 6, 8, 0, 0, tzinfo=UTC)
SETTINGS = CrawlSettings(retries=3, backoff_base=1.0, max_retry_after=300.0)


def delay(
    attempt: int = 1,
    status: int | None = 503,
    *,
    error: bool = False,
    retry_after: str | None = None,
    settings: CrawlSettings = SETTINGS,
    rand: float = 0.0,
) -> float | None:
    return retry_delay(
        attempt=attempt,
        status=status,
        error=error,
        retry_after=retry_after,
        settings=settings,
        now=NOW,
        rand=lambda: rand,
    )


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (None, True, True),  # connection error, timeout, truncated body
        (429, False, True),
        (500, False, True),
        (502, False, True),
        (503, False, True),
        (504, False, True),
        (521, False, True),  # a 521 that is not a 加速乐 page (classified earlier) is a down origin
        (501, False, False),
        (505, False, False),
        (404, False, False),
        (403, False, False),
        (412, False, False),
        (400, False, False),
        (200, False, False),
        (None, False, False),
    ],
)
def test_is_retryable(status: int | None, error: bool, expected: bool) -> None:
    assert is_retryable(status, error=error) is expected


def test_exponential_backoff_without_jitter() -> None:
    assert [delay(a) for a in (1, 2, 3)] == [1.0, 2.0, 4.0]


def test_jitter_adds_up_to_half_the_backoff() -> None:
    assert delay(3, rand=0.5) == pytest.approx(5.0)
    assert delay(3, rand=0.999) == pytest.approx(4 + 4 * 0.5 * 0.999)


def test_backoff_base_scales() -> None:
    assert delay(2, settings=CrawlSettings(backoff_base=0.25)) == 0.5


def test_gives_up_after_the_configured_retries() -> None:
    assert delay(3) is not None
    assert delay(4) is None
    assert delay(1, settings=CrawlSettings(retries=0)) is None


def test_non_retryable_status_gives_up_at_once() -> None:
    assert delay(1, 404) is None
    assert delay(1, 501, retry_after="5") is None


def test_connection_error_is_retried() -> None:
    assert delay(1, None, error=True) == 1.0


def test_retry_after_seconds_is_honoured_without_jitter() -> None:
    assert delay(1, 503, retry_after="7", rand=0.9) == 7.0
    assert delay(1, 429, retry_after=" 12 ") == 12.0
    assert delay(1, 503, retry_after="0") == 0.0


def test_retry_after_http_date() -> None:
    when = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert delay(1, 503, retry_after=when) == 90.0


def test_retry_after_is_capped() -> None:
    assert delay(1, 503, retry_after="86400") == 300.0
    capped = CrawlSettings(max_retry_after=10.0)
    assert delay(1, 503, retry_after="60", settings=capped) == 10.0
    # the cap applies to our own back-off too
    assert delay(3, settings=CrawlSettings(backoff_base=100.0, max_retry_after=10.0)) == 10.0


def test_unparsable_retry_after_falls_back_to_backoff() -> None:
    assert delay(2, 503, retry_after="soon", rand=0.0) == 2.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Mon, 06 May 2024 08:01:00 GMT", 60.0),
        ("Mon, 06 May 2024 07:00:00 GMT", 0.0),  # in the past
        ("Mon, 06 May 2024 16:00:30 +0800", 30.0),
        ("Monday, 06-May-24 08:00:10 GMT", 10.0),  # RFC 850 form
        ("", None),
        ("later", None),
        ("nan", None),
        ("inf", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_accepts_naive_now() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Mon, 06 May 2024 08:00:05 GMT", now=naive) == 5.0
    other_zone = NOW.astimezone(timezone(timedelta(hours=8)))
    assert parse_retry_after("Mon, 06 May 2024 08:00:05 GMT", now=other_zone) == 5.0


@given(
    attempt=st.integers(min_value=1, max_value=50),
    status=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
    error=st.booleans(),
    retry_after=st.one_of(st.none(), st.text(max_size=40)),
    rand=st.floats(min_value=0.0, max_value=0.999999),
    retries=st.integers(min_value=0, max_value=10),
    cap=st.floats(min_value=0.0, max_value=1000.0),
)
def test_delay_is_bounded(
    attempt: int,
    status: int | None,
    error: bool,
    retry_after: str | None,
    rand: float,
    retries: int,
    cap: float,
) -> None:
    settings = CrawlSettings(retries=retries, max_retry_after=cap)
    wait = delay(
        attempt, status, error=error, retry_after=retry_after, settings=settings, rand=rand
    )
    if attempt > retries or not is_retryable(status, error=error):
        assert wait is None
    else:
        assert wait is not None
        assert 0.0 <= wait <= cap
