"""scraper.warc.records.resolve_revisits: which response holds each revisit's payload."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from scraper.warc import CaptureRef, resolve_revisits

URL = "http://www.example.gov.cn/a.html"
DIGEST = "sha1:AAAA"
IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def day(n: int) -> datetime:
    return datetime(2024, 5, n, tzinfo=UTC)


def ref(
    record_id: str,
    captured: int,
    *,
    kind: Literal["response", "revisit"] = "response",
    url: str = URL,
    digest: str | None = DIGEST,
    refers_to: str | None = None,
    refers_to_url: str | None = None,
    refers_to_date: datetime | None = None,
    profile: str | None = None,
) -> CaptureRef:
    return CaptureRef(
        path=Path("a.warc.gz"),
        offset=captured * 100,
        record_id=record_id,
        kind=kind,
        url=url,
        captured_at=day(captured),
        status=200,
        payload_digest=digest,
        refers_to=refers_to,
        refers_to_url=refers_to_url,
        refers_to_date=refers_to_date,
        profile=profile,
    )


def revisit(record_id: str, captured: int, **given: object) -> CaptureRef:
    return ref(record_id, captured, kind="revisit", profile=IDENTICAL, **given)  # type: ignore[arg-type]


def test_refers_to_wins_over_digest_and_date() -> None:
    first, second = ref("<r1>", 1), ref("<r2>", 2)
    visit = revisit("<v>", 3, refers_to="<r1>", refers_to_date=day(2))
    assert resolve_revisits([first, second, visit]) == {"<v>": first}


def test_same_digest_and_url_at_the_refers_to_date() -> None:
    first, second, later = ref("<r1>", 1), ref("<r2>", 2), ref("<r3>", 4)
    visit = revisit("<v>", 3, refers_to_url=URL, refers_to_date=day(1))
    assert resolve_revisits([first, second, visit, later]) == {"<v>": first}


def test_without_a_date_the_latest_response_not_after_the_revisit() -> None:
    first, second, later = ref("<r1>", 1), ref("<r2>", 2), ref("<r3>", 4)
    visit = revisit("<v>", 3)
    assert resolve_revisits([first, second, visit, later]) == {"<v>": second}


def test_an_unknown_refers_to_falls_back_to_the_digest() -> None:
    first = ref("<r1>", 1)
    visit = revisit("<v>", 3, refers_to="<in another file>")
    assert resolve_revisits([first, visit]) == {"<v>": first}


def test_the_digest_must_match_and_the_url_too() -> None:
    other_digest = ref("<r1>", 1, digest="sha1:BBBB")
    other_url = ref("<r2>", 1, url="http://www.example.gov.cn/b.html")
    visit = revisit("<v>", 3)
    assert resolve_revisits([other_digest, other_url, visit]) == {"<v>": None}


def test_refers_to_target_uri_names_the_url_to_look_for() -> None:
    original = ref("<r1>", 1, url="http://www.example.gov.cn/old.html")
    visit = revisit("<v>", 3, refers_to_url="http://www.example.gov.cn/old.html")
    assert resolve_revisits([original, visit]) == {"<v>": original}


def test_server_not_modified_without_digest_takes_the_latest_earlier_response() -> None:
    first, second = ref("<r1>", 1, digest=None), ref("<r2>", 2, digest="sha1:CCCC")
    same_time = ref("<r3>", 3)
    visit = ref("<v>", 3, kind="revisit", digest=None, profile=NOT_MODIFIED)
    assert resolve_revisits([first, second, same_time, visit]) == {"<v>": second}


def test_server_not_modified_with_nothing_before_is_unresolved() -> None:
    visit = ref("<v>", 3, kind="revisit", digest=None, profile=NOT_MODIFIED)
    assert resolve_revisits([visit, ref("<r>", 4, digest=None)]) == {"<v>": None}


def test_responses_are_not_keys_and_revisits_never_resolve_to_revisits() -> None:
    earlier = revisit("<v1>", 1)
    visit = revisit("<v2>", 2, refers_to="<v1>")
    assert resolve_revisits([earlier, visit]) == {"<v1>": None, "<v2>": None}
    assert resolve_revisits([ref("<r>", 1)]) == {}
