"""Task sections: every layout and every trap (through parse_page), plus the helpers."""

from __future__ import annotations

import pytest

from scraper.parse import Section, parse_page
from scraper.parse.sections import chinese_number, heading, split_labels


def sections(content: str) -> list[Section]:
    html = (
        "<html><head><meta charset='utf-8'></head><body>"
        f"<div id='zoom'>{content}</div></body></html>"
    )
    return list(parse_page(html.encode()).sections)


TWO = Section(
    number=2, title="建设城市大脑", status="已完成", progress="场馆建成。", next_steps="做好运营。"
)


SAME_P = "一是印发方案。二是确认事项。"
TWO_P = "一是印发方案。\n二是确认事项。"


# Each layout, then the progress text it gives (paragraphs join with a newline; a
# source line break inside one paragraph is a space).
_LAYOUTS = [
    # Heading and each label in their own <p>, ASCII colons (the seed page).
    """<p><strong>一、深化服务共享。</strong></p><p>完成状态:持续推进</p>
        <p>进展情况:一是印发方案。二是确认事项。</p><p>下一步工作安排:一是加强沟通。</p>
        <p><strong>二、建设城市大脑</strong></p><p>完成状态:已完成。</p><p>进展情况:场馆建成。</p>
        <p>存在的问题:无</p><p>下一步工作安排:做好运营。</p>""",
    SAME_P,
    # Labels in <strong>, no colon.
    """<h3>一、深化服务共享</h3><p><strong>完成状态</strong>持续推进</p>
        <p><strong>进展情况</strong>一是印发方案。二是确认事项。</p><p><b>下一步工作安排</b>一是加强沟通。</p>
        <h3>二、建设城市大脑</h3><p><strong>完成状态：</strong>已完成</p><p><strong>进展情况：</strong>场馆建成。</p>
        <p><strong>存在问题：</strong>暂无。</p><p><strong>下一步计划：</strong>做好运营。</p>""",
    SAME_P,
    # A label alone in its paragraph, its text in the following paragraphs.
    """<p>一、深化服务共享</p><p>完成状态</p><p>持续推进</p><p>进展情况</p><p>一是印发方案。</p>
        <p>二是确认事项。</p><p>下一步工作安排：</p><p>一是加强沟通。</p>
        <p>二、建设城市大脑</p><p>办理状态</p><p>已完成</p><p>推进情况</p><p>场馆建成。</p>
        <p>困难和问题</p><p>无。</p><p>下步打算</p><p>做好运营。</p>""",
    TWO_P,
    # The whole section in one <p>, split by <br>.
    """<p>一、深化服务共享<br>完成状态：持续推进<br>进展情况：一是印发方案。<br>二是确认事项。<br>
        下一步工作安排：一是加强沟通。</p><p>二、建设城市大脑<br>完成情况：已完成；<br>工作进展：场馆建成。<br>
        存在的问题：无<br>下一步打算：做好运营。</p>""",
    TWO_P,
    # All labels inline in one paragraph, headings 任务一、 (the seed's department site).
    """<p>任务一、深化服务共享</p><p>完成状态: 持续推进。\u00a0进展情况: 一是印发方案。
        二是确认事项。 存在的问题:无。 下一步工作安排:一是加强沟通。</p>
        <p>任务二、建设城市大脑</p><p>完成状态：已完成。 进展情况：场馆建成。
        存在的问题：暂无。 下一步工作安排：做好运营。</p>""",
    "一是印发方案。 二是确认事项。",
    # Labels split over Word-export runs, heading with </P></B> mis-nesting.
    """<P class=MsoNormal><B><span>一、深化服务共享</span></P></B>
        <P><b><span>完成</span></b><b><span>状态：</span></b><span>持续推进</span><o:p></o:p></P>
        <P><b><span>完成</span></b><b><span>进展：</span></b><span>一是印发方案。二是确认事项。</span></P>
        <P><b><span>下一</span></b><b><span>步打算：</span></b><span>一是加强沟通。</span></P>
        <P><B><span>二、建设城市大脑</span></P></B><P><b>完成状态：</b>已完成</P>
        <P><b>完成进展：</b>场馆建成。</P><P><b>存在问题：</b>无</P><P><b>下一步打算：</b>做好运营。</P>""",
    SAME_P,
]


@pytest.mark.parametrize(
    ("content", "progress"),
    list(zip(_LAYOUTS[::2], _LAYOUTS[1::2], strict=True)),
    ids=["own-p", "strong-no-colon", "label-alone", "br-lines", "inline-labels", "word-export"],
)
def test_layouts(content: str, progress: str) -> None:
    one = Section(
        number=1,
        title="深化服务共享",
        status="持续推进",
        progress=progress,
        problems=None,
        next_steps="一是加强沟通。",
    )
    assert sections(content) == [one, TWO]


def test_table_report() -> None:
    content = """<table>
    <tr><th>序号</th><th>重点任务</th><th>责任单位</th><th>完成状态</th><th>进展情况</th><th>下一步工作安排</th></tr>
    <tr><td>1</td><td>深化服务共享</td><td>市数据资源局</td><td>持续推进。</td>
        <td><p>一是印发方案。</p><p>二是确认事项。</p></td><td>一是加强沟通。</td></tr>
    <tr><td>二</td><td>建设城市大脑</td><td>市城建集团</td><td>已完成</td><td>场馆建成。</td><td>无</td></tr>
    </table>"""
    assert sections(content) == [
        Section(
            1,
            "深化服务共享",
            "持续推进",
            "一是印发方案。\n二是确认事项。",
            None,
            "一是加强沟通。",
            {"责任单位": "市数据资源局"},
        ),
        Section(2, "建设城市大脑", "已完成", "场馆建成。", None, None, {"责任单位": "市城建集团"}),
    ]


