"""scraper.warc.records on a WARC written by ``wget --warc-file`` from a local server
(127.0.0.1, port 0): what a real crawler writes, gzip per record, with its request,
warcinfo and log records."""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scraper.warc import WarcReader
from tests.warc.archives import OTHER, PAGE

WGET = shutil.which("wget")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output clean


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The base URL of a local server of two pages."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(PAGE)
    (site / "other.html").write_bytes(OTHER)
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.skipif(WGET is None, reason="wget is not installed")
def test_a_wget_warc_gives_its_pages(tmp_path: Path, served: str) -> None:
    assert WGET is not None
    urls = [f"{served}/index.html", f"{served}/other.html", f"{served}/missing.html"]
    subprocess.run(
        [
            WGET,
            "--quiet",
            f"--warc-file={tmp_path / 'crawl'}",
            "--no-config",
            "-e",
            "robots=off",
            "-O",
            str(tmp_path / "out"),
            *urls,
        ],
        check=False,  # the 404 makes wget exit 8; the WARC is still written
        timeout=60,
    )
    path = tmp_path / "crawl.warc.gz"
    with WarcReader([path]) as reader:
        found = reader.scan(path)
        assert found.problem is None
        assert [(ref.url, ref.status) for ref in found.refs] == [
            (urls[0], 200),
            (urls[1], 200),
            (urls[2], 404),
        ]
        # warcinfo, three requests, and the metadata and resource records of wget's log
        assert found.other_records >= 4
        assert all(ref.kind == "response" for ref in found.refs)
        assert all(ref.record_id.startswith("<urn:uuid:") for ref in found.refs)
        assert all(ref.payload_digest for ref in found.refs)
        pages = [reader.payload(ref) for ref in found.refs[:2]]
    assert [page.body for page in pages] == [PAGE, OTHER]
    assert pages[0].status == 200
    assert ("Content-Length", str(len(PAGE))) in pages[0].headers
