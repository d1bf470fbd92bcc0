"""Placeholders and dates."""

from __future__ import annotations

import pytest

from scraper.parse.values import DateTime, clean_value, parse_datetime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("无", None),
        ("暂无", None),
        ("—", None),
        ("——", None),
        ("-", None),
        ("／", None),
        ("/", None),
        ("", None),
        ("  \u00a0 ", None),
        (None, None),
        (" 宣政秘〔2021〕14号 ", "宣政秘〔2021〕14号"),
        ("无锡市", "无锡市"),
        ("市数据资源局（市政务服务局）", "市数据资源局（市政务服务局）"),
    ],
)
def test_clean_value(raw: str | None, expected: str | None) -> None:
    assert clean_value(raw) == expected


@pytest.mark.parametrize(
    ("text", "date", "time"),
    [
        ("2021-10-11", "2021-10-11", None),
        ("2021年10月11日", "2021-10-11", None),
        ("2021/10/11", "2021-10-11", None),
        ("2021.10.11", "2021-10-11", None),
        ("20211011", "2021-10-11", None),
        ("2021-9-3", "2021-09-03", None),
        ("2021年9月3日", "2021-09-03", None),
        ("2021-10-11 09:25", "2021-10-11", "09:25:00"),
        ("2021-10-11 09:25:30", "2021-10-11", "09:25:30"),
        ("2015-10-15 10:06:36", "2015-10-15", "10:06:36"),
        ("2022年06月15日 9时25分", "2022-06-15", "09:25:00"),
        ("2022年06月15日 9时25分30秒", "2022-06-15", "09:25:30"),
        ("2021-10-11T08:00", "2021-10-11", "08:00:00"),
        ("2023-11-06 00:00", "2023-11-06", "00:00:00"),
        ("2021-10-11 25:61", "2021-10-11", None),
        ("2021-10-11 星期一", "2021-10-11", None),
    ],
)
def test_parse_datetime(text: str, date: str, time: str | None) -> None:
    assert parse_datetime(text) == DateTime(date, time)


@pytest.mark.parametrize(
    "text",
    ["2021-13-01", "2021-09-31", "2021年10月", "二〇二一年十月十一日", "十月", "", "202110111"],
)
def test_unreadable_dates(text: str) -> None:
    assert parse_datetime(text) is None


def test_isoformat_has_china_offset() -> None:
    assert DateTime("2021-10-11", "09:25:00").isoformat() == "2021-10-11T09:25:00+08:00"
    assert DateTime("2021-10-11").isoformat() is None
