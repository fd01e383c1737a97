import random

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth.decorators import sealed_keys
from ..errors import Refusal
from ..extensions import db
from ..models import KnowledgePoint, PointLevel, PracticeAnswer, PracticeMode, Question, Subject, utcnow
from ..services.study import mistakes, practice, scope
from ..services.exam import secrecy
from ..services.exam.quizzes import QuizError
from . import bp


def _tz() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _subject(usable: list[Subject]) -> Subject | None:
    """The subject chosen with ?subject= among those the member may use (any other is 404), or None: all."""
    subject_id = request.args.get("subject", type=int)
    if subject_id is None:
        return None
    subject = next((s for s in usable if s.id == subject_id), None)
    if subject is None:
        abort(404)
    return subject


@bp.get("/")
@login_required
def index():
    """Practice home: today's five (of every subject, or one chosen), the mistake book, practice by part
    of each subject, and what the member knows."""
    now, usable = utcnow(), scope.practice_subjects(current_user)
    subject = _subject(usable)
    today = practice.daily(current_user, now, _tz(), subject.id if subject else None)
    return render_template(
        "practice/index.html", daily=today.questions, done=today.done, stats=practice.stats(current_user, now, _tz()),
        subjects=usable, subject=subject, parts=scope.practice_parts(current_user, [subject] if subject else usable),
        book=practice.mistake_book(current_user, now, _tz()),
    )


@bp.get("/daily")
@login_required
def daily():
    """The next of today's five questions, or the summary when all are done (or wait for an exam to end)."""
    subject = _subject(scope.practice_subjects(current_user))
    today = practice.daily(current_user, utcnow(), _tz(), subject.id if subject else None)
    if not today.pending:
        return render_template("practice/daily_done.html", today=today, note=secrecy.WITHHELD, subject=subject)
    return _show(today.pending[0], PracticeMode.DAILY, position=len(today.done) + 1, total=len(today.questions),
                 subject=subject)


@bp.get("/review")
@login_required
def review():
    """The next mistake due for review, within today's cap."""
    book = practice.mistake_book(current_user, utcnow(), _tz())
    if not book.queue:
        if book.due:
            flash(f"今天已复习 {practice.REVIEW_CAP} 题，剩下的明天再复习；也可以在错题本里挑一题练习", "info")
        else:
            flash("错题本里今天没有要复习的题了", "success")
        return redirect(url_for("practice.index"))
    return _show(book.queue[0].question, PracticeMode.REVIEW, position=None, total=len(book.queue))


@bp.get("/mistakes")
@login_required
def mistakes_list():
    """The mistake book: every question in it, due or not, with the day each comes back for review."""
    now = utcnow()
    return render_template("practice/mistakes.html", book=practice.mistake_book(current_user, now, _tz()),
                           today=practice.local_day(now, _tz()))


@bp.get("/mistakes/<int:card_id>")
@login_required
def mistake(card_id: int):
    """Practise one question of the member's mistake book now: a review if it is due today; before its
    day, a wrong answer counts and a right one leaves its review day as it is."""
    entry = practice.own_mistake(current_user, card_id, utcnow(), _tz())
    if entry is None:
        abort(404)
    if not entry.can_practise:
        flash(practice.SEALED if entry.sealed else "这道题已停用", "info")
        return redirect(url_for("practice.mistakes_list"))
    mode = PracticeMode.REVIEW if entry.due_today else PracticeMode.EARLY
    return _show(entry.question, mode, position=None, total=None)


@bp.get("/chapter/<int:part_id>")
@login_required
def chapter(part_id: int):
    """A question from one part of a subject the member may use, favouring ones not yet answered right."""
    part = db.one_or_404(select(KnowledgePoint).filter_by(id=part_id, level=PointLevel.PART))
    if not scope.may_practise_part(current_user, part):
        abort(404)
    try:
        question = practice.next_chapter_question(current_user, part.id, random.SystemRandom())
    except practice.PracticeError as exc:
        flash(str(exc), "info")
        return redirect(url_for("practice.index"))
    if question is None:
        abort(404)
    return _show(question, PracticeMode.CHAPTER, position=None, total=None, part=part)


def _show(question: Question, mode: PracticeMode, position, total, part=None, subject=None):
    """Show one question, recording that it was served: only served questions are graded."""
    served = practice.serve(current_user, question, mode)
    return render_template(
        "practice/question.html", question=question, mode=mode, served=served, position=position, total=total,
        part=part, subject=subject, form=FlaskForm(),
    )


@bp.post("/answer")
@login_required
def answer():
    """Grade the answer to a question this page served and show the feedback; any other question is refused."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        feedback = practice.answer(current_user, request.form.get("served", type=int) or 0, request.form.getlist("a"), tz=_tz())
    except practice.NotServed as exc:
        raise Refusal(404, str(exc)) from None
    except (practice.PracticeError, QuizError) as exc:
        flash(str(exc), "error")
        return redirect(request.referrer or url_for("practice.index"))
    if feedback.cleared:
        flash(f"这道题已在间隔复习中连续答对 {mistakes.CLEAR_AFTER} 次，移出错题本", "success")
    return redirect(url_for("practice.feedback", answer_id=feedback.answer.id, part=request.form.get("part_id", ""),
                            subject=request.form.get("subject_id", type=int)))


@bp.get("/answers/<int:answer_id>")
@login_required
def feedback(answer_id: int):
    """Right or wrong, the right answer, the explanation and the article: instant feedback.

    Withheld while the question sits on a paper of the member's whose answers are not out yet.
    """
    row = db.one_or_404(select(PracticeAnswer).filter_by(id=answer_id, user_id=current_user.id))
    part_id = request.args.get("part", type=int)
    return render_template(
        "practice/feedback.html", row=row, question=row.question, right=practice.right_answer(row.question),
        part_id=part_id, subject_id=request.args.get("subject", type=int), withheld=row.question.key in sealed_keys(),
        note=secrecy.WITHHELD,
    )
