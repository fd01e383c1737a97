"""The 2022 Party Constitution as far as the official sources let us know its wording.

`questions/sources/` holds the 2017 full text and the Xinhua interview with the 20th Congress
secretariat that lists the 2022 changes. The 2022 text is the 2017 text with those changes:

- `Replace(old, new)`: the interview gives both wordings, the old one as in the 2017 text, so the new one
  joins its neighbours exactly where the old one did ("将……修改为……") or the new wording in full;
  `old` must be in the 2017 text and `new` in the interview (a part of `new` set off by `WALL` may be
  2017 wording the change keeps, where the interview gives only the changed words).
- `Insert(after, text)`: the interview says "增写……的内容"; `text` must be in the interview. Where the
  inserted words sit and how they join their neighbours is not stated, so the words are kept apart from
  the surrounding text: a phrase may quote them, never a span that crosses into them.
- `Drop(old)`: 2017 wording the revision changed without the interview giving the new words (renumbered
  items, a paragraph "作了相应修改"): it is no longer current, so it is cut out and nothing may quote
  across the cut.

Matching folds width, case, spaces and punctuation only (`normalise_text`), as the grader does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from learnhub.services.bank.files import normalise_text

SOURCES = Path(__file__).parent.parent / "questions" / "sources"
TEXT_2017 = SOURCES / "constitution-2017.txt"
AMENDMENT_QA = SOURCES / "2022-amendment-qa.txt"

# A letter that survives normalise_text and occurs in neither source: a wall no quotation can cross.
WALL = "Ж"


@dataclass(frozen=True)
class Replace:
    old: str
    new: str


@dataclass(frozen=True)
class Insert:
    after: str
    text: str


@dataclass(frozen=True)
class Drop:
    old: str
    within: str = ""  # where `old` is cut, when the same words occur elsewhere unchanged


# Every change the interview states, in the order of the text. 总纲 first, then the articles.
CHANGES_2022 = (
    # 总纲第八自然段: the thought's scientific content and historical position.
    Replace(
        "顺应时代发展，从理论和实践结合上系统回答了新时代坚持和发展什么样的中国特色社会主义、怎样坚持和发展中国特色社会主义这个重大时代课题",
        "坚持把马克思主义基本原理同中国具体实际相结合、同中华优秀传统文化相结合，科学回答了新时代坚持和发展什么样的中国特色社会主义、怎样坚持和发展中国特色社会主义等重大时代课题",
    ),
    Replace("是马克思主义中国化最新成果", "是当代中国马克思主义、二十一世纪马克思主义，是中华文化和中国精神的时代精华"),
    Insert("推动中国特色社会主义进入了新时代", "实现第一个百年奋斗目标，开启了实现第二个百年奋斗目标新征程"),
    # 总纲第九自然段: 斗争精神 and the second centenary goal.
    Insert("坚定道路自信、理论自信、制度自信、文化自信", "发扬斗争精神，增强斗争本领"),
    Replace(
        "实现“两个一百年”奋斗目标、实现中华民族伟大复兴的中国梦而奋斗",
        "实现第二个百年奋斗目标、实现中华民族伟大复兴的中国梦而奋斗",
    ),
    # 总纲新第十自然段: quoted in full by the interview.
    Insert(
        "实现第二个百年奋斗目标、实现中华民族伟大复兴的中国梦而奋斗",
        "中国共产党自成立以来，始终把为中国人民谋幸福、为中华民族谋复兴作为自己的初心使命，历经百年奋斗，"
        "从根本上改变了中国人民的前途命运，开辟了实现中华民族伟大复兴的正确道路，展示了马克思主义的强大生命力，"
        "深刻影响了世界历史进程，锻造了走在时代前列的中国共产党。经过长期实践，积累了坚持党的领导、坚持人民至上、"
        "坚持理论创新、坚持独立自主、坚持中国道路、坚持胸怀天下、坚持开拓创新、坚持敢于斗争、坚持统一战线、"
        "坚持自我革命的宝贵历史经验，这是党和人民共同创造的精神财富，必须倍加珍惜、长期坚持，并在实践中不断丰富和发展。",
    ),
    # 总纲原第十自然段: 初级阶段, basic economic system, common prosperity, new development philosophy.
    Insert("我国正处于并将长期处于社会主义初级阶段", "以中国式现代化全面推进中华民族伟大复兴"),
    Replace(
        "必须坚持和完善公有制为主体、多种所有制经济共同发展的基本经济制度，坚持和完善按劳分配为主体、多种分配方式并存的分配制度",
        "必须坚持和完善公有制为主体、多种所有制经济共同发展，按劳分配为主体、多种分配方式并存，社会主义市场经济体制等基本经济制度",
    ),
    Replace("鼓励一部分地区和一部分人先富起来，逐步消灭贫穷，达到共同富裕", "鼓励一部分地区和一部分人先富起来，逐步实现全体人民共同富裕"),
    Replace(
        "坚持创新、协调、绿色、开放、共享的发展理念",
        "把握新发展阶段，贯彻创新、协调、绿色、开放、共享的新发展理念，加快构建以国内大循环为主体、国内国际双循环相互促进的新发展格局，推动高质量发展",
    ),
    Replace("协调推进全面建成小康社会", "协调推进Ж全面建设社会主义现代化国家"),
    Drop("到建党一百年时，全面建成小康社会；到新中国成立一百年时，全面建成社会主义现代化强国"),
    Insert("经济和社会发展的战略目标是", "到2035年基本实现社会主义现代化，到本世纪中叶把我国建成社会主义现代化强国"),
    # 总纲原第十二自然段: talent, and a safer economy.
    Insert("充分发挥创新作为引领发展第一动力的作用", "充分发挥人才作为第一资源的作用"),
    Replace(
        "促进国民经济更高质量、更有效率、更加公平、更可持续发展",
        "促进国民经济更高质量、更有效率、更加公平、更可持续、更为安全发展",
    ),
    # 总纲原第十六自然段: rule of law, whole-process democracy, consultation.
    Insert("建设中国特色社会主义法治体系", "中国特色社会主义法治道路"),
    Replace("发展更加广泛、更加充分、更加健全的人民民主", "发展更加广泛、更加充分、更加健全的全过程人民民主"),
    Replace("推进协商民主广泛、多层、制度化发展", "推进协商民主广泛多层制度化发展"),
    Replace("建立健全民主选举、民主决策、民主管理、民主监督的制度和程序", "建立健全民主选举、民主协商、民主决策、民主管理、民主监督的制度和程序"),
    # 总纲原第十八自然段.
    Insert("坚持总体国家安全观", "统筹发展和安全"),
    # 总纲原第二十自然段: the army.
    Replace("坚持政治建军、改革强军、科技兴军、依法治军", "坚持政治建军、改革强军、科技强军、人才强军、依法治军"),
    Insert("能打胜仗、作风优良的人民军队", "把人民军队建设成为世界一流军队"),
    # 总纲原第二十二自然段: one country, two systems; Taiwan.
    Replace("按照“一个国家、两种制度”的方针", "全面准确、坚定不移贯彻“一个国家、两种制度”的方针"),
    Insert("完成祖国统一大业", "坚决反对和遏制“台独”"),
    # 总纲原第二十三自然段: foreign affairs.
    Insert("推动构建人类命运共同体", "弘扬和平、发展、公平、正义、民主、自由的全人类共同价值"),
    Replace("推动建设持久和平、共同繁荣的和谐世界", "推动建设持久和平、普遍安全、共同繁荣、开放包容、清洁美丽的世界"),
    # 总纲原第二十四至第二十九自然段: party building.
    Drop("实现“两个一百年”奋斗目标", within="中国共产党要领导全国各族人民实现“两个一百年”奋斗目标"),
    Insert("全面从严治党", "坚持和加强党的全面领导"),
    Insert(
        "党的政治建设",
        "弘扬坚持真理、坚守理想，践行初心、担当使命，不怕牺牲、英勇斗争，对党忠诚、不负人民的伟大建党精神",
    ),
    Insert("党的政治建设", "以伟大自我革命引领伟大社会革命"),
    Insert(
        "第一，坚持党的基本路线。",
        "必须提高政治判断力、政治领悟力、政治执行力，增强贯彻落实党的理论和路线方针政策的自觉性和坚定性",
    ),
    # The first requirement's cadre sentence moved into the new third requirement, quoted below.
    Drop("加强各级领导班子建设，培养选拔党和人民需要的好干部，培养和造就千百万社会主义事业接班人，从组织上保证党的基本理论、基本路线、基本方略的贯彻落实。"),
    # The old third to fifth requirements are now the fourth to sixth: their 2017 ordinals are not current.
    Drop("第三，", within="第三，坚持全心全意为人民服务"),
    Drop("第四，", within="第四，坚持民主集中制"),
    Drop("第五，", within="第五，坚持从严管党治党"),
    Replace("推进马克思主义中国化。", "推进马克思主义中国化时代化。"),
    Insert(
        "推进马克思主义中国化时代化。",
        "第三，坚持新时代党的组织路线。全面贯彻习近平新时代中国特色社会主义思想，以组织体系建设为重点，"
        "着力培养忠诚干净担当的高素质干部，着力集聚爱国奉献的各方面优秀人才，坚持德才兼备、以德为先、任人唯贤，"
        "为坚持和加强党的全面领导、坚持和发展中国特色社会主义提供坚强组织保证。全党必须增强党组织的政治功能和组织功能，"
        "培养选拔党和人民需要的好干部，培养和造就大批堪当时代重任的社会主义事业接班人，聚天下英才而用之，"
        "从组织上保证党的基本理论、基本路线、基本方略的贯彻落实。",
    ),
    Insert("坚持从严管党治党。", "党的自我革命永远在路上"),
    Insert("不断完善党内监督体系", "不断健全党内法规体系"),
    Replace("强化管党治党主体责任和监督责任", "强化全面从严治党主体责任和监督责任"),
    Replace("构建不敢腐、不能腐、不想腐的有效机制", "一体推进不敢腐、不能腐、不想腐"),
    # 总纲原第三十自然段.
    Insert("是中国特色社会主义制度的最大优势。", "党是最高政治领导力量"),
    # 第三条: members' duties.
    Insert("学习党的基本知识", "学习党的历史"),
    Insert("（二）", "增强“四个意识”、坚定“四个自信”、做到“两个维护”"),
    # 第三十条: hospitals.
    Replace("企业、农村、机关、学校、科研院所", "企业、农村、机关、学校、Ж医院Ж、科研院所"),
    # 第三十二条第二项.
    Insert("推进“两学一做”学习教育常态化制度化", "推进党史学习教育常态化制度化"),
    # 第三十三条.
    Replace(
        "街道、乡、镇党的基层委员会和村、社区党组织，领导本地区的工作和基层社会治理",
        "街道、乡、镇党的基层委员会和村、社区党组织，统一领导本地区基层各类组织和各项工作，加强基层社会治理",
    ),
    Insert("领导思想政治工作、精神文明建设", "统一战线工作"),
    Insert("领导思想政治工作、精神文明建设", "妇女组织"),
    # 第三十六条第五项.
    Insert("反对形式主义、官僚主义、享乐主义和奢靡之风", "反对特权思想和特权现象"),
    # 第四十条.
    Replace("给以批评教育直至纪律处分", "给以批评教育、责令检查、诫勉直至纪律处分"),
    # 第四十五条、第四十六条.
    Insert("全面派驻党的纪律检查组。", "按照规定向有关国有企业、事业单位派驻党的纪律检查组"),
    Insert("组织协调反腐败工作", "推动完善党和国家监督体系"),
    # 第四十八条、第五十条.
    Replace("党组发挥领导核心作用", "党组发挥领导作用"),
    Replace(
        "对下属单位实行集中统一领导的国家工作部门可以建立党委",
        "在对下属单位实行集中统一领导的国家工作部门和有关单位的领导机关中，可以建立党委",
    ),
)


def _apply(text: str, change: Replace | Insert | Drop) -> str:
    if isinstance(change, Replace):
        return text.replace(change.old, change.new, 1)
    if isinstance(change, Insert):
        return text.replace(change.after, change.after + WALL + change.text + WALL, 1)
    if change.within:
        return text.replace(change.within, change.within.replace(change.old, WALL, 1), 1)
    return text.replace(change.old, WALL, 1)


def check_changes() -> list[str]:
    """Each change must rest on the sources: old wording in 2017, new wording in the interview."""
    text, qa = TEXT_2017.read_text(encoding="utf-8"), normalise_text(AMENDMENT_QA.read_text(encoding="utf-8"))
    wrong = []
    for change in CHANGES_2022:
        anchor = change.after if isinstance(change, Insert) else getattr(change, "within", "") or change.old
        if anchor not in text:
            wrong.append(f"not in the 2017 text (or already changed): {anchor}")
        new = change.text if isinstance(change, Insert) else getattr(change, "new", "")
        kept = normalise_text(getattr(change, "old", ""))
        for piece in filter(None, map(normalise_text, new.split(WALL))):
            if piece not in qa and piece not in kept:
                wrong.append(f"not in the 2022 amendment interview: {piece}")
        text = _apply(text, change)
    return wrong


@lru_cache(maxsize=1)
def text_2022() -> str:
    """The 2022 text, normalised, with walls where the sources do not give the joins."""
    text = TEXT_2017.read_text(encoding="utf-8")
    for change in CHANGES_2022:
        text = _apply(text, change)
    return normalise_text(text)


def in_2022_text(phrase: str) -> bool:
    """Does `phrase` appear word for word (punctuation and spacing aside) in the 2022 Constitution?"""
    wanted = normalise_text(phrase)
    return bool(wanted) and wanted in text_2022()
