"""Two pages of one paper, a session that ends under an open paper, a phone that cannot store, a clock
that moves: in a real browser (issue 17, rows 1-3 and 12).

Each test fails on the page and server of before: the hand-in posted every position as a blank with
the next seq; pages numbered answers from the same start; tabs overwrote each other's queue; saves
needed the session cookie; the countdown ran on the phone's wall clock from when the script ran.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from learnhub.extensions import db
from learnhub.models import Attempt, DeviceSession, Response, utcnow

from ..quiz.helpers import paper, shown_answer
from .conftest import ARTIFACTS, PHONE
from .test_hand_in import attempt_of, graded
from .test_phone_flows import log_in, open_quiz

pytestmark = pytest.mark.browser


@pytest.fixture
def new_phone(browser):
    """More phones (browser contexts of their own), closed at the end."""
    contexts = []

    def make(init_script: str | None = None):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        context.set_default_timeout(10_000)
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def choose(page, position: int, value) -> None:
    """Give `value` (a page answer, as tests/quiz/helpers.shown_answer makes it) to the question at `position`."""
    section = page.locator(f"#q{position}")
    kind = section.get_attribute("data-kind")
    if kind == "fill":
        boxes = section.locator("input[type=text]")
        for i, text in enumerate(value):
            boxes.nth(i).fill(text)
        boxes.first.dispatch_event("change")
    elif kind == "truefalse":
        section.locator(f"input[value={value}]").check()
    else:
        for index in value if isinstance(value, list) else [value]:
            section.locator("input").nth(index).check()


def saved(page, position: int) -> None:
    page.locator(f"#q{position} .save-state.saved").wait_for()


def stored_answers(app, attempt_id: int) -> dict[int, bool]:
    """position -> whether the stored answer is right, for the positions with an answer stored."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        rows = {r.question_id: r for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt_id))}
        return {pos: rows[e["q"]].is_correct for pos, e in enumerate(attempt.paper, start=1) if e["q"] in rows and rows[e["q"]].answer}


