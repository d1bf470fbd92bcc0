"""Label/value pairs of one line and of one metadata-table row."""

from __future__ import annotations

import pytest

from scraper.parse.layout import EMPH, SOFT
from scraper.parse.pairs import is_label_like, line_pairs, row_pairs


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("索引号：002482082/2024-00332", [("索引号", "002482082/2024-00332")]),
        ("索引号: 002482082/2024-00332", [("索引号", "002482082/2024-00332")]),
        ("索 引 号：002482082", [("索引号", "002482082")]),
        (f"{EMPH}索引号{SOFT}002482082", [("索引号", "002482082")]),
        ("索引号 002482082", [("索引号", "002482082")]),
        ("文号：", [("文号", "")]),
        ("发布机构", [("发布机构", "")]),
        ("信息格式/语种：中文", [("信息格式/语种", "中文")]),
        ("体裁分类：通知", [("体裁分类", "通知")]),
        (
            "发布时间：2021-10-11 09:25 来源：市数据资源局(市政务服务局) 浏览次数： 字体：[ ]",
            [
                ("发布时间", "2021-10-11 09:25"),
                ("来源", "市数据资源局(市政务服务局)"),
                ("浏览次数", ""),
                ("字体", "[ ]"),
            ],
        ),
        (
            "来源：邯郸市人民政府办公室 【字号：大 中 小】",
            [("来源", "邯郸市人民政府办公室"), ("字号", "大 中 小】")],
        ),
        (
            "索引号: 1134/202110-00006 组配分类: 决策部署落实情况",
            [("索引号", "1134/202110-00006"), ("组配分类", "决策部署落实情况")],
        ),
        ("发布时间:2021-10-11 09:25", [("发布时间", "2021-10-11 09:25")]),
    ],
)
def test_line_pairs(line: str, expected: list[tuple[str, str]]) -> None:
    assert line_pairs(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "宣城市人民政府关于印发目标任务分解表的通知",
        "来源于群众的意见",
        "分类索引",
        "2021-10-11",
        "http://www.xuancheng.gov.cn/",
    ],
)
def test_lines_without_a_label(line: str) -> None:
    assert line_pairs(line) is None


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            ["索引号：", "1134/202110-00006", "组配分类：", "决策部署落实情况"],
            [("索引号", "1134/202110-00006"), ("组配分类", "决策部署落实情况")],
        ),
        (
            ["索 引 号", "0031", "信息分类", "信息公开制度"],
            [("索引号", "0031"), ("信息分类", "信息公开制度")],
        ),
        (["信息来源", "", "关 键 词", ""], [("信息来源", ""), ("关键词", "")]),
        (["体裁分类", "报告", "生命周期分类", ""], [("体裁分类", "报告"), ("生命周期分类", "")]),
        (["文号：", "发布日期：", "2021-10-11"], [("文号", ""), ("发布日期", "2021-10-11")]),
        (["索引号: 002482082/2024-00332"], [("索引号", "002482082/2024-00332")]),
        (
            ["名称", "索引号", "发布机构", "发布日期"],
            [("名称", ""), ("索引号", ""), ("发布机构", ""), ("发布日期", "")],
        ),
    ],
)
def test_row_pairs(cells: list[str], expected: list[tuple[str, str]]) -> None:
    assert row_pairs(cells) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("体裁分类", True),
        ("信息格式/语种：", True),
        ("2021-10-11", False),
        ("a", False),
        ("首页>信息公开", False),
    ],
)
def test_is_label_like(text: str, expected: bool) -> None:
    assert is_label_like(text) is expected


def test_an_empty_label_cell_does_not_take_the_next_label_and_its_value() -> None:
    assert row_pairs(["文号：", "发布日期：2021-10-11", "主题分类", "其他"]) == [
        ("文号", ""),
        ("发布日期", "2021-10-11"),
        ("主题分类", "其他"),
    ]
    # An unknown label with its value in the next cell is still a value.
    assert row_pairs(["备注", "联系人：张三"]) == [("备注", "联系人：张三")]
