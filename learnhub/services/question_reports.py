"""题目有误: members' reports of faulty questions, and the organisers' queue."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Organisation, Question, QuestionReport, ReportStatus, User, utcnow
from . import ServiceError
from .orgs import Scope


def file_report(user: User, question: Question, note: str) -> QuestionReport:
    """Queue a member's note about a question. Commits."""
    note = note.strip()
    if not note:
        raise ServiceError("请写明哪里有误")
    row = QuestionReport(question=question, user_id=user.id, note=note[:500])
    db.session.add(row)
    db.session.commit()
    return row


def open_reports(scope: Scope) -> list[QuestionReport]:
    """Reports from members in the viewer's scope waiting for an organiser, oldest first."""
    return list(db.session.scalars(
        select(QuestionReport)
        .join(User, User.id == QuestionReport.user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(QuestionReport.status == ReportStatus.OPEN, scope.org_clause())
        .order_by(QuestionReport.created_at)
    ))


def resolve(report: QuestionReport, by: User, resolution: str) -> None:
    """Close a report, saying what was done. Commits."""
    if report.status is ReportStatus.RESOLVED:
        raise ServiceError("这条反馈已经处理过了")
    report.status, report.resolved_by_id, report.resolved_at = ReportStatus.RESOLVED, by.id, utcnow()
    report.resolution = resolution.strip()[:200] or "已处理"
    db.session.commit()
