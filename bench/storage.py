"""Storage benchmark: versions written per second, and archive size against raw HTML.

Run by hand (never in the test suite)::

    .venv/bin/python bench/storage.py                      # SQLite in a temp dir, and
                                                           # PostgreSQL if reachable
    .venv/bin/python bench/storage.py --versions 1000 --recrawls 10 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

What it does, on each database, through the real migrations and storage.archive:
1. archives ``--versions`` pages (version 1 each, with their task sections) and times
   the ``archive_page`` calls only (pages and parsed records are generated beforehand);
2. measures the archive's size against the raw HTML bytes of those versions;
3. recrawls every page ``--recrawls`` times with unchanged content but different raw
   bytes (a new page-generation stamp and token each time, as real sites do) and
   measures the growth per page per recrawl.

The pages imitate real 政府信息公开 detail pages of two sites (each with its own ~30 KB
of chrome: inline CSS, navigation with department and county links, friend-link
selects, scripts, a footer), a desktop and a mobile copy of the metadata block, and
Chinese article text whose zstd ratio is close to real report text (~0.45). The mix
is 75 % notices (600–1,500 characters) and 25 % progress reports with 4–9 numbered
tasks (2,000–3,200 characters); ``--reports-only`` benchmarks only the latter.

``--per-page N`` measures instead what storage costs per page of a crawl, on the real
pages of tests/fixtures/real and tests/fixtures/pages (parsed as the crawl parses them;
each archived under N distinct URLs with a distinct marker in its raw bytes, so every
write is a first version with its own blob): CPU and wall µs per ``archive_page`` of a
new page, then per ``record_fetch`` of a 304 (not modified) for each. ``--profile``
prints the top of a cProfile of each phase.

"Archive bytes" is the whole database: SQLite's file size after a WAL checkpoint,
PostgreSQL's total relation size (heap, TOAST, indexes) of the archive's tables.
"Blob bytes" is the compressed raw HTML alone. The PostgreSQL database is a temporary
one created on the server and dropped afterwards.
"""

# ruff: noqa: E501 - HTML templates read better unbroken
from __future__ import annotations

import argparse
import copy
import cProfile
import pstats
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import DEFAULT_POSTGRES, temporary_postgres
from storage.archive import archive_page, ensure_source, record_fetch, start_run
from storage.content import ParsedDoc, ParsedSection
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Base, FetchOutcome

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

T0 = datetime(2024, 5, 1, tzinfo=UTC)

# Phrases of real 政府工作报告 task-progress prose, for titles and chrome link texts.
PHRASES = (
    "深化服务共享",
    "扩大政务服务“一网通办”覆盖面",
    "建设城市大脑运营指挥中心",
    "建立健全运营管理体制",
    "推动数据资源与政务服务融合开发利用",
    "规范和促进全市政务数据资源共享",
    "上线数据共享交换平台",
    "完成与省江淮大数据中心平台级联",
    "实现与省级平台互联互通和数据共享",
    "完善政务数据资源目录",
    "实现数据资源目录与政务服务实施清单互相关联",
    "加强与已签约地区的沟通交流",
    "上线企业群众需求急切的事项",
    "拟签订政务服务区域协作体战略合作协议",
    "推进跨省通办工作对接",
    "组织召开专题会议",
    "原则同意设计方案",
    "确定建设模式",
    "协商楼体设计方案",
    "拟定公司制度",
    "推进相关准备工作",
    "开展应用场景复制推广",
    "参与数字政府运营维护",
    "优化营商环境",
    "深化“放管服”改革",
    "压缩企业开办时间",
    "推行证明事项告知承诺制",
    "强化数据安全保障",
    "开展网络安全检查",
    "加快新型基础设施建设",
    "推进5G基站建设",
    "完善电子证照库",
    "提升“皖事通办”平台服务能力",
    "推动高频事项“最多跑一次”",
    "建立问题清单和整改台账",
    "落实责任分工",
    "加大督查督办力度",
    "开展专项培训",
    "召开推进会",
    "印发实施方案",
    "制定考核办法",
    "完成年度目标任务",
    "受疫情影响进度有所滞后",
    "资金筹措存在困难",
    "部分事项审批链条较长",
    "项目用地尚未落实",
    "人员力量相对薄弱",
    "跨部门协同机制有待完善",
    "加快推进项目建设",
    "确保按期完成",
    "持续跟踪问效",
)
CONNECTORS = (
    "一是",
    "二是",
    "三是",
    "四是",
    "同时，",
    "此外，",
    "截至目前，",
    "下一步，",
    "目前，",
    "今年以来，",
)
PLACES = (
    "宣州区",
    "郎溪县",
    "广德市",
    "宁国市",
    "泾县",
    "绩溪县",
    "旌德县",
    "宣城经开区",
    "高淳区",
    "狸桥镇",
)
DEPTS = (
    "市数据资源局",
    "市发展改革委",
    "市财政局",
    "市住房城乡建设局",
    "市市场监管局",
    "市城建集团",
    "市经信局",
    "市自然资源规划局",
    "市人社局",
    "市商务局",
    "市卫生健康委",
    "市教体局",
)
UNITS = ("个", "项", "条", "家", "万元", "亿元", "个百分点", "件", "次", "人")
STATUSES = ("已完成", "持续推进", "滞后", "按序时推进")


