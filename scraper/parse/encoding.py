"""Bytes → text: choose a page's encoding the way a browser would, and never raise.

Order (docs/parsing.md, "Encoding"): the HTTP ``Content-Type`` charset, a byte-order
mark, a ``<meta>`` declaration in the first 4 KB, a statistical detector
(charset-normalizer), UTF-8. GB2312 / GBK / GB18030 all decode as ``gb18030``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

#: How far into the document a ``<meta>`` charset declaration is looked for.
META_SCAN_BYTES = 4096
#: How many bytes the statistical detector looks at (a 20 MB page must stay fast).
DETECT_SAMPLE_BYTES = 64 * 1024

_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
# Covers both <meta charset="gbk"> and
# <meta http-equiv="Content-Type" content="text/html; charset=gb2312">.
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
#: Single-byte Western codecs: never right for a Chinese page with non-ASCII bytes.
_WESTERN = frozenset({"cp1252", "latin-1", "iso8859-15"})
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
# Appended by _valid_prefix for a character cut off at the end (noncharacters: never text).
_CUT_OFF = "\ufdde\ufddf"

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG labels Python does not know, and labels whose real-world meaning differs
# from Python's codec of the same name.
_ALIASES: dict[str, str] = {
    # Sites that declare gb2312 routinely use GBK characters; gb18030 is a superset of both.
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-ir-58": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5",
    # Browsers read latin-1 and ASCII declarations as windows-1252.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "unicode": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_CODEC_ALIASES: dict[str, str] = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "hz": "gb18030",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded document.

    ``encoding`` is the Python codec name used (``utf-8``, ``gb18030``, ``big5``…);
    ``source`` says how it was chosen: ``http``, ``bom``, ``meta``, ``detected`` or
    ``fallback``. ``warnings`` note replaced bytes and ignored declarations.
    """

    text: str
    encoding: str
    source: str
    warnings: tuple[str, ...] = ()


def normalize_encoding(label: str | None) -> str | None:
    """Return the Python codec name for a charset label, or None if it is unknown.

    GB2312 / GBK / GB18030 (and their aliases) all map to ``gb18030``.
    """
    if not label:
        return None
    key = label.strip().strip("\"'").lower().replace("_", "-")
    if not key:
        return None
    key = _ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _CODEC_ALIASES.get(name, name)


def http_charset(content_type: str | None) -> str | None:
    """Return the raw ``charset`` parameter of a Content-Type header value, or None."""
    if not content_type:
        return None
    match = _HTTP_CHARSET.search(content_type)
    return match.group(1) if match else None


