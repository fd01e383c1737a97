"""The quiz with a keyboard and a screen reader (issue 14, item 8): each question is a named group of labelled
choices, an answer given with the arrow keys is saved and the save is announced in a live region, and the
hand-in dialog keeps the focus inside it, closes with Escape and hands the focus back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Attempt, Response

from .conftest import SMALL
from .test_phone_flows import open_quiz

pytestmark = pytest.mark.browser


def focused(page) -> str:
    return page.evaluate("(() => { const e = document.activeElement; return e.id || e.name || e.tagName; })()")


def test_a_quiz_taken_with_the_keyboard_alone(app, world, live_server, phone):
    page = phone
    page.set_viewport_size(SMALL)
    open_quiz(page, live_server, world, "ma1")
    sections = page.locator("section.q")
    count = sections.count()
    # What a screen reader meets: one group per question, named by its stem; every choice and blank labelled.
    for i in range(count):
        stem = sections.nth(i).locator(".stem").inner_text()
        expect(page.get_by_role("group", name=stem, exact=False)).to_have_count(1)
        for control in sections.nth(i).locator("input:not([type=hidden])").all():
            assert control.evaluate("el => el.labels.length > 0 && el.labels[0].innerText.trim() !== ''")
    assert page.get_attribute("#net", "aria-live") == "polite"

    # Tab to the first choice of the first question, then choose with the arrow keys.
    first = sections.first
    radios = first.locator("input[type=radio]")
    assert radios.count() >= 2, "the first question of the test bank is a single choice or true/false"
    for _ in range(40):
        page.keyboard.press("Tab")
        if first.evaluate("(el) => el.contains(document.activeElement) && document.activeElement.type === 'radio'"):
            break
    else:
        pytest.fail("Tab never reached the first question's choices")
    page.keyboard.press("ArrowDown")
    chosen = [r.is_checked() for r in radios.all()]
    assert chosen.count(True) == 1
    # The save is announced: the live region says every answer is saved, the question says 已保存.
    expect(page.locator("#net")).to_have_text("全部已保存")
    expect(first.locator(".save-state")).to_have_text("已保存")
    with app.app_context():
        attempt = db.session.scalars(select(Attempt.id).where(Attempt.user_id == world.user["m_a1"])).one()
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt)) == 1
    page.shot("01-quiz-keyboard-answer")

    # Hand in from the keyboard: the dialog takes the focus and keeps it; Escape gives it back to 交卷.
    page.focus("#submit-btn")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_be_visible()
    assert focused(page) == "confirm-yes"
    page.keyboard.press("Tab")
    assert focused(page) == "confirm-no"
    page.keyboard.press("Tab")
    assert focused(page) == "confirm-yes", "Tab left the dialog"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "confirm-no"
    page.keyboard.press("Escape")
    expect(page.locator("#confirm")).to_be_hidden()
    assert focused(page) == "submit-btn"
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_be_visible()
    page.screenshot(path=str(page.artifacts / "02-quiz-keyboard-dialog.png"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/review")
