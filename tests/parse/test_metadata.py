"""The metadata block in every layout, merging copies, fallbacks (through parse_page)."""

from __future__ import annotations

import pytest

from scraper.parse import parse_page
from scraper.parse.metadata import PageContext
from scraper.parse.title import title_fallback as _title_fallback

BODY = "<p>" + "根据工作安排，现将有关情况通报如下。" * 4 + "</p>"
NAV = (
    '<div class="nav"><ul><li><a href="/">首页</a></li>'
    '<li><a href="/x">信息公开</a></li></ul></div>'
)


def page(block: str, *, head: str = "", after: str = "", body: str = BODY) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{NAV}"
        f"{block}<div id='zoom'>{body}</div>{after}"
        "<div class='footer'>主办单位：宣城市人民政府办公室 地址：宣城市 邮政编码：242000</div>"
        "</body></html>"
    ).encode()


DESKTOP = """
<table class="table_suoyin hidden-xs">
 <tr><th>索引号：</th><td>11341700744889543Y/202110-00006</td><th>组配分类：</th><td>决策部署落实情况</td></tr>
 <tr><th>发布机构：</th><td>市数据资源局(市政务服务局)</td><th>主题分类：</th><td>其他</td></tr>
 <tr><th>名称：</th><td>2021年度三季度政府工作报告任务进展情况</td><th>文号：</th><td></td></tr>
 <tr><th>发布日期：</th><td colspan="3">2021-10-11</td></tr>
</table>"""
MOBILE = """
<ul class="visible-xs">
 <li><span class="tit">索引号：</span><span class="con">11341700744889543Y/202110-00006</span></li>
 <li><span class="tit">组配分类：</span><span class="con">决策部署落实情况</span></li>
 <li><span class="tit">发布机构：</span><span class="con">市数据资源局(市政务服务局)</span></li>
 <li><span class="tit">主题分类：</span><span class="con">其他</span></li>
 <li><span class="tit">名称：</span>
     <span class="con">2021年度三季度政府工作报告任务进展情况</span></li>
 <li><span class="tit">文号：</span><span class="con">无</span></li>
 <li><span class="tit">发布日期：</span><span class="con">2021年10月11日</span></li>
</ul>"""
INFO = (
    '<div class="info">发布时间：2021-10-11 09:25 来源：市数据资源局(市政务服务局) '
    '浏览次数：<span id="hits">1234</span> 字体：[ <a>大</a> <a>中</a> <a>小</a> ]</div>'
)

SEED_FIELDS = {
    "title": "2021年度三季度政府工作报告任务进展情况",
    "index_no": "11341700744889543Y/202110-00006",
    "category": "决策部署落实情况",
    "publisher": "市数据资源局(市政务服务局)",
    "topic": "其他",
    "doc_number": None,
    "published_date": "2021-10-11",
}


@pytest.mark.parametrize(
    "block",
    [DESKTOP, MOBILE, DESKTOP + MOBILE, MOBILE + DESKTOP],
    ids=["desktop", "mobile", "desktop+mobile", "mobile+desktop"],
)
def test_xuancheng_block_and_its_copies_merge(block: str) -> None:
    record = parse_page(page(block + "<h1>2021年度三季度政府工作报告任务进展情况</h1>" + INFO))
    metadata = record.metadata
    for field, value in SEED_FIELDS.items():
        assert getattr(metadata, field) == value, field
    assert metadata.info_source == "市数据资源局(市政务服务局)"
    assert metadata.published_at == "2021-10-11T09:25:00+08:00"
    assert metadata.metadata_extra == {}
    assert record.warnings == ()


def test_conflicting_copies_keep_first_and_warn() -> None:
    other = MOBILE.replace("其他", "综合政务")
    record = parse_page(page(DESKTOP + other))
    assert record.metadata.topic == "其他"
    assert record.warnings == ("conflicting values for 主题分类: kept '其他', ignored '综合政务'",)


