"""Label normalisation and the synonym tables: which page label means which field.

Labels are compared after removing all whitespace and a trailing colon, so
``索&nbsp;&nbsp;引&nbsp;&nbsp;号：``, ``索 引 号`` and ``名　　称`` are ``索引号`` and ``名称``.
The tables here are the single source of docs/parsing.md's label lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scraper.parse.text import WHITESPACE

#: Metadata-block label → canonical field (scraper.parse.record.CANONICAL_FIELDS).
METADATA_LABELS: dict[str, str] = {
    "名称": "title",
    "标题": "title",
    "信息名称": "title",
    "文件名称": "title",
    "文件标题": "title",
    "公文标题": "title",
    "索引号": "index_no",
    "信息索引": "index_no",
    "索引编号": "index_no",
    "索取号": "index_no",
    "组配分类": "category",
    "信息分类": "category",
    "分类": "category",
    "信息类别": "category",
    # 浙江 公开分类, 常州 法定主动公开分类: the disclosure catalogue's class.
    "公开分类": "category",
    "法定主动公开分类": "category",
    "发布机构": "publisher",
    "发文机关": "publisher",
    "发布单位": "publisher",
    # Real pages name the issuing body in many ways (北京 [发文机构], 长沙 公开责任部门,
    # 福建 制发单位 …); each means the body that issued and published the document.
    "发文机构": "publisher",
    "发文单位": "publisher",
    "制发单位": "publisher",
    "制发机关": "publisher",
    "公开责任部门": "publisher",
    "责任部门": "publisher",
    "信息发布机构": "publisher",
    "主题分类": "topic",
    # 自然资源部 and others print 主题 for 主题分类 (主题词 stays keywords: longer labels win).
    "主题": "topic",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "发布文号": "doc_number",
    "文件编号": "doc_number",
    "发文号": "doc_number",
    # 福建's TRS template labels the document number 备注/文号.
    "备注/文号": "doc_number",
    "发布日期": "published_date",
    "发文日期": "published_date",
    "生成日期": "published_date",
    "公文生成日期": "published_date",
    "公开日期": "published_date",
    "公布日期": "published_date",
    # 上海: 印发日期 | 文号 | 发文机关 above the text, the day the document was issued.
    "印发日期": "published_date",
    "发布时间": "published_date",
    "成文日期": "written_date",
    "成文时间": "written_date",
    "生效日期": "effective_date",
    "实施日期": "effective_date",
    "施行日期": "effective_date",
    "生效时间": "effective_date",
    "废止日期": "expiry_date",
    "失效日期": "expiry_date",
    "失效时间": "expiry_date",
    "废止时间": "expiry_date",
    # 长沙: 信息时效期 2027-07-31, the day the information stops being valid.
    "信息时效期": "expiry_date",
    "有效期至": "expiry_date",
    "有效性": "validity",
    "效力状态": "validity",
    "时效性": "validity",
    "是否有效": "validity",
    "文件有效性": "validity",
    # 滁州 (Lonsun): 有效期 有效.
    "有效期": "validity",
    "来源": "info_source",
    "信息来源": "info_source",
    "文章来源": "info_source",
    "关键词": "keywords",
    "关键字": "keywords",
    "主题词": "keywords",
    "内容概述": "summary",
    "内容摘要": "summary",
    "摘要": "summary",
    "内容描述": "summary",
}

#: Fields whose values are dates (parsed to ISO ``YYYY-MM-DD``): storage's DATE columns
#: (tests/storage/test_content.py holds the two equal).
DATE_FIELDS: frozenset[str] = frozenset(
    {"published_date", "written_date", "effective_date", "expiry_date"}
)

#: Labels of counters and page widgets: never part of the record.
VOLATILE_LABELS: frozenset[str] = frozenset(
    {
        "浏览次数",
        "浏览量",
        "访问量",
        "访问次数",
        "点击数",
        "点击量",
        "阅读次数",
        "阅读量",
        "字体",
        "字号",
        "打印",
        "关闭",
        "分享",
        "分享到",
        "扫一扫",
        # Page-generation stamps change whenever a site republishes its pages.
        "页面生成时间",
        "生成时间",
    }
)

#: Labels often found in metadata blocks besides the canonical ones; they go to
#: ``metadata_extra``. Knowing them lets a block be split where no colon or cell
#: boundary separates label from value; unknown labels are still read from cells
#: and ``label: value`` rows.
KNOWN_EXTRA_LABELS: frozenset[str] = frozenset(
    {
        "公开方式",
        "公开范围",
        "公开时限",
        "公开形式",
        "公开属性",
        "体裁分类",
        "服务对象分类",
        "生命周期分类",
        "信息格式/语种",
        "主题导航",
        "所属机构",
        "内容分类",
        "统一编号",
        "登记号",
        "作者",
    }
)

#: Breadcrumb and date-bar labels: a line they start is navigation, never metadata.
NAVIGATION_LABELS: frozenset[str] = frozenset(
    {
        "当前位置",
        "当前所在位置",
        "您现在的位置",
        "您现在所在的位置",
        "您当前所在的位置",
        "您当前的位置",
        "您当前位置",
        "您的位置",
        "您所在的位置",
        "所在位置",
        "位置",
        "今天是",
    }
)


#: Labels read from the article info line (``发布时间：… 来源：… 浏览次数：…``) and other lines
#: outside the block, and the field each fills when the block left it empty.
INFO_LABELS: dict[str, str] = {
    "发布时间": "published_date",
    "发布日期": "published_date",
    "发文日期": "published_date",
    "成文日期": "written_date",
    "来源": "info_source",
    "信息来源": "info_source",
    "文章来源": "info_source",
}
#: Bare labels (证监会 ``日期：2022-04-11 来源：证监会``, 郑州 ``来源：… 时间：…``): read only above
#: the article, and only when nothing else gave the date.
WEAK_INFO_LABELS: dict[str, str] = {"日期": "published_date", "时间": "published_date"}


def is_navigation_label(label: str) -> bool:
    """True for a breadcrumb or date-bar label: one of :data:`NAVIGATION_LABELS`, or any
    short label ending in 位置 (您当前所在位置, 当前访问位置 …: sites vary the wording)."""
    return label in NAVIGATION_LABELS or (label.endswith("位置") and len(label) <= 10)


#: Task-section label → Section field.
SECTION_LABELS: dict[str, str] = {
    "完成状态": "status",
    "完成情况": "status",
    "进度": "status",
    "办理状态": "status",
    "进展情况": "progress",
    "工作进展": "progress",
    "推进情况": "progress",
    "落实情况": "progress",
    "完成进展": "progress",
    "存在的问题": "problems",
    "存在问题": "problems",
    "困难和问题": "problems",
    "下一步工作安排": "next_steps",
    "下一步计划": "next_steps",
    "下一步工作计划": "next_steps",
    "下步打算": "next_steps",
    "下一步打算": "next_steps",
}

#: Other labels read inside a task section; they go to ``Section.extra``.
SECTION_EXTRA_LABELS: frozenset[str] = frozenset(
    {
        "责任单位",
        "牵头单位",
        "配合单位",
        "协同单位",
        "协办单位",
        "责任部门",
        "牵头部门",
        "配合部门",
        "责任领导",
        "牵头领导",
        "分管领导",
        "责任人",
        "时间节点",
        "完成时限",
        "完成时间",
        "时间进度",
        "目标任务",
        "工作目标",
        "备注",
    }
)

#: Column headers of a report table: the section number and its title.
NUMBER_COLUMNS: frozenset[str] = frozenset({"序号", "编号"})
TITLE_COLUMNS: frozenset[str] = frozenset(
    {"任务", "重点任务", "工作任务", "任务内容", "目标任务", "任务名称", "主要任务"}
)

# Whitespace and the layout's marker characters (U+FDD0…U+FDDF): a label split
# over several <b>/<span> runs (完成|状态：) is still one label.
_LABEL_NOISE = re.compile(WHITESPACE.pattern[:-2] + "\ufdd0-\ufddf]+")


def normalize_label(text: str) -> str:
    """Return a label in comparable form: no whitespace or markers, no trailing colon."""
    bare = text.rstrip(":：")
    if bare.isalnum():  # the common cases: 索引号, 索引号：
        return bare
    # Trailing colons go last: whitespace or a marker may stand between them.
    return _LABEL_NOISE.sub("", text).rstrip(":：")


def label_pattern(labels: Iterable[str], joint: str = " ?") -> str:
    """Return a regex matching any of ``labels`` with ``joint`` (by default an optional
    space, for padded labels like ``索 引 号``) between characters.

    The alternation is a trie on the first characters, so a line that starts with
    no label fails after one test instead of one per label; longer labels win.
    """
    return "(?:" + _trie(sorted({label for label in labels if label}), joint) + ")"


def _trie(words: list[str], joint: str) -> str:
    """A regex for non-empty ``words``, branching on their first characters."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in groups.items():
        longer = [rest for rest in rests if rest]
        if not longer:
            branches.append(re.escape(first))
            continue
        # A label that is a prefix of a longer one (分类 / 分类号): try the longer first.
        optional = "?" if len(longer) < len(rests) else ""
        branches.append(f"{re.escape(first)}(?:{joint}{_trie(longer, joint)}){optional}")
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
