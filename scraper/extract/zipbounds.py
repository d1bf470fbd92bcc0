"""How much a zip-based file (.docx, .xlsx, .ofd) inflates to, checked before it is read. Pure.

A compression bomb is a small file whose members inflate to hundreds of megabytes or
more (deflate packs 1,000:1). Two checks, against :data:`MAX_INFLATED` for the whole file:

- :func:`zip_problem` adds up the sizes the zip's directory declares; enough when the
  members are then read with :mod:`zipfile`, which never returns more than a member's
  declared size (a member that inflates further fails its CRC check).
- ``actual=True`` also inflates every member, counting, up to the cap and no further:
  needed before a reader that trusts nothing we check, as python-calamine's Rust zip
  reader inflates a member to its end whatever its declared size. Deflate streams end
  themselves, so each one is inflated from its start to its end or to the cap. Members
  compressed otherwise than stored or deflated (Office and OFD writers use nothing else)
  are refused rather than inflated by an unbounded method.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

#: The most the members of one file may inflate to, together.
MAX_INFLATED = 200 * 1024 * 1024
#: The most members one file may have (a directory of millions is its own bomb).
MAX_MEMBERS = 10_000

_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature … name length, extra length


def zip_problem(
    archive: zipfile.ZipFile, data: bytes, *, actual: bool = False, cap: int | None = None
) -> str | None:
    """Return why the zip ``archive`` (opened on ``data``) may not be read, or None.
    ``cap`` defaults to :data:`MAX_INFLATED`. Never raises."""
    limit = MAX_INFLATED if cap is None else cap
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        return f"a zip of {len(members)} members (more than {MAX_MEMBERS})"
    declared = sum(info.file_size for info in members)
    if declared > limit:
        return f"too large when decompressed (declared {declared} bytes; cap {limit})"
    if not actual:
        return None
    total = 0
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return f"member {info.filename!r} is compressed by method {info.compress_type}"
        inflated = _inflated_size(data, info, limit - total + 1)
        if inflated is None:
            return f"member {info.filename!r} cannot be decompressed"
        if inflated > info.file_size:
            return (
                f"member {info.filename!r} decompresses to more than its declared "
                f"{info.file_size} bytes"
            )
        total += inflated
        if total > limit:
            return f"too large when decompressed (over {limit} bytes)"
    return None


def _inflated_size(data: bytes, info: zipfile.ZipInfo, budget: int) -> int | None:
    """What the member inflates to, counted up to ``budget`` bytes (more is not
    inflated); None when its local header or stream is broken."""
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        return None
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, offset)
    if signature != b"PK\x03\x04":
        return None
    start: int = offset + _LOCAL_HEADER.size + name_length + extra_length
    if info.compress_type == zipfile.ZIP_STORED:
        return min(info.compress_size, max(len(data) - start, 0))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    position = start
    pending = b""
    try:
        while total <= budget and not inflater.eof:
            if not pending and position < len(data):
                pending = data[position : position + _CHUNK]
                position += len(pending)
            out = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            total += len(out)
            if not out and not pending and position >= len(data):
                break  # the file ends before the stream does: all it gives is counted
    except zlib.error:
        return None
    return total
