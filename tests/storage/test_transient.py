"""storage.transient: when a changed answer of a healthy page is a bad moment. Pure."""

from __future__ import annotations

import pytest

from storage.content import section_values, version_values
from storage.transient import (
    SUSPECT_LIMIT,
    ContentShape,
    busy_markers,
    html_closed,
    is_confirmed,
    shape_of,
    transient_failure,
)
from tests.storage.factories import make_doc

#: A report: 2 000 characters of text, five metadata fields, three sections.
REPORT = ContentShape(text_size=2000, fields=5, sections=3)


def shape(**changes: object) -> ContentShape:
    values = {"text_size": 2000, "fields": 5, "sections": 3, **changes}
    return ContentShape(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        # real edits keep the page's shape
        (shape(), None),
        (shape(text_size=1200), None),  # a long passage cut
        (shape(text_size=5000, fields=7, sections=4), None),  # grown
        (shape(fields=3), None),  # two fields fewer: not most of them
        (shape(sections=1), None),  # tasks removed, some left
        (shape(markers=frozenset({"系统维护"})), None),  # a long report that mentions it
        # bad moments
        (shape(text_size=0, fields=0, sections=0), "empty"),
        (shape(text_size=49, fields=0, sections=0), "near-empty"),
        (shape(text_size=30, fields=0, sections=0, markers=frozenset({"系统繁忙"})), "busy"),
        (shape(text_size=600, fields=0, sections=0, markers=frozenset({"维护中"})), "maintenance"),
        (shape(text_size=1500, closed=False), "truncated"),
        (shape(fields=2), "metadata fields it had: 2 of the latest version's 5"),
        (shape(fields=0, sections=0, text_size=1800), "metadata fields"),
        (shape(sections=0), "task sections: none of the latest version's 3"),
    ],
)
def test_transient_failure_against_a_healthy_report(new: ContentShape, reason: str | None) -> None:
    got = transient_failure(new, REPORT)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got


def test_html_without_its_end_but_not_shorter_is_a_real_change() -> None:
    assert transient_failure(shape(text_size=2100, closed=False), REPORT) is None


def test_a_busy_marker_the_latest_version_shows_too_is_no_news() -> None:
    latest = shape(markers=frozenset({"系统维护"}))
    new = shape(text_size=300, fields=5, sections=3, markers=frozenset({"系统维护"}))
    assert transient_failure(new, latest) is None


@pytest.mark.parametrize(
    "latest",
    [
        ContentShape(text_size=120, fields=1, sections=0),  # a short notice with a title
        ContentShape(text_size=0, fields=0, sections=0),  # an empty first answer
        ContentShape(text_size=40, fields=0, sections=0, markers=frozenset({"系统繁忙"})),
    ],
)
def test_a_latest_version_that_is_not_healthy_has_nothing_to_lose(latest: ContentShape) -> None:
    assert not latest.healthy
    assert transient_failure(ContentShape(text_size=0, fields=0, sections=0), latest) is None


def test_healthy_by_text_fields_or_sections() -> None:
    assert ContentShape(text_size=200, fields=0, sections=0).healthy
    assert ContentShape(text_size=10, fields=2, sections=0).healthy
    assert ContentShape(text_size=10, fields=0, sections=1).healthy
    assert not ContentShape(text_size=199, fields=1, sections=0).healthy


def test_a_small_page_edited_to_smaller_is_not_near_empty_unless_it_halves() -> None:
    latest = ContentShape(text_size=70, fields=2, sections=0)
    assert transient_failure(ContentShape(text_size=45, fields=2, sections=0), latest) is None
    assert transient_failure(ContentShape(text_size=30, fields=2, sections=0), latest)


def test_shape_of_counts_what_a_version_holds() -> None:
    doc = make_doc(body="正文" * 50)
    got = shape_of(version_values(doc), section_values(doc), b"<html><body>x</body></html>")
    assert (got.fields, got.sections, got.closed, got.markers) == (7, 2, True, frozenset())
    assert got.text_size > 100 + len("2021年度三季度政府工作报告任务进展情况")
    assert shape_of(version_values(doc), section_values(doc), b"<html><body><p>cut").closed is False


def test_shape_of_stored_and_new_values_agree() -> None:
    """The stored row gives dates as dates; the shape must not depend on it."""
    doc = make_doc()
    values = version_values(doc)
    as_text = {
        k: (str(v) if v is not None and k.endswith("_date") else v) for k, v in values.items()
    }
    assert shape_of(values, section_values(doc)) == shape_of(as_text, section_values(doc))


@pytest.mark.parametrize(
    ("raw", "closed"),
    [
        (b"<html><body><p>x</p></body></html>", True),
        (b"<html><body><p>x</p></BODY>\n<script>x()</script>", True),
        (b"\xef\xbb\xbf <!DOCTYPE html><html><body><p>x", False),
        (b"<div>a fragment", False),
        (b"", True),
        (b"%PDF-1.4 ...", True),
        (b"plain text", True),
    ],
)
def test_html_closed(raw: bytes, closed: bool) -> None:
    assert html_closed(raw) is closed


def test_busy_markers_chinese_and_english() -> None:
    assert busy_markers("对不起，系统繁忙，请稍后再试！") == {"系统繁忙", "请稍后再试"}
    assert busy_markers("503 Service Unavailable") == {"service unavailable"}
    assert busy_markers("关于加强道路养护的通知") == frozenset()


H, OTHER = "a" * 64, "b" * 64


@pytest.mark.parametrize(
    ("recent", "confirmed"),
    [
        ([], False),  # the first suspect answer
        ([("suspect", H)], True),  # the same answer again
        ([("suspect", OTHER)], False),  # other junk: not yet
        ([("unchanged", H)], False),
        ([("not_modified", None), ("suspect", H)], False),  # the page came back in between
        ([("suspect", OTHER)] * (SUSPECT_LIMIT - 1), True),  # a state that lasts
        ([("suspect", OTHER), ("gone", None)], SUSPECT_LIMIT <= 2),
    ],
)
def test_is_confirmed(recent: list[tuple[str, str | None]], confirmed: bool) -> None:
    assert is_confirmed(H, recent) is confirmed
