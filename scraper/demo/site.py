"""A small replica of a 政府信息公开 column, served on 127.0.0.1 for ``govarchive demo``.

It imitates the 宣城市数据资源局 决策部署落实情况 column (a Lonsun-built xuancheng.gov.cn
department site): list pages at ``/OpennessContent/showList/2654/17/page_{n}.html``, five
documents each, newest first; documents at ``/OpennessContent/show/{id}.html`` with the
site's metadata table (desktop and mobile copies), the info line with a view counter,
and task sections (一、… 完成状态 / 进展情况 / 存在的问题 / 下一步工作安排). The documents
are in documents.json, the markup in detail.html and list.html (package data).

The site has two states, one per demo crawl. :meth:`DemoSite.advance` moves to the
second: task 二 of the 2021 Q3 report goes from 持续推进 to 已完成, a new report appears,
one notice is withdrawn (404), and every report's view counter and generation stamp
move (which must not make versions). Two static documents answer ``If-None-Match``
with 304. robots.txt disallows ``/OpennessContent/show/preview/``, and the list links to
one such page, so the crawl shows a skipped_robots fetch.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from string import Template
from typing import Any

LIST_PATH = "/OpennessContent/showList/2654/17/page_{n}.html"
DOC_PATH = "/OpennessContent/show/{id}.html"
PREVIEW_PATH = "/OpennessContent/show/preview/{id}.html"
ROBOTS_TXT = "User-agent: *\nDisallow: /OpennessContent/show/preview/\n"
PER_PAGE = 5
NUMERALS = "一二三四五六七八九十"

_GENERATED = datetime(2022, 4, 12, 18, 0)


@dataclass(frozen=True, slots=True)
class Response:
    """What the site answers for one path."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None


def _resource(name: str) -> str:
    return resources.files("scraper.demo").joinpath(name).read_text(encoding="utf-8")


class DemoSite:
    """The replica's pages in their current state (crawl 1 or crawl 2)."""

    def __init__(self) -> None:
        data = json.loads(_resource("documents.json"))
        self.site_name: str = data["site_name"]
        self.column: str = data["column"]
        self.publisher: str = data["publisher"]
        self.documents: list[dict[str, Any]] = data["documents"]
        self.detail = Template(_resource("detail.html"))
        self.listing = Template(_resource("list.html"))
        self.crawl = 1

    def advance(self) -> None:
        """Move to the second crawl's state."""
        self.crawl = 2

    def published(self) -> list[dict[str, Any]]:
        """Return the documents online now, newest first."""
        online = [
            d
            for d in self.documents
            if not (self.crawl == 1 and d.get("new_in_second_crawl"))
            and not (self.crawl == 2 and d.get("gone_in_second_crawl"))
        ]
        return sorted(online, key=lambda d: d["published"], reverse=True)

    def respond(self, path: str) -> Response:
        """Return the answer for ``path`` (query strings are ignored)."""
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return Response(200, ROBOTS_TXT.encode(), "text/plain; charset=utf-8")
        documents = self.published()
        pages = max(1, -(-len(documents) // PER_PAGE))
        for n in range(1, pages + 1):
            if path == LIST_PATH.format(n=n):
                return self._ok(self._list_page(documents, n, pages))
        for doc in documents:
            if path == DOC_PATH.format(id=doc["id"]):
                return self._ok(self._document(doc))
        return Response(404, "<html><body><h1>404 页面不存在</h1></body></html>".encode())

    def _ok(self, body: bytes) -> Response:
        return Response(200, body, etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"')

    def _list_page(self, documents: list[dict[str, Any]], n: int, pages: int) -> bytes:
        chunk = documents[(n - 1) * PER_PAGE : n * PER_PAGE]
        items = [
            f'    <li><a href="{DOC_PATH.format(id=d["id"])}" target="_blank" '
            f'title="{html.escape(d["title"])}">{html.escape(d["title"])}</a>'
            f'<span class="date">{d["published"][:10]}</span></li>'
            for d in chunk
        ]
        if n == 1:  # a draft the site keeps out of robots' reach
            items.append(
                f'    <li><a href="{PREVIEW_PATH.format(id=2409999)}">（预览）2022年度二季度'
                "政府工作报告任务进展情况</a></li>"
            )
        paging = [
            f'    <a href="page_{k}.html">{"第" + str(k) + "页" if k != n else str(k)}</a>'
            for k in range(1, pages + 1)
        ]
        return self.listing.substitute(
            column=self.column,
            site_name=self.site_name,
            publisher=self.publisher,
            generated=self._generated(),
            items="\n".join(items),
            pages=pages,
            page=n,
            paging="\n".join(paging),
        ).encode("utf-8")

    def _document(self, doc: dict[str, Any]) -> bytes:
        static = bool(doc.get("static"))
        published = doc["published"]
        return self.detail.substitute(
            site_name=self.site_name,
            title=html.escape(doc["title"]),
            category=self.column,
            publisher=self.publisher,
            topic=doc["topic"],
            index_no=doc["index_no"],
            doc_number=html.escape(doc["doc_number"]),
            published=published,
            published_date=published[:10],
            generated=_GENERATED.isoformat(sep=" ") if static else self._generated(),
            # Counters move between visits on reports; static pages stay byte-identical.
            views=str(doc["id"] % 997) if static else str(doc["id"] % 997 + 37 * self.crawl),
            content=self._content(doc),
        ).encode("utf-8")

    def _generated(self) -> str:
        return (_GENERATED + timedelta(days=self.crawl)).isoformat(sep=" ")

    def _content(self, doc: dict[str, Any]) -> str:
        lines = [f"<p>{html.escape(p)}</p>" for p in doc["paragraphs"]]
        changes = doc.get("second_crawl", {}).get("tasks", {}) if self.crawl == 2 else {}
        for number, task in enumerate(doc["tasks"], start=1):
            task = {**task, **changes.get(str(number), {})}
            lines.append(
                f'<p style="text-indent: 2em;"><strong>{NUMERALS[number - 1]}、'
                f"{html.escape(task['title'])}。</strong></p>"
            )
            for label, key in (
                ("完成状态", "status"),
                ("进展情况", "progress"),
                ("存在的问题", "problems"),
                ("下一步工作安排", "next_steps"),
            ):
                if key in task:
                    lines.append(
                        f'<p style="text-indent: 2em;">{label}：{html.escape(task[key])}</p>'
                    )
            lines.append("<p><br></p>")
        return "\n".join(lines)


def _handler(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "LonsunDemo/1.0"

        def do_GET(self) -> None:
            answer = site.respond(self.path)
            if answer.etag is not None and self.headers.get("If-None-Match") == answer.etag:
                self.send_response(304)
                self.send_header("ETag", answer.etag)
                self.end_headers()
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            if answer.etag is not None:
                self.send_header("ETag", answer.etag)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the demo prints its own summary

    return Handler


@contextmanager
def serve(site: DemoSite) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a free port) in a thread; yield its base URL
    (``http://127.0.0.1:PORT``). The server stops when the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="govarchive-demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
