"""题目有误: members' reports of faulty questions, and the queue of the questions' owners.

A report goes to whoever may correct the question: the organisers whose grants cover the organisation
that owns it, or the admins for a built-in question. Organisers also see, without resolving them, what
members in their scope reported about questions they use but do not own (built-in ones, or those of an
organisation above them): they can answer their members, while the owner decides about the question.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, true

from ...extensions import db
from ...models import Attempt, AttemptState, Organisation, Question, QuestionReport, ReportStatus, User, utcnow
from .. import ServiceError
from ..exam import secrecy
from .access import can_edit, organiser_roots, owned_within
from ..orgs import Scope


@dataclass
class QueuedReport:
    report: QuestionReport
    can_resolve: bool  # the viewer owns the question (or is an admin)
    withheld: bool = False  # on a paper the viewer sits: its options and key are not shown to them yet


def options_seen(user: User, question: Question, attempt_id: int | None) -> list[str]:
    """The question's options in the order the member saw them: as on their own handed-in paper
    `attempt_id` if the question is on it (options are shuffled per paper), else as stored (practice).
    Empty while the question sits on a paper of theirs whose answers are not out (its review withholds it)."""
    if question.key in secrecy.sealed_keys(user):
        return []
    attempt = db.session.scalar(select(Attempt).where(
        Attempt.id == attempt_id, Attempt.user_id == user.id, Attempt.state == AttemptState.FINISHED,
    )) if attempt_id is not None else None
    entry = next((e for e in (attempt.paper if attempt else []) if e["q"] == question.id), None)
    if entry is None or len(entry["perm"]) != len(question.options):
        return list(question.options)
    return [question.options[i] for i in entry["perm"]]


def file_report(user: User, question: Question, note: str, options: list[str] | None = None) -> QuestionReport:
    """Queue a member's note about a question, with the options in the order they saw them. Commits."""
    note = note.strip()
    if not note:
        raise ServiceError("请写明哪里有误")
    row = QuestionReport(question=question, user_id=user.id, note=note[:500], shown_options=options or None)
    db.session.add(row)
    db.session.commit()
    return row


def _reports_seen_by(scope: Scope):
    """SQL over QuestionReport joined to its Question and its reporter's Organisation."""
    if scope.is_admin:
        return true()
    return or_(owned_within(organiser_roots(scope)), scope.org_clause())


def open_reports(scope: Scope) -> list[QueuedReport]:
    """Open reports the viewer sees (about questions they own, or filed by members in their scope), oldest first."""
    rows = db.session.scalars(
        select(QuestionReport)
        .join(Question, Question.id == QuestionReport.question_id)
        .join(User, User.id == QuestionReport.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(QuestionReport.status == ReportStatus.OPEN, _reports_seen_by(scope))
        .order_by(QuestionReport.created_at, QuestionReport.id)
    )
    sealed = secrecy.sealed_keys(scope.user) if scope.user is not None else frozenset()
    return [QueuedReport(r, can_edit(scope, r.question), r.question.key in sealed) for r in rows]


def sees(scope: Scope, report: QuestionReport) -> bool:
    """True if the report is in the viewer's queue (resolved or not)."""
    return can_edit(scope, report.question) or scope.covers(report.user.org)


def resolve(scope: Scope, report: QuestionReport, by: User, resolution: str) -> None:
    """Close a report, saying what was done. Only the question's owners may. Commits.

    :raise ServiceError: it is resolved already, or the viewer does not own the question.
    """
    if not can_edit(scope, report.question):
        raise ServiceError("这道题不属于你管理的题库，由题目所属单位（内置题目由系统管理员）处理")
    if report.status is ReportStatus.RESOLVED:
        raise ServiceError("这条反馈已经处理过了")
    report.status, report.resolved_by_id, report.resolved_at = ReportStatus.RESOLVED, by.id, utcnow()
    report.resolution = resolution.strip()[:200] or "已处理"
    db.session.commit()
