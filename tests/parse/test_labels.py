"""Label normalisation and the synonym tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scraper.parse.labels import (
    KNOWN_EXTRA_LABELS,
    METADATA_LABELS,
    SECTION_EXTRA_LABELS,
    SECTION_LABELS,
    VOLATILE_LABELS,
    label_pattern,
    normalize_label,
)
from scraper.parse.record import CANONICAL_FIELDS, SECTION_FIELDS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("索引号", "索引号"),
        ("索\u00a0\u00a0引\u00a0\u00a0号：", "索引号"),
        ("索 引 号", "索引号"),
        ("名\u3000\u3000称", "名称"),
        ("索引号:", "索引号"),
        ("发布日期：：", "发布日期"),
        ("\ufdd5完成\ufdd6\ufdd5状态：\ufdd6", "完成状态"),
        ("信息格式/语种", "信息格式/语种"),
    ],
)
def test_normalize_label(raw: str, expected: str) -> None:
    assert normalize_label(raw) == expected


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("名称", "title"),
        ("信息名称", "title"),
        ("文件名称", "title"),
        ("索引号", "index_no"),
        ("组配分类", "category"),
        ("信息分类", "category"),
        ("发文机关", "publisher"),
        ("主题分类", "topic"),
        ("发文字号", "doc_number"),
        ("发布文号", "doc_number"),
        ("生成日期", "published_date"),
        ("发布时间", "published_date"),
        ("成文日期", "written_date"),
        ("实施日期", "effective_date"),
        ("失效日期", "expiry_date"),
        ("效力状态", "validity"),
        ("信息来源", "info_source"),
        ("主题词", "keywords"),
        ("内容概述", "summary"),
    ],
)
def test_metadata_synonyms(label: str, field: str) -> None:
    assert METADATA_LABELS[label] == field


def test_every_metadata_field_is_canonical() -> None:
    assert set(METADATA_LABELS.values()) <= set(CANONICAL_FIELDS)
    assert set(SECTION_LABELS.values()) == set(SECTION_FIELDS)


def test_every_field_has_labels_here_and_in_docs_parsing_md() -> None:
    """A field added to Metadata is read from some label (published_at comes with the
    published date's time), and docs/parsing.md's table of labels has a row for it."""
    assert set(CANONICAL_FIELDS) - {"published_at"} <= set(METADATA_LABELS.values())
    doc = (Path(__file__).resolve().parents[2] / "docs" / "parsing.md").read_text("utf-8")
    rows = set(re.findall(r"^\| (\w+) \|", doc, re.M))
    assert set(CANONICAL_FIELDS) <= rows, set(CANONICAL_FIELDS) - rows


def test_label_tables_do_not_overlap() -> None:
    assert not VOLATILE_LABELS & set(METADATA_LABELS)
    assert not KNOWN_EXTRA_LABELS & set(METADATA_LABELS)
    assert not SECTION_EXTRA_LABELS & set(SECTION_LABELS)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("索引号", "索引号"),
        ("索 引 号：", "索 引 号"),
        ("信息来源：x", "信息来源"),
        ("来源：x", "来源"),
        ("分类号", "分类"),
        ("主题分类", "主题分类"),
        ("标签", None),
    ],
)
def test_label_pattern_prefers_longest(text: str, matched: str | None) -> None:
    pattern = re.compile(label_pattern(["来源", "信息来源", "索引号", "分类", "主题分类"]))
    match = pattern.match(text)
    assert (match.group(0) if match else None) == matched


def test_label_pattern_with_custom_joint() -> None:
    pattern = re.compile(label_pattern(["完成状态"], joint="[ \ufdd5\ufdd6]*"))
    assert pattern.fullmatch("完成\ufdd6\ufdd5\ufdd6状态")


def test_the_metadata_precheck_stays_on() -> None:
    """A new label must not switch off the one-scan dismissal of navigation and footer
    runs (scraper.parse.block._PRECHECK): without it every run is read line by line."""
    from scraper.parse import block

    assert block._PRECHECK
