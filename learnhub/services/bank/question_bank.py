"""Load the question bank and the knowledge-point tree into the database, idempotently by id.

A question whose text changed gets a new revision when the old one is on any paper or was otherwise
seen by a member (papers keep the revision they were drawn with); otherwise it is updated in place.
Every import fills one owner's bank (an organisation's, or the built-in one) and never takes over a
question of another bank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import exists, func, insert, or_, select, text, update

from ...extensions import db
from ...models import (
    BUILTIN_SUBJECT_ID,
    AssignmentQuestion,
    KeyCorrection,
    KnowledgePoint,
    MistakeCard,
    PointLevel,
    PracticeAnswer,
    Question,
    QuestionKind,
    QuestionReport,
    Response,
)
from .. import ServiceError
from .access import point_owners
from .subjects import builtin_subject
from .files import Bank, BankPoint, BankQuestion, Problem, load_bank, read_question
from .constitution import ARTICLE_TITLES, GENERAL_PROGRAM, GENERAL_SECTIONS, PARTS


class BankError(ServiceError):
    def __init__(self, problems):
        self.problems = problems
        super().__init__(f"题库有 {len(problems)} 处问题，未导入任何题目")


@dataclass
class ImportResult:
    created: int = 0
    revised: int = 0
    updated: int = 0
    unchanged: int = 0


def article_node_name(article: str) -> str:
    """The tree label of an article: '第一条 入党条件'; sections of 总纲 are their own label."""
    title = ARTICLE_TITLES.get(article)
    return f"{article} {title}" if title else article


def ensure_structure() -> dict[tuple[PointLevel, str], KnowledgePoint]:
    """Create the part and article levels of the Constitution's tree (flushes); return the built-in
    subject's nodes by (level, name)."""
    builtin_subject()
    nodes = {(n.level, n.name): n for n in db.session.scalars(
        select(KnowledgePoint).where(KnowledgePoint.subject_id == BUILTIN_SUBJECT_ID))}

    def node(level: PointLevel, name: str, parent: KnowledgePoint | None, position: int) -> KnowledgePoint:
        found = nodes.get((level, name))
        if found is None:
            found = KnowledgePoint(level=level, name=name, parent=parent, position=position)
            db.session.add(found)
            nodes[(level, name)] = found
        return found

    for part in PARTS:
        part_node = node(PointLevel.PART, part.title, None, part.order)
        children = GENERAL_SECTIONS if part.title == GENERAL_PROGRAM else part.articles
        for i, child in enumerate(children):
            node(PointLevel.ARTICLE, article_node_name(child), part_node, part.order * 100 + i)
    db.session.flush()
    return nodes


def db_points(owners: set[int | None] | None = None, subject_id: int | None = None,
              include_retired: bool = True) -> dict[str, BankPoint]:
    """The knowledge points already in the database, in the shape the bank readers validate against.

    `owners`: only the points owned by these (None: built-in), e.g. bank_access.point_owners(owner).
    `subject_id`: only that subject's points. A point an organisation added under a part of its own, or
    under a chapter's 其他 node, cites no article; in a subject of an organisation a point's parent is its part.
    """
    return {name: point for name, (point, _) in point_nodes(owners, subject_id, include_retired).items()}


def point_nodes(owners: set[int | None] | None = None, subject_id: int | None = None,
                include_retired: bool = True) -> dict[str, tuple[BankPoint, int]]:
    """`db_points` with each point's node id (names are unique within a subject, not across subjects)."""
    stmt = select(KnowledgePoint)
    if subject_id is not None:
        stmt = stmt.where(KnowledgePoint.subject_id == subject_id)
    nodes = {n.id: n for n in db.session.scalars(stmt)}
    out = {}
    for node in nodes.values():
        if node.level is not PointLevel.POINT or node.parent_id is None:
            continue
        if owners is not None and node.owner_org_id not in owners:
            continue
        if not include_retired and node.retired_at is not None:
            continue
        holder = nodes[node.parent_id]
        if holder.level is PointLevel.PART:
            out[node.name] = (BankPoint(name=node.name, part=holder.name, article="", source="database"), node.id)
            continue
        part = nodes[holder.parent_id].name if holder.parent_id else ""
        out[node.name] = (BankPoint(name=node.name, part=part, article=node_article(holder.name), source="database"),
                          node.id)
    return out


