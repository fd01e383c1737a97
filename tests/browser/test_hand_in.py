"""Handing in with no signal, and the countdown running out offline: no answer is lost.

The page never leaves for the browser's error page: it keeps every answer on the phone, says so in
Chinese, and hands in by itself when the network returns; Back and reload on the way lose nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Attempt, Response, utcnow

from .test_phone_flows import open_quiz

pytestmark = pytest.mark.browser

WAITING = "网络已断开：答案已保存在手机上，恢复网络后将自动交卷"


def give(page, index: int) -> None:
    """Answer the question at `index` (0-based) the way a member does: tap an option or type."""
    section = page.locator("section.q").nth(index)
    if section.get_attribute("data-kind") == "fill":
        section.locator("input[type=text]").first.fill("一年")
        section.locator("input[type=text]").first.dispatch_event("change")
    else:
        section.locator("label.opt").first.click()


def give_online(page, index: int) -> None:
    give(page, index)
    page.locator("section.q").nth(index).locator(".save-state.saved").wait_for()


def attempt_of(app, user_id: int) -> Attempt:
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == user_id))
        db.session.expunge(attempt)
        return attempt


def graded(app, attempt_id: int) -> tuple[bool, list[int]]:
    """Whether the attempt is finished, and the positions (1-based) whose graded answer is not blank."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        answered = {r.question_id for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt_id)) if r.answer}
        return attempt.is_finished, [pos for pos, entry in enumerate(attempt.paper, start=1) if entry["q"] in answered]


def move_deadline(app, attempt_id: int, seconds_from_now: float) -> None:
    with app.app_context():
        db.session.get(Attempt, attempt_id).deadline = utcnow() + timedelta(seconds=seconds_from_now)
        db.session.commit()


def hand_in_offline(page) -> None:
    """Answer #1 online, go offline, answer #2 and #3, tap 交卷 and confirm."""
    give_online(page, 0)
    page.context.set_offline(True)
    give(page, 1)
    give(page, 2)
    page.locator("section.q").nth(2).locator(".save-state.pending").wait_for()
    page.click("#submit-btn")
    page.click("#confirm-yes")


def pending_on_phone(page) -> int:
    """Answers kept on the phone for the server: one localStorage entry each (lh-a-<attempt>-<position>)."""
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lh-a-' + document.getElementById('paper').dataset.attempt + '-')).length")