def test_an_untouched_page_hands_in_without_erasing_what_the_other_phone_answered(app, world, live_server, phone, new_phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    other = new_phone()
    log_in(other, live_server, "ma1")
    other.goto(phone.url)
    for pos, q, perm in paper(app, attempt.id):
        choose(other, pos, shown_answer(q, perm))
        saved(other, pos)
    phone.click("#submit-btn")  # the first phone's page still shows five blank questions
    phone.click("#confirm-yes")
    phone.wait_for_url("**/review")
    with app.app_context():
        assert db.session.get(Attempt, attempt.id).score == 100.0


def test_the_later_answer_wins_whichever_phone_reconnects_first(app, world, live_server, phone, new_phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    (pos, q, perm), (pos2, q2, perm2), *_ = paper(app, attempt.id)
    other = new_phone()
    log_in(other, live_server, "ma1")
    other.goto(phone.url)
    phone.context.set_offline(True)
    other.context.set_offline(True)
    choose(phone, pos, shown_answer(q, perm, right=False))  # first, on phone A
    phone.wait_for_timeout(50)
    choose(other, pos, shown_answer(q, perm))  # later, on phone B
    phone.context.set_offline(False)  # the earlier answer arrives first ...
    saved(phone, pos)
    other.context.set_offline(False)  # ... and the later one still wins
    saved(other, pos)
    assert stored_answers(app, attempt.id) == {pos: True}

    # Phone A answers the next question offline; phone B answers it later, online. When A reconnects,
    # the server keeps B's answer and A's page shows it, saying so.
    phone.context.set_offline(True)
    choose(phone, pos2, shown_answer(q2, perm2, right=False))
    phone.wait_for_timeout(50)
    choose(other, pos2, shown_answer(q2, perm2))
    saved(other, pos2)
    phone.context.set_offline(False)
    expect(phone.locator(f"#q{pos2} .save-state")).to_have_text("另一页面保存了更新的答案")
    phone.wait_for_timeout(1000)  # and it stays said (a later refresh does not cover it with 已保存)
    expect(phone.locator(f"#q{pos2} .save-state")).to_have_text("另一页面保存了更新的答案")
    assert phone.locator(f"#q{pos2} input").evaluate_all("els => els.map(e => e.type === 'text' ? e.value : e.checked)") == \
        other.locator(f"#q{pos2} input").evaluate_all("els => els.map(e => e.type === 'text' ? e.value : e.checked)")
    phone.shot("newer-answer-from-another-page")
    assert stored_answers(app, attempt.id) == {pos: True, pos2: True}


def test_two_tabs_share_the_answers_waiting_on_the_phone(app, world, live_server, phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    (pos, q, perm), (pos2, q2, perm2), *_ = paper(app, attempt.id)
    tab = phone.context.new_page()
    tab.goto(phone.url)
    phone.context.set_offline(True)
    choose(phone, pos, shown_answer(q, perm))  # tab 1, offline
    expect(tab.locator(f"#q{pos} .save-state")).to_have_text("未保存，等待网络")  # tab 2 was told of it
    choose(tab, pos2, shown_answer(q2, perm2))  # tab 2, offline: its answer is kept beside tab 1's
    phone.close()  # tab 1 closes with its answer unsent
    tab.context.set_offline(False)
    saved(tab, pos)
    saved(tab, pos2)
    assert stored_answers(app, attempt.id) == {pos: True, pos2: True}


def test_an_open_paper_still_saves_and_hands_in_once_the_session_cookie_is_gone(app, world, live_server, phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    (pos, q, perm), *_ = paper(app, attempt.id)
    phone.context.clear_cookies()  # what the browser does when SESSION_HOURS have passed
    choose(phone, pos, shown_answer(q, perm))
    saved(phone, pos)
    phone.click("#submit-btn")
    phone.click("#confirm-yes")
    phone.wait_for_url(re.compile(r".*/auth/login.*"))  # the result needs a login; the hand-in did not
    assert graded(app, attempt.id) == (True, [pos])


def test_signed_out_for_real_the_answers_wait_on_the_phone_and_go_after_signing_in(app, world, live_server, phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    (pos, q, perm), *_ = paper(app, attempt.id)
    url = phone.url
    with app.app_context():  # 退出登录 on this device from another (the account page's sign-out)
        db.session.execute(delete(DeviceSession).where(DeviceSession.user_id == world.user["m_a1"]))
        db.session.commit()
    choose(phone, pos, shown_answer(q, perm))
    expect(phone.locator("#net")).to_contain_text("登录已失效")
    phone.shot("signed-out-answers-kept")
    assert stored_answers(app, attempt.id) == {}
    log_in(phone, live_server, "ma1")
    phone.goto(url)
    saved(phone, pos)
    assert list(stored_answers(app, attempt.id)) == [pos]


NO_STORAGE = """
Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('denied', 'SecurityError'); } });
"""


def test_a_browser_that_cannot_store_says_so_and_still_saves_online(app, world, live_server, new_phone):
    page = new_phone(NO_STORAGE)
    open_quiz(page, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    (pos, q, perm), *_ = paper(app, attempt.id)
    expect(page.locator("#no-storage")).to_be_visible()
    choose(page, pos, shown_answer(q, perm))
    saved(page, pos)
    expect(page.locator("#net")).to_have_text("全部已保存")
    page.context.set_offline(True)
    (pos2, q2, perm2) = paper(app, attempt.id)[1]
    choose(page, pos2, shown_answer(q2, perm2))
    expect(page.locator("#net")).to_have_text("网络已断开：答案只在本页中，请勿关闭或刷新本页")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "no-storage.png"), full_page=True)


def _left(page) -> int:
    """The countdown's seconds left, read from the page ("剩余 9:57")."""
    m = re.search(r"(\d+):(\d\d)$", page.locator("#timer").inner_text())
    return int(m.group(1)) * 60 + int(m.group(2))


def test_the_countdown_runs_from_the_servers_deadline_not_from_the_page_or_the_phone_clock(app, world, live_server, phone):
    open_quiz(phone, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    with app.app_context():
        db.session.get(Attempt, attempt.id).deadline = utcnow() + timedelta(seconds=600)
        db.session.commit()
    # A slow signal: the script arrives 3 seconds after the page. Those 3 seconds are not added.
    phone.route("**/static/js/quiz.js*", lambda route: (time.sleep(3), route.continue_()))
    phone.reload()
    expect(phone.locator("#timer")).to_contain_text("剩余")
    assert _left(phone) <= 597
    # The phone's clock jumps an hour ahead (or back): the countdown does not move.
    before = _left(phone)
    phone.evaluate("() => { const real = Date.now.bind(Date); Date.now = () => real() + 3600 * 1000; }")
    phone.wait_for_timeout(1500)
    assert before - 3 <= _left(phone) <= before
    phone.evaluate("() => { const real = Date.now.bind(Date); Date.now = () => real() - 7200 * 1000; }")
    phone.wait_for_timeout(1200)
    assert before - 4 <= _left(phone) <= before
    with app.app_context():
        assert db.session.get(Attempt, attempt.id).is_finished is False
