"""Not fooled by a bad moment: a known page answering junk once leaves no version.

Issue 16, finding 2: a known page that answered once with junk and then recovered (a 200
with an empty body, a 系统繁忙 page, truncated HTML, a page that suddenly lost its fields)
left A → junk → A, two false versions. Now such an answer is recorded as a ``suspect``
fetch and becomes a version only when the next crawl confirms it; a real edit of a
healthy page is still a version at once. Crawled end to end into SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from scraper.config import Config
from scraper.crawling.pipeline import SourceRun, crawl
from tests.crawl_site import DisclosureSite, outcomes, rows, scalar
from tests.site.server import TestSite

pytestmark = pytest.mark.timeout(120)

TITLE = "2021年度三季度政府工作报告任务进展情况"
PARAS = (
    "一、深化服务共享，扩大政务服务一网通办覆盖面。",
    "完成状态：持续推进",
    "进展情况：印发工作实施方案，与沪苏浙二十余个城市签订合作协议，上线跨省通办事项一百二十项。",
    "二、建设城市大脑运营指挥中心。",
    "完成状态：滞后",
    "进展情况：现正协商指挥中心三至五层楼体设计方案，计划年内完成主体改造。",
)


def report(*, block: bool = True, paras: tuple[str, ...] = PARAS, inner: str = "") -> bytes:
    """A progress report in a layout the parser reads: a metadata table (five fields
    besides the title), a headline and an article with two task sections. ``inner``
    replaces the metadata table, headline and article (a page that kept only the chrome)."""
    table = (
        "<table class='xxgk'><tr><td>索引号：</td><td>11341700744889543Y/202110-00006</td>"
        "<td>发布机构：</td><td>市数据资源局</td></tr>"
        "<tr><td>主题分类：</td><td>其他</td><td>发布日期：</td><td>2021-10-11</td></tr>"
        f"<tr><td>文号：</td><td>宣数〔2021〕12号</td><td>名称：</td><td>{TITLE}</td></tr></table>"
    )
    article = "".join(f"<p>{p}</p>" for p in paras)
    content = inner or f"{table if block else ''}<h1>{TITLE}</h1><div id='zoom'>{article}</div>"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{TITLE}_宣城市人民政府</title></head><body>"
        "<div class='nav'><a href='/'>首页</a> | <a href='/zwgk/'>政务公开</a></div>"
        f"{content}<div class='footer'>宣城市人民政府 版权所有</div></body></html>"
    ).encode()


HEALTHY = report()

#: name → (body, extra arguments of DisclosureSite.serve, the reason's words in fetches.error)
JUNK: dict[str, tuple[bytes, dict[str, Any], str]] = {
    "empty 200": (b"", {}, "empty"),
    "blank page": (b"<html><head></head><body> </body></html>", {}, "empty"),
    "busy page": (
        "<html><head><title>提示</title></head><body><h2>系统繁忙，请稍后再试！</h2></body></html>".encode(),
        {},
        "busy",
    ),
    "maintenance inside the site's chrome": (
        report(
            inner="<div class='notice'><p>网站正在升级维护中，给您带来不便，敬请谅解。</p></div>"
        ),
        {},
        "busy",
    ),
    "truncated HTML": (
        HEALTHY[: HEALTHY.index("进展情况：现正".encode())],
        {"chunked": True},
        "truncated",
    ),
    "lost its fields": (report(block=False), {}, "fields"),
    "lost its sections": (
        report(paras=("关于政府工作报告任务进展情况的说明，详见附件。" * 3,)),
        {},
        "sections",
    ),
}


def _crawl(config: Config, engine: Engine) -> SourceRun:
    (run,) = asyncio.run(crawl(config, engine))
    return run


def _versions(engine: Engine, url: str) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT v.version, v.body_text FROM page_versions v JOIN pages p ON p.id = v.page_id "
        "WHERE p.url = :u ORDER BY v.version",
        u=url,
    )


@pytest.fixture
def docs(site: TestSite) -> DisclosureSite:
    docs = DisclosureSite(site, count=1, per_page=1)
    docs.serve(0, HEALTHY)
    return docs


@pytest.mark.parametrize("junk", list(JUNK))
def test_a_bad_moment_of_a_known_page_leaves_no_version(
    docs: DisclosureSite, engine: Engine, database_url: str, junk: str
) -> None:
    config = docs.config(database_url)
    _crawl(config, engine)
    url = docs.doc_url(0)
    etag = scalar(engine, "SELECT etag FROM pages WHERE url = :u", u=url)
    fetched = scalar(engine, "SELECT last_fetched_at FROM pages WHERE url = :u", u=url)
    body, serve, reason = JUNK[junk]
    docs.serve(0, body, **serve)

    bad = _crawl(config, engine)

    assert outcomes(engine, bad.run_id) == {"suspect": 1, "list_page": 2}
    [(page_id, error, version_id, content_hash)] = rows(
        engine,
        "SELECT page_id, error, version_id, content_hash FROM fetches "
        "WHERE crawl_run_id = :r AND outcome = 'suspect'",
        r=bad.run_id,
    )
    assert page_id is not None and version_id is None and len(content_hash) == 64
    assert reason in error, error
    assert len(_versions(engine, url)) == 1
    # the suspect answer's validators and time are not the page's
    assert scalar(engine, "SELECT etag FROM pages WHERE url = :u", u=url) == etag
    assert scalar(engine, "SELECT last_fetched_at FROM pages WHERE url = :u", u=url) == fetched
    assert bad.summary.errors == 1 and bad.summary.new_versions == 0

    docs.serve(0, HEALTHY)
    recovered = _crawl(config, engine)

    assert outcomes(engine, recovered.run_id) == {"not_modified": 1, "list_page": 2}
    assert [v for v, _ in _versions(engine, url)] == [1]


def test_junk_confirmed_by_the_next_crawl_becomes_a_version(
    docs: DisclosureSite, engine: Engine, database_url: str
) -> None:
    config = docs.config(database_url)
    _crawl(config, engine)
    busy = JUNK["busy page"][0]
    docs.serve(0, busy)

    first = _crawl(config, engine)
    second = _crawl(config, engine)

    assert outcomes(engine, first.run_id) == {"suspect": 1, "list_page": 2}
    assert outcomes(engine, second.run_id) == {"new_version": 1, "list_page": 2}
    versions = _versions(engine, docs.doc_url(0))
    assert [v for v, _ in versions] == [1, 2]
    assert "系统繁忙" in versions[-1][1]


def test_a_state_that_lasts_is_archived_even_when_its_bytes_never_repeat(
    docs: DisclosureSite, engine: Engine, database_url: str
) -> None:
    """Junk whose text changes on every request is never confirmed by its content; after
    SUSPECT_LIMIT suspect answers in a row the newest is archived all the same, so a page
    that really changed that way is not held back for ever."""
    from storage.transient import SUSPECT_LIMIT

    config = docs.config(database_url)
    _crawl(config, engine)
    got = []
    for n in range(SUSPECT_LIMIT):
        docs.serve(0, f"<html><body><p>系统繁忙，请稍后再试（{n}）</p></body></html>".encode())
        run = _crawl(config, engine)
        got.append(next(o for o in outcomes(engine, run.run_id) if o != "list_page"))
    assert got == ["suspect"] * (SUSPECT_LIMIT - 1) + ["new_version"]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda: report(paras=(*PARAS[:4], "完成状态：已完成", PARAS[5])), id="status"),
        pytest.param(lambda: report(paras=PARAS[:3]), id="a task removed"),
        pytest.param(
            lambda: HEALTHY.replace("宣数〔2021〕12号".encode(), "宣数〔2021〕13号".encode()),
            id="a field",
        ),
    ],
)
def test_a_real_edit_of_a_healthy_page_is_a_version_at_once(
    docs: DisclosureSite, engine: Engine, database_url: str, edit: Callable[[], bytes]
) -> None:
    config = docs.config(database_url)
    _crawl(config, engine)
    docs.serve(0, edit())

    again = _crawl(config, engine)

    assert outcomes(engine, again.run_id) == {"new_version": 1, "list_page": 2}


def test_a_page_whose_latest_version_is_junk_recovers_at_once(
    docs: DisclosureSite, engine: Engine, database_url: str
) -> None:
    """A new page has no healthy version to compare with: its first answer is archived
    whatever it is, and the real content that follows is a version at once."""
    config = docs.config(database_url)
    docs.serve(0, JUNK["busy page"][0])
    first = _crawl(config, engine)
    docs.serve(0, HEALTHY)

    second = _crawl(config, engine)

    assert outcomes(engine, first.run_id) == {"new_version": 1, "list_page": 2}
    assert outcomes(engine, second.run_id) == {"new_version": 1, "list_page": 2}