def test_offline_hand_in_stays_on_the_page_and_hands_in_when_the_network_returns(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    hand_in_offline(page)
    expect(page.locator("#handin")).to_have_text(WAITING)
    page.shot("01-offline-hand-in")
    page.screenshot(path=str(page.artifacts / "01-offline-hand-in-screen.png"))  # what the phone shows
    assert page.url == url  # not the browser's error page
    assert "全部已保存" not in page.locator("#net").inner_text()
    assert pending_on_phone(page) == 2  # kept until the server confirms the hand-in
    assert page.locator("section.q").nth(3).locator("input").first.is_disabled()
    page.context.set_offline(False)
    page.wait_for_url("**/review")
    assert graded(app, attempt_of(app, world.user["m_a1"]).id) == (True, [1, 2, 3])
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lh-')).length") == 0


def test_reload_after_an_offline_hand_in_hands_in_once_the_network_returns(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    hand_in_offline(page)
    expect(page.locator("#handin")).to_have_text(WAITING)
    with pytest.raises(PlaywrightError):
        page.reload()  # offline: the browser cannot load the page
    page.context.set_offline(False)
    page.goto(url)
    page.wait_for_url("**/review")
    assert graded(app, attempt_of(app, world.user["m_a1"]).id) == (True, [1, 2, 3])


def test_back_after_a_failed_hand_in_loses_nothing(app, world, live_server, phone):
    """The member gives up waiting and goes Back; later, online, reopens the quiz: it is handed in."""
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    hand_in_offline(page)
    expect(page.locator("#handin")).to_have_text(WAITING)
    with pytest.raises(PlaywrightError):
        page.go_back()  # offline: the browser cannot load the page before
    page.context.set_offline(False)
    page.goto(url)  # 继续答题, or the paper was handed in meanwhile by the page left behind
    page.wait_for_url("**/review")
    assert graded(app, attempt_of(app, world.user["m_a1"]).id) == (True, [1, 2, 3])


def test_a_hand_in_left_waiting_carries_on_when_the_quiz_is_reopened(app, world, live_server, phone):
    """The page waiting to hand in is closed; the quiz reopened later hands in what the phone kept."""
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    hand_in_offline(page)
    expect(page.locator("#handin")).to_have_text(WAITING)
    context = page.context
    page.close()
    context.set_offline(False)
    attempt_id = attempt_of(app, world.user["m_a1"]).id
    assert graded(app, attempt_id) == (False, [1])
    again = context.new_page()
    again.goto(url)
    again.wait_for_url("**/review")
    assert graded(app, attempt_id) == (True, [1, 2, 3])


def test_all_saved_only_when_the_server_kept_this_answer(app, world, live_server, phone):
    """A newer answer from another phone is stored: this page's answer is not reported as saved
    until the server holds it."""
    page = phone
    open_quiz(page, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    first = attempt.paper[0]
    with app.app_context():
        db.session.add(Response(attempt_id=attempt.id, question_id=first["q"], answer=["elsewhere"], is_correct=False,
                                seq=50, saved_at=utcnow()))
        db.session.commit()
    give(page, 0)
    expect(page.locator("#net")).to_have_text("全部已保存")
    with app.app_context():
        stored = db.session.scalar(select(Response).where(Response.attempt_id == attempt.id, Response.question_id == first["q"]))
        assert stored.answer != ["elsewhere"] and stored.seq > 50


def test_countdown_reaching_zero_offline_hands_in_within_the_grace(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    give_online(page, 0)
    move_deadline(app, attempt.id, 6)
    page.reload()
    page.context.set_offline(True)
    give(page, 1)
    give(page, 2)
    expect(page.locator("#handin")).to_have_text("答题时间已到。" + WAITING, timeout=15_000)  # time is up, no network
    page.screenshot(path=str(page.artifacts / "01-time-up-offline-screen.png"))
    assert page.locator("section.q").nth(3).locator("input").first.is_disabled()
    with pytest.raises(PlaywrightError):
        page.reload()
    page.context.set_offline(False)
    page.goto(f"{live_server}/quiz/attempts/{attempt.id}")  # within the grace: the page hands in
    page.wait_for_url("**/review")
    assert graded(app, attempt.id) == (True, [1, 2, 3])


def test_answers_arriving_after_the_grace_are_named_on_the_result(app, world, live_server, phone):
    page = phone
    open_quiz(page, live_server, world, "ma1")
    attempt = attempt_of(app, world.user["m_a1"])
    give_online(page, 0)
    move_deadline(app, attempt.id, 6)
    page.reload()
    page.context.set_offline(True)
    give(page, 1)
    give(page, 3)
    expect(page.locator("#handin")).to_contain_text(WAITING, timeout=15_000)
    move_deadline(app, attempt.id, -app.config["ATTEMPT_GRACE_SECONDS"] - 30)  # the network returns too late
    page.context.set_offline(False)
    page.wait_for_url("**/review")
    expect(page.locator(".flash")).to_contain_text("第 2、4 题的答案在截止后才送达，未计分")
    page.screenshot(path=str(page.artifacts / "02-late-answers-named.png"))
    assert graded(app, attempt.id) == (True, [1])


def test_reopening_after_the_grace_still_names_the_answers_not_counted(app, world, live_server, phone):
    """Time ran out offline and the phone was closed; reopened after the grace, the server has closed
    the paper: the result page tells which answers left on the phone were not counted."""
    page = phone
    open_quiz(page, live_server, world, "ma1")
    url = page.url
    attempt = attempt_of(app, world.user["m_a1"])
    give_online(page, 0)
    page.context.set_offline(True)
    give(page, 2)
    page.locator("section.q").nth(2).locator(".save-state.pending").wait_for()
    page.goto("about:blank")
    move_deadline(app, attempt.id, -app.config["ATTEMPT_GRACE_SECONDS"] - 30)
    page.context.set_offline(False)
    page.goto(url)
    page.wait_for_url("**/review")
    expect(page.locator(".flash")).to_contain_text("第 3 题的答案在截止后才送达，未计分")
    assert graded(app, attempt.id) == (True, [1])
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lh-')).length") == 0
