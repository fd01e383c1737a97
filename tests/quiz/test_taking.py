"""A member takes a quiz from start to score, with and without JavaScript; no answer is lost."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, AttemptState, MemberResult, Response, User, utcnow
from learnhub.services.exam import quizzes
from learnhub.services.exam.quizzes import handin, saving

from .helpers import attempt_id_from, form_fields, paper, shown_answer


def start(client, assignment_id: int) -> int:
    response = client.post(f"/quiz/{assignment_id}/start")
    assert response.status_code == 302
    return attempt_id_from(response.location)


def save(client, attempt_id: int, position: int, answer, seq: int):
    return client.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": position, "answer": answer, "seq": seq})


def test_member_takes_quiz_from_start_to_review(app, world, login):
    c = login(world.login["m_a1"])
    home = c.get("/").get_data(as_text=True)
    assert "党委A测验" in home and "未完成" in home
    attempt_id = start(c, world.assignment_a)
    page = c.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    assert "申请入党的最低年龄是多少？" in page and 'name="q1"' in page
    items = paper(app, attempt_id)
    for pos, q, perm in items:
        r = save(c, attempt_id, pos, shown_answer(q, perm, right=pos != 1), seq=pos)
        assert r.status_code == 200 and r.json["saved"] is True
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    assert r.location.endswith(f"/quiz/attempts/{attempt_id}/review")
    review = c.get(r.location).get_data(as_text=True)
    assert "80" in review and "答对 4 / 5 题" in review
    assert "正确答案" in review and "党章第一条规定年满十八岁。" in review and "第一条" in review
    home = c.get("/").get_data(as_text=True)
    assert "已完成" in home and "80" in home


def test_quiz_works_with_a_plain_form_submit(app, world, login):
    """With JavaScript off, the whole paper is one form that submits and grades."""
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    answers = {pos: shown_answer(q, perm) for pos, q, perm in paper(app, attempt_id)}
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))
    assert r.status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.state is AttemptState.FINISHED and attempt.score == 100.0 and attempt.passed
        result = db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"]))
        assert result.score == 100.0 and result.finished_at is not None


def test_options_are_shuffled_per_member_and_graded_by_meaning(app, world, login):
    perms = set()
    for key in ("m_a1", "m_a1b", "m_a2", "m_a3", "sec_a1", "sec_a2"):
        c = login(world.login[key])
        attempt_id = start(c, world.assignment_a)
        items = paper(app, attempt_id)
        perms.add(tuple(tuple(perm) for _, _, perm in items))
        answers = {pos: shown_answer(q, perm) for pos, q, perm in items}
        c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))
        with app.app_context():
            assert db.session.get(Attempt, attempt_id).score == 100.0
    assert len(perms) > 1, "six members all got the options in the same order"


def test_same_answer_sent_twice_is_harmless(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    pos, q, perm = paper(app, attempt_id)[0]
    answer = shown_answer(q, perm)
    assert save(c, attempt_id, pos, answer, 3).json["saved"] is True
    again = save(c, attempt_id, pos, answer, 3)
    assert again.status_code == 200 and again.json["ok"] is True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id)) == 1


def test_older_answer_arriving_late_does_not_overwrite_newer(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    pos, q, perm = next(item for item in paper(app, attempt_id) if item[1].kind.value == "single")
    right, wrong = shown_answer(q, perm, True), shown_answer(q, perm, False)
    assert save(c, attempt_id, pos, right, 7).json["saved"] is True
    late = save(c, attempt_id, pos, wrong, 5)
    assert late.status_code == 200 and late.json["saved"] is False and late.json["last_seq"] == 7
    c.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    with app.app_context():
        response = db.session.scalar(select(Response).where(Response.attempt_id == attempt_id, Response.question_id == q.id))
        assert response.is_correct and response.seq == 7


def test_answer_after_deadline_and_grace_is_refused(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.deadline = utcnow() - timedelta(seconds=app.config["ATTEMPT_GRACE_SECONDS"] + 5)
        db.session.commit()
    pos, q, perm = paper(app, attempt_id)[0]
    r = save(c, attempt_id, pos, shown_answer(q, perm), 1)
    assert r.status_code == 409 and r.json["closed"] is True and "时间已到" in r.json["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_answer_within_grace_is_accepted(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(seconds=10)
        db.session.commit()
    pos, q, perm = paper(app, attempt_id)[0]
    assert save(c, attempt_id, pos, shown_answer(q, perm), 1).json["saved"] is True


def test_deadline_passing_without_submit_grades_what_was_saved(app, world, login, runner):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    for pos, q, perm in items[:3]:
        save(c, attempt_id, pos, shown_answer(q, perm), pos)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    result = runner.invoke(args=["attempts", "close-overdue"])
    assert "1 overdue attempts closed" in result.output
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.is_finished and attempt.correct_count == 3 and attempt.score == 60.0
        assert attempt.finished_at == attempt.deadline


def test_opening_an_overdue_attempt_closes_and_grades_it(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    pos, q, perm = paper(app, attempt_id)[0]
    save(c, attempt_id, pos, shown_answer(q, perm), 1)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    r = c.get(f"/quiz/attempts/{attempt_id}")
    assert r.location.endswith("/review")
    assert "20" in c.get(r.location).get_data(as_text=True)


def test_late_submit_grades_only_answers_saved_in_time(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    answers = {pos: shown_answer(q, perm) for pos, q, perm in items}
    r = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers), follow_redirects=True)
    assert "超过答题截止时间" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 0.0


def test_submitting_twice_gives_one_result(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    right = {pos: shown_answer(q, perm) for pos, q, perm in items}
    wrong = {pos: shown_answer(q, perm, False) for pos, q, perm in items}
    c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(right))
    second = c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(wrong))
    assert second.status_code == 302
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 100.0
        assert db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"])).attempts == 1


def test_back_button_after_submit_cannot_change_answers(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    c.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    pos, q, perm = items[0]
    r = save(c, attempt_id, pos, shown_answer(q, perm), 99)
    assert r.status_code == 409 and "已经交卷" in r.json["error"]
    assert c.get(f"/quiz/attempts/{attempt_id}").location.endswith("/review")


def test_concurrent_submits_from_two_tabs_give_one_result(app, world, login):
    c1, c2 = login(world.login["m_a1"]), login(world.login["m_a1"])
    attempt_id = start(c1, world.assignment_a)
    items = paper(app, attempt_id)
    right = form_fields({pos: shown_answer(q, perm) for pos, q, perm in items})
    wrong = form_fields({pos: shown_answer(q, perm, False) for pos, q, perm in items})
    barrier = threading.Barrier(2)
    codes = []

    def hand_in(client, data):
        barrier.wait()
        codes.append(client.post(f"/quiz/attempts/{attempt_id}/submit", data=data).status_code)

    threads = [threading.Thread(target=hand_in, args=(c1, right)), threading.Thread(target=hand_in, args=(c2, wrong))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302, 302]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.score in (0.0, 100.0)
        result = db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"]))
        assert result.attempts == 1 and result.score == attempt.score
        responses = db.session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
        assert len(responses) == len(items) and sum(r.is_correct for r in responses) == attempt.correct_count


def test_resume_in_a_new_session_keeps_every_saved_answer(app, world, login):
    first = login(world.login["m_a1"])
    attempt_id = start(first, world.assignment_a)
    items = paper(app, attempt_id)
    for pos, q, perm in items:
        save(first, attempt_id, pos, shown_answer(q, perm), pos)
    second = login(world.login["m_a1"])  # another phone
    assert attempt_id_from(second.post(f"/quiz/{world.assignment_a}/start").location) == attempt_id
    page = second.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    assert page.count(" checked") >= 4 and 'value="一年"' in page
    second.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).score == 100.0


def test_attempts_are_limited_and_highest_counts(app, world, login):
    c = login(world.login["m_a1"])
    scores = []
    for right in (True, False):
        attempt_id = start(c, world.assignment_a)
        answers = {pos: shown_answer(q, perm, right) for pos, q, perm in paper(app, attempt_id)}
        c.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))
        scores.append(attempt_id)
    r = c.post(f"/quiz/{world.assignment_a}/start", follow_redirects=True)
    assert "已用完 2 次作答机会" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"])).score == 100.0


def test_member_cannot_see_or_start_another_committees_quiz(world, login):
    c = login(world.login["m_a1"])
    assert c.get(f"/quiz/{world.assignment_b}").status_code == 404
    assert c.post(f"/quiz/{world.assignment_b}/start").status_code == 404


def test_member_cannot_open_someone_elses_attempt(app, world, login):
    owner = login(world.login["m_a1"])
    attempt_id = start(owner, world.assignment_a)
    other = login(world.login["m_a1b"])
    assert other.get(f"/quiz/attempts/{attempt_id}").status_code == 404
    assert save(other, attempt_id, 1, 0, 1).status_code == 404
    assert other.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""}).status_code == 404
    assert other.get(f"/quiz/attempts/{attempt_id}/review").status_code == 404


@pytest.mark.parametrize(
    "body",
    [None, {"position": "x", "answer": 0, "seq": 1}, {"position": 99, "answer": 0, "seq": 1}, {"position": 1, "answer": [7], "seq": 1}],
)
def test_malformed_saves_get_a_clear_error_not_a_500(app, world, login, body):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    if body is None:
        r = c.post(f"/quiz/attempts/{attempt_id}/answers", data="not json", content_type="application/json")
    else:
        r = save(c, attempt_id, body["position"], body["answer"], body["seq"])
    assert r.status_code == 400 and r.json["ok"] is False and r.json["error"]


def test_window_closed_quiz_cannot_start(app, world, login):
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    c = login(world.login["m_a1"])
    r = c.post(f"/quiz/{world.assignment_a}/start", follow_redirects=True)
    assert "测验已经截止" in r.get_data(as_text=True)


def test_time_limit_sets_the_deadline_on_the_server(app, world, ctx):
    assignment = db.session.get(Assignment, world.assignment_a)
    assignment.time_limit_minutes = 20
    member = db.session.get(User, world.user["m_a1"])
    now = utcnow()
    attempt = quizzes.start_attempt(assignment, member, now=now)
    assert attempt.deadline == now + timedelta(minutes=20)
    assert quizzes.seconds_left(attempt, now=now + timedelta(minutes=5)) == 15 * 60


def saved_count(app, attempt_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id))


def change_member(app, world, key: str, **values) -> None:
    """Change a member's account behind their back (an administrator, another device)."""
    with app.app_context():
        member = db.session.get(User, world.user[key])
        for name, value in values.items():
            setattr(member, name, value)
        db.session.commit()


