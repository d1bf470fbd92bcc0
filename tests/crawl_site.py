"""A disclosure site for the crawl tests, built on the local test site.

It serves xuancheng-style list pages (``/OpennessContent/showList/1/2/page_{n}.html``)
linking to detail pages taken from the parser's golden fixture corpus (real-looking
pages in several CMS layouts and encodings), plus helpers to write a config pointing
at it and to read the archive back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from scraper.config import Config, config_from_mapping
from tests.site.server import TestSite

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
LIST_PATH = "/OpennessContent/showList/1/2/page_{n}.html"


def fixture_pages() -> list[tuple[bytes, str | None]]:
    """Return (html bytes, content type or None) of every corpus page, in name order."""
    pages = []
    for html in sorted(FIXTURES.glob("*.html")):
        golden = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        pages.append((html.read_bytes(), golden.get("_input", {}).get("content_type")))
    return pages


@dataclass
class DisclosureSite:
    """A list of ``count`` documents, ``per_page`` links per list page."""

    site: TestSite
    count: int = 12
    per_page: int = 5
    etags: bool = True
    bodies: dict[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        corpus = fixture_pages()
        self.site.robots("User-agent: *\nDisallow: /private/\n")
        for i in range(self.count):
            body, content_type = corpus[i % len(corpus)]
            self.bodies[i] = body
            self.serve(i, body, content_type=content_type)
        self.publish_lists()

    def doc_path(self, i: int) -> str:
        return f"/OpennessContent/show/{1000 + i}.html"

    def doc_url(self, i: int) -> str:
        return self.site.url(self.doc_path(i))

    def serve(self, i: int, body: bytes, *, content_type: str | None = None, **kwargs: Any) -> None:
        """(Re)publish document ``i`` with ``body``; a new body gets a new ETag."""
        tag = f'"{i}-{hashlib.sha1(body).hexdigest()[:12]}"' if self.etags else None
        self.bodies[i] = body
        self.site.add(
            self.doc_path(i),
            body,
            content_type=content_type or "text/html",
            etag=tag,
            **kwargs,
        )

    def publish_lists(self, extra_links: str = "") -> None:
        """Write the list pages for documents 0..count-1 (newest first, as CMSs do)."""
        ids = list(range(self.count))[::-1]
        pages = [ids[k : k + self.per_page] for k in range(0, len(ids), self.per_page)]
        for n, chunk in enumerate(pages, start=1):
            links = "".join(
                f'<li><a href="{self.doc_path(i)}" target="_blank">文件 {i}</a>'
                f"<span>2021-10-{(i % 28) + 1:02d}</span></li>"
                for i in chunk
            )
            more = extra_links if n == 1 else ""
            self.site.add(
                LIST_PATH.format(n=n),
                "<!DOCTYPE html><html><head><meta charset='utf-8'><title>决策部署落实情况</title>"
                "</head><body><div class='nav'><a href='/'>首页</a></div>"
                f"<ul class='doc_list'>{links}{more}</ul>"
                f"<div class='page'>共{len(pages)}页</div></body></html>",
            )

    def config(self, database: str, **crawl: Any) -> Config:
        """Return a validated config with one source, ``local``, pointing at this site."""
        settings: dict[str, Any] = {
            "requests_per_second": 1000,
            "per_host_concurrency": 4,
            "max_concurrency": 4,
            "timeout": 5,
            "retries": 1,
            "backoff_base": 0.01,
            "max_retry_after": 0.05,
        }
        settings.update(crawl)
        return config_from_mapping(self.document(database, settings), origin="test config")

    def document(self, database: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Return the config as a YAML-ready mapping."""
        return {
            "database": database,
            "crawl": settings,
            "sources": [
                {
                    "name": "local",
                    "start_urls": [self.site.url(LIST_PATH.format(n=1))],
                    "detail_links": "ul.doc_list a",
                    "list_url_template": "page_{n}.html",
                    "schedule": "0 6 * * *",
                }
            ],
        }


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    """Return the first column of the first row of ``sql``."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    """Return every row of ``sql`` as tuples."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def outcomes(engine: Engine, run_id: int) -> dict[str, int]:
    """Return {outcome: count} of the page fetches of run ``run_id`` (not attachments)."""
    found = rows(
        engine,
        # the page fetches: requests for attachments have their own assertions
        "SELECT outcome, COUNT(*) FROM fetches WHERE crawl_run_id = :r AND NOT attachment"
        " GROUP BY outcome",
        r=run_id,
    )
    return {outcome: int(n) for outcome, n in found}
