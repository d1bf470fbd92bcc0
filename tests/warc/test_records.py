"""scraper.warc.records: scanning WARC and ARC files written by warcio (and ARC by hand),
reading payloads back by offset, and what a truncated, corrupt or foreign file gives."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraper.errors import InputError
from scraper.warc import Scan, WarcReader, resolve_revisits
from tests.warc.archives import (
    ARC_RECORDS,
    CHUNKED_URL,
    GZIP_URL,
    OTHER,
    PAGE,
    REVISIT_ID,
    URL,
    arc_members,
    write_arc,
    write_warc,
)

CAPTURED = datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)


def scan(path: Path) -> Scan:
    with WarcReader([path]) as reader:
        return reader.scan(path)


@pytest.mark.parametrize("gzip_records", [True, False])
def test_a_warc_gives_its_responses_and_revisits_in_order(
    tmp_path: Path, gzip_records: bool
) -> None:
    written = write_warc(tmp_path / "a.warc.gz", gzip_records=gzip_records)
    found = scan(written.path)
    assert found.problem is None
    assert found.other_records == 2  # warcinfo and request
    assert [ref.record_id for ref in found.refs] == list(written.ids)
    assert [ref.kind for ref in found.refs] == ["response", "response", "response", "revisit"]
    assert [ref.url for ref in found.refs] == [URL, CHUNKED_URL, GZIP_URL, URL]
    assert [ref.status for ref in found.refs] == [200, 200, 200, 200]
    assert all(ref.path == written.path for ref in found.refs)
    data = written.path.read_bytes()
    start = b"\x1f\x8b" if gzip_records else b"WARC/1.1\r\n"
    assert all(data[ref.offset :].startswith(start) for ref in found.refs)
    offsets = [ref.offset for ref in found.refs]
    assert offsets == sorted(offsets) and offsets[0] > 0


def test_warc_1_1_dates_keep_their_microseconds_in_utc(tmp_path: Path) -> None:
    found = scan(write_warc(tmp_path / "a.warc", gzip_records=False).path)
    assert found.refs[0].captured_at == CAPTURED
    assert found.refs[0].captured_at.tzinfo is not None
    assert found.refs[-1].captured_at == datetime(2024, 6, 1, 8, tzinfo=UTC)


def test_a_revisit_carries_what_it_refers_to(tmp_path: Path) -> None:
    found = scan(write_warc(tmp_path / "a.warc.gz", gzip_records=True).path)
    original, revisit = found.refs[0], found.refs[-1]
    assert revisit.record_id == REVISIT_ID
    assert revisit.payload_digest == original.payload_digest
    assert revisit.payload_digest is not None and revisit.payload_digest.startswith("sha1:")
    assert revisit.refers_to_url == URL
    assert revisit.refers_to_date == CAPTURED
    assert revisit.profile is not None
    assert revisit.profile.endswith("/revisit/identical-payload-digest")
    assert original.refers_to is None and original.profile is None
    assert resolve_revisits(found.refs) == {REVISIT_ID: original}


@pytest.mark.parametrize("gzip_records", [True, False])
def test_payloads_are_read_back_by_offset_dechunked_and_decoded(
    tmp_path: Path, gzip_records: bool
) -> None:
    path = write_warc(tmp_path / "a.warc", gzip_records=gzip_records).path
    with WarcReader([path]) as reader:
        refs = reader.scan(path).refs
        plain, chunked, encoded, revisit = [reader.payload(ref) for ref in refs]
    assert plain.status == 200
    assert plain.headers == (("Content-Type", "text/html; charset=utf-8"),)
    assert plain.body == PAGE
    assert chunked.body == OTHER
    assert ("Transfer-Encoding", "chunked") in chunked.headers
    assert encoded.body == PAGE
    assert ("Content-Encoding", "gzip") in encoded.headers
    assert (revisit.status, revisit.body) == (200, b"")


def test_a_whole_file_gzip_is_read_through_a_temporary_copy(tmp_path: Path) -> None:
    plain = write_warc(tmp_path / "a.warc", gzip_records=False).path
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    reader = WarcReader([whole])
    with reader:
        found = reader.scan(whole)
        # the offsets are those of the uncompressed copy
        assert [ref.offset for ref in found.refs] == [ref.offset for ref in scan(plain).refs]
        assert found.problem is None and found.other_records == 2
        assert [reader.payload(ref).body for ref in found.refs[:3]] == [PAGE, OTHER, PAGE]
        copies = list(Path(reader._tempdir.name).iterdir())  # type: ignore[union-attr]
        assert len(copies) == 1
    assert not copies[0].exists()  # deleted on close


@pytest.mark.parametrize("gzip_records", [True, False])
def test_an_arc_file_gives_responses_with_stable_ids(tmp_path: Path, gzip_records: bool) -> None:
    path = write_arc(tmp_path / "old.arc", gzip_records=gzip_records)
    found = scan(path)
    assert found.problem is None
    assert found.other_records == 1  # the filedesc:// header
    assert [ref.url for ref in found.refs] == [url for url, *_ in ARC_RECORDS]
    assert [ref.kind for ref in found.refs] == ["response", "response"]
    assert [ref.status for ref in found.refs] == [200, 200]
    assert found.refs[1].captured_at == datetime(2024, 5, 2, 9, tzinfo=UTC)
    assert all(ref.record_id.startswith("<urn:govarchive:arc:") for ref in found.refs)
    renamed = path.rename(tmp_path / "renamed.arc")
    assert [ref.record_id for ref in scan(renamed).refs] == [r.record_id for r in found.refs]
    assert len({ref.record_id for ref in found.refs}) == 2
    with WarcReader([renamed]) as reader:
        bodies = [reader.payload(ref) for ref in reader.scan(renamed).refs]
    assert [payload.body for payload in bodies] == [PAGE, OTHER]
    assert bodies[0].headers[0] == ("Content-Type", "text/html")


def test_the_arc_id_is_the_same_whether_gzipped_or_not(tmp_path: Path) -> None:
    plain = scan(write_arc(tmp_path / "a.arc", gzip_records=False))
    zipped = scan(write_arc(tmp_path / "a.arc.gz", gzip_records=True))
    assert [r.record_id for r in plain.refs] == [r.record_id for r in zipped.refs]


@pytest.mark.parametrize("name", ["a.warc", "a.warc.gz", "a.arc", "a.arc.gz"])
@pytest.mark.parametrize("cut", [1, 10, 60])
def test_a_file_cut_in_its_last_record_gives_every_earlier_record(
    tmp_path: Path, name: str, cut: int
) -> None:
    zipped = name.endswith(".gz")
    if ".warc" in name:
        path = write_warc(tmp_path / name, gzip_records=zipped).path
    else:
        path = write_arc(tmp_path / name, gzip_records=zipped)
    whole = scan(path)
    if not zipped:
        # the blank lines after the last record are not part of it
        cut += 4 if ".warc" in name else 1
    path.write_bytes(path.read_bytes()[:-cut])
    found = scan(path)
    last = whole.refs[-1]
    assert found.refs == whole.refs[:-1]
    assert found.problem is not None
    assert found.problem.offset == last.offset
    assert found.problem.message == f"truncated record at byte {last.offset}"


def test_a_record_cut_within_its_headers_is_truncated(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc", gzip_records=False).path
    whole = scan(path)
    last = whole.refs[-1].offset
    path.write_bytes(path.read_bytes()[: last + 40])
    found = scan(path)
    assert found.refs == whole.refs[:-1]
    assert found.problem is not None
    assert (found.problem.offset, found.problem.path) == (last, path)
    assert "truncated" in found.problem.message


@pytest.mark.parametrize("keep", [1, 10, 40])
def test_a_gzip_record_cut_within_its_own_gzip_header_is_truncated(
    tmp_path: Path, keep: int
) -> None:
    """A download stopped a few bytes into the last record's gzip member: warcio reads
    nothing there and stops quietly; the scan still reports the record as cut."""
    path = write_warc(tmp_path / "a.warc.gz", gzip_records=True).path
    whole = scan(path)
    last = whole.refs[-1].offset
    path.write_bytes(path.read_bytes()[: last + keep])
    found = scan(path)
    assert found.refs == whole.refs[:-1]
    assert found.problem is not None
    assert (found.problem.offset, found.problem.message) == (
        last,
        f"truncated record at byte {last}",
    )


@pytest.mark.parametrize("gzip_records", [True, False])
def test_corrupt_bytes_in_the_middle_stop_the_scan_at_that_record(
    tmp_path: Path, gzip_records: bool
) -> None:
    path = write_warc(tmp_path / "a.warc", gzip_records=gzip_records).path
    whole = scan(path)
    bad = whole.refs[2].offset
    data = bytearray(path.read_bytes())
    # gzip: garbage inside the compressed member; uncompressed: the WARC/1.1 version line
    at = bad + 40 if gzip_records else bad
    data[at : at + 8] = b"XXXXXXXX"
    path.write_bytes(bytes(data))
    found = scan(path)
    assert found.refs == whole.refs[:2]
    assert found.problem is not None
    assert found.problem.offset == bad
    assert str(bad) in found.problem.message


def test_an_unparseable_http_head_gives_a_ref_without_status(tmp_path: Path) -> None:
    block = b"garbage that is no status line\r\n\r\nbody"
    record = (
        b"WARC/1.0\r\nWARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:x>\r\nWARC-Date: 2024-05-01T08:00:00Z\r\n"
        b"WARC-Target-URI: <http://www.example.gov.cn/x>\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: %d\r\n\r\n%s\r\n\r\n" % (len(block), block)
    )
    path = tmp_path / "odd.warc"
    path.write_bytes(record)
    with WarcReader([path]) as reader:
        found = reader.scan(path)
        assert found.problem is None
        (ref,) = found.refs
        assert ref.status is None
        assert ref.url == "http://www.example.gov.cn/x"  # the brackets wget 1.19 wrote
        payload = reader.payload(ref)
    # warcio reads the head leniently up to the blank line: no status, no headers
    assert (payload.status, payload.headers, payload.body) == (None, (), b"body")


@pytest.mark.parametrize(
    "content", [b"hello, not a warc\n", b"\x89PNG\r\n\x1a\n" + bytes(100), gzip.compress(b"x\n")]
)
def test_a_file_that_is_not_warc_or_arc_is_an_input_error_naming_it(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "notes.warc"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised, WarcReader([path]) as reader:
        reader.scan(path)
    assert raised.value.input_name == str(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("make", ["missing", "directory", "empty"])
def test_a_file_that_cannot_be_read_is_an_input_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x.warc.gz"
    if make == "directory":
        path.mkdir()
    elif make == "empty":
        path.write_bytes(b"")
    with pytest.raises(InputError) as raised, WarcReader([path]) as reader:
        reader.scan(path)
    assert raised.value.input_name == str(path)


def test_a_payload_at_a_wrong_offset_is_an_input_error_naming_file_and_offset(
    tmp_path: Path,
) -> None:
    path = write_warc(tmp_path / "a.warc", gzip_records=False).path
    with WarcReader([path]) as reader:
        ref = reader.scan(path).refs[0]
        wrong = dataclasses.replace(ref, offset=ref.offset + 3)
        with pytest.raises(InputError) as raised:
            reader.payload(wrong)
    assert raised.value.input_name == str(path)
    assert f"byte {ref.offset + 3}" in str(raised.value)


def test_arc_members_are_what_the_arc_writer_test_expects() -> None:
    members = arc_members("x.arc")
    assert members[0].startswith(b"filedesc://x.arc ")
    assert len(members) == 1 + len(ARC_RECORDS)


def test_whole_file_gzips_concatenated_are_read_through_a_copy(tmp_path: Path) -> None:
    plain = write_warc(tmp_path / "a.warc", gzip_records=False).path
    joined = tmp_path / "joined.warc.gz"
    joined.write_bytes(gzip.compress(plain.read_bytes()) * 2)
    with WarcReader([joined]) as reader:
        found = reader.scan(joined)
        assert found.problem is None
        assert [ref.record_id for ref in found.refs] == [r.record_id for r in scan(plain).refs] * 2
        assert reader.payload(found.refs[-2]).body == PAGE


@pytest.mark.parametrize("cut", [4, 40, 400])
def test_a_whole_file_gzip_cut_off_is_a_problem_after_its_readable_records(
    tmp_path: Path, cut: int
) -> None:
    plain = write_warc(tmp_path / "a.warc", gzip_records=False).path
    whole = scan(plain)
    cut_off = tmp_path / "cut.warc.gz"
    cut_off.write_bytes(gzip.compress(plain.read_bytes())[:-cut])
    found = scan(cut_off)
    assert found.problem is not None and found.problem.path == cut_off
    if cut == 4:  # only the gzip trailer is gone: every record is whole
        assert found.refs == tuple(dataclasses.replace(ref, path=cut_off) for ref in whole.refs)
        assert "gzip stream cut off" in found.problem.message
    else:
        assert len(found.refs) < len(whole.refs)
        assert found.problem.message.startswith("truncated record at byte")
        assert found.problem.offset == whole.refs[len(found.refs)].offset


def _one_response(headers: bytes) -> bytes:
    block = b"HTTP/1.1 200 OK\r\n\r\nbody"
    return (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:y>\r\n%s"
        b"Content-Length: %d\r\n\r\n%s\r\n\r\n" % (headers, len(block), block)
    )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (b"WARC-Date: yesterday\r\nWARC-Target-URI: http://a.gov.cn/\r\n", "WARC-Date"),
        (b"WARC-Date: 2024-05-01T08:00:00Z\r\n", "WARC-Target-URI"),
    ],
)
def test_a_response_without_a_readable_date_or_url_stops_the_scan_there(
    tmp_path: Path, headers: bytes, message: str
) -> None:
    good = _one_response(
        b"WARC-Date: 2024-05-01T08:00:00Z\r\nWARC-Target-URI: http://a.gov.cn/\r\n"
    )
    path = tmp_path / "bad-header.warc"
    path.write_bytes(good + _one_response(headers))
    found = scan(path)
    assert [ref.url for ref in found.refs] == ["http://a.gov.cn/"]
    assert found.problem is not None
    assert found.problem.offset == len(good)
    assert message in found.problem.message


def test_another_reader_reads_a_payload_by_the_offset_of_a_whole_file_gzip(
    tmp_path: Path,
) -> None:
    plain = write_warc(tmp_path / "a.warc", gzip_records=False).path
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    refs = scan(whole).refs  # that reader is closed, its copy gone
    with WarcReader([whole]) as reader:
        assert reader.payload(refs[1]).body == OTHER
