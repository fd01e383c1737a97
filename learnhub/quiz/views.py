from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth.decorators import question_or_404, sealed_keys
from ..extensions import csrf, db, login_manager
from ..inputs import DB_INT_MAX, SEQ_MAX, accepts_json, bounded_int, local_path
from ..models import Assignment, Attempt, ShowAnswers, utcnow
from ..services.study import materials
from ..services.bank import question_reports
from ..services.exam import quizzes, secrecy
from ..services.auth import sessions
from ..services.exam.quizzes import QuizError
from . import access, bp
from .forms import ReportQuestionForm


def _grace() -> int:
    return current_app.config["ATTEMPT_GRACE_SECONDS"]


def _own_attempt(attempt_id: int) -> Attempt:
    return db.one_or_404(select(Attempt).filter_by(id=attempt_id, user_id=current_user.id))


def _assigned(assignment_id: int) -> Assignment:
    assignment = db.get_or_404(Assignment, assignment_id)
    if not quizzes.is_assigned(assignment, current_user):
        abort(404)
    return assignment


@bp.get("/<int:assignment_id>")
@login_required
def detail(assignment_id: int):
    """Show an assignment: what to read, the quiz's rules, the member's attempts and result."""
    assignment = _assigned(assignment_id)
    now = utcnow()
    return render_template(
        "quiz/detail.html", assignment=assignment, s=quizzes.standing(assignment, current_user, _grace(), now),
        completed={mid for mid, r in materials.readings_of(current_user).items() if r.completed_at},
        unread=quizzes.unread_materials(assignment, current_user), form=FlaskForm(), now=now,
    )