@pytest.mark.parametrize(
    "block",
    [
        # Hanweb: label cell + value cell, no colon, padded labels, 4 columns.
        """<table class="collapse_table"><tr><td>索 引 号</td><td>002482330/2020-10091</td>
        <td>公开分类</td><td>公示公告</td></tr><tr><td>发布机构</td><td>省文化和旅游厅</td>
        <td>成文日期</td><td>2020-12-29</td></tr><tr><td>文\u3000\u3000号</td><td></td>
        <td>主题词</td><td></td></tr></table>""",
        # Label and value in one cell.
        """<table><tr><td>索引号: 002482330/2020-10091</td><td>公开分类：公示公告</td></tr>
        <tr><td>发布机构：省文化和旅游厅</td><td>成文日期：2020年12月29日</td></tr></table>""",
        # li rows with <b> / <strong> labels.
        """<ul><li><b>索&nbsp;&nbsp;引&nbsp;&nbsp;号：</b>002482330/2020-10091</li>
        <li><strong>公开分类:</strong>公示公告</li><li><b>发布机构:</b>省文化和旅游厅</li>
        <li><strong>成文日期:</strong>2020/12/29</li><li><b>文号:</b>暂无</li></ul>""",
        # li rows with <span> labels and no colon.
        """<ul><li><span>索引号</span><span>002482330/2020-10091</span></li>
        <li><span>公开分类</span><span>公示公告</span></li>
        <li><span>发布机构</span><span>省文化和旅游厅</span></li>
        <li><span>成文日期</span><span>2020.12.29</span></li></ul>""",
        # Definition list.
        """<dl><dt>索引号：</dt><dd>002482330/2020-10091</dd><dt>公开分类：</dt><dd>公示公告</dd>
        <dt>发布机构：</dt><dd>省文化和旅游厅</dd><dt>成文日期：</dt><dd>20201229</dd></dl>""",
        # Definition-like divs, no colons.
        """<div class="xxgk">
        <div class="row"><div class="l">索引号</div><div class="r">002482330/2020-10091</div></div>
        <div class="row"><div class="l">公开分类</div><div class="r">公示公告</div></div>
        <div class="row"><div class="l">发布机构</div>
        <div class="r">省文化和旅游厅</div></div>
        <div class="row"><div class="l">成文日期</div><div class="r">2020-12-29</div></div>
        </div>""",
    ],
    ids=["cells-no-colon", "same-cell", "li-b-strong", "li-span-no-colon", "dl", "divs"],
)
def test_block_layouts(block: str) -> None:
    metadata = parse_page(page(block)).metadata
    assert metadata.index_no == "002482330/2020-10091"
    assert metadata.publisher == "省文化和旅游厅"
    assert metadata.written_date == "2020-12-29"
    assert metadata.doc_number is None
    assert metadata.category == "公示公告"  # 浙江's 公开分类 is the catalogue class
    assert metadata.metadata_extra == {}


def test_unknown_labels_volatile_and_placeholders() -> None:
    block = """<table>
    <tr><td>索 引 号</td><td>003110926/201510-00216</td><td>信息分类</td><td>信息公开制度</td></tr>
    <tr><td>发布机构</td><td>市交通运输局</td><td>发布日期</td><td>2015-10-15 10:06:36</td></tr>
    <tr><td>信息来源</td><td>—</td><td>关 键 词</td><td></td></tr>
    <tr><td>体裁分类</td><td>通知</td><td>生命周期分类</td><td>／</td></tr>
    <tr><td>浏览次数</td><td>3738</td><td>信息格式/语种</td><td>中文</td></tr></table>"""
    metadata = parse_page(page(block)).metadata
    assert metadata.category == "信息公开制度"
    assert metadata.published_date == "2015-10-15"
    assert metadata.published_at == "2015-10-15T10:06:36+08:00"
    assert metadata.info_source is None
    assert metadata.keywords is None
    assert metadata.metadata_extra == {"体裁分类": "通知", "信息格式/语种": "中文"}


def test_unreadable_date_goes_to_extra_with_warning() -> None:
    block = (
        "<ul><li>索引号：0031/2021-1</li><li>发布机构：市政府办公室</li>"
        "<li>成文日期：2021-09-31</li></ul>"
    )
    record = parse_page(page(block))
    assert record.metadata.written_date is None
    assert record.metadata.metadata_extra == {"成文日期": "2021-09-31"}
    assert "unreadable date '2021-09-31' for 成文日期" in record.warnings


def test_breadcrumb_and_side_menu_are_not_metadata() -> None:
    block = (
        '<div class="position">当前位置：<a>首页</a>&gt;<a>信息公开</a></div>'
        "<div class='left'><h2>信息公开目录</h2><ul><li>信息公开指南</li><li>机构信息</li>"
        "<li>法规文件</li><li>规划计划</li></ul></div>"
        "<ul><li><b>索引号：</b>1134/2023-04</li><li><b>发布机构:</b>黄山市数据资源管理局</li>"
        "<li><b>服务对象分类:</b>其他</li></ul>"
    )
    metadata = parse_page(page(block)).metadata
    assert metadata.index_no == "1134/2023-04"
    assert metadata.metadata_extra == {"服务对象分类": "其他"}


def test_footer_labels_are_not_metadata() -> None:
    metadata = parse_page(page(DESKTOP)).metadata
    assert "主办单位" not in metadata.metadata_extra
    assert "邮政编码" not in metadata.metadata_extra