def node_article(name: str) -> str:
    """The article an article-level node stands for: 第一条, a section of 总纲, or "" (a node an import added)."""
    if name in GENERAL_SECTIONS:
        return name
    first = name.split(" ")[0]
    return first if first in ARTICLE_TITLES else ""


def to_bank_question(q: Question) -> BankQuestion:
    """A database question in the shape the bank files and exports use."""
    answer = tuple(tuple(alts) for alts in q.answer) if q.kind is QuestionKind.FILL else tuple(q.answer)
    return BankQuestion(
        key=q.key, kind=q.kind.value, stem=q.stem, options=tuple(q.options), answer=answer,
        explanation=q.explanation, article=q.article, point=q.point.name, difficulty=q.difficulty,
        version=q.version, source=q.source,
    )


def current_questions(include_retired: bool = False) -> list[Question]:
    """The current revision of every question, in key order."""
    stmt = select(Question).where(Question.is_current.is_(True)).order_by(Question.key)
    if not include_retired:
        stmt = stmt.where(Question.retired.is_(False))
    return list(db.session.scalars(stmt))


def import_bank(bank: Bank, owner_id: int | None = None) -> ImportResult:
    """Write a validated bank into `owner_id`'s bank (None: the built-in one). All or nothing: a bank with
    problems, or with a question of another bank, writes nothing. Commits.

    Questions may hang on points defined in the bank itself or already in the database.
    """
    bank = claim(bank, owner_id)
    if bank.problems:
        raise BankError(bank.problems)
    nodes = ensure_structure()
    points: dict[str, KnowledgePoint] = {
        name: node for (level, name), node in nodes.items() if level is PointLevel.POINT
    }
    for i, p in enumerate(bank.points):
        parent = nodes[(PointLevel.ARTICLE, article_node_name(p.article))]
        node = nodes.get((PointLevel.POINT, p.name))
        if node is None:
            node = KnowledgePoint(level=PointLevel.POINT, name=p.name, parent=parent, position=i)
            db.session.add(node)
            nodes[(PointLevel.POINT, p.name)] = node
        node.parent, node.position = parent, i
        points[p.name] = node
    db.session.flush()
    result = ImportResult()
    current = {q.key: q for q in db.session.scalars(select(Question).where(Question.is_current.is_(True)))}
    for bq in bank.questions:
        import_one(bq, current.get(bq.key), points[bq.point], owner_id, result)
    db.session.commit()
    return result


GENERATED_KEY = re.compile(r"^x-[0-9a-f]{10}$")  # bank_formats.common.generated_key: a row without an id


def claim(bank: Bank, owner_id: int | None) -> Bank:
    """The bank as an import into `owner_id`'s bank: a question whose id another bank holds is refused,
    its row named; one that came without an id (its id made from the stem) gets an id of this bank's own
    instead, so two committees may import the same file."""
    owners = dict(db.session.execute(select(Question.key, Question.owner_org_id).where(Question.is_current.is_(True))).all())
    out = Bank(points=bank.points, problems=list(bank.problems))
    for bq in bank.questions:
        if bq.key in owners and owners[bq.key] != owner_id and owner_id is not None and GENERATED_KEY.match(bq.key):
            bq = replace(bq, key=f"{bq.key}-o{owner_id}")
        if bq.key in owners and owners[bq.key] != owner_id:
            where = "内置题库" if owners[bq.key] is None else "其他组织题库"
            row = f"{bq.label}：" if bq.label else ""
            out.problems.append(Problem(bq.source, bq.key, f"{row}题目编号「{bq.key}」已是{where}的题目，不能导入覆盖；请改用新的题目编号"))
            continue
        out.questions.append(bq)
    return out


