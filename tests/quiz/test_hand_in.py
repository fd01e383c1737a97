"""Handing in: the page's script gets the result's address only once the hand-in is stored, and a
hand-in that comes too late names exactly the answers that were not counted."""

from __future__ import annotations

from datetime import timedelta

from learnhub.extensions import db
from learnhub.models import Attempt, utcnow

from .helpers import attempt_id_from, form_fields, paper, shown_answer

JSON = {"Accept": "application/json"}


def start(client, assignment_id: int) -> int:
    return attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)


def save(client, attempt_id: int, position: int, answer, seq: int):
    return client.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": position, "answer": answer, "seq": seq})


def set_deadline(app, attempt_id: int, seconds_from_now: float) -> None:
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() + timedelta(seconds=seconds_from_now)
        db.session.commit()


def test_the_pages_hand_in_is_told_the_result_address_once_stored(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    answers = {pos: shown_answer(q, perm) for pos, q, perm in paper(app, attempt_id)}
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers), headers=JSON)
    assert r.status_code == 200
    assert r.json == {"ok": True, "url": f"/quiz/attempts/{attempt_id}/review", "notice": None}
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 100.0
    assert "未计分" not in c.get(r.json["url"]).get_data(as_text=True)


def test_a_hand_in_within_the_grace_counts_every_answer(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    set_deadline(app, attempt_id, -app.config["ATTEMPT_GRACE_SECONDS"] + 20)
    answers = {pos: shown_answer(q, perm) for pos, q, perm in paper(app, attempt_id)}
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers), headers=JSON)
    assert r.json["notice"] is None
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 100.0


def test_a_late_hand_in_names_the_answers_not_counted(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    pos, q, perm = items[0]
    assert save(c, attempt_id, pos, shown_answer(q, perm), 1).json["saved"] is True  # in time
    set_deadline(app, attempt_id, -app.config["ATTEMPT_GRACE_SECONDS"] - 30)
    answers = {pos: shown_answer(q, perm) for pos, q, perm in items[:4]}  # 5 left blank
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers), follow_redirects=True)
    assert "交卷时已超过答题截止时间：第 2、3、4 题的答案在截止后才送达，未计分" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 20.0


def test_answers_left_on_the_phone_after_the_paper_closed_are_named_and_change_nothing(app, world, login, runner):
    """The result page sends what the phone still holds: the server names it and grades nothing anew."""
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    pos, q, perm = items[0]
    save(c, attempt_id, pos, shown_answer(q, perm), 1)
    set_deadline(app, attempt_id, -app.config["ATTEMPT_GRACE_SECONDS"] - 30)
    runner.invoke(args=["attempts", "close-overdue"])
    left = {p: shown_answer(q, perm) for p, q, perm in items[:3]}  # 1 was saved in time; 2 and 3 never arrived
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(left), headers=JSON)
    assert r.json["notice"] == "交卷时已超过答题截止时间：第 2、3 题的答案在截止后才送达，未计分"
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 20.0


def test_a_hand_in_repeated_after_its_answer_was_lost_gives_no_notice(app, world, login):
    """The phone did not hear the first confirmation and hands in again: same answers, nothing to report."""
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    answers = form_fields({pos: shown_answer(q, perm) for pos, q, perm in paper(app, attempt_id)})
    c.post(f"/quiz/attempts/{attempt_id}/submit", data=answers, headers=JSON)
    again = c.post(f"/quiz/attempts/{attempt_id}/submit", data=answers, headers=JSON)
    assert again.status_code == 200 and again.json["notice"] is None


def test_another_answer_after_the_paper_was_handed_in_elsewhere_is_named(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields({}))  # handed in blank on another phone
    pos, q, perm = items[1]
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields({pos: shown_answer(q, perm)}), headers=JSON)
    assert r.json["notice"] == "这份试卷此前已经交卷：第 2 题的答案未计入"
