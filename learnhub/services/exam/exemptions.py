"""免学 and 代录: excusing a member from an assignment, and recording a paper result for one.

Both are decisions a secretary makes for someone else, so both keep who did it, when and why.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Assignment, Attempt, AttemptState, Exemption, ExemptionReason, User, utcnow
from .. import FieldError, ServiceError
from ..reports import tallies
from .quizzes import update_result, attempts_of, is_assigned, open_attempt


def active_exemption(assignment: Assignment, member: User) -> Exemption | None:
    return db.session.scalar(
        select(Exemption).where(
            Exemption.assignment_id == assignment.id, Exemption.user_id == member.id, Exemption.revoked_at.is_(None)
        )
    )


def exemptions_for(assignment: Assignment, user_ids: list[int]) -> dict[int, Exemption]:
    """Active exemptions on the assignment for these members, by member id."""
    rows = db.session.scalars(
        select(Exemption).where(
            Exemption.assignment_id == assignment.id, Exemption.user_id.in_(user_ids), Exemption.revoked_at.is_(None)
        )
    )
    return {e.user_id: e for e in rows}


def history(assignment: Assignment, member: User) -> list[Exemption]:
    """Every exemption ever recorded for the member on this assignment, revoked ones included."""
    return list(db.session.scalars(
        select(Exemption).where(Exemption.assignment_id == assignment.id, Exemption.user_id == member.id)
        .order_by(Exemption.created_at)
    ))


def exempt(assignment: Assignment, member: User, reason: ExemptionReason, note: str, by: User, now: datetime | None = None) -> Exemption:
    """Excuse a member from an assignment, so the branch's rates leave them out. Commits."""
    if not is_assigned(assignment, member):
        raise ServiceError("这项任务没有布置给该党员")
    if active_exemption(assignment, member) is not None:
        raise ServiceError(f"{member.name} 已经免学")
    if reason is ExemptionReason.OTHER and not note.strip():
        raise FieldError("note", "选择“其他”时请写明原因")
    row = Exemption(assignment_id=assignment.id, user_id=member.id, reason=reason, note=note.strip()[:200],
                    created_by_id=by.id, created_at=now or utcnow())
    try:
        with tallies.exemption_recounted(assignment.id, member.id):  # their first tries leave mastery
            db.session.add(row)
        db.session.commit()
    except IntegrityError:
        # A second tap (or a colleague) exempted them between our check and our write: the same
        # answer as if it had come second in turn.
        db.session.rollback()
        raise ServiceError(f"{member.name} 已经免学") from None
    return row


def revoke(assignment: Assignment, member: User, by: User, now: datetime | None = None) -> None:
    """Withdraw a member's exemption; the row stays for the record. Commits."""
    row = active_exemption(assignment, member)
    if row is None:
        raise ServiceError(f"{member.name} 没有免学记录")
    with tallies.exemption_recounted(assignment.id, member.id):  # their first tries count again
        row.revoked_at, row.revoked_by_id = now or utcnow(), by.id
    db.session.commit()


def paper_score(value) -> float:
    """The score as typed on the 代录 form: a number from 0 to 100 with at most one decimal, stored as is."""
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        score = Decimal("NaN")
    if not score.is_finite():
        raise FieldError("score", "请填写一个数字（0 到 100）")
    if not 0 <= score <= 100:
        raise FieldError("score", "分数应在 0 到 100 之间")
    if score.as_tuple().exponent < -1 and score != score.quantize(Decimal("0.1")):
        raise FieldError("score", "分数最多保留一位小数")
    return float(score)


def record_paper_result(assignment: Assignment, member: User, score, note: str, by: User, now: datetime | None = None) -> Attempt:
    """代录: record the score of a paper exam taken by a member without a phone, marked as such. Commits.

    The score is stored as typed (0 included) and pass or fail follows the stored score.
    """
    now = now or utcnow()
    if not is_assigned(assignment, member):
        raise ServiceError("这项任务没有布置给该党员")
    stored = paper_score(score)
    if not note.strip():
        raise FieldError("note", "请注明代录依据（如：纸质试卷，某月某日支部集中测试）")
    for _ in range(2):
        if open_attempt(assignment, member) is not None:
            raise ServiceError(f"{member.name} 正在线上答题，不能代录")
        attempt = Attempt(
            assignment=assignment, user=member, number=len(attempts_of(assignment, member)) + 1,
            state=AttemptState.FINISHED, started_at=now, finished_at=now, paper=[], total=0,
            score=stored, passed=stored >= assignment.pass_mark, entered_by_id=by.id, entry_note=note.strip()[:200],
        )
        db.session.add(attempt)
        try:
            db.session.flush()
        except IntegrityError:
            # The member started (or someone recorded) an attempt with that number meanwhile: look again.
            db.session.rollback()
            continue
        update_result(attempt)
        db.session.commit()
        return attempt
    raise ServiceError("该党员的答题记录刚刚发生变化，请刷新后重试")