def sign_out_everywhere(app, world, key: str) -> None:
    """What "log out everywhere" and a password reset do: a new session version."""
    with app.app_context():
        db.session.get(User, world.user[key]).session_version += 1
        db.session.commit()


def test_a_save_from_a_signed_out_device_is_refused_and_stores_nothing(app, world, login):
    """Saves check the session themselves: a password change elsewhere or a disabled account ends it."""
    phone = login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    assert save(phone, attempt_id, 1, 0, 1).json["ok"] is True
    sign_out_everywhere(app, world, "m_a1")
    refused = save(phone, attempt_id, 2, 0, 2)
    assert refused.status_code == 302 and "/auth/login" in refused.location
    assert saved_count(app, attempt_id) == 1

    again = login(world.login["m_a1"])
    assert save(again, attempt_id, 2, 0, 3).json["saved"] is True
    change_member(app, world, "m_a1", active=False)
    refused = save(again, attempt_id, 3, 0, 4)
    assert refused.status_code == 302 and "/auth/login" in refused.location
    assert saved_count(app, attempt_id) == 2


def test_a_save_before_the_first_password_change_goes_to_the_change_page(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    change_member(app, world, "m_a1", must_change_password=True)
    r = save(c, attempt_id, 1, 0, 1)
    assert r.status_code == 302 and "/auth/change-password" in r.location
    assert saved_count(app, attempt_id) == 0


def test_a_stale_session_is_sent_to_sign_in_even_for_a_foreign_attempt(app, world, login):
    owner = login(world.login["m_a1"])
    attempt_id = start(owner, world.assignment_a)
    other = login(world.login["m_a1b"])
    sign_out_everywhere(app, world, "m_a1b")
    r = save(other, attempt_id, 1, 0, 1)
    assert r.status_code == 302 and "/auth/login" in r.location


def test_answer_saves_do_not_resend_the_session_cookie(app, world, login):
    """Pages refresh the sliding session; the per-answer save does not spend bytes on it."""
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    assert "Set-Cookie" in c.get(f"/quiz/attempts/{attempt_id}").headers
    r = save(c, attempt_id, 1, 0, 1)
    assert r.json["saved"] is True and "Set-Cookie" not in r.headers


def test_the_paper_not_the_page_decides_which_question_an_answer_is_for(app, world, login):
    """The page sends each question's id as a hint; a wrong or foreign id cannot redirect the answer."""
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    items = paper(app, attempt_id)
    (pos1, q1, perm1), (_, q2, _) = items[0], items[1]
    hinted = {"position": pos1, "q": q2.id, "answer": shown_answer(q1, perm1), "seq": 1}
    assert c.post(f"/quiz/attempts/{attempt_id}/answers", json=hinted).json["saved"] is True
    right = {"position": pos1, "q": q1.id, "answer": shown_answer(q1, perm1, right=False), "seq": 2}
    assert c.post(f"/quiz/attempts/{attempt_id}/answers", json=right).json["saved"] is True
    with app.app_context():
        stored = db.session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
        assert [(r.question_id, r.seq, r.is_correct) for r in stored] == [(q1.id, 2, False)]


def test_saves_racing_each_other_and_the_submit_lose_nothing(app, world, login):
    """Phones and tabs of three members save at once while one of them hands in: every answer the
    server said it saved before the submit is graded, and nothing is saved after it."""
    members = ["m_a1", "m_a1b", "m_a2"]
    clients = {m: [login(world.login[m]) for _ in range(2)] for m in members}  # two devices each
    attempts = {m: start(clients[m][0], world.assignment_a) for m in members}
    papers = {m: paper(app, attempts[m]) for m in members}
    acknowledged: dict[str, dict[int, int]] = {m: {} for m in members}  # position -> seq the server kept
    closed_after: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(members) * 2 + 1)

    def device(member: str, index: int):
        c, attempt_id = clients[member][index], attempts[member]
        barrier.wait()
        for round_ in range(3):
            for pos, q, perm in papers[member]:
                seq = round_ * 100 + pos * 2 + index
                r = save(c, attempt_id, pos, shown_answer(q, perm, right=(round_ == 2)), seq)
                if r.status_code == 409:
                    with lock:
                        closed_after.append(member)
                    return
                assert r.status_code == 200 and r.json["ok"] is True
                if r.json["saved"]:
                    with lock:
                        acknowledged[member][pos] = max(acknowledged[member].get(pos, 0), seq)

    def hand_in():
        barrier.wait()
        clients["m_a2"][0].post(f"/quiz/attempts/{attempts['m_a2']}/submit", data={"shown": ""})

    threads = [threading.Thread(target=device, args=(m, i)) for m in members for i in range(2)]
    threads.append(threading.Thread(target=hand_in))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(closed_after) <= {"m_a2"}
    with app.app_context():
        for member in members:
            stored = {r.question_id: r for r in db.session.scalars(select(Response).where(Response.attempt_id == attempts[member]))}
            by_pos = {pos: q.id for pos, q, _ in papers[member]}
            for pos, seq in acknowledged[member].items():
                assert stored[by_pos[pos]].seq == seq, (member, pos)  # the newest acknowledged answer is the one kept
            assert quizzes.last_seq(attempts[member]) >= max(acknowledged[member].values(), default=0)
        submitted = db.session.get(Attempt, attempts["m_a2"])
        assert submitted.state is AttemptState.FINISHED
        kept = db.session.scalars(select(Response).where(Response.attempt_id == submitted.id)).all()
        assert submitted.correct_count == sum(r.is_correct for r in kept)


