"""Text documents (text/plain, CSV, JSON, XML): decoded as the parser decodes pages. Pure.

The charset comes from the ``Content-Type``, a byte-order mark, or detection (Chinese
CSV files are often GBK without saying so), as :func:`scraper.parse.decode_html` chooses
it. Line endings become ``\\n`` and trailing spaces go, so a file re-saved on another
system is the same text. JSON is re-indented (one member per line, keys in their
order) so that a change shows as a changed line and a re-serialisation with other
spacing is no change.
"""

from __future__ import annotations

import json

from scraper.extract.kinds import media_type
from scraper.extract.result import Extracted
from scraper.parse.encoding import decode_html


def extract_plain(data: bytes, content_type: str | None) -> Extracted:
    """Return the decoded text of a text document. Never raises."""
    decoded = decode_html(data, content_type)
    warnings = list(decoded.warnings)
    text = decoded.text.lstrip("\ufeff")
    if _is_json(content_type):
        text, problem = _reindented(text)
        if problem:
            warnings.append(problem)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tidied = "\n".join(line.rstrip() for line in lines).strip("\n")
    return Extracted(tidied, decoded.encoding, decoded.source, tuple(warnings))


def _is_json(content_type: str | None) -> bool:
    mime = media_type(content_type)
    return mime in ("application/json", "text/json") or mime.endswith("+json")


def _reindented(text: str) -> tuple[str, str | None]:
    """The JSON re-indented, or the text as it was and why not."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=1), None
    except ValueError as exc:
        return text, f"not valid JSON ({exc}): kept as sent"
    except RecursionError:
        return text, "JSON nested too deeply to re-indent: kept as sent"