# Two-character words of report prose, most frequent first; text drawn from them with
# a Zipf-like weighting compresses like real report text (zstd ratio ~0.42 against
# ~0.43 for the 宣城 2021 Q3 report).
_WORD_TEXT = """
政府 工作 报告 任务 进展 情况 推进 落实 完成 建设 服务 数据 资源 平台 共享 管理 发展 改革 创新 项目
企业 群众 城市 经济 社会 安全 保障 机制 体系 制度 政策 措施 方案 规划 实施 开展 加强 推动 提升 优化
完善 深化 健全 强化 加快 促进 实现 确保 坚持 组织 召开 会议 研究 部署 印发 出台 制定 建立 形成 培育
引进 招商 投资 资金 财政 预算 审计 税收 金融 信贷 融资 产业 园区 制造 科技 人才 教育 医疗 卫生 健康
养老 就业 社保 住房 交通 道路 水利 环境 生态 污染 治理 防控 应急 消防 市场 监管 质量 标准 信用 营商
审批 许可 备案 登记 证照 办理 窗口 中心 大厅 网络 信息 系统 应用 场景 试点 示范 推广 考核 督查 整改
问题 困难 风险 隐患 排查 整治 乡村 振兴 农业 农村 农民 耕地 粮食 文化 旅游 体育 宣传 培训 队伍 干部
基层 社区 街道 乡镇 区县 部门 单位 省级 市级 县级 全市 全省 长三角 一体化 协同 合作 对接 签约 协议
指挥 调度 运营 维护 运行 监测 预警 分析 评估 统计 年度 季度 月份 目标 指标 比例 总量 增长 同比 环比
累计 新增 减少 提高 降低 压缩 缩短 节约
"""
WORDS = tuple(_WORD_TEXT.split())
WEIGHTS = tuple(1 / (rank + 1) ** 0.7 for rank in range(len(WORDS)))


def sentence(rng: random.Random) -> str:
    """One sentence of report-like prose."""
    parts = [rng.choice(CONNECTORS)]
    if rng.random() < 0.3:
        parts.append(rng.choice(DEPTS) if rng.random() < 0.5 else rng.choice(PLACES))
    for word in rng.choices(WORDS, WEIGHTS, k=rng.randint(6, 16)):
        parts.append(word)
        roll = rng.random()
        if roll < 0.08:
            parts.append(f"{rng.randint(2, 9999)}{rng.choice(UNITS)}")
        elif roll < 0.16:
            parts.append("，")
        elif roll < 0.20:
            parts.append("、")
    return "".join(parts) + "。"


def prose(rng: random.Random, chars: int) -> str:
    """At least ``chars`` characters of prose."""
    out: list[str] = []
    while sum(len(s) for s in out) < chars:
        out.append(sentence(rng))
    return "".join(out)


NUMERALS = "一二三四五六七八九"


@dataclass(frozen=True)
class Site:
    """One site's chrome: everything its pages share."""

    name: str
    host: str
    head: str
    header: str
    footer: str