def _stored(app, attempt_id: int) -> dict[int, Response]:
    with app.app_context():
        rows = db.session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
        db.session.expunge_all()
        return {r.question_id: r for r in rows}


def test_a_hand_in_between_a_saves_read_and_its_write_is_told_not_saved(app, world, login, monkeypatch):
    """The save reads without a lock; if the other phone hands in before the save writes, the save
    must write nothing and say so (409), not answer "saved" for an answer that was never graded."""
    phone, tablet = login(world.login["m_a1"]), login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    (pos1, q1, perm1), (pos2, q2, perm2) = paper(app, attempt_id)[:2]
    assert save(phone, attempt_id, pos1, shown_answer(q1, perm1), 1).json["saved"] is True
    write = saving._guarded_write

    def tablet_hands_in_first(conn, values, final):
        hand_in = threading.Thread(target=lambda: tablet.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""}))
        hand_in.start()
        hand_in.join(timeout=30)
        return write(conn, values, final)

    monkeypatch.setattr(saving, "_guarded_write", tablet_hands_in_first)
    late = save(phone, attempt_id, pos2, shown_answer(q2, perm2), 2)
    assert late.status_code == 409 and late.json["closed"] is True
    stored = _stored(app, attempt_id)
    assert stored[q1.id].seq == 1 and stored[q1.id].is_correct  # graded
    assert stored[q2.id].seq == 0 and stored[q2.id].answer == []  # the blank the grading wrote, not the late answer


