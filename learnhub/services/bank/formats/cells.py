"""What the cells of a question spreadsheet mean, written as exam systems and secretaries write them.

Column names (题干/题目/试题内容…), type names (单选题（1分）, 单项选择, 是非题…), answers (a,b / Ａ、Ｂ / √ / 正确),
blanks in fill-in stems (（ ）, ＿＿, 【 】) and difficulties (易/中/难, 1–5).
"""

from __future__ import annotations

import re
import unicodedata

from ..files import LETTERS

_OPTION_NUMBERS = "一二三四五六"
# Canonical column -> the header texts that mean it, the one our template writes first.
COLUMN_NAMES: dict[str, list[str]] = {
    "id": ["题目编号", "试题编号", "题目ID"],
    "type": ["题型", "题目类型", "试题类型", "类型", "题型名称"],
    "stem": ["题干", "题目", "试题", "试题内容", "题目内容", "问题", "题目名称"],
    **{letter: [f"选项{letter}", letter, f"{letter}选项", f"选项{_OPTION_NUMBERS[i]}", f"选项{i + 1}"]
       for i, letter in enumerate(LETTERS)},
    # Options past F cannot be stored: read only to refuse a row that uses them, never to drop one silently.
    **{f"extra{i}": [f"选项{letter}", letter, f"{letter}选项", f"选项{number}", f"选项{i + 7}"]
       for i, (letter, number) in enumerate(zip("GH", "七八", strict=True))},
    "answer": ["答案", "正确答案", "参考答案", "标准答案", "答案选项"],
    "explanation": ["解析", "答案解析", "试题解析", "题目解析", "解释", "答题解析"],
    "point": ["知识点", "所属知识点", "知识点名称", "章节", "所属章节", "分类", "目录", "题目分类", "试题分类"],
    "article": ["条文", "条款"],
    "difficulty": ["难度", "难易程度", "难易度", "难度等级"],
    "version": ["版本"],
}
REQUIRED = ["stem", "answer"]

KIND_WORDS = {
    **dict.fromkeys(("单选", "单项选择", "单选择", "单项", "单项选", "single"), "single"),
    **dict.fromkeys(("多选", "多项选择", "多选择", "多项", "多项选", "multiple"), "multiple"),
    # 选择题 and 不定项 say nothing of how many options are right: the answer decides.
    **dict.fromkeys(("选择", "不定项", "不定项选择", "不定向选择", "不定选"), "choice"),
    **dict.fromkeys(("判断", "是非", "正误", "对错", "判断正误", "truefalse"), "truefalse"),
    **dict.fromkeys(("填空", "fill"), "fill"),
}
# Types LearnHub has no way to grade: their rows are listed as skipped, not refused.
UNSUPPORTED = ("简答", "论述", "问答", "材料分析", "案例分析", "名词解释", "计算", "综合", "主观", "阅读理解", "排序",
               "连线", "匹配", "作文", "写作", "分析", "辨析", "简述", "操作", "实操", "情景", "翻译", "完形")
TRUTH_WORDS = {
    **dict.fromkeys(("对", "√", "✓", "✔", "正确", "t", "true", "是", "y", "yes", "对的", "正确的", "○"), "对"),
    **dict.fromkeys(("错", "×", "✗", "✘", "错误", "f", "false", "否", "n", "no", "x", "错的", "错误的", "╳"), "错"),
}
DIFFICULTY_WORDS = {
    **dict.fromkeys(("1", "易", "简单", "容易", "较易", "低", "初级"), 1),
    **dict.fromkeys(("2", "中", "中等", "一般", "适中", "中级"), 2),
    **dict.fromkeys(("3", "难", "困难", "较难", "高", "高级", "4", "5"), 3),
}
_BRACKETED = re.compile(r"[(\[【].*?[)\]】]")
_BLANKS = re.compile(r"[（(][\s\u3000]*[）)]|【[\s\u3000]*】|\[[\s\u3000]*\]|[_＿]{2,}")
_SEPARATORS = re.compile(r"[\s,，、;；/|.．和及与]+")


def fold(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII), lower case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def read_kind(text: str) -> str | None:
    """单选题（1分） -> single; 不定项 -> choice (the answer decides); 简答题 -> "unsupported"; None: not a type."""
    word = _BRACKETED.sub("", fold(text))
    word = re.sub(r"\d+(\.\d+)?分$", "", word).rstrip("题")
    if word in KIND_WORDS:
        return KIND_WORDS[word]
    if word.endswith("类") and word[:-1] in KIND_WORDS:
        return KIND_WORDS[word[:-1]]
    if any(w in word for w in UNSUPPORTED):
        return "unsupported"
    return None


def choice_letters(text: str, options: list[str]) -> str:
    """A choice answer as letters: 'a,b' / 'Ａ、Ｂ' / 'A B' -> 'AB'; the text of one option -> its letter.

    Anything else is returned as written, for the validator to name.
    """
    letters = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if letters and all(ch in LETTERS for ch in letters):
        return letters
    matching = [LETTERS[i] for i, option in enumerate(options[:len(LETTERS)]) if option and fold(option) == fold(text)]
    return matching[0] if len(matching) == 1 else text


def truth(text: str) -> str:
    """对 or 错 for the ways files write true and false; anything else as written."""
    return TRUTH_WORDS.get(fold(text).rstrip("。."), text)


def fill_stem(stem: str) -> str:
    """Blanks written （ ）, (), 【 】, ＿＿ or __ become ____, the one blank the validator counts; a stem with
    none (a question asked outright) gets one at the end, as Moodle's short answers do."""
    stem = _BLANKS.sub("____", stem)
    return stem if "____" in stem else f"{stem}____"


def fill_answers(text: str, blanks: int) -> list[str]:
    """One answer per blank, split at ；/; — or at ，、 and spaces when that gives exactly one per blank."""
    parts = [p.strip() for p in re.split(r"[;；]", text) if p.strip()]
    if len(parts) == 1 and blanks > 1:
        split = [p for p in re.split(r"[,，、\s]+", text) if p]
        if len(split) == blanks:
            return split
    return parts or [text]


def difficulty(text: str) -> object:
    """1–3 from 1/2/3, 易/中/难, 简单/中等/困难 (1–5 folded to 3); blank is 1; anything else as written."""
    if not text:
        return 1
    return DIFFICULTY_WORDS.get(fold(text).removesuffix(".0"), text)


def infer_kind(stem: str, options: list[str], answer: str) -> str | None:
    """The type of a row whose 题型 is blank: lettered answer with options is a choice, a truth word true/false,
    a stem with a blank fill-in."""
    if any(options):
        return "choice"
    if fold(answer) in TRUTH_WORDS:
        return "truefalse"
    if _BLANKS.search(stem):
        return "fill"
    return None
