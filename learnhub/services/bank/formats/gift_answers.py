"""The answer part of a GIFT question, `{…}`, read the way Moodle's qformat_gift reads it.

Moodle decides the type from the braces alone: empty is an essay, `#…` numerical, any `~` multiple
choice (one correct answer when there is an `=`, several weighted ones when there is none), `=a -> b`
matching, T/F true/false, and the rest short answer. LearnHub has single and multiple choice,
true/false and fill-in (short answer); essays, numerical and matching questions are skipped. LearnHub
grades all or nothing, so a weight is only ever read to know which answers are right: partial credit
is never taken as a right answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..files import LETTERS
from .gift_markup import gift_text, mask, split_unescaped

_WEIGHT = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_TRUTH = {"T": "对", "TRUE": "对", "F": "错", "FALSE": "错"}


@dataclass(frozen=True)
class Answers:
    """What the braces of a question LearnHub can hold say."""

    kind: str
    options: list[str]
    answer: object  # in the YAML shape read_question takes
    explanation: str


@dataclass(frozen=True)
class Unsupported:
    """A Moodle question type LearnHub does not have, or text that is no question: skipped, not an error."""

    kind: str

    @property
    def reason(self) -> str:
        if self.kind == "说明文字":
            return "说明文字（没有 { } 答案部分），不是题目，已跳过"
        return f"{self.kind}，LearnHub 没有这种题型，已跳过"


@dataclass(frozen=True)
class _Answer:
    marker: str  # = or ~
    weight: float | None  # the %n% after the marker, if any
    text: str


def read_answers(inside: str, fmt: str) -> Answers | Unsupported | str:
    """Read the raw text between the braces; `fmt` is the question's format. A string is an error."""
    masked = mask(inside)
    cut = masked.rfind("####")  # general feedback: after the last ####, as Moodle reads it
    core, feedback = (inside[:cut], inside[cut + 4:]) if cut >= 0 else (inside, "")
    shape = mask(core).strip()
    if not shape:
        return Unsupported("论述题")
    if shape.startswith("#"):
        return Unsupported("数值题")
    if "=" in shape and "->" in shape and "~" not in shape:
        return Unsupported("匹配题")
    explanation = gift_text(feedback, fmt)
    if "~" in shape:
        return _choice(core, fmt, explanation)
    truth = split_unescaped(core, "#")[0].strip().upper()
    if truth in _TRUTH:
        return Answers("truefalse", [], _TRUTH[truth], explanation)
    return _short_answer(core, fmt, explanation)


def _answers(core: str, fmt: str) -> list[_Answer] | str:
    """Split `=a ~%50%b#feedback …` into answers (per-answer feedback dropped: LearnHub has none)."""
    marks = list(re.finditer(r"[=~]", mask(core)))
    if not marks or core[:marks[0].start()].strip():
        return "：答案部分无法识别（每个答案应以 = 或 ~ 开头）"
    answers = []
    for mark, following in zip(marks, marks[1:] + [None]):
        piece = split_unescaped(core[mark.end():following.start() if following else len(core)], "#")[0].strip()
        weight = _WEIGHT.match(piece)
        text = gift_text(piece[weight.end():] if weight else piece, fmt)
        answers.append(_Answer(mark[0], float(weight[1]) if weight else None, text))
    return answers


def _choice(core: str, fmt: str, explanation: str) -> Answers | str:
    """With an `=`: single choice, whatever the `~%n%` weights. Without: the positively weighted answers."""
    answers = _answers(core, fmt)
    if isinstance(answers, str):
        return answers
    options = [a.text for a in answers]
    if any(a.marker == "=" for a in answers):
        odd = [a for a in answers if a.marker == "=" and a.weight not in (None, 100)]
        if odd:
            return f"：选择题中 = 表示满分答案，「={_percent(odd[0].weight)}{odd[0].text}」不应带分值"
        return Answers("single", options, _letters(answers, lambda a: a.marker == "="), explanation)
    right = [a for a in answers if (a.weight or 0) > 0]
    if not right:
        return "：没有正确答案（单选题用 = 标出正确答案；多选题用 ~%50% 这样的分值标出各个正确答案）"
    total = sum(a.weight for a in right)
    if round(total, 0) != 100:  # Moodle refuses these too: the right answers must add up to 100%
        return f"：多选题各正确答案的分值之和应为 100%，现为 {total:g}%"
    return Answers("multiple", options, _letters(answers, lambda a: (a.weight or 0) > 0), explanation)


def _short_answer(core: str, fmt: str, explanation: str) -> Answers | str:
    """Every full-credit answer is accepted; an answer worth part of the mark cannot be, so it is refused."""
    answers = _answers(core, fmt)
    if isinstance(answers, str):
        return answers
    partial = [a for a in answers if a.weight is not None and 0 < a.weight < 100]
    if partial:
        named = "、".join(f"「{a.text}」（{a.weight:g}%）" for a in partial)
        return (f"：答案{named}只得部分分，LearnHub 的填空题只判对错，不能给部分分；"
                "请删去这些答案，或把它们改成满分答案（去掉 %…%）")
    accepted = [a.text for a in answers if a.weight is None or a.weight >= 100]
    if not accepted:
        return "：没有满分答案（填空题至少要有一个不带分值、或分值为 100% 的 = 答案）"
    return Answers("fill", [], ["|".join(accepted)], explanation)


def _letters(answers: list[_Answer], right) -> list[str]:
    # Letters beyond F cannot exist; read_question reports the option count instead.
    return [LETTERS[i] for i, a in enumerate(answers) if right(a) and i < len(LETTERS)]


def _percent(weight: float | None) -> str:
    return f"%{weight:g}%" if weight is not None else ""
