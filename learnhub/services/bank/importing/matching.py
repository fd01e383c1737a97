"""Which question of the bank each question of a file is: re-importing a file adds no duplicates.

A question of the file is the bank's question (the bank being imported into, never another) with
1. the same id (题目编号, a GIFT `// learnhub:` id, or the id made from the stem of a question without one);
2. else an id equal to its GIFT ::title:: (a LearnHub export carries ids there; Moodle keeps titles);
3. else the same stem and options, compared with width, case, spaces and punctuation folded.
Matched, it takes the bank question's id; the fields its format cannot carry (an Aiken file has no
explanation, a sheet without 解析 column neither) keep the bank's values, and text that differs from the
bank's only in white space (Aiken folds line breaks) keeps the bank's text. Unmatched, it is new; its id
may not be one another bank holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ....extensions import db
from ....models import Question
from ..files import BankQuestion, Problem, normalise_text
from ..question_bank import GENERATED_KEY, to_bank_question

FIELDS = ("kind", "stem", "options", "answer", "explanation", "point", "article", "difficulty", "version")
FIELD_LABELS = {"kind": "题型", "stem": "题干", "options": "选项", "answer": "答案", "explanation": "解析",
                "point": "知识点", "article": "条文", "difficulty": "难度", "version": "版本"}


@dataclass
class Match:
    """A question as it will be stored, what it replaces (None: new) and which fields differ."""

    question: BankQuestion
    current: Question | None
    changes: list[str]
    point_is_new: bool = False

    @property
    def status(self) -> str:
        if self.current is None:
            return "new"
        return "changed" if self.changes else "unchanged"


def fingerprint(stem: str, options: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (normalise_text(stem), *(normalise_text(o) for o in options))


class BankIndex:
    """The current questions of one bank, by id and by stem and options; and every other bank's ids."""

    def __init__(self, owner_id: int | None):
        self.owner_id = owner_id
        rows = db.session.execute(select(Question.key, Question.owner_org_id).where(Question.is_current.is_(True))).all()
        self.others = {key: owner for key, owner in rows if owner != owner_id}
        own = select(Question).options(joinedload(Question.point)).where(Question.is_current.is_(True))
        own = own.where(Question.owner_org_id.is_(None) if owner_id is None else Question.owner_org_id == owner_id)
        self.by_key = {q.key: q for q in db.session.scalars(own)}
        self.by_print: dict[tuple[str, ...], Question] = {}
        for q in self.by_key.values():
            self.by_print.setdefault(fingerprint(q.stem, q.options), q)

    def find(self, bq: BankQuestion) -> Question | None:
        return (self.by_key.get(bq.key) or (self.by_key.get(bq.title) if bq.title else None)
                or self.by_print.get(fingerprint(bq.stem, bq.options)))


def match_all(questions: list[BankQuestion], index: BankIndex, carried: frozenset[str] | None,
              source: str) -> tuple[list[Match], list[Problem]]:
    """Match every question; problems name the rows whose id another bank holds or that two rows claim."""
    matches, problems = [], []
    claimed: dict[str, str] = {}  # bank question id -> the row that took it
    for bq in questions:
        current = index.find(bq)
        if current is None:
            bq = _own_key(bq, index)
            if bq.key in index.others:
                where = "内置题库" if index.others[bq.key] is None else "其他组织题库"
                problems.append(Problem(source, bq.key, f"{_at(bq)}题目编号「{bq.key}」已是{where}的题目，不能导入覆盖；"
                                                        "请改用新的题目编号", bq.label))
                continue
            matches.append(Match(bq, None, []))
        else:
            stored = to_bank_question(current)
            bq = merge(bq, stored, carried)
            matches.append(Match(bq, current, changed_fields(bq, stored)))
        if bq.key in claimed:
            problems.append(Problem(source, bq.key, f"{_at(bq)}与{claimed[bq.key]}是同一道题（题目编号「{bq.key}」）", bq.label))
        claimed.setdefault(bq.key, bq.label or bq.key)
    return matches, problems


def _at(bq: BankQuestion) -> str:
    return f"{bq.label}：" if bq.label else ""


def _own_key(bq: BankQuestion, index: BankIndex) -> BankQuestion:
    """A question that came without an id gets one of this bank's own when another bank has its stem's id,
    so two committees may import the same file."""
    if bq.key in index.others and index.owner_id is not None and GENERATED_KEY.match(bq.key):
        return replace(bq, key=f"{bq.key}-o{index.owner_id}")
    return bq


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def merge(incoming: BankQuestion, stored: BankQuestion, carried: frozenset[str] | None) -> BankQuestion:
    """The matched question as it will be stored: the bank's id and source; the bank's values for what the
    file did not carry, and for text that differs only in white space."""
    keep = {f: getattr(stored, f) for f in FIELDS if carried is not None and f not in carried}
    if _same_text(incoming.stem, stored.stem):
        keep["stem"] = stored.stem
    if len(incoming.options) == len(stored.options) and all(map(_same_text, incoming.options, stored.options)):
        keep["options"] = stored.options
    if _same_text(incoming.explanation, stored.explanation):
        keep["explanation"] = stored.explanation
    return replace(incoming, key=stored.key, source=stored.source, **keep)


def changed_fields(bq: BankQuestion, stored: BankQuestion) -> list[str]:
    return [FIELD_LABELS[f] for f in FIELDS if getattr(bq, f) != getattr(stored, f)]
