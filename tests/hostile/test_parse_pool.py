"""Parsing in worker processes with a time limit: a runaway page is stopped, the rest go on."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from scraper.crawling.parsepool import ParserPool, ParserWorkerDied, ParseTimeout, parse_to_dict

pytestmark = pytest.mark.timeout(60)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "01_xuancheng_seed_2021q3.html"


def slow_on_marker(
    data: bytes, url: str | None, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """The real parser, except that a page holding b"SLOW" never finishes."""
    if b"SLOW" in data:
        while True:
            time.sleep(1)
    return parse_to_dict(data, url, headers)


def test_a_page_parsed_in_a_worker_is_the_parser_s_record() -> None:
    data = SEED.read_bytes()

    async def run() -> dict[str, Any]:
        with ParserPool(1, 30.0) as pool:
            return await pool.parse(data, url="http://x/1.html")

    assert asyncio.run(run()) == parse_to_dict(data, "http://x/1.html", None)


def test_a_page_over_its_time_limit_is_stopped_and_the_next_is_parsed() -> None:
    data = SEED.read_bytes()

    async def run() -> tuple[BaseException | None, dict[str, Any], float]:
        with ParserPool(1, 1.0, parse=slow_on_marker) as pool:
            ticks = 0

            async def ticker() -> None:  # the event loop stays free meanwhile
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.05)
                    ticks += 1

            task = asyncio.create_task(ticker())
            try:
                await pool.parse(b"<html>SLOW</html>", url="http://x/slow.html")
                error: BaseException | None = None
            except ParseTimeout as exc:
                error = exc
            task.cancel()
            record = await pool.parse(data, url="http://x/1.html")
            return error, record, float(ticks)

    error, record, ticks = asyncio.run(run())
    assert isinstance(error, ParseTimeout)
    assert "http://x/slow.html" in str(error) and "longer than 1 s" in str(error)
    assert record["metadata"]["index_no"] == "11341700744889543Y/202110-00006"
    assert ticks >= 1  # the loop ran other work while the worker was stuck


def test_a_worker_error_comes_back_as_the_error() -> None:
    async def run() -> None:
        with ParserPool(1, 30.0, parse=_broken) as pool:
            await pool.parse(b"<p>x</p>", url="http://x/1.html")

    with pytest.raises(ZeroDivisionError):
        asyncio.run(run())


def _broken(data: bytes, url: str | None, headers: Mapping[str, str] | None) -> dict[str, Any]:
    return {"n": 1 // 0}


def dies_or_waits(
    data: bytes, url: str | None, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """The real parser, except that b"DIE" kills the worker and b"WAIT" answers late."""
    if b"DIE" in data:
        os._exit(1)
    if b"WAIT" in data:
        time.sleep(0.5)
        return {"late": True}
    return parse_to_dict(data, url, headers)


def test_a_worker_that_dies_fails_its_page_and_is_replaced() -> None:
    data = SEED.read_bytes()

    async def run() -> tuple[BaseException | None, dict[str, Any]]:
        with ParserPool(1, 30.0, parse=dies_or_waits) as pool:
            try:
                await pool.parse(b"<html>DIE</html>", url="http://x/die.html")
                error: BaseException | None = None
            except ParserWorkerDied as exc:
                error = exc
            return error, await pool.parse(data, url="http://x/1.html")

    error, record = asyncio.run(run())
    assert isinstance(error, ParserWorkerDied)
    assert "http://x/die.html" in str(error)
    assert record == parse_to_dict(data, "http://x/1.html", None)


def test_an_abandoned_page_s_late_answer_is_never_the_next_page_s() -> None:
    data = SEED.read_bytes()

    async def run() -> dict[str, Any]:
        with ParserPool(1, 30.0, parse=dies_or_waits) as pool:
            waiting = asyncio.create_task(pool.parse(b"<p>WAIT</p>", url="http://x/w.html"))
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            return await pool.parse(data, url="http://x/1.html")

    assert asyncio.run(run()) == parse_to_dict(data, "http://x/1.html", None)


class TwoArgumentError(Exception):
    """An exception pickle sends but cannot rebuild (its __init__ wants two arguments)."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} at {where}")


def raises_unrebuildable(
    data: bytes, url: str | None, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    raise TwoArgumentError("odd table", "row 3")


def test_an_error_that_cannot_cross_the_pipe_still_fails_its_page_at_once() -> None:
    async def run() -> None:
        with ParserPool(1, 30.0, parse=raises_unrebuildable) as pool:
            await pool.parse(b"<p>x</p>", url="http://x/odd.html")

    # named, not left to the page's 30 s limit (a ParseTimeout)
    with pytest.raises(RuntimeError, match=r"TwoArgumentError: odd table at row 3"):
        asyncio.run(run())
