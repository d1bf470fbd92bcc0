"""Whitespace normalisation."""

from __future__ import annotations

import pytest

from scraper.parse.text import normalize_space


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  宣城市 ", "宣城市"),
        ("索\u00a0\u00a0引\u00a0\u00a0号", "索 引 号"),
        ("名\u3000\u3000称", "名 称"),
        ("a\n\t b", "a b"),
        ("根据\u200b《办法》", "根据 《办法》"),
        ("\ufeff标题", "标题"),
        ("全角，标点：保留", "全角，标点：保留"),
        ("", ""),
        (" \u3000 ", ""),
    ],
)
def test_normalize_space(raw: str, expected: str) -> None:
    assert normalize_space(raw) == expected
