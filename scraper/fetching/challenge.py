"""Recognise block / challenge pages and pages that say they are gone. Pure.

Works on the raw body bytes, never decoding it: each Chinese marker is searched
for in its UTF-8 and its GB18030 (= GBK for these characters) encoding, because
government pages come in both and often declare the charset only in ``<meta>``.
The ASCII bytes ``<`` and ``>`` never occur inside a GBK/GB18030 multi-byte
character, so stripping tags with a bytes regex is safe in both encodings.

What counts as a block (never archived, never retried; the crawler does not try
to get past any of these):

- 瑞数 (Riversecurity): HTTP 412 with a script challenge; or any page carrying its
  ``$_ts`` / ``<script r='m'>`` challenge markers and next to no text.
- 加速乐 (Jiasule / 知道创宇): a ``__jsl_clearance`` cookie, set by a script in the body
  or by ``Set-Cookie``; or an HTTP 521 with a ``document.cookie`` script or a
  ``__jsluid`` cookie (a 521 without them is a down origin, retried like a 5xx).
- 云锁 (Yunsuo): the ``security_session_verify`` cookie or its ``YunSuoAutoJump`` script.
- Any 403. WAF products brand their 403 pages in countless ways (安全狗, 云盾,
  创宇盾, a bare nginx page), and a 403 from a disclosure site means "not for you"
  either way; nothing in it is content.
- A small non-2xx page naming a WAF (网站防火墙, 安全狗, 访问被拦截 …).

Gone: 404 and 410, and a soft-404 — a 2xx HTML page with less than
:data:`SOFT_404_MAX_TEXT` bytes of text that says 页面不存在 / 已被删除 / 找不到页面 …
(or carries 已删除 / 找不到 / a bare 404 in its ``<title>``). A real document that merely
mentions 已删除 has far more text than that, so it stays content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import ahocorasick_rs

from scraper.fetching.response import FetchKind

#: A page with more visible text than this (in bytes) is never a soft-404.
SOFT_404_MAX_TEXT = 6 * 1024
#: A page with a challenge marker and less text than this is a challenge, whatever its status.
CHALLENGE_MAX_TEXT = 2 * 1024


def _markers(*words: str) -> tuple[bytes, ...]:
    """Return each word as UTF-8 and as GB18030 bytes (once if they coincide)."""
    out: list[bytes] = []
    for word in words:
        for encoding in ("utf-8", "gb18030"):
            data = word.encode(encoding)
            if data not in out:
                out.append(data)
    return tuple(out)


# Product markers, matched case-sensitively as the products write them.
_RUISHU = (b"$_ts", b"r='m'", b'r="m"')
_COOKIE_CHALLENGES = (b"__jsl_clearance", b"security_session_verify", b"YunSuoAutoJump")
# Chinese markers are matched against the raw body: lower-casing bytes would also
# change GBK trail bytes in 0x41-0x5A (GBK's extension characters). ASCII markers
# are lower-case and matched against the lower-cased body.
_WAF_PHRASES = _markers(
    "网站防火墙",
    "安全狗",
    "云盾",
    "创宇盾",
    "护卫神",
    "访问被拦截",
    "请求被拦截",
    "访问被阻断",
    "疑似黑客攻击",
    "非法请求",
    "Web应用防火墙",
    "WEB应用防火墙",
)
# Phrases specific enough to mark a small page as "not found" wherever they appear.
_GONE_PHRASES = _markers(
    "页面不存在",
    "网页不存在",
    "文章不存在",
    "信息不存在",
    "内容不存在",
    "稿件不存在",
    "页面已删除",
    "信息已删除",
    "文章已删除",
    "内容已删除",
    "已被删除",
    "已经删除",
    "或已删除",
    "已删除或",
    "找不到页面",
    "找不到该页面",
    "找不到您",
    "页面找不到",
    "页面未找到",
    "404错误",
    "错误404",
)
_GONE_ASCII = (b"404 not found", b"error 404", b"http 404")
# Every gone phrase contains one of these (and every ASCII one b"404"), so a page
# without them needs no further look.
_GONE_CORE = (*_markers("不存在", "删除", "找不到", "未找到"), b"404")
# Words too common in real documents to count anywhere but in the <title>.
_GONE_TITLE_WORDS = _markers("已删除", "找不到")
# "404" as a word of its own: a title like 宣政秘〔2021〕404号 is a real document.
_GONE_TITLE_404 = re.compile(rb"(?:^|[\s\-|_:,.])(?:404|not found)(?:$|[\s\-|_:,.!])")

# A tag: "<" up to the next ">" — but never past another "<", so that a body of
# unclosed "<"s costs one step each instead of a scan to the end each (quadratic).
_TAG = re.compile(rb"<[^<>]*>")
# What a browser does not show: scripts, styles, comments. Found with find(), not a lazy
# regex: ".*?" with no closing tag rescans the rest of the body from every opening, so a
# few hundred KB of unclosed <script> (瑞数's $_ts before it) took minutes.
_INVISIBLE_OPEN = re.compile(rb"<script\b|<style\b|<!--")
_INVISIBLE_CLOSE = {b"<script": b"</script", b"<style": b"</style", b"<!--": b"-->"}
_ENTITY = re.compile(rb"&#?\w{1,8};")
_SPACE = re.compile(rb"\s+")


# Every marker searched for in a whole body, found in ONE pass: classify runs on
# every fetched page, and one `in` per marker cost ~10 µs each on a 40 KB body
# (~25 of them on an ordinary page, 0.25 ms); the automaton finds all ~80 markers,
# overlapping ones included, in ~40-60 µs.
_BODY_MARKERS = tuple(
    dict.fromkeys((*_RUISHU, *_COOKIE_CHALLENGES, *_WAF_PHRASES, *_GONE_PHRASES, *_GONE_CORE))
)
_AUTOMATON = ahocorasick_rs.BytesAhoCorasick(list(_BODY_MARKERS))
#: Bodies are searched in windows of this many bytes (overlapping by the longest marker
#: less one byte, so no occurrence is cut), bounding the match list a body made of
#: nothing but markers can produce.
SEARCH_WINDOW = 256 * 1024
_OVERLAP = max(len(m) for m in _BODY_MARKERS) - 1


def _markers_in(body: bytes) -> frozenset[bytes]:
    """Return the markers of _BODY_MARKERS that occur anywhere in ``body``."""
    found: set[int] = set()
    view = memoryview(body)
    for start in range(0, max(1, len(body) - _OVERLAP), SEARCH_WINDOW):
        window = view[start : start + SEARCH_WINDOW + _OVERLAP]
        found.update(i for i, _, _ in _AUTOMATON.find_matches_as_indexes(window, overlapping=True))
    return frozenset(_BODY_MARKERS[i] for i in found)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> FetchKind | None:
    """Return BLOCKED, GONE, or None when the response is ordinary (content or an error).

    ``headers`` may use any case for names. Never raises on odd input.
    """
    found = _markers_in(body)
    if _is_block(status, headers, body, found):
        return FetchKind.BLOCKED
    if status in (404, 410):
        return FetchKind.GONE
    if 200 <= status < 300 and _is_html(headers) and _is_soft_404(body, found):
        return FetchKind.GONE
    return None


def visible_text_size(body: bytes) -> int:
    """Return roughly how many bytes of text a browser would show (tags, scripts removed).

    Linear in the body's size whatever it holds (unclosed tags, scripts, comments)."""
    text = _TAG.sub(b" ", _without_invisible(body))
    text = _ENTITY.sub(b" ", text)
    return len(_SPACE.sub(b" ", text).strip())