def test_extra_labels_inside_a_section() -> None:
    content = """<p>一、深化服务共享</p><p>牵头单位：市数据资源局</p><p>完成时限：2021年12月</p>
    <p>完成状态：持续推进</p><p>进展情况：已印发方案。</p>"""
    (found,) = sections(content)
    assert found.extra == {"牵头单位": "市数据资源局", "完成时限": "2021年12月"}
    assert found.status == "持续推进"


@pytest.mark.parametrize(
    "trap",
    [
        "<p>一是加强统筹，二是压实责任。</p>",
        "<p>详见附件一、二。</p>",
        "<p>第一、二季度累计完成投资12亿元。</p>",
        "<p>一、二季度累计完成投资12亿元。</p>",
        "<p>（一）加强组织领导。</p><p>(二)压实工作责任。</p>",
    ],
)
def test_traps_stay_in_the_text(trap: str) -> None:
    content = (
        "<p>一、深化服务共享</p><p>完成状态：持续推进</p>"
        f"<p>进展情况：已印发方案。</p>{trap}<p>三、建设城市大脑</p><p>完成状态：已完成</p>"
    )
    found = sections(content)
    assert [s.number for s in found] == [1, 3]
    assert found[0].progress is not None
    assert found[0].progress.startswith("已印发方案。\n")


def test_heading_not_above_the_previous_stays_in_its_text() -> None:
    content = (
        "<p>一、深化服务共享</p><p>完成状态：持续推进</p><p>二、建设城市大脑</p><p>进展情况：开工。</p>"
        "<p>二、建成后交由运营公司管理</p><p>一、先行试点</p><p>三、推进改革</p><p>完成状态：已完成</p>"
    )
    found = sections(content)
    assert [s.number for s in found] == [1, 2, 3]
    assert found[1].progress == "开工。\n二、建成后交由运营公司管理\n一、先行试点"


def test_label_word_in_a_title_opens_no_field() -> None:
    content = (
        "<p>一、主要经济指标任务进展情况</p><p>完成状态：持续推进</p><p>进展情况：稳中向好。</p>"
    )
    (found,) = sections(content)
    assert found.title == "主要经济指标任务进展情况"
    assert (found.status, found.progress) == ("持续推进", "稳中向好。")


@pytest.mark.parametrize(
    "content",
    [
        # A notice / regulation numbered 一、… without any task label.
        "<p>一、总体要求</p><p>坚持问题导向。</p><p>二、主要任务</p><p>（一）加强组织领导。</p>",
        # Headings whose titles are label words, but no labels under them.
        "<p>一、总体情况</p><p>进展顺利。</p><p>二、存在的问题</p><p>部分项目滞后。</p>"
        "<p>三、下一步工作打算</p><p>加快推进。</p>",
        # Labels but no numbered headings.
        "<p>完成状态：持续推进</p><p>进展情况：良好。</p>",
        # An indicator table with 序号 but no task columns.
        "<table><tr><th>序号</th><th>指标</th><th>目标</th></tr><tr><td>1</td><td>GDP</td><td>7%</td></tr></table>",
    ],
    ids=["regulation", "label-word-titles", "no-headings", "indicator-table"],
)
def test_no_sections(content: str) -> None:
    assert sections(content) == []


def test_up_to_ninety_nine_and_attachments_end_the_last_field() -> None:
    parts = [
        f"<p>{n}、任务{i}</p><p>完成状态：推进</p>"
        for i, n in enumerate(
            ["一", "二", "九", "十", "十一", "十九", "二十", "二十九", "九十九"], start=1
        )
    ]
    content = "".join(parts) + "<p>附件：1.任务分解表</p><p>2021年10月11日</p>"
    found = sections(content)
    assert [s.number for s in found] == [1, 2, 9, 10, 11, 19, 20, 29, 99]
    assert found[-1].status == "推进"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十九", 29),
        ("九十九", 99),
        ("一十", None),
        ("十十", None),
        ("百", None),
        ("", None),
    ],
)
def test_chinese_number(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("一、深化服务共享", (1, "深化服务共享")),
        ("任务十一、建设大脑", (11, "建设大脑")),
        ("三．加速推动", (3, "加速推动")),
        ("四.统筹推进", (4, "统筹推进")),
        ("一是加强统筹", None),
        ("（一）加强组织领导", None),
        ("一、二季度累计", None),
        ("附件一、二", None),
        ("一、", None),
    ],
)
def test_heading(line: str, expected: tuple[int, str] | None) -> None:
    assert heading(line) == expected


def test_split_labels_inline() -> None:
    line = "完成状态: 持续推进。 进展情况: 一是出台方案。 存在的问题:无。 下一步工作安排:一是"
    assert [(label, text.strip()) for label, text in split_labels(line)] == [
        ("完成状态", "持续推进。"),
        ("进展情况", "一是出台方案。"),
        ("存在的问题", "无。"),
        ("下一步工作安排", "一是"),
    ]


def test_split_labels_ignores_label_words_mid_sentence() -> None:
    assert split_labels("本季度任务进展情况：良好") == [(None, "本季度任务进展情况：良好")]
