"""``govarchive check-source``: what a source finds, shown without archiving anything."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from scraper.cli import cli
from tests.crawl_site import FIXTURES, DisclosureSite
from tests.site.server import TestSite


def _config(tmp_path: Path, docs: DisclosureSite, **source: object) -> Path:
    document = docs.document(f"sqlite:///{tmp_path / 'archive.db'}", {"requests_per_second": 1000})
    document["sources"][0].update(source)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_check_source_reports_lists_links_and_the_parsed_page(
    site: TestSite, tmp_path: Path
) -> None:
    docs = DisclosureSite(site, count=12, per_page=5)
    config = _config(tmp_path, docs)

    result = CliRunner().invoke(cli, ["check-source", "local", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "start URL allowed" in result.output
    assert "list pages fetched: 2" in result.output
    assert "detail links found: 10" in result.output
    # the first link on the list (the newest document, 11) is the one fetched and parsed
    golden = json.loads(sorted(FIXTURES.glob("*.json"))[11].read_text(encoding="utf-8"))
    assert f"title: {golden['metadata']['title']}" in result.output
    assert f"task sections: {len(golden['sections'])}" in result.output
    assert not (tmp_path / "archive.db").exists()  # nothing archived
    # only two list pages and one document were requested (plus robots.txt)
    paths = sorted(r.path for r in site.requests)
    assert paths == sorted([
        "/robots.txt",
        "/OpennessContent/showList/1/2/page_1.html",
        "/OpennessContent/showList/1/2/page_2.html",
        docs.doc_path(11),
    ])  # fmt: skip


def test_check_source_json_names_the_first_document(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    config = _config(tmp_path, docs)

    result = CliRunner().invoke(cli, ["check-source", "local", "--config", str(config), "--json"])

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["detail_urls"] == [docs.doc_url(2), docs.doc_url(1), docs.doc_url(0)]
    assert found["detail"]["kind"] == "ok"
    assert found["record"]["metadata"]["title"]
    assert found["robots"]["start_url_allowed"] is True


def test_a_wrong_selector_says_what_to_fix(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    config = _config(tmp_path, docs, detail_links="div.no-such-list a")

    result = CliRunner().invoke(cli, ["check-source", "local", "--config", str(config)])

    assert result.exit_code == 1
    assert "detail links found: 0" in result.output
    assert "check detail_links" in result.output


def test_unknown_source_is_refused(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=1, per_page=1)
    config = _config(tmp_path, docs)
    result = CliRunner().invoke(cli, ["check-source", "nope", "--config", str(config)])
    assert result.exit_code == 2
    assert "nope" in result.output and "local" in result.output
    assert site.requests == []