META = (
    '<meta name="ArticleTitle" content="“奋进新征程”开幕">'
    '<meta name="PubDate" content="2024-10-14 10:17">'
    '<meta name="ContentSource" content="省文化和旅游厅办公室">'
    '<meta name="ColumnName" content="部门资讯">'
    '<meta name="Keywords" content="书法  美术 展览">'
    "<title>江苏省人民政府 部门资讯 “奋进新征程”开幕</title>"
)


def test_only_articletitle_is_read_from_meta() -> None:
    # PubDate is often a regeneration stamp (证监会, 白银), ContentSource a system name,
    # ColumnName the web column, Keywords the portal's: none is what the page shows.
    record = parse_page(page("", head=META))
    metadata = record.metadata
    assert metadata.title == "“奋进新征程”开幕"
    assert metadata.published_date is None
    assert metadata.published_at is None
    assert metadata.info_source is None
    assert metadata.category is None
    assert metadata.keywords is None
    assert "no metadata block found" in record.warnings


def test_meta_title_fills_only_an_empty_title() -> None:
    metadata = parse_page(page(DESKTOP, head=META)).metadata
    assert metadata.title == "2021年度三季度政府工作报告任务进展情况"
    assert metadata.category == "决策部署落实情况"
    assert metadata.published_date == "2021-10-11"


def test_info_line_fills_source_and_time_only() -> None:
    info = (
        '<div class="detail_info">发布时间：2022年06月15日 9时25分&nbsp;&nbsp;&nbsp;'
        "来源：邯郸市人民政府办公室&nbsp;&nbsp;&nbsp;作者：张三 "
        "【字号：<a>大</a> <a>中</a> <a>小</a>】</div>"
    )
    record = parse_page(page(info))
    metadata = record.metadata
    assert metadata.published_date == "2022-06-15"
    assert metadata.published_at == "2022-06-15T09:25:00+08:00"
    assert metadata.info_source == "邯郸市人民政府办公室"
    assert metadata.metadata_extra == {}


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (PageContext(h1s=["宣城市", "2021年工作报告"], title_tag="x_站"), "2021年工作报告"),
        (PageContext(title_tag="拨动心弦 守护心灵健康_安徽省教育厅"), "拨动心弦 守护心灵健康"),
        (
            PageContext(title_tag="关于做好防汛工作的通知 - 宣城市人民政府"),
            "关于做好防汛工作的通知",
        ),
        (PageContext(title_tag="通知公告 | 宣城市人民政府"), "通知公告"),
        (PageContext(title_tag="2021年1-6月份目标任务完成情况"), "2021年1-6月份目标任务完成情况"),
        (
            PageContext(title_tag="奋进新征程——庆祝成立75周年书法展"),
            "奋进新征程——庆祝成立75周年书法展",
        ),
        (PageContext(), None),
    ],
)
def test_title_fallback(context: PageContext, expected: str | None) -> None:
    assert _title_fallback(context)[0] == expected


def test_title_from_h1_when_no_block_or_meta() -> None:
    html = page(
        "<h1 class='title'>关于开展文明城市创建的通知</h1>", head="<title>通知_县政府</title>"
    )
    assert parse_page(html).metadata.title == "关于开展文明城市创建的通知"


def test_labels_in_square_brackets_need_no_colon() -> None:
    # 首都之窗 (www.beijing.gov.cn): <ol class="doc-info"><li>[label] <span>value</span></li>
    block = (
        '<ol class="doc-info"><li>[主题分类] <span>城乡建设</span></li>'
        "<li>[发文机构] <span></span><span>北京市人民政府办公厅</span></li>"
        "<li>[联合发文单位] <span></span></li>"
        "<li>[发文字号] <span><span>京政办发</span><span>〔2025〕</span>"
        "<span>13号</span></span></li>"
        "<li>【成文日期】<span>2025-07-23</span></li></ol>"
    )
    metadata = parse_page(page(block)).metadata
    assert metadata.topic == "城乡建设"
    assert metadata.publisher == "北京市人民政府办公厅"
    assert metadata.doc_number == "京政办发〔2025〕13号"
    assert metadata.written_date == "2025-07-23"


def test_a_block_at_the_top_of_the_container_is_metadata_not_body() -> None:
    # 安化县: the th/td table is the first thing inside #zoom.
    table = (
        "<table><tr><th>索引号</th><td>50000007/2022-1663341</td><th>统一登记号</th><td></td></tr>"
        "<tr><th>发布机构</th><td>安化县</td><th>文号</th><td>安政办发〔2022〕20号</td></tr></table>"
    )
    record = parse_page(page("", body=table + BODY))
    assert record.metadata.index_no == "50000007/2022-1663341"
    assert record.metadata.doc_number == "安政办发〔2022〕20号"
    assert record.body_text.startswith("根据工作安排")
    assert "no metadata block found" not in record.warnings