def _is_soft_404(body: bytes, found: frozenset[bytes]) -> bool:
    """Return whether ``body`` is a small page saying the document is missing, given its
    markers (``found``, from :func:`_markers_in`)."""
    # Every ASCII phrase contains "404", so only a body holding it is lower-cased.
    if not found.isdisjoint(_GONE_CORE) and (
        not found.isdisjoint(_GONE_PHRASES)
        or (b"404" in found and _has_any(body.lower(), _GONE_ASCII))
    ):
        return visible_text_size(body) < SOFT_404_MAX_TEXT
    title = _title(body)
    if title is not None and (
        _has_any(title, _GONE_TITLE_WORDS)
        or _GONE_TITLE_404.search(title.strip().lower()) is not None
    ):
        return visible_text_size(body) < SOFT_404_MAX_TEXT
    return False


def _is_block(
    status: int, headers: Mapping[str, str], body: bytes, found: frozenset[bytes]
) -> bool:
    cookies = " ".join(v for k, v in headers.items() if k.lower() == "set-cookie").lower()
    if "__jsl_clearance" in cookies or "security_session_verify" in cookies:
        return True
    if not found.isdisjoint(_COOKIE_CHALLENGES):
        return True
    # 加速乐's first answer is a 521 whose script assembles the cookie name from
    # fragments (('_')+('_')+('j')+…), so the literal name may be absent; its
    # tracking cookie __jsluid_* comes with it.
    if status == 521 and ("__jsluid" in cookies or b"document.cookie" in body.lower()):
        return True
    if status == 412 and b"<script" in body.lower():
        return True
    if not found.isdisjoint(_RUISHU) and visible_text_size(body) < CHALLENGE_MAX_TEXT:
        return True
    if status == 403:
        return True
    return (
        status >= 400
        and not found.isdisjoint(_WAF_PHRASES)
        and visible_text_size(body) < SOFT_404_MAX_TEXT
    )


def _title(body: bytes) -> bytes | None:
    """The text of the first <title> (case-insensitive), or None. One find() each way."""
    lower = body.lower()
    start = lower.find(b"<title")
    if start < 0:
        return None
    opened = lower.find(b">", start)
    if opened < 0:
        return None
    end = lower.find(b"</title", opened)
    return body[opened + 1 : end] if end >= 0 else None


def _without_invisible(body: bytes) -> bytes:
    """``body`` with scripts, styles and comments replaced by a space; an unclosed one
    runs to the end, as in a browser. Each opening is found once and its closing once."""
    lower = body.lower()
    parts: list[bytes] = []
    position = 0
    while True:
        match = _INVISIBLE_OPEN.search(lower, position)
        if match is None:
            parts.append(body[position:])
            break
        parts.append(body[position : match.start()])
        parts.append(b" ")
        close = _INVISIBLE_CLOSE[match.group().rstrip()]
        end = lower.find(close, match.end())
        if end < 0:
            break
        # past the closing tag's ">" (a comment's "-->" is its own end)
        position = end + len(close) if close == b"-->" else lower.find(b">", end) + 1 or len(body)
    return b"".join(parts)


def _has_any(data: bytes, markers: Iterable[bytes]) -> bool:
    return any(marker in data for marker in markers)


def _is_html(headers: Mapping[str, str]) -> bool:
    """Return whether the Content-Type is HTML/text or missing (servers often omit it)."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            kind = value.split(";", 1)[0].strip().lower()
            return kind.startswith("text/") or kind in ("application/xhtml+xml", "")
    return True