def test_a_save_arriving_while_the_hand_in_is_grading_waits_and_is_told_not_saved(app, world, login, monkeypatch):
    """The hand-in has locked the attempt and is grading, not yet committed, when a save comes. The
    save's write must wait for it and then write nothing: written after the grading read the
    answers, it would be acknowledged and never counted."""
    phone, tablet = login(world.login["m_a1"]), login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    pos, q, perm = paper(app, attempt_id)[0]
    late = _save_while_grading(monkeypatch, tablet, attempt_id, lambda: save(phone, attempt_id, pos, shown_answer(q, perm), 1))
    assert late.status_code == 409 and late.json["closed"] is True
    assert _stored(app, attempt_id)[q.id].answer == []


def _save_while_grading(monkeypatch, tablet, attempt_id: int, save_now):
    """Hand in on the tablet and, while its grading has not yet committed, call save_now(); its response."""
    grading, grade = threading.Event(), handin._grade

    def slow_grade(attempt):
        grading.set()
        time.sleep(0.5)  # the save reads, then reaches its write, while this has not committed
        grade(attempt)

    monkeypatch.setattr(handin, "_grade", slow_grade)
    hand_in = threading.Thread(target=lambda: tablet.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""}))
    hand_in.start()
    assert grading.wait(timeout=30)
    response = save_now()
    hand_in.join(timeout=30)
    return response


