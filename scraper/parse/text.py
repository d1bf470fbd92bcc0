"""Whitespace normalisation, shared by every value, label, title and body line.

Rules (docs/parsing.md, "Text normalisation"): every run of whitespace — ASCII,
``&nbsp;`` (U+00A0), the ideographic space (U+3000), other Unicode spaces and
zero-width spaces — becomes one ASCII space, and the result is stripped. Punctuation
is kept as the page has it (no NFKC).
"""

from __future__ import annotations

import re

# ``\s`` (and str.split()) already cover U+00A0, U+3000, U+2000–U+200A, U+2028/9,
# U+202F and U+205F; Word-exported pages also scatter zero-width spaces and BOMs.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
WHITESPACE = re.compile(rf"[\s{ZERO_WIDTH}]+")


def normalize_space(text: str) -> str:
    """Return ``text`` with each whitespace run collapsed to one space, stripped."""
    for char in ZERO_WIDTH:
        if char in text:
            text = text.replace(char, " ")
    # str.split() is the C-speed equivalent of WHITESPACE.sub(" ", …).strip().
    return " ".join(text.split())


# A line break between two Han characters (or CJK brackets and quotes) in an attribute or
# headline is where a CMS wrapped the text, not a space in it (安庆: ArticleTitle
# "…管理委员会\n关于调整…").
_CJK_BREAK = re.compile(
    "(?<=[\u4e00-\u9fff》」』”）〕])[ \t\u3000]*[\r\n]\\s*(?=[\u4e00-\u9fff《「『“（〔])"
)


def join_cjk_lines(text: str) -> str:
    """Return ``text`` with line breaks between CJK characters removed."""
    return _CJK_BREAK.sub("", text) if "\n" in text or "\r" in text else text
