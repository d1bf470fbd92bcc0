"""The content container and body_text."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.parse import parse_page
from scraper.parse.container import CONTENT_SELECTORS, find_content

LONG = "为普及心理健康知识，引导广大教师关注学生心理健康，推动教师深入研究。"


def document(body: str, head: str = "") -> bytes:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


@pytest.mark.parametrize("selector", CONTENT_SELECTORS)
def test_each_known_container(selector: str) -> None:
    attribute = f'id="{selector[1:]}"' if selector[0] == "#" else f'class="x {selector[1:]}"'
    html = (
        f"<div class='nav'><p>{LONG}{LONG}{LONG}</p></div>"
        f"<div {attribute}><p>正文第一段。</p><p>正文第二段。</p></div>"
    )
    assert parse_page(document(html)).body_text == "正文第一段。\n正文第二段。"


def test_priority_and_empty_containers_are_skipped() -> None:
    html = (
        "<div id='content'><p>外层</p><div class='j-fontContent'></div>"
        "<div id='zoom'><p>缩放区正文</p></div></div>"
    )
    tree = LexborHTMLParser(html)
    node = find_content(tree).node
    assert node is not None
    assert node.attributes["id"] == "zoom"


def test_fallback_is_the_block_with_most_paragraph_text() -> None:
    html = (
        "<div class='menu'><p>首页</p><p>信息公开</p></div>"
        f"<div class='unknown-cms'><p>{LONG}</p><p>{LONG}</p></div>"
        "<div class='foot'><p>版权所有</p></div>"
    )
    assert parse_page(document(html)).body_text == f"{LONG}\n{LONG}"


def test_no_body() -> None:
    record = parse_page(document("<div class='nav'><a>首页</a></div>"))
    assert record.body_text == ""
    assert "no article body found" in record.warnings


def test_body_lines_tables_widgets_and_chrome() -> None:
    html = (
        "<h1>关于做好防汛工作的通知</h1>"
        "<div class='j-fontContent'>"
        "<p>关于做好防汛工作的通知</p>"
        "<p>发布时间：2021-10-11 09:25 来源：县政府办</p>"
        "<p style='text-indent:2em'><span>根据</span><span>《防汛条例》</span>，现通知如下：</p>"
        "<p>&nbsp;</p>"
        "<table><tr><th>序号</th><th>单位</th><th>备注</th></tr>"
        "<tr><td>1</td><td>水利局<br>应急局</td><td></td></tr></table>"
        "<p>【打印本页】【关闭窗口】</p><p>浏览次数：1234</p>"
        "<div class='share'>分享到：</div>"
        "<script>document.write('一、不是标题');</script>"
        "<p>特此通知。</p></div>"
        "<div class='footer'>网站地图</div>"
    )
    record = parse_page(document(html))
    assert record.body_text == (
        "根据《防汛条例》，现通知如下：\n序号 | 单位 | 备注\n1 | 水利局 应急局 |\n特此通知。"
    )
    assert record.metadata.title == "关于做好防汛工作的通知"


def test_body_excludes_metadata_and_navigation_outside_container() -> None:
    html = (
        "<ul class='nav'><li>首页</li><li>信息公开</li></ul>"
        "<table><tr><td>索引号：</td><td>1134/2021-1</td><td>发布机构：</td><td>县政府</td></tr></table>"
        "<div id='zoom'><p>正文。</p></div><div class='footer'>版权所有</div>"
    )
    record = parse_page(document(html))
    assert record.body_text == "正文。"
    assert record.metadata.index_no == "1134/2021-1"