# ---- saves of a question this process has seen (one statement that checks the rest as it writes)


def hinted_save(client, attempt_id: int, item, seq: int, right: bool = True):
    """A save as the page sends it, with the question's id: after the first, the short path."""
    pos, q, perm = item
    body = {"position": pos, "q": q.id, "answer": shown_answer(q, perm, right), "seq": seq}
    return client.post(f"/quiz/attempts/{attempt_id}/answers", json=body)


def _warm(app, world, login):
    phone = login(world.login["m_a1"])
    attempt_id = start(phone, world.assignment_a)
    item = next(i for i in paper(app, attempt_id) if i[1].kind.value == "single")
    assert hinted_save(phone, attempt_id, item, 1).json["saved"] is True
    assert hinted_save(phone, attempt_id, item, 2, right=False).json["saved"] is True  # known now
    return phone, attempt_id, item


def _stored_seq(app, attempt_id: int, question_id: int) -> int:
    return _stored(app, attempt_id)[question_id].seq


@pytest.mark.parametrize("change, goes_to", [
    (lambda app, world: sign_out_everywhere(app, world, "m_a1"), "/auth/login"),
    (lambda app, world: change_member(app, world, "m_a1", active=False), "/auth/login"),
    (lambda app, world: change_member(app, world, "m_a1", must_change_password=True), "/auth/change-password"),
], ids=["signed-out-everywhere", "disabled", "must-change-password"])
def test_a_known_attempt_still_checks_the_session_on_every_save(app, world, login, change, goes_to):
    phone, attempt_id, item = _warm(app, world, login)
    change(app, world)
    refused = hinted_save(phone, attempt_id, item, 3)
    assert refused.status_code == 302 and goes_to in refused.location
    assert _stored_seq(app, attempt_id, item[1].id) == 2


