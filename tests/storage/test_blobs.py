"""Raw bodies: compressed against the source's dictionary, stored once, verified on read."""

from __future__ import annotations

import pytest
import zstandard
from sqlalchemy import Connection, Engine, select, update

from storage.blobs import compress, decompress, put_blob, read_blob
from storage.content import raw_hash
from storage.engine import write_transaction
from storage.errors import BlobError
from storage.models import Blob, BlobDict, Source
from tests.storage.factories import T0, Crawl, make_doc

CHROME = (
    "<div class='header'>"
    + "".join(f"<a href='/col/col{i}/index.html'>栏目{i}</a>" for i in range(300))
    + "</div>"
).encode()


def page(n: int) -> bytes:
    return (
        CHROME
        + f"<div id='zoom'><p>第{n}号文件：关于做好第{n}项工作的通知。</p></div>".encode()
        + CHROME
    )


def put(conn: Connection, crawl: Crawl, raw: bytes) -> bool:
    return put_blob(conn, raw=raw, raw_hash=raw_hash(raw), source_id=crawl.source_id, now=T0)


def test_compress_round_trip() -> None:
    raw = page(1)
    dictionary = zstandard.ZstdCompressionDict(page(0), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    assert decompress(compress(raw, None), None, len(raw)) == raw
    assert decompress(compress(raw, dictionary), dictionary, len(raw)) == raw


def test_first_body_becomes_the_source_dictionary(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    with write_transaction(engine) as conn:
        assert put(conn, crawl, page(1))
        assert put(conn, crawl, page(2))
        assert not put(conn, crawl, page(2))
    with engine.connect() as conn:
        dict_id = conn.execute(select(Source.blob_dict_id)).scalar_one()
        stored = {
            r.hash: r for r in conn.execute(select(Blob.hash, Blob.size, Blob.dict_id, Blob.data))
        }
        assert conn.execute(select(BlobDict.size)).scalar_one() == len(page(1))
        assert read_blob(conn, raw_hash(page(2))) == page(2)
    second = stored[raw_hash(page(2))]
    assert (second.size, second.dict_id) == (len(page(2)), dict_id)
    # Against the dictionary only the differing paragraph is stored.
    alone = len(zstandard.ZstdCompressor(level=9).compress(page(2)))
    assert len(second.data) < alone / 3


def test_identical_bodies_are_stored_once_across_pages(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    doc = make_doc()
    crawl.page("https://a.gov.cn/1.html", doc, raw=page(7))
    crawl.page("https://a.gov.cn/2.html", make_doc(title="另一页"), raw=page(7))
    with engine.connect() as conn:
        assert conn.execute(select(Blob.hash)).scalars().all() == [raw_hash(page(7))]


def test_corrupt_blob_is_reported(engine: Engine) -> None:
    crawl = Crawl.start(engine)
    crawl.page("https://a.gov.cn/1.html", make_doc(), raw=page(3))
    with write_transaction(engine) as conn:
        conn.execute(update(Blob).values(data=b"not zstd"))
    with engine.connect() as conn, pytest.raises(BlobError, match="cannot be decompressed"):
        read_blob(conn, raw_hash(page(3)))
    with engine.connect() as conn, pytest.raises(BlobError, match="is missing"):
        read_blob(conn, "0" * 64)