def _fields(bq: BankQuestion, point: KnowledgePoint) -> dict:
    return dict(
        kind=QuestionKind(bq.kind), stem=bq.stem, options=list(bq.options), answer=_answer_json(bq),
        explanation=bq.explanation, article=bq.article, point_id=point.id, difficulty=bq.difficulty,
        version=bq.version, source=bq.source,
    )


def _answer_json(bq: BankQuestion) -> list:
    if bq.kind == "fill":
        return [list(alts) for alts in bq.answer]
    return list(bq.answer)


def add_questions(items: list[tuple[BankQuestion, KnowledgePoint]], owner_id: int | None) -> int:
    """Insert questions that are new to the database, in one statement (an import may bring thousands);
    return how many. The points must have ids (flushed)."""
    if items:
        db.session.execute(insert(Question), [
            {"key": bq.key, "revision": 1, "owner_org_id": owner_id, **_fields(bq, point)} for bq, point in items
        ])
    return len(items)


def import_one(bq: BankQuestion, existing: Question | None, point: KnowledgePoint, owner_id: int | None,
                result: ImportResult) -> None:
    fields = _fields(bq, point)
    if existing is None:
        db.session.add(Question(key=bq.key, revision=1, owner_org_id=owner_id, **fields))
        result.created += 1
        return
    fields["source"] = existing.source  # where a question came from first; an import from a file keeps it
    if all(getattr(existing, k) == v for k, v in fields.items()):
        result.unchanged += 1
        return
    if is_seen(existing):
        existing.is_current = False
        db.session.add(Question(key=bq.key, revision=existing.revision + 1, retired=existing.retired,
                                owner_org_id=existing.owner_org_id, **fields))
        result.revised += 1
    else:
        for k, v in fields.items():
            setattr(existing, k, v)
        result.updated += 1


# An attempt in progress holds its questions only in its paper (JSON) until they are answered; a
# finished one has a response row for every question on it (quizzes._grade).
_ON_OPEN_PAPER = {
    "sqlite": "SELECT 1 FROM attempt, json_each(attempt.paper) AS e WHERE attempt.state = 'in_progress' "
              "AND json_extract(e.value, '$.q') = :qid LIMIT 1",
    "postgresql": "SELECT 1 FROM attempt, json_array_elements(attempt.paper) AS e WHERE attempt.state = 'in_progress' "
                  "AND (e.value ->> 'q')::int = :qid LIMIT 1",
}
_REFERENCES = (Response.question_id, AssignmentQuestion.question_id, PracticeAnswer.question_id,
               MistakeCard.question_id, QuestionReport.question_id, KeyCorrection.question_id)


def is_seen(question: Question) -> bool:
    """True if a member has or had this revision in front of them: on any paper (a fixed one, or an attempt's,
    open or finished, answered or not), in practice, in the mistake book, in a report or a key correction.
    Such a revision is never edited in place."""
    if db.session.scalar(select(or_(*(exists().where(column == question.id) for column in _REFERENCES)))):
        return True
    dialect = db.session.get_bind().dialect.name
    return db.session.execute(text(_ON_OPEN_PAPER[dialect]), {"qid": question.id}).first() is not None


def import_dir(path: Path) -> ImportResult:
    """Validate the bank files under `path` and import them."""
    return import_bank(load_bank(path))


def bank_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Question))


@dataclass
class Change:
    """What importing one question would do."""

    question: BankQuestion
    current: Question | None

    @property
    def status(self) -> str:
        if self.current is None:
            return "new"
        same = to_bank_question(self.current) == _with_source(self.question, self.current.source)
        return "unchanged" if same else "changed"


def _with_source(bq: BankQuestion, source: str) -> BankQuestion:
    return replace(bq, source=source)


def preview(bank: Bank, owner_id: int | None = None) -> list[Change]:
    """What an import into `owner_id`'s bank would create and change, without writing anything.

    :raise BankError: the bank has problems, or questions of another bank.
    """
    bank = claim(bank, owner_id)
    if bank.problems:
        raise BankError(bank.problems)
    current = {q.key: q for q in db.session.scalars(select(Question).where(Question.is_current.is_(True)))}
    return [Change(bq, current.get(bq.key)) for bq in bank.questions]


