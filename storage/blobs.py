"""Content-addressed raw bodies: zstd-compressed, stored once per SHA-256.

Pages of one site share most of their bytes (header, navigation, footer, scripts), so
each source gets a zstd *raw-content dictionary*: the first body archived for that
source, kept in ``blob_dicts`` and referenced from ``sources.blob_dict_id``. Every
later body of the source is compressed against it and stores only what differs from
the site's common chrome. Why this and not a trained dictionary: it needs no sample
set, works from the second page on, and is never rebuilt, so a dictionary row is
immutable; ``blobs.dict_id`` names the dictionary a body needs and a foreign key keeps
it from being deleted. A body compressed without a dictionary has ``dict_id`` NULL.

``put_blob`` and ``read_blob`` run on a caller's connection (inside its transaction).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import ColumnElement, Connection, bindparam, select, update

from storage.engine import describe
from storage.errors import BlobError
from storage.models import BLOB_DICTS, BLOBS, SOURCES, Blob, BlobDict, Source
from storage.sql import insert_ignoring_conflict

#: zstd level for bodies, paid once per new version and stored for as long as the
#: archive lives. Measured 2026-12 on the real fixture pages (26 pages of 60 KB mean,
#: each against its site's first page as dictionary; CPU µs per page, compressed/raw):
#: level 1: 117 µs, 0.170; 2: 136 µs, 0.155; 3: 194 µs, 0.148; 4: 221 µs, 0.145;
#: 5: 344 µs, 0.137; 9: 794 µs, 0.132. Level 3 stays: level 2 would save ~60 µs of the
#: ~6 ms CPU a first-crawl page costs (1 %) for 5 % more blob bytes forever, level 1
#: ~80 µs for 15 % more; level 5 and up cost 2-4x the time for 7-11 % less. (A reused
#: compressor object saves only its ~15 µs construction, so none is kept.)
BLOB_LEVEL = 3

#: The dictionary is the first this many bytes of the source's first body.
MAX_DICT_BYTES = 256 * 1024

#: zstd level of a stored dictionary (written once per source). Level 19 took 100 ms a
#: dictionary for 7% less than level 9's 8 ms: the first crawl of hundreds of sources
#: paid seconds of CPU for a few KB each (bench/workers.py).
DICT_LEVEL = 9

#: Loaded dictionaries kept in memory (about 640 KB each, precomputed for BLOB_LEVEL).
#: Sized for hundreds of sources crawled at once (the daemon, a worker): a smaller cache
#: reloads a dictionary from the database for nearly every page of an interleaved crawl.
DICT_CACHE_SIZE = 256

CODEC = "zstd"


class _DictCache:
    """A small LRU of loaded dictionaries keyed by their SHA-256 (content-addressed, so
    one cache serves every database safely)."""

    def __init__(self, maxsize: int = DICT_CACHE_SIZE) -> None:
        self._items: OrderedDict[str, zstandard.ZstdCompressionDict] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()  # the pipeline may archive from several threads

    def get(self, key: str) -> zstandard.ZstdCompressionDict | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, content: bytes) -> zstandard.ZstdCompressionDict:
        item = zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        item.precompute_compress(level=BLOB_LEVEL)
        with self._lock:
            self._items[key] = item
            if len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return item


_DICTS = _DictCache()


def compress(raw: bytes, dictionary: zstandard.ZstdCompressionDict | None) -> bytes:
    """Return ``raw`` as one zstd frame, compressed against ``dictionary`` if given."""
    if dictionary is None:
        return zstandard.ZstdCompressor(level=BLOB_LEVEL).compress(raw)
    return zstandard.ZstdCompressor(level=BLOB_LEVEL, dict_data=dictionary).compress(raw)


def decompress(data: bytes, dictionary: zstandard.ZstdCompressionDict | None, size: int) -> bytes:
    """Return the original bytes of a frame made by :func:`compress`."""
    if dictionary is None:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(data, max_output_size=size)


@dataclass(frozen=True, slots=True)
class BlobState:
    """What :func:`put_blob` decides on: whether a body's hash is stored, and the
    dictionary its source names (``dict_id``/``dict_hash`` None when it has none)."""

    stored: bool
    dict_id: int | None
    dict_hash: str | None


def blob_state_columns(
    raw_hash: ColumnElement[Any], source_id: ColumnElement[Any]
) -> tuple[ColumnElement[Any], ...]:
    """Return the three columns of a :class:`BlobState` (hash if stored, dictionary id,
    dictionary hash) for the body ``raw_hash`` of source ``source_id``, as scalar
    subqueries another SELECT can carry: :mod:`storage.archive` reads them in the same
    round trip as the page's state. Read them back with :func:`blob_state`."""
    return (
        select(BLOBS.c.hash).where(BLOBS.c.hash == raw_hash).scalar_subquery(),
        select(SOURCES.c.blob_dict_id).where(SOURCES.c.id == source_id).scalar_subquery(),
        select(BLOB_DICTS.c.hash)
        .join(SOURCES, SOURCES.c.blob_dict_id == BLOB_DICTS.c.id)
        .where(SOURCES.c.id == source_id)
        .scalar_subquery(),
    )


def blob_state(row: Sequence[Any]) -> BlobState:
    """Return the :class:`BlobState` of the values of :func:`blob_state_columns`. Pure."""
    stored, dict_id, dict_hash = row
    return BlobState(stored is not None, dict_id, dict_hash)


# The same columns on their own: scalar subqueries only, so there is always one row.
_BLOB_STATE = select(*blob_state_columns(bindparam("hash"), bindparam("source_id")))


