"""A three-question meeting quiz end to end: the projector at 1920×1080 and three phones at 360×640 (one of
them a guest invited by member number), one phone offline for a question whose answer arrives after it
reconnects while the question is still open; attendance and the wall's figures checked; screenshots."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Meeting, MeetingAnswer, MeetingAttendance, QuestionKind
from learnhub.services import meetings

from ..factories import PASSWORD
from ..meetings.helpers import askable, make_meeting
from .conftest import ARTIFACTS, SMALL
from .test_small_phone import log_in

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1920, "height": 1080}


def _buttons(question) -> list[int]:
    """The button positions of the right answer."""
    if question.kind is QuestionKind.TRUEFALSE:
        return [0 if question.answer[0] else 1]
    return list(question.answer)


def _answers(app, meeting_id: int, position: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MeetingAnswer).filter_by(meeting_id=meeting_id, position=position))


def test_a_meeting_quiz_from_projector_to_phones_and_back(browser, live_server, world, app, request):
    out = ARTIFACTS / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        questions = askable(3)
        m = make_meeting(world.org["a1"], world.user["sec_a1"], questions, title="十二月支部党员大会")
        meetings.add_guest(m, "MA2")
        meeting_id, code = m.id, m.code
        right = [_buttons(q) for q in questions]
        multiple = [q.kind is QuestionKind.MULTIPLE for q in questions]
    contexts, errors = [], []

    def page_in(viewport, **extra):
        context = browser.new_context(viewport=viewport, locale="zh-CN", **extra)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return context, page

    try:
        _, screen = page_in(PROJECTOR)
        log_in(screen, live_server, "seca1")
        screen.wait_for_url(f"{live_server}/**")
        screen.goto(f"{live_server}/meetings/{meeting_id}/screen")
        expect(screen.locator("#code")).to_have_text(code)
        assert screen.locator(".qr svg").count() == 1
        phones = []
        for number in ("ma1", "ma1b", "ma2"):
            context, phone = page_in(SMALL, device_scale_factor=2, is_mobile=True, has_touch=True)
            # Scanning the code opens /m/<code>: the login comes first, then back to the meeting.
            phone.goto(f"{live_server}/m/{code}" if number != "ma1" else f"{live_server}/m")
            phone.fill("#identifier", number)
            phones.append((context, phone, number))
        for context, phone, number in phones:
            phone.fill("#password", PASSWORD)
            phone.click("button[type=submit]")
            if number == "ma1":  # typed the code, in lower case
                phone.fill("#code", code.lower())
                phone.click(".code-form button[type=submit]")
            else:
                phone.click("#join")
            expect(phone.locator("#status")).to_have_text("已加入，请等待书记出题")
        expect(screen.locator("#joined")).to_have_text("3")
        screen.screenshot(path=str(out / "projector-lobby.png"))

        def ask(position: int, answering, offline=None):
            screen.click("#btn-next")
            expect(screen.locator("#asking")).to_be_visible()
            for context, phone, number in phones:
                if number not in answering:
                    continue
                expect(phone.locator("#p-question")).to_be_visible()
                expect(phone.locator("#p-pos")).to_contain_text(f"第 {position} / 3 题")
                if number == offline:
                    context.set_offline(True)
                for i in right[position - 1]:
                    phone.locator("#p-answers button").nth(i).click()
                if multiple[position - 1]:
                    phone.click("#p-submit")
                if number == offline:
                    expect(phone.locator("#p-save")).to_contain_text("网络中断")
                    if position == 2:
                        phone.screenshot(path=str(out / "phone-offline.png"))
                else:
                    expect(phone.locator("#p-save")).to_contain_text("已提交")
            if offline:
                context = next(c for c, _, n in phones if n == offline)
                phone = next(p for _, p, n in phones if n == offline)
                assert _answers(app, meeting_id, position) == len(answering) - 1
                context.set_offline(False)
                expect(phone.locator("#p-save")).to_contain_text("已提交")
            expect(screen.locator("#answered")).to_have_text(str(len(answering)))
            if position == 1:
                screen.screenshot(path=str(out / "projector-question.png"))
                phones[0][1].screenshot(path=str(out / "phone-question.png"))
            screen.click("#btn-close")
            expect(screen.locator("#results")).to_be_visible()
            expect(screen.locator("#r-answered")).to_have_text(str(len(answering)))
            expect(screen.locator("#r-present")).to_have_text("3")
            expect(screen.locator("#r-share")).to_have_text(f"{round(100 * len(answering) / 3)}%")
            expect(screen.locator("#r-bars li.right")).to_have_count(len(right[position - 1]))
            assert sum(int(t) for t in screen.locator("#r-bars .n").all_inner_texts()) == len(answering) * len(right[position - 1])
            for _, phone, number in phones:
                expect(phone.locator("#status")).to_have_text("本题已结束，请看大屏幕上的答案和解析")

        ask(1, {"ma1", "ma1b", "ma2"})
        screen.screenshot(path=str(out / "projector-results.png"))
        ask(2, {"ma1", "ma1b", "ma2"}, offline="ma1b")
        ask(3, {"ma1", "ma2"})
        screen.click("#btn-end")
        expect(screen.locator("#summary")).to_be_visible()
        assert screen.locator("#s-rows tr").count() >= 1
        assert "100.0%" in screen.locator("#s-rows").inner_text()
        screen.screenshot(path=str(out / "projector-summary.png"))
        expect(phones[0][1].locator("#status")).to_have_text("会议测验已结束，谢谢参与")
        phones[0][1].screenshot(path=str(out / "phone-ended.png"))
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
    with app.app_context():
        present = set(db.session.scalars(select(MeetingAttendance.user_id).filter_by(meeting_id=meeting_id)))
        assert present == {world.user["m_a1"], world.user["m_a1b"], world.user["m_a2"]}
        answers = db.session.scalars(select(MeetingAnswer).filter_by(meeting_id=meeting_id)).all()
        assert len(answers) == 8 and all(a.is_correct for a in answers)
        assert db.session.get(Meeting, meeting_id).code is None


def test_starting_a_meeting_from_the_branch_page_on_a_phone(small, live_server, world, app):
    """The secretary starts a meeting from the branch page on a 360×640 phone: the weakest points' questions
    are ticked; the member's code form takes the code in lower case."""
    with app.app_context():
        from learnhub.models import Assignment, User
        from learnhub.services.exam import quizzes

        assignment = db.session.get(Assignment, world.assignment_a)
        quizzes.submit_attempt(quizzes.start_attempt(assignment, db.session.get(User, world.user["m_a1"])), None, 60)
    log_in(small, live_server, "seca1")
    small.wait_for_url(f"{live_server}/**")
    small.goto(f"{live_server}/reports/assignments/{world.assignment_a}/units/{world.org['a1']}")
    small.click("#start-meeting")
    expect(small.locator("#title")).to_have_value("第一支部会议测验")
    assert small.locator("input[name=questions]:checked").count() >= 3
    small.select_option("#kind", "lecture")
    small.shot("meeting-new")
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small.click("form.meeting-new button[type=submit]")
    expect(small.locator("#code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))
    with app.app_context():
        m = db.session.scalars(select(Meeting)).one()
        assert m.kind.label == "党课" and len(m.questions) >= 3