def search_stmt(part_id: int | None = None, point_id: int | None = None, kind: str | None = None,
                words: str = "", retired: bool | None = False, visible=None, subject_id: int | None = None):
    """Current questions filtered by subject, part (总纲, a chapter, an organisation's part), knowledge point,
    type, words in the stem, and `visible` (bank_access.visible_clause: the viewer's)."""
    stmt = select(Question).where(Question.is_current.is_(True)).order_by(Question.key)
    if visible is not None:
        stmt = stmt.where(visible)
    if subject_id:
        stmt = stmt.where(Question.point_id.in_(select(KnowledgePoint.id).where(KnowledgePoint.subject_id == subject_id)))
    if point_id:
        stmt = stmt.where(Question.point_id == point_id)
    elif part_id:
        stmt = stmt.where(Question.point_id.in_(points_under(part_id)))
    if kind in {k.value for k in QuestionKind}:
        stmt = stmt.where(Question.kind == QuestionKind(kind))
    if words:
        stmt = stmt.where(Question.stem.contains(words))
    if retired is not None:
        stmt = stmt.where(Question.retired.is_(retired))
    return stmt


def points_under(part_id: int):
    """SQL: the ids of the points of a part: its children (an organisation's part) or grandchildren (the
    党章's articles' points, and the 其他 node an import adds)."""
    children = select(KnowledgePoint.id).where(KnowledgePoint.parent_id == part_id)
    return select(KnowledgePoint.id).where(KnowledgePoint.level == PointLevel.POINT, or_(
        KnowledgePoint.parent_id == part_id, KnowledgePoint.parent_id.in_(children)))


def set_retired(question: Question, retired: bool) -> None:
    """Take a question out of new papers and practice (or bring it back); answers keep it. Commits."""
    current = db.session.scalar(select(Question).where(Question.key == question.key, Question.is_current.is_(True)))
    current.retired = retired
    db.session.commit()


def edit_question(question: Question, raw: dict) -> ImportResult:
    """Save an edited question: a new revision if a member has seen it (`is_seen`), else in place. Commits.

    `raw` has the bank-file shape; it is validated exactly as a bank file is. The question may move to
    another live point of its subject (its current one is always allowed).
    """
    bank = Bank()
    raw = {**raw, "id": question.key, "version": question.version}
    nodes = edit_points(question)
    bq = read_question(raw, {name: p for name, (p, _) in nodes.items()}, "题库管理", bank, require_explanation=True)
    if bq is None:
        raise BankError(bank.problems)
    result = ImportResult()
    import_one(_with_source(bq, question.source), question if question.is_current else _current(question.key),
               db.session.get(KnowledgePoint, nodes[bq.point][1]), question.owner_org_id, result)
    db.session.commit()
    return result


def edit_points(question: Question) -> dict[str, tuple[BankPoint, int]]:
    """The points an edited question may hang on: the live points of its subject that every member who may
    get it sees, and its own."""
    node = question.point
    nodes = point_nodes(point_owners(question.owner), subject_id=node.subject_id, include_retired=False)
    if node.name not in nodes:
        nodes.update({k: v for k, v in point_nodes(subject_id=node.subject_id).items() if k == node.name})
    return nodes


def _current(key: str) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key, Question.is_current.is_(True)))


def set_owner(keys: list[str], owner_id: int | None) -> int:
    """Hand every revision of these questions to another bank (an organisation's, or None: built-in);
    return how many keys were found. Commits."""
    found = set(db.session.scalars(select(Question.key).where(Question.key.in_(keys))))
    db.session.execute(update(Question).where(Question.key.in_(found)).values(owner_org_id=owner_id))
    db.session.commit()
    return len(found)


def keys_from(source: str) -> list[str]:
    """The keys of the questions first imported from a file of this name (`Question.source`)."""
    return list(db.session.scalars(select(Question.key).where(Question.source == source).distinct()))