def make_site(name: str, host: str, rng: random.Random) -> Site:
    """Build ~30 KB of chrome in the style of a Lonsun/Hanweb municipal site."""
    css = "\n".join(
        f".{cls}-{i} {{ margin: {i % 7}px {i % 5}px; padding: {i % 3}px; color: #{rng.randrange(0x1000000):06x};"
        f" font-size: {12 + i % 6}px; line-height: {1.5 + (i % 4) / 10}; }}"
        for i in range(90)
        for cls in ("nav", "xxgk")[: 1 + i % 2]
    )
    nav = "".join(
        f'<li class="nav-item"><a href="https://{host}/col/col{1000 + i}/index.html" target="_blank">'
        f'{rng.choice(DEPTS)}{rng.choice(("动态", "公开", "服务", "互动", "专题"))}</a><div class="sub">'
        + "".join(
            f'<a href="https://{host}/col/col{2000 + i * 10 + j}/index.html">{rng.choice(PHRASES)[:6]}</a>'
            for j in range(8)
        )
        + "</div></li>"
        for i in range(14)
    )
    friends = "".join(
        f'<option value="https://{rng.choice(("www", "fgw", "czj", "sjzy"))}.{p}.gov.cn/">{p}人民政府</option>'
        for p in PLACES * 3
    )
    script = (
        "<script>var siteConfig = {siteId: SITE, columnTree: [TREE], stat: 'https://HOST/stat.js'};\n"
        "function setFont(size){document.getElementById('zoom').style.fontSize=size+'px';}\n"
        "$(function(){ $('.j-info-hit').load('/interface/hit?articleId=' + articleId); "
        "$('.share a').on('click', function(){ window.open(this.href); return false; }); });</script>"
    )
    script = (
        script.replace("SITE", str(rng.randrange(10**6)))
        .replace("TREE", ",".join(str(rng.randrange(10**5)) for _ in range(300)))
        .replace("HOST", host)
    )
    head = (
        '<meta charset="UTF-8"><meta name="renderer" content="webkit">'
        f'<meta name="SiteName" content="{name}"><meta name="SiteDomain" content="{host}">'
        f'<link rel="stylesheet" href="https://{host}/static/css/base.css?v=20240101">'
        f"<style>{css}</style>{script}"
    )
    header = (
        '<div class="top-bar"><a href="#">设为首页</a>|<a href="#">加入收藏</a>|<a href="#">长辈版</a>|'
        f'<a href="#">无障碍浏览</a></div><div class="logo"><img src="https://{host}/images/logo.png"'
        f' alt="{name}"></div><form class="search" action="https://{host}/search"><input name="q">'
        f'</form><ul class="nav">{nav}</ul>'
    )
    footer = (
        f'<div class="friend-links"><select onchange="window.open(this.value)">{friends}</select>'
        f'<select>{friends[: len(friends) // 2]}</select></div><div class="footer"><p>主办单位：{name}'
        f"办公室　承办单位：{rng.choice(DEPTS)}</p><p>网站标识码：{rng.randrange(10**9, 10**10)}　"
        f"皖ICP备{rng.randrange(10**7, 10**8)}号　皖公网安备 {rng.randrange(10**13, 10**14)}号</p>"
        f"<p>地址：{rng.choice(PLACES)}{rng.choice(PHRASES)[:4]}路{rng.randint(1, 300)}号　"
        f"联系电话：0563-{rng.randrange(10**6, 10**7)}</p></div>{script.replace('siteConfig', 'statConfig')}"
    )
    return Site(name, host, head, header, footer)


@dataclass
class Page:
    """One generated document: its URL, parsed record and a function of its raw HTML."""

    url: str
    site: Site
    doc: ParsedDoc
    related: list[tuple[str, str]]


