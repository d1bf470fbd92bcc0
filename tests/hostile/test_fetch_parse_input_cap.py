"""``govarchive parse`` reads at most ``max_page_bytes`` of any input (issue 16, finding 10).

``parse /dev/zero`` read until the machine killed it. Every input — a file, stdin, a
URL — is now read to ``max_page_bytes`` (10 MiB by default, the crawl's cap) and no
further, and refused with a message naming the input and the cap.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.commands.parse import read_input
from scraper.errors import InputError
from scraper.settings import CrawlSettings
from tests.site.server import TestSite

CAP = CrawlSettings().max_page_bytes


@pytest.mark.timeout(60)
def test_parse_dev_zero_stops_at_the_cap() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    result = CliRunner().invoke(cli, ["parse", str(zero)])
    assert result.exit_code == 1
    assert f"/dev/zero: larger than max_page_bytes ({CAP} bytes)" in result.stderr


@pytest.mark.timeout(60)
def test_stdin_over_the_cap_is_refused() -> None:
    result = CliRunner().invoke(cli, ["parse", "-"], input=b"<p>" + b"x" * CAP)
    assert result.exit_code == 1
    assert f"-: larger than max_page_bytes ({CAP} bytes)" in result.stderr


def test_a_file_at_the_cap_is_read_one_over_is_not(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_bytes(b"x" * 100)
    assert read_input(str(page), max_bytes=100).data == b"x" * 100
    page.write_bytes(b"x" * 101)
    with pytest.raises(InputError, match=r"p\.html: larger than max_page_bytes \(100 bytes\)"):
        read_input(str(page), max_bytes=100)


def test_stdin_is_read_in_pieces_to_the_cap() -> None:
    class Trickle(io.RawIOBase):
        """A pipe that hands out at most 7 bytes per read, forever."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            n = min(7, len(buffer))
            buffer[:n] = b"y" * n
            return n

    with pytest.raises(InputError, match=r"^-: larger than max_page_bytes \(50 bytes\)"):
        read_input("-", Trickle(), max_bytes=50)  # type: ignore[arg-type]


def test_a_url_over_the_cap_names_it(site: TestSite) -> None:
    site.add("/big.html", b"<p>" + b"x" * 1000)
    with pytest.raises(InputError) as caught:
        read_input(site.url("/big.html"), max_bytes=500)
    message = str(caught.value)
    assert message.startswith(site.url("/big.html") + ": ")
    assert "larger than max_page_bytes (500 bytes)" in message
