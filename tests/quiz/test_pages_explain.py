"""Pages that explain (issue 14): a failed member with tries left is told so and offered 再答一次 on home,
the task page and the result page; a paper whose time ran out says 时间已到，已自动交卷 wherever it
appears, and is closed on view rather than shown as 答题中 / 继续答题; the branch's WeChat reminder
names those who failed and may try again."""

from __future__ import annotations

import re
from datetime import timedelta

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, User, utcnow

from .helpers import attempt_id_from, form_fields, paper, shown_answer

TIME_UP = "时间已到，已自动交卷"


def hand_in(app, client, assignment_id: int, right: bool) -> int:
    """Start a paper and hand it in with every answer right (or wrong); return the attempt id."""
    attempt_id = attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)
    answers = {pos: shown_answer(q, perm, right) for pos, q, perm in paper(app, attempt_id)}
    client.post(f"/quiz/attempts/{attempt_id}/submit", data=form_fields(answers))
    return attempt_id


def task_row(html: str, assignment_id: int) -> str:
    return re.search(rf'<li id="task-{assignment_id}">(.*?)</li>', html, re.S).group(1)


def test_a_failed_member_is_told_a_retry_is_allowed_and_can_start_it(app, world, login):
    client, a = login(world.login["m_a1"]), world.assignment_a  # two attempts allowed
    first = hand_in(app, client, a, right=False)
    start = f'action="/quiz/{a}/start"'
    row = task_row(client.get("/").get_data(as_text=True), a)
    assert "未合格 · 0分" in row and "未合格 · 还可再答 1 次" in row and start in row and "再答一次" in row
    result = client.get(f"/quiz/attempts/{first}/review").get_data(as_text=True)
    assert "未合格 · 还可再答 1 次" in result and start in result and "返回任务" in result
    detail = client.get(f"/quiz/{a}").get_data(as_text=True)
    assert "还可再答 1 次" in detail and start in detail
    # The button starts the second try.
    second = attempt_id_from(client.post(f"/quiz/{a}/start").location)
    assert second != first
    answers = {pos: shown_answer(q, perm, False) for pos, q, perm in paper(app, second)}
    client.post(f"/quiz/attempts/{second}/submit", data=form_fields(answers))
    # Both tries used: no prompt, no button; the page says they are used up.
    home = task_row(client.get("/").get_data(as_text=True), a)
    assert "未合格" in home and "还可再答" not in home and start not in home
    assert "还可再答" not in client.get(f"/quiz/attempts/{second}/review").get_data(as_text=True)
    assert "作答次数已用完" in client.get(f"/quiz/{a}").get_data(as_text=True)


def test_a_passed_member_or_a_closed_task_offers_no_retry(app, world, login):
    passed, failed = login(world.login["m_a1"]), login(world.login["m_a1b"])
    hand_in(app, passed, world.assignment_a, right=True)
    hand_in(app, failed, world.assignment_a, right=False)
    row = task_row(passed.get("/").get_data(as_text=True), world.assignment_a)
    assert "已完成 · 100分" in row and "再答" not in row
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    row = task_row(failed.get("/").get_data(as_text=True), world.assignment_a)
    assert "未合格 · 0分" in row and "再答" not in row


def _start_timed(app, client, assignment_id: int) -> int:
    """Start a 10-minute paper, save one right answer, and let its time (and grace) run out unseen."""
    with app.app_context():
        db.session.get(Assignment, assignment_id).time_limit_minutes = 10
        db.session.commit()
    attempt_id = attempt_id_from(client.post(f"/quiz/{assignment_id}/start").location)
    pos, q, perm = paper(app, attempt_id)[0]
    saved = client.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": 1})
    assert saved.get_json()["ok"]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.started_at -= timedelta(minutes=20)
        attempt.deadline = utcnow() - timedelta(seconds=app.config["ATTEMPT_GRACE_SECONDS"] + 5)
        db.session.commit()
    return attempt_id


def test_a_paper_whose_time_ran_out_is_shown_as_handed_in_by_the_clock_on_home(app, world, login):
    client = login(world.login["m_a1"])
    attempt_id = _start_timed(app, client, world.assignment_a)
    row = task_row(client.get("/").get_data(as_text=True), world.assignment_a)
    assert "答题中" not in row and TIME_UP in row and "未合格 · 20分" in row and "还可再答 1 次" in row
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.is_finished and attempt.finished_at == attempt.deadline and attempt.score == 20


def test_the_task_and_result_pages_say_the_time_ran_out(app, world, login):
    client = login(world.login["m_a1"])
    attempt_id = _start_timed(app, client, world.assignment_a)
    detail = client.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)  # the first page opened after
    assert "继续答题" not in detail and "答题中" not in detail and detail.count(TIME_UP) == 2  # the card and the row
    assert TIME_UP in client.get(f"/quiz/attempts/{attempt_id}/review").get_data(as_text=True)
    # Handed in on time, the next paper says nothing of the kind.
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).time_limit_minutes = None
        db.session.commit()
    second = hand_in(app, client, world.assignment_a, right=True)
    assert TIME_UP not in client.get(f"/quiz/attempts/{second}/review").get_data(as_text=True)
    assert TIME_UP not in task_row(client.get("/").get_data(as_text=True), world.assignment_a)


def test_the_secretary_sees_the_time_ran_out_too(app, world, login):
    attempt_id = _start_timed(app, login(world.login["m_a1"]), world.assignment_a)
    page = login(world.login["sec_a1"]).get(
        f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}").get_data(as_text=True)
    assert TIME_UP in page and "答题中" not in page
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).is_finished


def test_the_reminder_names_who_failed_and_may_try_again(app, world, login):
    hand_in(app, login(world.login["m_a1"]), world.assignment_a, right=False)
    page = login(world.login["sec_a1"]).get(
        f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}").get_data(as_text=True)
    reminder = re.search(r'<textarea id="reminder"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    with app.app_context():
        waiting, retry = (db.session.get(User, world.user[k]).name for k in ("m_a1b", "m_a1"))
    assert "请抓紧登录党章学习完成：" in reminder and waiting in reminder.split("未合格")[0]
    assert f"以下同志未合格，截止前还可再答：{retry}。" in reminder
    assert re.search(rf'id="may-retry">.*{retry}', page)
    # Once the second try is used up, the reminder no longer asks them.
    hand_in(app, login(world.login["m_a1"]), world.assignment_a, right=False)
    page = login(world.login["sec_a1"]).get(
        f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}").get_data(as_text=True)
    assert "还可再答" not in page
