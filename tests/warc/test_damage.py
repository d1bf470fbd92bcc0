"""scraper.warc.records on damaged files (hypothesis): a scan never raises for corrupt
content, returns records in file order that are all real, and every ref it returns can
be read back; only a file unreadable from its first record is an InputError."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.errors import InputError
from scraper.warc import CaptureRef, WarcReader
from tests.warc.archives import write_arc, write_warc

_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _originals() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        plain = write_warc(folder / "a.warc", gzip_records=False).path.read_bytes()
        return {
            "warc": plain,
            "warc.gz": write_warc(folder / "b.warc.gz", gzip_records=True).path.read_bytes(),
            "whole.warc.gz": gzip.compress(plain),
            "arc": write_arc(folder / "c.arc", gzip_records=False).read_bytes(),
            "arc.gz": write_arc(folder / "d.arc.gz", gzip_records=True).read_bytes(),
        }


ORIGINALS = _originals()


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    """One of the test archives, cut short and/or with some bytes overwritten."""
    name = draw(st.sampled_from(sorted(ORIGINALS)))
    data = bytearray(ORIGINALS[name])
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data) - 1))
        data[at : at + 4] = draw(st.binary(min_size=1, max_size=4))
    end = draw(st.integers(0, len(data)))
    return name, bytes(data[: end or len(data)])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("damaged")


@_SETTINGS
@given(case=damaged())
def test_a_damaged_file_never_makes_the_scan_raise(folder: Path, case: tuple[str, bytes]) -> None:
    name, data = case
    path = folder / f"x.{name}"
    path.write_bytes(data)
    intact = {ref.record_id for ref in _scan_intact(name)}
    with WarcReader([path]) as reader:
        try:
            found = reader.scan(path)
        except InputError as exc:
            assert exc.input_name == str(path)
            return
        offsets = [ref.offset for ref in found.refs]
        assert offsets == sorted(offsets)
        if found.problem is not None:
            assert found.problem.path == path
            assert all(offset < found.problem.offset for offset in offsets)
        for ref in found.refs:
            if ref.record_id in intact:  # damage can also rewrite an id: no other check
                try:
                    reader.payload(ref)
                except InputError as exc:  # damage inside the body's gzip or chunks
                    assert f"byte {ref.offset}" in str(exc)


def _scan_intact(name: str) -> tuple[CaptureRef, ...]:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / f"x.{name}"
        path.write_bytes(ORIGINALS[name])
        with WarcReader([path]) as reader:
            return reader.scan(path).refs