def test_a_labelled_table_inside_the_article_is_not_taken_when_a_block_was_found() -> None:
    table = (
        "<table><tr><th>发布机构</th><td>某局</td><th>文号</th><td>某〔2022〕1号</td></tr></table>"
    )
    record = parse_page(page(DESKTOP, body=table + BODY))
    assert record.metadata.publisher == "市数据资源局(市政务服务局)"
    assert record.body_text.startswith("发布机构 | 某局")


@pytest.mark.parametrize(
    ("title_tag", "headline", "expected"),
    [
        # 长沙: "site-headline"; 达州: "site_column_headline".
        ("长沙市政府门户网站-关于优化住房公积金业务政策和流程的通知",
         "<h2>关于优化住房公积金业务政策和流程的通知</h2>",
         "关于优化住房公积金业务政策和流程的通知"),
        ("达州市人民政府_达市府办（发）_达州市人民政府办公室关于印发十条措施的通知",
         '<h2 id="ct">达州市人民政府办公室关于印发十条措施的通知</h2>',
         "达州市人民政府办公室关于印发十条措施的通知"),
        # <title> cut short: the headline shown in full wins.
        ("关于印发某某办法的通…_某市人民政府",
         '<div class="article-title">关于印发某某办法的通知</div>',
         "关于印发某某办法的通知"),
    ],
)  # fmt: skip
def test_the_title_is_the_headline_that_title_confirms(
    title_tag: str, headline: str, expected: str
) -> None:
    html = page("", head=f"<title>{title_tag}</title>", body=headline + BODY)
    assert parse_page(html).metadata.title == expected


def test_a_breadcrumb_ending_in_weizhi_is_navigation() -> None:
    crumb = "<div>您当前所在位置：首页 &gt; 政务公开 &gt; 统计公报</div>"
    metadata = parse_page(page(crumb + DESKTOP)).metadata
    assert "您当前所在位置" not in metadata.metadata_extra


def test_info_line_labels_and_the_block_winning() -> None:
    # 三明 (fjsx): the block's 公文生成日期 wins; the info line's different 时间 is kept.
    block = (
        "<ul><li>索引号：SM10100-0200-2022-00141</li><li>发布机构：区政府</li>"
        "<li>公文生成日期：2022-09-18</li></ul>"
    )
    info = "<div class='info'>时间：2022-09-21 10:23 来源：沙县区政府办 打印</div>"
    metadata = parse_page(page(block + info)).metadata
    assert metadata.published_date == "2022-09-18"
    assert metadata.published_at is None
    assert metadata.info_source == "沙县区政府办"
    assert metadata.metadata_extra == {"时间": "2022-09-21 10:23"}


@pytest.mark.parametrize(
    ("above", "below", "expected"),
    [
        ("<p>日期：2022-04-11 来源：证监会</p>", "", "2022-04-11"),  # bare 日期 above the text
        ("<p>来源：郑州日报 时间：2025-11-03 08:10</p>", "", "2025-11-03"),
        # bare labels further below the text (a footer's): not read
        ("", "<p>相关链接</p>" * 5 + "<p>时间：2026-12-04 10:00</p>", None),
        ("", "<p>时间：2020-09-23 17:39</p>", "2020-09-23"),  # right after the text: read
        ("<p>更新日期：2026-12-01</p>", "", None),  # 更新日期 is not 日期
        ("<p>发布日期:2024-05-13 14:34:28 浏览次数:521</p>", "", "2024-05-13"),
        ("<p>成文日期：2025-12-29</p>", "", None),  # a written date, not a published one
    ],
)
def test_dates_outside_a_block(above: str, below: str, expected: str | None) -> None:
    metadata = parse_page(page(above, after=below)).metadata
    assert metadata.published_date == expected


def test_a_block_split_over_two_side_by_side_columns() -> None:
    block = (
        "<div class='row'><div class='col-6'>"
        "<p><strong>索引号</strong>：11341700/2024-00012</p><p><strong>发布机构</strong>：市政府办</p>"
        "</div><div class='col-6'>"
        "<p><strong>主题分类</strong>：综合政务</p><p><strong>成文日期</strong>：2024年3月1日</p>"
        "</div></div>"
    )
    metadata = parse_page(page(block)).metadata
    assert (metadata.index_no, metadata.publisher) == ("11341700/2024-00012", "市政府办")
    assert (metadata.topic, metadata.written_date) == ("综合政务", "2024-03-01")
