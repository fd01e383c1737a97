"""A question bank whose keys can be recognised in any response, and a world of exams built on it.

Every key-bearing field of a secret question carries a token found nowhere else: the stem (STEMS1...),
each option (OPTS1A...), each revision's explanation (EXPLS1R1...) and each accepted fill-in answer
(FILLS4X...). `revealed()` then says, for a response body, which sealed question's key it shows:

- an explanation or an accepted fill-in answer of any revision, anywhere in the body;
- after the question's stem (up to the next secret stem), a mark the app uses for a right answer:
  "正确答案" (review, feedback, item analysis), "当前答案" (item analysis), or a JSON "right" key
  (immediate feedback);
- after its stem, all its options in the stored order (the exam shows them in another order);
- in a spreadsheet, the stem at all: the only sheet that lists questions lists their keys.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import openpyxl
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, PointLevel, Question, QuestionKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RIGHT_MARKS = ("正确答案", "当前答案", '"right"')


@dataclass
class SecretQuestion:
    key: str
    stem_token: str
    options: list[str] = field(default_factory=list)  # tokens, in stored order
    tokens: list[str] = field(default_factory=list)  # explanations of every revision, accepted fill-in answers
    ids: list[int] = field(default_factory=list)  # every revision, current last


def _question(key: str, kind: QuestionKind, stem: str, options: list[str], answer: list, explanation: str,
              point: KnowledgePoint, revision: int = 1, current: bool = True) -> Question:
    q = Question(key=key, revision=revision, is_current=current, kind=kind, stem=stem, options=options, answer=answer,
                 explanation=explanation, article="第一条", point=point, difficulty=1)
    db.session.add(q)
    db.session.flush()
    return q


def build_secret_bank() -> dict[str, SecretQuestion]:
    """Four sealed-to-be questions (one of each kind, the single choice in two revisions) and one that stays open.

    They hang on the test bank's first knowledge point, so chapter practice of 第一章 draws from them.
    """
    point = db.session.scalar(select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.POINT)
                              .order_by(KnowledgePoint.id))
    bank: dict[str, SecretQuestion] = {}

    def choice(key: str, tag: str, kind: QuestionKind, answer: list, revisions: int = 1) -> None:
        opts = [f"OPT{tag}{c}" for c in "ABCD"]
        sq = bank[key] = SecretQuestion(key, f"STEM{tag}", opts)
        for r in range(1, revisions + 1):
            expl = f"EXPL{tag}R{r}"
            sq.tokens.append(expl)
            q = _question(key, kind, f"秘密题 STEM{tag} 问的是什么？", opts, answer, f"解析 {expl}。", point, r, r == revisions)
            sq.ids.append(q.id)

    choice("sec-s1", "S1", QuestionKind.SINGLE, [2], revisions=2)
    choice("sec-s2", "S2", QuestionKind.MULTIPLE, [0, 3])
    s3 = bank["sec-s3"] = SecretQuestion("sec-s3", "STEMS3", tokens=["EXPLS3R1"])
    s3.ids.append(_question("sec-s3", QuestionKind.TRUEFALSE, "秘密判断 STEMS3 对吗？", [], [True], "解析 EXPLS3R1。", point).id)
    s4 = bank["sec-s4"] = SecretQuestion("sec-s4", "STEMS4", tokens=["EXPLS4R1", "FILLS4X", "FILLS4Y"])
    s4.ids.append(_question("sec-s4", QuestionKind.FILL, "秘密填空 STEMS4 是____。", [], [["FILLS4X", "FILLS4Y"]],
                            "解析 EXPLS4R1。", point).id)
    choice("sec-u1", "U1", QuestionKind.SINGLE, [1])  # on an older paper only: its key stays visible
    return bank


def body_text(response) -> tuple[str, bool]:
    """A response's text, and whether it is a spreadsheet (then every cell, row by row)."""
    if response.mimetype == XLSX:
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
        rows = (" | ".join("" if v is None else str(v) for v in row) for ws in book for row in ws.iter_rows(values_only=True))
        return "\n".join(rows), True
    # Attachments (images, PDF) are bytes: searched as text all the same, a key written in a file shows.
    return response.get_data().decode("utf-8", "replace"), False


def revealed(text: str, bank: dict[str, SecretQuestion], sealed: set[str], spreadsheet: bool = False) -> list[str]:
    """Which sealed questions' keys the text shows, and how (empty: none)."""
    found = []
    for key in sealed:
        found += [f"{key}: {token}" for token in bank[key].tokens if token in text]
    stems = sorted((m.start(), sq.key) for sq in bank.values() for m in re.finditer(sq.stem_token, text))
    for i, (start, key) in enumerate(stems):
        if key not in sealed:
            continue
        window = text[start:stems[i + 1][0] if i + 1 < len(stems) else len(text)]
        if spreadsheet:
            found.append(f"{key}: listed in a spreadsheet")
        found += [f"{key}: {mark} after its stem" for mark in RIGHT_MARKS if mark in window]
        positions = [window.find(o) for o in bank[key].options]
        if len(positions) > 2 and min(positions) >= 0 and positions == sorted(positions):
            found.append(f"{key}: options in stored order")
    return sorted(set(found))
