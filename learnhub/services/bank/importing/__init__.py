"""Importing a question file into a bank: preview what it would store, then store exactly that on confirmation.

`plan_import` reads the file (any format bank_formats reads), resolves its knowledge points (points.py),
matches its questions against the bank (matching.py) and says what would be new, changed and unchanged,
what is skipped and why, and which points would be created. It writes nothing. `apply_plan` stores a plan
that has no problems, all or nothing; the views and the CLI plan again from the same file and options
before applying, so what is stored is what the preview showed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy.exc import IntegrityError

from ....extensions import db
from ....models import Organisation, Subject
from .. import formats as bank_formats
from ..files import Bank, Problem
from ..formats.common import decode_text
from ..question_bank import BankError, ImportResult, add_questions, import_one
from .matching import BankIndex, Match, match_all
from .points import NewPoint, PartPlan, PointCatalog, create_points, plan_part, target_subject, usable_parts

__all__ = ["Options", "Plan", "apply_plan", "file_stem", "plan_import", "target_subject", "usable_parts"]

ALWAYS = frozenset({"kind", "stem", "options", "answer"})


@dataclass
class Options:
    """The organiser's choices for one file."""

    part_id: int | None = None  # an existing part new points go under
    part_name: str = ""  # else a new part of this name ("": named after the file)
    point: str = ""  # the point of questions that name none ("": a point named after the file)
    mapping: dict[str, str] = field(default_factory=dict)  # a point name in the file -> an existing point
    skip_invalid: bool = False  # import the valid questions, leaving out (and listing) the bad rows
    subject_id: int | None = None  # the subject new parts and points go in (None: the owner's own)


@dataclass(frozen=True)
class PointRow:
    """A point name in the file that is not an existing point: created (as `name`), or sent to `target`."""

    asked: str
    name: str
    target: str  # the existing point the organiser chose; "" when it is created
    count: int  # questions on it

    @property
    def new(self) -> bool:
        return not self.target


@dataclass
class Plan:
    """What importing a file would do."""

    source: str
    owner: Organisation | None
    subject: Subject | None  # chosen; None: the owner's own subject (made on confirmation if it has none)
    part: PartPlan
    matches: list[Match]
    new_points: list[tuple[NewPoint, int]]  # with the number of questions on each
    skipped: list[Problem]  # kinds LearnHub does not have
    left_out: list[Problem]  # bad rows left out at the organiser's request
    problems: list[Problem]  # what stops the import (each bad row, or the file)
    valid: int  # questions without a problem
    catalog: PointCatalog
    point_rows: list[PointRow] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # every question id the file names or matches (for sealed checks)

    def count(self, status: str) -> int:
        return sum(1 for m in self.matches if m.status == status)

    @property
    def importable(self) -> bool:
        return not self.problems and bool(self.matches)

    @property
    def skippable(self) -> bool:
        """Bad rows only, and some good ones: the organiser may import the good ones."""
        return bool(self.problems) and all(p.label for p in self.problems) and self.valid > 0


def file_stem(filename: str) -> str:
    """题库（2024）.xlsx -> 题库（2024）: the default name of a new part and of the file's point."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return PurePosixPath(name).stem.strip() or "导入的题目"


def plan_import(filename: str, data: bytes, owner: Organisation | None, options: Options) -> Plan:
    """Read the file and say what importing it into `owner`'s bank (None: built-in) would do; writes nothing."""
    stem = file_stem(filename)
    subject = db.session.get(Subject, options.subject_id) if options.subject_id else None
    part = plan_part(owner, options.part_id, options.part_name or stem, subject)
    catalog = PointCatalog(owner, part, options.mapping, options.point or stem, subject)
    bank = bank_formats.parse_file(filename, data, catalog, catalog.default)
    source = bank.problems[0].source if bank.problems else (bank.questions[0].source if bank.questions else filename)
    matches, claim_problems = match_all(bank.questions, BankIndex(owner.id if owner else None),
                                        _carried(filename, data, bank), source)
    problems = bank.problems + claim_problems
    bad = {p.label for p in problems if p.label}
    valid = [m for m in matches if m.question.label not in bad]
    left_out: list[Problem] = []
    if options.skip_invalid and problems and all(p.label for p in problems) and valid:
        left_out, problems, matches = problems, [], valid
    if not problems and not matches:
        problems = [Problem(source, "", "文件中没有可导入的题目" + ("（所有题目的题型都不支持）" if bank.skipped else ""))]
    uses = Counter(m.question.point for m in matches)
    for m in matches:
        m.point_is_new = catalog.is_new(m.question.point)
    new_points = sorted(((catalog.new[name], n) for name, n in uses.items() if catalog.is_new(name)), key=lambda x: x[0].name)
    rows = [PointRow(new.asked, new.name, "", n) for new, n in new_points]
    rows += [PointRow(asked, catalog.mapping[asked], catalog.mapping[asked], uses[catalog.mapping[asked]])
             for asked in sorted(catalog.mapped_used) if uses[catalog.mapping[asked]]]
    return Plan(source=source, owner=owner, subject=subject, part=part, matches=matches, new_points=new_points, skipped=bank.skipped,
                left_out=left_out, problems=problems, valid=len(valid), catalog=catalog, point_rows=sorted(rows, key=lambda r: r.asked),
                keys={q.key for q in bank.questions} | {m.question.key for m in matches})


def _carried(filename: str, data: bytes, bank: Bank) -> frozenset[str] | None:
    """The fields the file gives for each question; the bank keeps its own values for the others."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if bank.carried is not None:
        return bank.carried
    if suffix == ".txt":  # Aiken: stem, options, answer
        return ALWAYS
    if suffix == ".gift":
        text = decode_text(data) or ""
        ours, category = "// learnhub:" in text, "$CATEGORY" in text
        if ours:
            return None
        return ALWAYS | {"explanation"} | ({"point", "article"} if category else set())
    return None


def apply_plan(plan: Plan) -> ImportResult:
    """Store a plan without problems: create its points, add and revise its questions; all or nothing. Commits.

    :raise BankError: the plan has problems, or another import created a point of the same name meanwhile.
    """
    if plan.problems:
        raise BankError(plan.problems)
    owner_id = plan.owner.id if plan.owner is not None else None
    result = ImportResult()
    try:
        points = create_points(plan.catalog, {new.name for new, _ in plan.new_points})
        fresh = [(m.question, points[m.question.point]) for m in plan.matches if m.current is None]
        result.created = add_questions(fresh, owner_id)
        for match in plan.matches:
            if match.current is not None:
                # A point the file did not carry stays the stored one, wherever it is.
                point = points.get(match.question.point) or match.current.point
                import_one(match.question, match.current, point, owner_id, result)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise BankError([Problem(plan.source, "", "另一项导入刚刚创建了同名的知识点或题目，请重新上传文件预览后再导入")]) from None
    return result
