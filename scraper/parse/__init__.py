"""Page parsing: bytes in, :class:`PageRecord` out. Pure; the only selectolax user.

Imports neither httpx nor :mod:`storage`.
"""

from scraper.parse.encoding import Decoded, decode_html
from scraper.parse.page import parse_page
from scraper.parse.record import CANONICAL_FIELDS, SECTION_FIELDS, Metadata, PageRecord, Section

#: Bumped whenever a change to the parser can change its output for some page.
#: Stored in ``page_versions.parser_version``; see docs/schema.md.
PARSER_VERSION = "3"

__all__ = [
    "CANONICAL_FIELDS",
    "PARSER_VERSION",
    "SECTION_FIELDS",
    "Decoded",
    "Metadata",
    "PageRecord",
    "Section",
    "decode_html",
    "parse_page",
]