def make_page(site: Site, number: int, rng: random.Random, *, report: bool) -> Page:
    """Build the parsed record of one page (the HTML comes from :func:`render`)."""
    year = rng.choice((2021, 2022, 2023, 2024))
    published = datetime(year, rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 17), 25)
    sections: list[ParsedSection] = []
    if report:
        title = f"{year}年度{rng.choice('一二三四')}季度政府工作报告任务进展情况（{number}）"
        lines: list[str] = []
        for n in range(1, rng.randint(4, 9) + 1):
            section: ParsedSection = {
                "number": n,
                "title": rng.choice(PHRASES) + "，" + rng.choice(PHRASES),
                "status": rng.choice(STATUSES),
                "progress": prose(rng, rng.randint(150, 260)),
                "problems": prose(rng, 40) if rng.random() < 0.3 else None,
                "next_steps": prose(rng, rng.randint(60, 120)),
                "extra": {},
            }
            sections.append(section)
            lines += [
                f"{NUMERALS[n - 1]}、{section['title']}。",
                f"完成状态：{section['status']}",
                f"进展情况：{section['progress']}",
            ]
            if section["problems"]:
                lines.append(f"存在的问题：{section['problems']}")
            lines.append(f"下一步工作安排：{section['next_steps']}")
        body = "\n".join(lines)
    else:
        title = f"关于{rng.choice(PHRASES)}的通知（{site.name[:2]}〔{year}〕{number}号）"
        body = "\n".join(prose(rng, rng.randint(120, 300)) for _ in range(rng.randint(3, 6)))
    publisher = rng.choice(DEPTS)
    doc: ParsedDoc = {
        "encoding": "utf-8",
        "encoding_source": "meta",
        "metadata": {
            "title": title,
            "index_no": f"11341700744889543Y/{year}{published.month:02d}-{number:05d}",
            "category": rng.choice(("决策部署落实情况", "通知公告", "政策文件", "工作动态")),
            "publisher": publisher,
            "topic": rng.choice(("其他", "综合政务", "国民经济管理")),
            "doc_number": None if report else f"宣政办〔{year}〕{number}号",
            "published_date": published.date().isoformat(),
            "published_at": published.isoformat() + "+08:00",
            "written_date": None,
            "effective_date": None,
            "expiry_date": None,
            "validity": None if report else "有效",
            "info_source": publisher,
            "keywords": None,
            "summary": None,
            "metadata_extra": {"信息格式/语种": "中文", "体裁分类": "报告" if report else "通知"},
        },
        "sections": sections,
        "body_text": body,
        "warnings": [],
    }
    related = [
        (
            rng.choice(PHRASES),
            f"https://{site.host}/OpennessContent/show/{rng.randrange(10**6)}.html",
        )
        for _ in range(8)
    ]
    return Page(f"https://{site.host}/OpennessContent/show/{number}.html", site, doc, related)


def render(page: Page, generation: int) -> bytes:
    """Return the page's raw HTML. ``generation`` changes only volatile parts (the
    page-generation stamp and a CSRF-style token), as a site's republish does."""
    meta = page.doc["metadata"]
    stamp = (T0 + timedelta(hours=generation)).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        ("索引号", meta["index_no"]),
        ("组配分类", meta["category"]),
        ("发布机构", meta["publisher"]),
        ("主题分类", meta["topic"]),
        ("名称", meta["title"]),
        ("文号", meta["doc_number"] or ""),
        ("发布日期", meta["published_date"]),
    ]
    table = "".join(f"<tr><th>{k}：</th><td>{v}</td></tr>" for k, v in rows)
    mobile = "".join(f"<li><span>{k}：</span>{v}</li>" for k, v in rows)
    body = "".join(f"<p>{line}</p>" for line in page.doc["body_text"].splitlines())
    related = "".join(f'<li><a href="{u}">{t}</a></li>' for t, u in page.related)
    site = page.site
    html = (
        f'<!DOCTYPE html><html lang="zh-CN"><head>{site.head}<title>{meta["title"]}_{site.name}</title>'
        f'<meta name="ArticleTitle" content="{meta["title"]}"><meta name="PubDate" content="{meta["published_date"]}">'
        f'<meta name="HtmlGenerateTime" content="{stamp}"><meta name="csrf-token" content="{secrets.token_hex(16)}">'
        f'</head><body>{site.header}<div class="position">您现在所在的位置：<a href="/">网站首页</a>&gt;'
        f'<a href="#">{meta["publisher"]}</a>&gt;<a href="#">{meta["category"]}</a></div>'
        f'<table class="table_suoyin hidden-xs">{table}</table><ul class="visible-xs">{mobile}</ul>'
        f'<h1 class="newstitle">{meta["title"]}</h1><div class="newsinfo">发布时间：{meta["published_date"]}'
        f' 来源：{meta["info_source"]} 浏览次数：<span class="j-info-hit"></span> 字体：[<a>大</a> <a>中</a> <a>小</a>]</div>'
        f'<div id="zoom" class="j-fontContent">{body}</div><div class="share">分享到：微信 微博 打印 关闭</div>'
        f'<div class="related"><h3>相关文章</h3><ul>{related}</ul></div>{site.footer}'
        f"<!-- 页面生成时间 {stamp} --></body></html>"
    )
    return html.encode("utf-8")


