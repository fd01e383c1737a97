"""Questions written in the browser under a subject's knowledge point.

A new question is validated exactly as a bank file's (files.read_question, what `flask questions check`
runs), on the one point it is written under, plus the check across files: no other question of the same
bank has the same stem. It belongs to the subject's owner (the built-in bank for the 党章). Its id is made
from its stem as an import makes one for a row without an id (formats.common.generated_key), so importing
the same question later finds it instead of adding it twice; an id another bank holds gets this bank's
suffix, as imports do.

Problems come back as (field, message) pairs, each shown beside its field; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...models import KnowledgePoint, PointLevel, Question, QuestionKind
from .. import ServiceError
from ..orgs import Scope
from .constitution import VERSION
from .files import KINDS, Bank, normalise_text, read_question
from .formats.common import generated_key
from .question_bank import _fields, point_nodes
from .subjects import can_edit

SOURCE = "网页录入"
# Which form field a message of read_question is about, by the words it contains; first match wins.
_FIELD_WORDS = (
    ("题干中有", "answer"), ("正确选项", "answer"), ("答案", "answer"), ("选项", "options"), ("题干", "stem"),
    ("解析", "explanation"), ("难度", "difficulty"), ("条文", "article"), ("知识点", "article"),
)


@dataclass(frozen=True)
class QuestionDraft:
    """What the form gives, per type: options (choice types, in order, blanks kept where they are),
    `correct` letters, `truth` (对/错) or `blanks` (one accepted answer list per blank)."""

    kind: str
    stem: str
    explanation: str
    difficulty: object
    article: str = ""
    options: tuple[str, ...] = ()
    correct: str = ""
    truth: str = ""
    blanks: tuple[str, ...] = ()


class QuestionProblems(ServiceError):
    """The draft is not a valid question: (field, message) pairs; field "" is about the whole question."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("；".join(m for _, m in problems))


def field_of(message: str) -> str:
    return next((f for words, f in _FIELD_WORDS if words in message), "")


def raw_of(draft: QuestionDraft, point: KnowledgePoint, key: str) -> dict:
    """The draft in the bank-file shape read_question validates."""
    if draft.kind in ("single", "multiple"):
        answer: object = draft.correct
    elif draft.kind == "truefalse":
        answer = draft.truth
    else:
        answer = list(draft.blanks)
    return {
        "id": key, "type": draft.kind, "stem": draft.stem, "options": list(draft.options) if draft.kind in ("single", "multiple") else [],
        "answer": answer, "explanation": draft.explanation, "article": draft.article, "point": point.name,
        "difficulty": draft.difficulty, "version": VERSION,
    }


def _friendly(draft: QuestionDraft) -> list[tuple[str, str]]:
    """Plain words for an answer not given at all (read_question would say 答案「」不在选项之中)."""
    if draft.kind in ("single", "multiple") and not draft.correct:
        return [("answer", "请选出正确答案" if draft.kind == "single" else "请选出所有正确答案（至少两个）")]
    if draft.kind == "truefalse" and not draft.truth:
        return [("answer", "请选择“对”或“错”")]
    if draft.kind == "fill" and not draft.blanks:
        return [("answer", "请填写每个空的答案（每空一行）")]
    return []


def free_key(stem: str, owner_id: int | None) -> str:
    """The id a new question of `owner_id`'s bank gets: made from its stem; with the bank's suffix (and a
    number) when another bank, or another question, holds it."""
    base = generated_key(stem)
    taken = set(db.session.scalars(select(Question.key).where(Question.key.startswith(base))))
    suffix = f"-o{owner_id}" if owner_id is not None else "-b"
    for candidate in (base, f"{base}{suffix}", *(f"{base}{suffix}-{n}" for n in range(2, 1000))):
        if candidate not in taken:
            return candidate
    raise ServiceError("无法为这道题生成编号，请修改题干")


def _same_stem(stem: str, owner_id: int | None) -> Question | None:
    """A current question of the same bank with the same stem (width, case, spaces, punctuation folded)."""
    wanted = normalise_text(stem)
    stmt = select(Question).where(Question.is_current.is_(True),
                                  Question.owner_org_id.is_(None) if owner_id is None else Question.owner_org_id == owner_id)
    return next((q for q in db.session.scalars(stmt) if normalise_text(q.stem) == wanted), None)


def check_point(scope: Scope, point: KnowledgePoint) -> None:
    """ServiceError unless new questions may be written under this point by the viewer."""
    if point.level is not PointLevel.POINT:
        raise ServiceError("题目只能写在知识点下")
    if not can_edit(scope, point.subject):
        raise ServiceError("只有该科目所属组织的组织员能在这里出题")
    if point.retired_at is not None or point.subject.retired_at is not None:
        raise ServiceError("这个知识点（或科目）已停用，不能再添加题目")


def add_question(scope: Scope, point: KnowledgePoint, draft: QuestionDraft) -> Question:
    """Validate the draft as `questions check` would and store it under `point` in the subject owner's
    bank. Commits.

    :raise QuestionProblems: what is wrong, field by field; nothing is stored.
    """
    check_point(scope, point)
    if draft.kind not in KINDS:
        raise QuestionProblems([("", "请选择题型")])
    owner_id = point.subject.owner_org_id
    problems = _friendly(draft)
    key = free_key(draft.stem, owner_id)
    bank = Bank()
    bq = read_question(raw_of(draft, point, key), {point.name: point_nodes(subject_id=point.subject_id)[point.name][0]},
                       SOURCE, bank, require_explanation=True)
    said = {f for f, _ in problems}  # an answer not given is said once, in plain words
    problems += [(field_of(p.message), p.message) for p in bank.problems if field_of(p.message) not in said]
    twin = _same_stem(draft.stem, owner_id) if draft.stem.strip() else None
    if twin is not None:
        problems.append(("stem", f"题干与本题库已有的题目（{twin.key}）重复"))
    if problems or bq is None:
        raise QuestionProblems(problems or [("", "题目无效")])
    question = Question(key=bq.key, revision=1, owner_org_id=owner_id, **_fields(bq, point))
    db.session.add(question)
    db.session.commit()
    return question


def kind_label(kind: str) -> str:
    return QuestionKind(kind).label if kind in KINDS else ""
