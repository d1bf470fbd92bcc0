"""Value normalisation: placeholders to None, dates to ISO, times to ``published_at``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from scraper.parse.text import normalize_space

#: Values that mean "no value" in a metadata block (after whitespace normalisation).
PLACEHOLDERS: frozenset[str] = frozenset({"", "无", "暂无", "—", "——", "-", "／", "/"})
#: Section field texts that mean "nothing to report".
SECTION_PLACEHOLDERS: frozenset[str] = PLACEHOLDERS | {"无。", "暂无。"}

#: Chinese government sites publish in China Standard Time.
CHINA_OFFSET = "+08:00"

_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?:"
    r"[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?:\s*日)?"
    r"|(?P<m8>\d{2})(?P<d8>\d{2})(?!\d))"
)
_TIME = re.compile(
    r"\s*(?:T\s*)?(?P<h>\d{1,2})\s*[:：时]\s*(?P<mi>\d{1,2})(?:\s*分)?"
    r"(?:\s*[:：]\s*(?P<s>\d{1,2})|\s*(?P<s2>\d{1,2})\s*秒)?"
)


@dataclass(frozen=True, slots=True)
class DateTime:
    """A parsed date (``YYYY-MM-DD``) and, when the text gave one, a time (``HH:MM:SS``)."""

    date: str
    time: str | None = None

    def isoformat(self) -> str | None:
        """Return ``YYYY-MM-DDTHH:MM:SS+08:00``, or None without a time."""
        if self.time is None:
            return None
        return f"{self.date}T{self.time}{CHINA_OFFSET}"


# Icon-font glyphs (U+E000–U+F8FF) that share a line with a value (武汉: 来源：某中心 \ue613).
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
# An unfilled template: brackets and the fixed characters of a document number around
# values the page never filled (首都之窗: 〔〕号).
_EMPTY_TEMPLATE = re.compile(r"[〔〕\[\]()（）【】第年号 ]+")


def clean_value(text: str | None) -> str | None:
    """Return ``text`` whitespace-normalised, or None for empty, placeholder and unfilled
    template values. Icon-font glyphs (private-use characters) are removed."""
    if text is None:
        return None
    if _PRIVATE_USE.search(text):
        text = _PRIVATE_USE.sub("", text)
    value = normalize_space(text)
    if value in PLACEHOLDERS or _EMPTY_TEMPLATE.fullmatch(value):
        return None
    return value


def parse_datetime(text: str) -> DateTime | None:
    """Read a date at the start of ``text`` (``2021-10-11``, ``2021年10月11日``,
    ``2021/10/11``, ``2021.10.11``, ``20211011``; one-digit month/day allowed) and an
    optional time after it (``09:25``, ``09:25:30``, ``9时25分``).

    Returns None when there is no date or the date is impossible. An impossible
    time is dropped, keeping the date.
    """
    text = text.strip()
    match = _DATE.match(text)
    if match is None:
        return None
    year = int(match["y"])
    month = int(match["m"] or match["m8"])
    day = int(match["d"] or match["d8"])
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    time = None
    time_match = _TIME.match(text, match.end())
    if time_match is not None:
        hour, minute = int(time_match["h"]), int(time_match["mi"])
        second = int(time_match["s"] or time_match["s2"] or 0)
        if hour < 24 and minute < 60 and second < 60:
            time = f"{hour:02d}:{minute:02d}:{second:02d}"
    return DateTime(date.isoformat(), time)