def reparse(raw: bytes, content_type: str | None) -> ParsedDoc:
    raise AssertionError("the benchmark never changes parser_version")


def archive_size(engine: Engine) -> tuple[int, int]:
    """Return (database bytes, blob data bytes)."""
    if engine.dialect.name == "sqlite":
        # Outside any transaction, so the checkpoint can move the whole WAL into the file.
        raw = engine.raw_connection()
        try:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = raw.execute("PRAGMA page_count").fetchone()[0]
            size = raw.execute("PRAGMA page_size").fetchone()[0]
            blobs = raw.execute("SELECT coalesce(sum(length(data)), 0) FROM blobs").fetchone()[0]
        finally:
            raw.close()
        return int(pages) * int(size), int(blobs)
    with engine.connect() as conn:
        blob_bytes = int(
            conn.execute(text("SELECT coalesce(sum(length(data)), 0) FROM blobs")).scalar_one()
        )
        names = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
        total = conn.execute(
            text("SELECT " + " + ".join(f"pg_total_relation_size('{n}')" for n in names))
        ).scalar_one()
        return int(total), blob_bytes


def _name_info_source(engine: Engine) -> None:
    """Before revision 0007 the page's 来源 column is ``page_versions.source``; this
    govarchive writes ``info_source``. A column's name costs nothing, so an archive at an
    earlier revision (``--revision 0005``) gets 0007's name and is measured otherwise as
    it is (both databases rename in place, views follow)."""
    with engine.begin() as conn:
        names = {c["name"] for c in inspect(conn).get_columns("page_versions")}
        if "source" in names:
            conn.execute(text("ALTER TABLE page_versions RENAME COLUMN source TO info_source"))


def run(
    engine: Engine, pages: list[Page], recrawls: int, label: str, revision: str = "head"
) -> dict[str, Any]:
    upgrade(engine, revision)
    _name_info_source(engine)
    sources = {p.site.name: ensure_source(engine, p.site.name) for p in pages}
    runs = {name: start_run(engine, sid, now=T0) for name, sid in sources.items()}
    first = [(p, render(p, 0)) for p in pages]
    raw_total = sum(len(raw) for _, raw in first)
    sections = sum(len(p.doc["sections"]) for p in pages)
    empty, _ = archive_size(engine)

    def write(page: Page, raw: bytes, at: datetime) -> str:
        return archive_page(
            engine,
            run_id=runs[page.site.name],
            source_id=sources[page.site.name],
            url=page.url,
            requested_at=at,
            http_status=200,
            raw=raw,
            content_type="text/html; charset=utf-8",
            doc=page.doc,
            parser_version="bench",
            reparse=reparse,
            etag=None,
            last_modified=None,
            elapsed_ms=150,
        ).outcome

    started = time.perf_counter()
    outcomes = {write(p, raw, T0) for p, raw in first}
    elapsed = time.perf_counter() - started
    assert outcomes == {"new_version"}, outcomes
    after_versions, blob_bytes = archive_size(engine)

    recrawl_raw = [[render(p, g) for p in pages] for g in range(1, recrawls + 1)]
    started = time.perf_counter()
    for g, raws in enumerate(recrawl_raw, start=1):
        at = T0 + timedelta(days=g)
        outcomes = {write(p, raw, at) for p, raw in zip(pages, raws, strict=True)}
        assert outcomes == {"unchanged"}, outcomes
    recrawl_elapsed = time.perf_counter() - started
    after_recrawls, _ = archive_size(engine)
    archived = after_versions - empty
    result = {
        "database": label,
        "versions": len(pages),
        "sections": sections,
        "versions_per_s": len(pages) / elapsed,
        "unchanged_per_s": len(pages) * recrawls / recrawl_elapsed if recrawls else 0.0,
        "raw_bytes": raw_total,
        "mean_page_bytes": raw_total / len(pages),
        "archive_bytes": archived,
        "archive_ratio": archived / raw_total,
        "blob_ratio": blob_bytes / raw_total,
        "bytes_per_unchanged_recrawl": (after_recrawls - after_versions) / (len(pages) * recrawls)
        if recrawls
        else 0.0,
    }
    return result


def real_pages() -> list[tuple[str, bytes, ParsedDoc]]:
    """The fixture pages (name, raw bytes, record as the crawl reads it)."""
    from scraper.crawling.pipeline import reparse_raw

    pages = []
    for folder in ("real", "pages"):
        for path in sorted((FIXTURES / folder).glob("*.html")):
            raw = path.read_bytes()
            pages.append((path.name, raw, reparse_raw(raw, "text/html")))
    return pages


