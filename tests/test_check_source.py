"""``govarchive check-source``: what a source finds, shown without archiving anything."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
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


def test_progress_goes_to_stderr_and_json_stays_clean(site: TestSite, tmp_path: Path) -> None:
    docs = DisclosureSite(site, count=3, per_page=3)
    config = _config(tmp_path, docs)

    result = CliRunner().invoke(cli, ["check-source", "local", "--config", str(config), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["network_error"] is None
    lists = [site.url(f"/OpennessContent/showList/1/2/page_{n}.html") for n in (1, 2)]
    assert result.stderr.splitlines() == [
        f"check-source: checking robots.txt of {site.host} …",
        *(f"check-source: fetching list page {url} …" for url in lists),
        f"check-source: fetching detail page {docs.doc_url(2)} …",
    ]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver answers at once that no host exists: no real lookup, no timeout."""

    def no_network(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)


def _offline_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    source = {"name": "gov", "detail_links": "ul a",
              "start_urls": ["http://nonexistent.invalid/list.html"]}  # fmt: skip
    path.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    return path


@pytest.mark.usefixtures("offline")
def test_nothing_fetched_blames_the_network_not_the_selectors(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["check-source", "gov", "--config", str(_offline_config(tmp_path))]
    )

    assert result.exit_code == 1
    assert "check detail_links" not in result.stdout
    assert (
        "  nothing could be fetched from nonexistent.invalid (host nonexistent.invalid does not "
        "resolve: [Errno -2] Name or service not known): the network or the site is down, not "
        "the selectors; check the connection and the start URL (offline? to try govarchive "
        "without a network: govarchive demo)"
    ) in result.stdout.splitlines()
    assert "the network, not the selectors" in result.stderr
    assert "check-source: fetching list page http://nonexistent.invalid/list.html …" in (
        result.stderr.splitlines()
    )


@pytest.mark.usefixtures("offline")
def test_json_names_the_network_error(tmp_path: Path) -> None:
    config = str(_offline_config(tmp_path))
    result = CliRunner().invoke(cli, ["check-source", "gov", "--config", config, "--json"])

    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["network_error"].startswith("nothing could be fetched from nonexistent.invalid")
    assert found["detail"] is None