@bp.post("/<int:assignment_id>/start")
@login_required
def start(assignment_id: int):
    """Start (or resume) the member's attempt and open the paper."""
    assignment = _assigned(assignment_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        attempt = quizzes.start_attempt(assignment, current_user)
    except QuizError as exc:
        flash(str(exc), "error")
        return redirect(url_for("quiz.detail", assignment_id=assignment.id))
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    """Show the paper: one form that works without JavaScript; with it, each answer saves as it is given."""
    item = _own_attempt(attempt_id)
    quizzes.close_if_overdue(item, _grace())
    if item.is_finished:
        return redirect(url_for("quiz.review", attempt_id=item.id))
    items = quizzes.paper_items(item)
    return render_template(
        "quiz/attempt.html", attempt=item, items=items, last_seq=max((i.seq for i in items), default=0),
        seconds_left=quizzes.seconds_left(item), form=FlaskForm(), token=access.issue(item.id),
        immediate=item.assignment.show_answers is ShowAnswers.IMMEDIATE, server_ms=int(utcnow().timestamp() * 1000),
    )


@bp.post("/attempts/<int:attempt_id>/answers")
@accepts_json
@csrf.exempt  # access.claim: the attempt's token, or the session with its CSRF token
def save(attempt_id: int):
    """Save one answer (JSON: position, answer, seq, q); a stale or repeated save is harmless.

    The hottest request of an exam, so the login is checked in the save's own query rather than by
    loading the user first (login_required would); the outcomes are the same as with it.
    """
    token = access.claim(attempt_id)
    if token is None:
        return login_manager.unauthorized()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(ok=False, error="请求格式不正确"), 400
    try:
        # Stored in (or compared with) INTEGER and BIGINT columns: 1e30 or 2**60 is a bad request, not a 500.
        position, seq = bounded_int(data.get("position"), 1, DB_INT_MAX), bounded_int(data.get("seq"), 0, SEQ_MAX)
        hint = data.get("q")
        hint = hint if type(hint) is int and 0 < hint <= DB_INT_MAX else None
        result = quizzes.record_answer(attempt_id, token.user_id, position, data.get("answer"), seq, _grace(),
                                       session_version=token.session_version, device=token.device, question_id=hint)
    except (TypeError, ValueError):
        return jsonify(ok=False, error="请求格式不正确"), 400
    except quizzes.NotYourAttempt:
        if not current_user.is_authenticated:  # a stale session is told to sign in, as everywhere
            return login_manager.unauthorized()
        abort(404)
    except quizzes.SessionEnded:
        logout_user()
        return login_manager.unauthorized()
    except quizzes.PasswordChangeRequired:
        return redirect(url_for("auth.change_password"))
    except quizzes.AttemptClosed as exc:
        return jsonify(ok=False, closed=True, error=str(exc)), 409
    except QuizError as exc:
        return jsonify(ok=False, error=str(exc)), 400
    return jsonify(ok=True, saved=result.saved, last_seq=result.last_seq, feedback=result.feedback)


def _claimed_attempt(attempt_id: int):
    """The attempt and its member for a hand-in or a state read, or the response that refuses it."""
    token = access.claim(attempt_id)
    user = sessions.user_of_device(*token) if token is not None else None
    if user is None:
        return None, login_manager.unauthorized()
    if user.must_change_password:
        return None, redirect(url_for("auth.change_password"))
    return db.one_or_404(select(Attempt).filter_by(id=attempt_id, user_id=user.id)), None


def _form_seq(position: int) -> int:
    try:
        return bounded_int(request.form.get(f"s{position}", "0"), 0, SEQ_MAX)
    except (TypeError, ValueError):
        return 0


@bp.post("/attempts/<int:attempt_id>/submit")
@csrf.exempt  # access.claim: the attempt's token, or the session with its CSRF token
def submit(attempt_id: int):
    """Hand in the paper: store the answers on the form where they are newer than the stored ones, then
    grade once.

    The page's script posts only the answers the server has not acknowledged, each with its seq, and
    asks for JSON: it is told where the result is only once the hand-in is stored, and keeps the answers
    on the phone until then. It shows the notice itself: a flash could be overwritten by a page's other
    requests running at the same time.
    """
    item, refused = _claimed_attempt(attempt_id)
    if refused is not None:
        return refused
    # isdecimal, not isdigit: int() refuses "²"; and no position has ten digits.
    shown = {int(p) for p in request.form.get("shown", "").split(",") if p.isdecimal() and len(p) < 10}
    answers = {p: request.form.getlist(f"q{p}") for p in shown}
    item, notice = quizzes.submit_attempt(item, answers, _grace(), seqs={p: _form_seq(p) for p in shown})
    url = url_for("quiz.review", attempt_id=item.id)
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify(ok=True, url=url, notice=notice)
    if notice:
        flash(notice, "error")
    return redirect(url)


@bp.get("/attempts/<int:attempt_id>/state")
def state(attempt_id: int):
    """The paper as the server holds it (JSON): each stored answer as the member sees it with its seq,
    the seconds left, or where the result is. A second page of the paper refreshes itself from it."""
    item, refused = _claimed_attempt(attempt_id)
    if refused is not None:
        return refused
    quizzes.close_if_overdue(item, _grace())
    if item.is_finished:
        return jsonify(finished=True, url=url_for("quiz.review", attempt_id=item.id))
    answers = {i.position: {"answer": i.answer, "seq": i.seq} for i in quizzes.paper_items(item) if i.answer is not None}
    return jsonify(finished=False, seconds_left=quizzes.seconds_left(item), answers=answers,
                   server_ms=int(utcnow().timestamp() * 1000))


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    """Show the score and, when allowed, each question with the right answer and the explanation.

    A question that also sits on a paper of the member's whose answers are not out yet is withheld.
    """
    item = _own_attempt(attempt_id)
    quizzes.close_if_overdue(item, _grace())
    if not item.is_finished:
        return redirect(url_for("quiz.attempt", attempt_id=item.id))
    return render_template(
        "quiz/review.html", attempt=item, items=quizzes.paper_items(item),
        show_answers=quizzes.answers_visible(item), assignment=item.assignment,
        sealed=sealed_keys(), withheld_note=secrecy.WITHHELD, s=quizzes.standing(item.assignment, current_user, _grace()),
    )


@bp.route("/questions/<int:question_id>/report", methods=["GET", "POST"])
@login_required
def report_question(question_id: int):
    """题目有误: send a note about a question that looks wrong to its owners' queue, then go back.

    `attempt`: the member's own handed-in paper the question is on, so the page (and the organisers) see
    the options in the order the member saw them; `next`: the page to go back to (a path of this site)."""
    question = question_or_404(question_id)
    options = question_reports.options_seen(current_user, question, request.args.get("attempt", type=int))
    back = local_path(request.args.get("next"))
    form = ReportQuestionForm()
    if form.validate_on_submit():
        question_reports.file_report(current_user, question, form.note.data, options)
        flash("已提交，感谢指正。组织员核实后会修改题目。", "success")
        return redirect(back or url_for("study.index"))
    return render_template("quiz/report_question.html", question=question, options=options, form=form, back=back)