def per_page(engine: Engine, label: str, n: int, profile: bool) -> dict[str, float]:
    """Archive ``n`` new pages made from the fixtures, then record a 304 for each; print
    and return CPU µs per page of each phase (``first``, ``not_modified``)."""
    from scraper.crawling.pipeline import reparse_raw

    upgrade(engine, "head")
    source_id = ensure_source(engine, "bench")
    run_id = start_run(engine, source_id, now=T0)
    fixtures = real_pages()
    items = []
    for i in range(n):
        name, raw, doc = fixtures[i % len(fixtures)]
        url = f"https://www.example.gov.cn/{i}/{name}"
        items.append((url, raw + b"<!-- %d -->" % i, copy.deepcopy(doc)))  # copied untimed

    def first() -> None:
        for url, raw, doc in items:
            archive_page(
                engine,
                run_id=run_id,
                source_id=source_id,
                url=url,
                requested_at=T0,
                http_status=200,
                raw=raw,
                content_type="text/html",
                doc=doc,
                parser_version="bench",
                reparse=reparse_raw,
                etag='"bench"',
                last_modified=None,
                elapsed_ms=10,
            )

    def not_modified() -> None:
        for url, _, _ in items:
            record_fetch(
                engine,
                run_id=run_id,
                source_id=source_id,
                url=url,
                requested_at=T0 + timedelta(days=1),
                outcome=FetchOutcome.NOT_MODIFIED,
                http_status=304,
                elapsed_ms=5,
            )

    result = {}
    for phase, body in (("first", first), ("not_modified", not_modified)):
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        body()
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        result[phase] = cpu / n * 1e6
        print(
            f"{label} {phase}: {cpu / n * 1e6:.0f} µs CPU/page, {wall / n * 1e6:.0f} µs wall/page"
        )
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return result


def print_result(r: dict[str, Any]) -> None:
    print(
        f"{r['database']}: {r['versions']} versions ({r['sections']} sections), "
        f"mean page {r['mean_page_bytes'] / 1024:.1f} KB\n"
        f"  write: {r['versions_per_s']:.0f} versions/s; unchanged recrawl: {r['unchanged_per_s']:.0f} pages/s\n"
        f"  archive/raw: {r['archive_ratio']:.3f} (database {r['archive_bytes'] / 1e6:.1f} MB, raw {r['raw_bytes'] / 1e6:.1f} MB);"
        f" blobs/raw: {r['blob_ratio']:.3f}\n"
        f"  growth per page per unchanged recrawl: {r['bytes_per_unchanged_recrawl']:.0f} bytes"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--recrawls", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20211011)
    parser.add_argument(
        "--per-page", type=int, default=0, metavar="N", help="µs per page on N real pages"
    )
    parser.add_argument("--profile", action="store_true", help="with --per-page: cProfile")
    parser.add_argument("--reports-only", action="store_true", help="only progress-report pages")
    parser.add_argument(
        "--revision",
        default="head",
        help="schema revision to measure (e.g. 0005: before the full-text indexes of 0006)",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES,
        help="server URL used to create a temporary database ('' to skip PostgreSQL)",
    )
    args = parser.parse_args(argv)
    if args.per_page:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            per_page(engine, "SQLite", args.per_page, args.profile)
            engine.dispose()
        if args.postgres:
            with temporary_postgres(args.postgres) as pg:
                if pg is not None:
                    per_page(pg, "PostgreSQL", args.per_page, args.profile)
        return
    rng = random.Random(args.seed)
    sites = [
        make_site("宣城市人民政府", "www.xuancheng.gov.cn", rng),
        make_site("安庆市人民政府", "www.anqing.gov.cn", rng),
    ]
    pages = [
        make_page(sites[i % 2], i + 1, rng, report=args.reports_only or rng.random() < 0.25)
        for i in range(args.versions)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        print_result(run(engine, pages, args.recrawls, "SQLite", args.revision))
        engine.dispose()
    if args.postgres:
        with temporary_postgres(args.postgres) as pg:
            if pg is not None:
                print_result(run(pg, pages, args.recrawls, "PostgreSQL", args.revision))


if __name__ == "__main__":
    main()