def meta_charset(data: bytes) -> str | None:
    """Return the raw charset label declared by a ``<meta>`` tag in the first 4 KB, or None."""
    match = _META_CHARSET.search(data, 0, META_SCAN_BYTES)
    if match is None:
        return None
    return match.group(1).decode("ascii", "replace")


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML document's bytes. Never raises; bad bytes become U+FFFD.

    Returns the text (a leading BOM removed), the codec used and how it was chosen.
    """
    notes: list[str] = []

    declared = http_charset(content_type)
    if declared is not None:
        encoding = normalize_encoding(declared)
        if encoding is not None:
            return _decode(data, encoding, "http", notes)
        notes.append(f"unknown charset {declared!r} in Content-Type ignored")

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], encoding, "bom", notes)

    declared = meta_charset(data)
    if declared is not None:
        encoding = normalize_encoding(declared)
        if encoding is not None:
            # A <meta> that could be read as ASCII cannot be UTF-16 (WHATWG rule).
            if encoding.startswith("utf-16") or encoding.startswith("utf-32"):
                encoding = "utf-8"
            return _decode(data, encoding, "meta", notes)
        notes.append(f"unknown charset {declared!r} in <meta> ignored")

    encoding, text = _detect(data)
    if text is not None and encoding is not None:
        if text.endswith(_CUT_OFF):
            text = text[: -len(_CUT_OFF)] + "\ufffd"
            notes.append(f"undecodable bytes replaced while decoding as {encoding}")
        return Decoded(text=text, encoding=encoding, source="detected", warnings=tuple(notes))
    if encoding is not None:
        return _decode(data, encoding, "detected", notes)
    return _decode(data, "utf-8", "fallback", notes)


def _detect(data: bytes) -> tuple[str | None, str | None]:
    """Return the codec a look at ``data`` suggests (or None), and the decoded text
    when the check already produced it.

    Valid UTF-8 (a truncated last character allowed) is UTF-8; else bytes that are
    valid GB18030 (without private-use characters) are GB18030: the sites this
    archive reads publish in one of the two, and the detector alone misreads short
    GBK pages as Big5 or CP949. Other bytes go to charset-normalizer.
    """
    if data.isascii():
        return ("utf-8" if data else None), (data.decode("ascii") if data else None)
    for encoding in ("utf-8", "gb18030"):
        text = _valid_prefix(data, encoding)
        if text is not None:
            return encoding, text
    # Pages often carry tens of KB of ASCII (scripts, styles) before the first
    # non-ASCII character: sample from there so the detector sees real text.
    first = _NON_ASCII.search(data)
    start = max(0, first.start() - 1024) if first is not None else 0
    sample = data[start : start + DETECT_SAMPLE_BYTES]
    try:
        best = charset_normalizer.from_bytes(sample).best()
    except Exception:  # the detector is third-party code on hostile bytes
        return None, None
    if best is None:
        return None, None
    return normalize_encoding(best.encoding), None


def _clean_chinese(data: bytes, besides: str | None = None) -> str | None:
    """``utf-8`` or ``gb18030`` (other than ``besides``), whichever decodes ``data``
    cleanly first, or None."""
    for encoding in ("utf-8", "gb18030"):
        if encoding != besides and _valid_prefix(data, encoding) is not None:
            return encoding
    return None


def _valid_prefix(data: bytes, encoding: str) -> str | None:
    """Return the text of ``data`` if it decodes without error, else None. A character
    cut off at the end is not an error (it becomes U+FFFD in the text).

    GB18030 text with private-use characters does not count: Big5 bytes decode as
    GB18030 into the user-defined (private-use) area, real GBK pages almost never do.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return None
    if encoding == "gb18030" and _PRIVATE_USE.search(text) is not None:
        return None
    if decoder.getstate()[0]:  # bytes of a cut-off character are pending
        text += _CUT_OFF
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _decode(data: bytes, encoding: str, source: str, notes: list[str]) -> Decoded:
    declared = source in ("http", "meta")
    if declared and encoding in _WESTERN and not data.isascii():
        # A Chinese page declared latin-1/windows-1252 (a server default, a template's
        # leftover) decodes without an error into mojibake: bytes that are clean UTF-8 or
        # GB18030 are read as that, with a warning.
        better = _clean_chinese(data)
        if better is not None:
            notes.append(
                f"declared charset {encoding} ({source}) is implausible for this page; "
                f"read as {better}"
            )
            return _decode(data, better, "detected", notes)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        # A stale declaration (a gb2312 <meta> left in a template now served as UTF-8, or
        # GBK bytes served as UTF-8): bytes that break the declared charset but are clean
        # UTF-8 or GB18030 are read as that.
        better = _clean_chinese(data, besides=encoding) if declared else None
        if better is not None:
            notes.append(
                f"declared charset {encoding} ({source}) does not fit the bytes; read as {better}"
            )
            return _decode(data, better, "detected", notes)
        text = data.decode(encoding, "replace")
        notes.append(f"undecodable bytes replaced while decoding as {encoding}")
    except LookupError:  # pragma: no cover - normalize_encoding only returns known codecs
        text = data.decode("utf-8", "replace")
        encoding, source = "utf-8", "fallback"
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text=text, encoding=encoding, source=source, warnings=tuple(notes))
