"""walk + split_blocks: lines and tables from a parsed tree, in document order."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from scraper.parse.layout import (
    EMPH,
    SOFT,
    Block,
    Table,
    plain,
    split_blocks,
    strip_markers,
    walk,
    without_markers,
)


def blocks(html: str) -> list[Block]:
    tree = LexborHTMLParser(f"<html><body>{html}</body></html>")
    return split_blocks(walk(tree.body))


def plain_blocks(html: str) -> list[object]:
    out: list[object] = []
    for block in blocks(html):
        if isinstance(block, Table):
            out.append([[plain(" ".join(cell)) for cell in row] for row in block.rows])
        else:
            out.append(plain(block))
    return out


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>一</p><p>二</p>", ["一", "二"]),
        ("<p><span>根据</span><span>《办法》</span></p>", ["根据《办法》"]),
        ("<p>源码\n换行</p>", ["源码 换行"]),
        ("<p><span>a</span>\n<span>b</span></p>", ["a b"]),
        ("<div>前<p>段</p>后</div>", ["前", "段", "后"]),
        ("<div><p>段</p><span>尾</span></div>", ["段", "尾"]),
        ("<p>a<br>b<br/>c</p>", ["a", "b", "c"]),
        ("<p>x<!-- 注释 --></p><!-- c -->y", ["x", "y"]),
        ("<p>&nbsp;</p><p>\u3000</p><p>有</p>", ["有"]),
        ("<h3>标题</h3><ul><li>一</li><li>二</li></ul>", ["标题", "一", "二"]),
        ("<p>可见</p><script>var a = '一、';</script><style>p{}</style><p>再</p>", ["可见", "再"]),
        ("<select><option>选项</option></select><p>正文</p>", ["正文"]),
    ],
)
def test_lines(html: str, expected: list[str]) -> None:
    assert plain_blocks(html) == expected


def test_table_rows_and_cells() -> None:
    html = (
        "<p>前</p><table><tr><th>索 引 号：</th><td>1134<p>x</p>y</td></tr>"
        "<tr><td>名称</td><td>报告</td><td></td></tr></table><p>后</p>"
    )
    result = blocks(html)
    assert result[0] == "前"
    assert isinstance(result[1], Table)
    assert result[1].rows == [[["索 引 号："], ["1134", "x", "y"]], [["名称"], ["报告"], []]]
    assert result[2] == "后"


def test_uppercase_and_unclosed_cells() -> None:
    result = blocks("<TABLE><TR><TD>a<TD>b<TR><TD>c</TABLE>")
    assert isinstance(result[0], Table)
    assert result[0].rows == [[["a"], ["b"]], [["c"]]]


def test_table_holding_a_table_is_layout() -> None:
    html = (
        "<table><tr><td>导航<table><tr><td>内</td><td>2</td></tr></table>尾</td>"
        "<td>旁</td></tr></table>"
    )
    result = plain_blocks(html)
    assert result == ["导航", [["内", "2"]], "尾", "旁"]


def test_bold_label_gets_boundaries() -> None:
    (line,) = blocks("<p><strong>完成状态</strong>持续推进</p>")
    assert isinstance(line, str)
    assert line == f"{EMPH}完成状态{SOFT}持续推进"
    assert plain(line) == "完成状态持续推进"


def test_span_start_is_a_soft_boundary() -> None:
    (line,) = blocks("<li><span>体裁分类</span><span>通知</span></li>")
    assert line == f"{SOFT}体裁分类{SOFT}通知"


def test_markers_in_page_text_are_neutralised() -> None:
    assert without_markers("a\ufdd0b\ufdd6c") == "a\ufffdb\ufffdc"
    assert strip_markers(f"{EMPH}x{SOFT}") == "x"


def test_walk_of_a_subtree_stays_inside_it() -> None:
    tree = LexborHTMLParser("<div id=a><p>内</p><table><tr><td>1</td></tr></table></div><p>外</p>")
    node = tree.css_first("#a")
    result = split_blocks(walk(node))
    assert result[0] == "内"
    assert isinstance(result[1], Table)
    assert len(result) == 2
