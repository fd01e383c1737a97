"""The structure of the Party Constitution (2022 revision): parts and articles.

The knowledge-point tree hangs on this: part (总纲 or a chapter) -> article -> point.
Article titles are short labels for navigation, taken from the study outline.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERAL_PROGRAM = "总纲"
VERSION = "2022"

_NUMERALS = "零一二三四五六七八九"


def article_label(number: int) -> str:
    """Return the Chinese label of an article number: 21 -> '第二十一条'."""
    tens, ones = divmod(number, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else _NUMERALS[tens]) + "十"
    if ones:
        text += _NUMERALS[ones]
    return f"第{text}条"


@dataclass(frozen=True)
class Part:
    """总纲 or one chapter, with the article numbers it holds."""

    order: int
    title: str
    first: int = 0
    last: int = -1

    @property
    def articles(self) -> list[str]:
        return [article_label(n) for n in range(self.first, self.last + 1)]


PARTS: tuple[Part, ...] = (
    Part(0, GENERAL_PROGRAM),
    Part(1, "第一章 党员", 1, 9),
    Part(2, "第二章 党的组织制度", 10, 18),
    Part(3, "第三章 党的中央组织", 19, 24),
    Part(4, "第四章 党的地方组织", 25, 29),
    Part(5, "第五章 党的基层组织", 30, 34),
    Part(6, "第六章 党的干部", 35, 38),
    Part(7, "第七章 党的纪律", 39, 44),
    Part(8, "第八章 党的纪律检查机关", 45, 47),
    Part(9, "第九章 党组", 48, 50),
    Part(10, "第十章 党和共产主义青年团的关系", 51, 52),
    Part(11, "第十一章 党徽党旗", 53, 55),
)

GENERAL_SECTIONS: tuple[str, ...] = (
    "一、党的性质、理想和指导思想",
    "二、初心使命与百年奋斗",
    "三、社会主义初级阶段与基本路线",
    "四、各方面建设与国防、民族、统战、外交",
    "五、党的建设",
    "六、党的领导",
)

ARTICLE_TITLES: dict[str, str] = {
    article_label(n): title
    for n, title in enumerate(
        (
            "入党条件", "党员的定位", "党员的义务", "党员的权利", "发展党员", "入党宣誓",
            "预备党员", "组织生活", "出党的几种情形", "民主集中制的基本原则", "选举",
            "代表会议", "组织设立与人员调动", "巡视巡察", "上下级关系", "决策权限与执行",
            "议事规则", "重视党的建设", "全国代表大会的召开", "全国代表大会的职权",
            "全国代表会议", "中央委员会", "中央领导机构", "军队中党的组织", "地方代表大会",
            "地方代表大会的职权", "地方委员会", "地方常委会", "地区委员会", "基层组织的设立",
            "基层组织委员会的任期", "基层组织的地位与基本任务", "各类基层组织的作用", "党支部",
            "干部工作原则", "领导干部的基本条件", "党外干部", "职务非终身", "纪律的性质",
            "纪律内容与执纪方针", "纪律处分的种类", "处分的审批权限", "处分的程序保障",
            "对党组织的问责与处理", "纪委的领导体制与组成", "纪委的任务与职责",
            "上下级纪委关系", "党组的设立与任务", "党组的组成", "党组性质的党委",
            "共青团的性质与领导关系", "党对团的领导", "党徽", "党旗", "党徽党旗的地位与使用",
        ),
        start=1,
    )
}


def part_by_title(title: str) -> Part | None:
    """Return the part with this exact title, or None."""
    return next((p for p in PARTS if p.title == title), None)


def part_of_article(article: str) -> Part | None:
    """Return the part that holds an article label ('总纲' maps to the general programme)."""
    if article == GENERAL_PROGRAM:
        return PARTS[0]
    return _PART_OF_ARTICLE.get(article)


# Every article label -> its chapter, built once (an import validates thousands of questions).
_PART_OF_ARTICLE = {article: part for part in PARTS[1:] for article in part.articles}
