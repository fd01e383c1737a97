"""Immediate feedback: each answer is final once given, and the key and explanation show at once."""

from __future__ import annotations

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, Response, ShowAnswers

from .helpers import attempt_id_from, form_fields, paper, shown_answer


def immediate(app, assignment_id):
    with app.app_context():
        db.session.get(Assignment, assignment_id).show_answers = ShowAnswers.IMMEDIATE
        db.session.commit()


def test_first_answer_is_final_and_feedback_comes_back(app, world, login):
    immediate(app, world.assignment_a)
    c = login(world.login["m_a1"])
    attempt_id = attempt_id_from(c.post(f"/quiz/{world.assignment_a}/start").location)
    pos, q, perm = next(item for item in paper(app, attempt_id) if item[1].kind.value == "single")
    first = c.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, False), "seq": 1}).json
    assert first["saved"] is True and first["feedback"]["correct"] is False
    assert first["feedback"]["right"] == [shown_answer(q, perm, True)] and first["feedback"]["explanation"] == q.explanation
    again = c.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, True), "seq": 2}).json
    assert again["saved"] is False and again["feedback"]["correct"] is False  # no changing it after seeing the key
    page = c.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    assert "回答错误" in page and 'fieldset disabled class="locked"' in page


def test_submit_does_not_overwrite_final_answers_but_fills_the_rest(app, world, login):
    immediate(app, world.assignment_a)
    c = login(world.login["m_a1"])
    attempt_id = attempt_id_from(c.post(f"/quiz/{world.assignment_a}/start").location)
    items = paper(app, attempt_id)
    pos, q, perm = items[0]
    c.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, False), "seq": 1})
    c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields({p: shown_answer(x, pm) for p, x, pm in items}))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.correct_count == len(items) - 1
        assert len(db.session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()) == len(items)


def test_an_empty_confirm_is_refused(app, world, login):
    immediate(app, world.assignment_a)
    c = login(world.login["m_a1"])
    attempt_id = attempt_id_from(c.post(f"/quiz/{world.assignment_a}/start").location)
    r = c.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": 1, "answer": [], "seq": 1})
    assert r.status_code == 400 and "请先作答" in r.json["error"]
