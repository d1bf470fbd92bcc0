"""A 5 MB URL is not fetched, and not stored 5 MB at a time (issue 16): a list page
linking one used to leave a fetches row whose url column held all 5 MB ('invalid URL
error: URL too long' from httpx), and a 20 KB one was requested and stored whole.
URLs longer than MAX_URL_LENGTH (8 KiB, what common servers accept in a request line)
are dropped where discovery finds them, with a warning naming a shortened URL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from scraper.cli import cli
from scraper.fetching.urllimit import MAX_URL_LENGTH, drop_long_urls, long_url_problem, shortened
from storage.engine import make_engine
from tests.crawl_site import DisclosureSite, scalar
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)

HUGE = 5 * 1024 * 1024


def _config(tmp_path: Path, docs: DisclosureSite, database: str, **source: Any) -> Path:
    document = docs.document(database, {"requests_per_second": 1000, "retries": 0})
    document["sources"][0].update(source)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_crawl_neither_fetches_nor_stores_an_over_long_url(
    site: TestSite, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=2, per_page=2)
    huge = "/OpennessContent/show/" + "a" * HUGE + ".html"
    just_over = "/OpennessContent/show/" + "b" * MAX_URL_LENGTH + ".html"
    within = "/OpennessContent/show/" + "c" * 4000 + ".html"
    docs.publish_lists(
        "".join(f'<li><a href="{p}">long</a></li>' for p in (huge, just_over, within))
        + '<li><a class="more" href="/list/'
        + "d" * 100_000  # (the list page must stay under max_page_bytes)
        + '.html">next</a></li>'
    )
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    config = _config(
        tmp_path, docs, database, detail_links="ul.doc_list a:not(.more)", list_links="a.more"
    )

    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "-q"])

    assert result.exit_code == 0, result.output[-2000:]
    assert max(len(r.path) for r in site.requests) < MAX_URL_LENGTH  # never asked for
    assert any(r.path.startswith("/OpennessContent/show/ccc") for r in site.requests)
    engine = make_engine(database)
    try:
        for table in ("fetches", "pages"):
            longest = scalar(engine, f"SELECT MAX(LENGTH(url)) FROM {table}")
            assert longest < MAX_URL_LENGTH, table
        errors = scalar(engine, "SELECT MAX(LENGTH(COALESCE(error, ''))) FROM fetches")
        assert errors < 1000
    finally:
        engine.dispose()
    output = result.output
    assert len(output) < 20_000
    assert f"longer than {MAX_URL_LENGTH:,} characters" in output
    assert f"({len(site.url(huge)):,} characters)" in output
    assert "aaaa…" in output and "bbbb…" in output and "dddd…" in output


def test_the_limit_is_a_pure_decision() -> None:
    url = "http://example.gov.cn/" + "x" * 10_000
    assert long_url_problem("http://example.gov.cn/a.html") is None
    problem = long_url_problem(url)
    assert problem is not None
    assert problem.startswith("URL longer than 8,192 characters: http://example.gov.cn/xxx")
    assert problem.endswith(f"… ({len(url):,} characters)")
    assert len(problem) < 300
    assert shortened("http://a/b") == "http://a/b"
    assert long_url_problem("http://a/" + "x" * 100, limit=50) is not None


def test_drop_long_urls_keeps_order_and_warns_once_per_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    long = "http://example.gov.cn/" + "x" * MAX_URL_LENGTH
    with caplog.at_level(logging.WARNING):
        kept = drop_long_urls(["http://a/1", long, "http://a/2"], found_on="http://a/list")
    assert kept == ["http://a/1", "http://a/2"]
    [record] = caplog.records
    assert "http://a/list" in record.getMessage() and "not fetched" in record.getMessage()
    assert len(record.getMessage()) < 400