def test_a_known_attempt_handed_in_elsewhere_takes_no_more_answers(app, world, login):
    phone, attempt_id, item = _warm(app, world, login)
    tablet = login(world.login["m_a1"])
    tablet.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    late = hinted_save(phone, attempt_id, item, 3)
    assert late.status_code == 409 and late.json["closed"] is True
    stored = _stored(app, attempt_id)[item[1].id]
    assert stored.seq == 2 and stored.is_correct is False  # the graded answer, not the late one


def test_a_known_attempt_past_its_deadline_takes_no_more_answers(app, world, login):
    phone, attempt_id, item = _warm(app, world, login)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.deadline = utcnow() - timedelta(seconds=app.config["ATTEMPT_GRACE_SECONDS"] + 5)
        db.session.commit()
    late = hinted_save(phone, attempt_id, item, 3)
    assert late.status_code == 409 and "答题时间已到" in late.json["error"]
    assert _stored_seq(app, attempt_id, item[1].id) == 2


def test_a_known_attempt_keeps_the_newest_answer_and_reports_the_highest_seq(app, world, login):
    phone, attempt_id, item = _warm(app, world, login)
    other = next(i for i in paper(app, attempt_id) if i[1].id != item[1].id)
    assert hinted_save(phone, attempt_id, other, 40).json["saved"] is True
    newer = hinted_save(phone, attempt_id, item, 9)
    assert newer.json["saved"] is True and newer.json["last_seq"] == 40  # a second phone continues above it
    stale = hinted_save(phone, attempt_id, item, 5)
    assert stale.json["saved"] is False and stale.json["last_seq"] == 40
    assert _stored_seq(app, attempt_id, item[1].id) == 9
    bad = phone.post(f"/quiz/attempts/{attempt_id}/answers",
                     json={"position": item[0], "q": item[1].id, "answer": [7], "seq": 10})
    assert bad.status_code == 400 and bad.json["error"] == "答案格式不正确"


def test_a_known_attempt_saving_while_the_hand_in_grades_waits_and_is_told_not_saved(app, world, login, monkeypatch):
    phone, attempt_id, item = _warm(app, world, login)
    tablet = login(world.login["m_a1"])
    late = _save_while_grading(monkeypatch, tablet, attempt_id, lambda: hinted_save(phone, attempt_id, item, 3))
    assert late.status_code == 409 and late.json["closed"] is True
    assert _stored_seq(app, attempt_id, item[1].id) == 2