def put_blob(
    conn: Connection,
    *,
    raw: bytes,
    raw_hash: str,
    source_id: int,
    now: datetime,
    dictionary: bool = True,
    state: BlobState | None = None,
) -> bool:
    """Store ``raw`` under ``raw_hash`` unless a blob with that hash exists.

    Writes at most one ``blobs`` row, and when the source has no dictionary yet, one
    ``blob_dicts`` row made from ``raw`` plus ``sources.blob_dict_id``. With
    ``dictionary=False`` (attachments: PDFs and Office files share nothing with the
    site's pages) the body is compressed on its own and no dictionary is made from it.
    ``state`` is the body's :class:`BlobState` when the caller read it already in this
    transaction (it is read here otherwise). Returns True when a blob row was written.
    """
    if state is None:
        row = conn.execute(_BLOB_STATE, {"hash": raw_hash, "source_id": source_id}).one()
        state = blob_state(row)
    if state.stored:
        return False
    dict_id: int | None = None
    loaded: zstandard.ZstdCompressionDict | None = None
    if dictionary:
        dict_id, loaded = _source_dictionary(
            conn, source_id, raw, now, state.dict_id, state.dict_hash
        )
    # A concurrent writer may store the same body first; its row is identical.
    inserted = conn.execute(
        insert_ignoring_conflict(conn, BLOBS, "hash", returning="hash"),
        {
            "hash": raw_hash,
            "size": len(raw),
            "codec": CODEC,
            "dict_id": dict_id,
            "data": compress(raw, loaded),
        },
    ).first()
    return inserted is not None


def read_blob(conn: Connection, raw_hash: str) -> bytes:
    """Return the original bytes of blob ``raw_hash``; raise BlobError if it is missing,
    corrupt, or does not hash to ``raw_hash``."""
    row = conn.execute(
        select(Blob.size, Blob.codec, Blob.dict_id, Blob.data).where(Blob.hash == raw_hash)
    ).first()
    if row is None:
        raise BlobError(f"blob {raw_hash} is missing", database=describe(conn))
    dictionary = _load_dictionary(conn, row.dict_id) if row.dict_id is not None else None
    try:
        raw = decompress(row.data, dictionary, row.size)
    except zstandard.ZstdError as exc:
        raise BlobError(
            f"blob {raw_hash} cannot be decompressed: {exc}", database=describe(conn)
        ) from exc
    if len(raw) != row.size or hashlib.sha256(raw).hexdigest() != raw_hash:
        raise BlobError(f"blob {raw_hash} does not match its hash", database=describe(conn))
    return raw


def read_blobs(conn: Connection, hashes: Collection[str]) -> dict[str, bytes]:
    """Return hash → original bytes for every blob of ``hashes`` that exists and is
    intact, in one query (dictionaries cached). Missing or corrupt blobs are left out;
    :func:`read_blob` on one of them raises the BlobError saying why. (For bulk readers
    such as storage.reparse, where one query per blob would dominate.)"""
    if not hashes:
        return {}
    rows = conn.execute(
        select(Blob.hash, Blob.size, Blob.dict_id, Blob.data).where(Blob.hash.in_(list(hashes)))
    ).all()
    dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
    found: dict[str, bytes] = {}
    for row in rows:
        try:
            dictionary = None
            if row.dict_id is not None:
                if row.dict_id not in dictionaries:
                    dictionaries[row.dict_id] = _load_dictionary(conn, row.dict_id)
                dictionary = dictionaries[row.dict_id]
            raw = decompress(row.data, dictionary, row.size)
        except (BlobError, zstandard.ZstdError):
            continue
        if len(raw) == row.size and hashlib.sha256(raw).hexdigest() == row.hash:
            found[row.hash] = raw
    return found


def _source_dictionary(
    conn: Connection,
    source_id: int,
    raw: bytes,
    now: datetime,
    dict_id: int | None,
    dict_hash: str | None,
) -> tuple[int, zstandard.ZstdCompressionDict]:
    """Return the source's dictionary (id, loaded), creating it from ``raw`` if the
    source has none yet (``dict_id``/``dict_hash`` are what the source row names)."""
    if dict_id is not None:
        cached = _DICTS.get(dict_hash) if dict_hash is not None else None
        return dict_id, cached or _load_dictionary(conn, dict_id)
    content = raw[:MAX_DICT_BYTES]
    key = hashlib.sha256(content).hexdigest()
    conn.execute(
        insert_ignoring_conflict(conn, BLOB_DICTS, "hash"),
        {
            "hash": key,
            "size": len(content),
            "data": zstandard.ZstdCompressor(level=DICT_LEVEL).compress(content),
            "created_at": now,
        },
    )
    existing = conn.execute(select(BlobDict.id).where(BlobDict.hash == key)).scalar_one()
    # Two first pages racing on PostgreSQL may each create a dictionary; the first to
    # commit becomes the source's, and the other's blobs keep naming their own.
    conn.execute(
        update(Source)
        .where(Source.id == source_id, Source.blob_dict_id.is_(None))
        .values(blob_dict_id=existing)
    )
    return existing, _DICTS.get(key) or _DICTS.put(key, content)


def _load_dictionary(conn: Connection, dict_id: int) -> zstandard.ZstdCompressionDict:
    key = conn.execute(select(BlobDict.hash).where(BlobDict.id == dict_id)).scalar()
    if key is None:
        raise BlobError(f"blob dictionary {dict_id} is missing", database=describe(conn))
    cached = _DICTS.get(key)
    if cached is not None:
        return cached
    stored = conn.execute(select(BlobDict.data).where(BlobDict.id == dict_id)).scalar_one()
    try:
        content = zstandard.ZstdDecompressor().decompress(stored)
    except zstandard.ZstdError as exc:
        raise BlobError(
            f"blob dictionary {dict_id} cannot be decompressed: {exc}", database=describe(conn)
        ) from exc
    return _DICTS.put(key, content)
