import random

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..extensions import db
from ..models import KnowledgePoint, PointLevel, PracticeAnswer, PracticeMode, Question, utcnow
from ..services import mistakes, practice
from ..services.quizzes import QuizError
from . import bp


def _tz() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _parts() -> list[KnowledgePoint]:
    return list(db.session.scalars(
        select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.PART).order_by(KnowledgePoint.position)
    ))


def _today(now):
    """Today's five questions and the member's answers to them so far."""
    questions = practice.daily_questions(current_user, now, _tz())
    return questions, practice.answered_today(current_user, [q.id for q in questions], now, _tz(), PracticeMode.DAILY)


@bp.get("/")
@login_required
def index():
    """Practice home: today's five, the mistake book, practice by chapter, and what the member knows."""
    now = utcnow()
    daily, done = _today(now)
    return render_template(
        "practice/index.html", daily=daily, done=done, stats=practice.stats(current_user, now), parts=_parts(),
        due=len(practice.due_cards(current_user, now, _tz())), next_due=mistakes.next_due(current_user.id),
    )


@bp.get("/daily")
@login_required
def daily():
    """The next of today's five questions, or the summary when all are done."""
    questions, done = _today(utcnow())
    pending = [q for q in questions if q.id not in done]
    if not pending:
        return render_template("practice/daily_done.html", questions=questions, done=done)
    return _show(pending[0], PracticeMode.DAILY, position=len(done) + 1, total=len(questions))


@bp.get("/review")
@login_required
def review():
    """The next mistake due for review, within today's cap."""
    cards = practice.due_cards(current_user, utcnow(), _tz())
    if not cards:
        flash("错题本里今天没有要复习的题了", "success")
        return redirect(url_for("practice.index"))
    return _show(cards[0].question, PracticeMode.REVIEW, position=None, total=len(cards))


@bp.get("/chapter/<int:part_id>")
@login_required
def chapter(part_id: int):
    """A question from one part of the Constitution, favouring ones not yet answered right."""
    part = db.one_or_404(select(KnowledgePoint).filter_by(id=part_id, level=PointLevel.PART))
    question = practice.next_chapter_question(current_user, part.id, random.SystemRandom())
    if question is None:
        abort(404)
    return _show(question, PracticeMode.CHAPTER, position=None, total=None, part=part)


def _show(question: Question, mode: PracticeMode, position, total, part=None):
    return render_template(
        "practice/question.html", question=question, mode=mode, position=position, total=total, part=part,
        form=FlaskForm(),
    )


@bp.post("/answer")
@login_required
def answer():
    """Grade one practice answer at once and show the feedback."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    question = db.get_or_404(Question, request.form.get("question_id", type=int) or 0)
    try:
        mode = PracticeMode(request.form.get("mode", ""))
        feedback = practice.answer(current_user, question, request.form.getlist("a"), mode)
    except ValueError:
        abort(400)
    except (practice.PracticeError, QuizError) as exc:
        flash(str(exc), "error")
        return redirect(request.referrer or url_for("practice.index"))
    if feedback.cleared:
        flash(f"这道题已在间隔复习中连续答对 {mistakes.CLEAR_AFTER} 次，移出错题本", "success")
    return redirect(url_for("practice.feedback", answer_id=feedback.answer.id, part=request.form.get("part_id", "")))


@bp.get("/answers/<int:answer_id>")
@login_required
def feedback(answer_id: int):
    """Right or wrong, the right answer, the explanation and the article: instant feedback."""
    row = db.one_or_404(select(PracticeAnswer).filter_by(id=answer_id, user_id=current_user.id))
    part_id = request.args.get("part", type=int)
    return render_template(
        "practice/feedback.html", row=row, question=row.question, right=practice.right_answer(row.question),
        part_id=part_id,
    )
