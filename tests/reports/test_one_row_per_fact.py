"""One row per fact: a race between two requests gives the result of doing them one after the other,
never a duplicate and never a 500 (exemptions double-tapped, 代录 racing a start); and 代录 stores the
score as typed, 0 included, with pass or fail following the stored score."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, AttemptState, Exemption, ExemptionReason, MemberResult, User
from learnhub.services import ServiceError
from learnhub.services.exam import exemptions, quizzes
from learnhub.services.reports import completion as reports
from learnhub.services.orgs import scope_for


def _active_exemptions(assignment_id: int, user_id: int) -> int:
    return db.session.scalar(select(func.count(Exemption.id)).where(
        Exemption.assignment_id == assignment_id, Exemption.user_id == user_id, Exemption.revoked_at.is_(None)))


def test_a_double_tap_on_exempt_records_one_exemption(app, world, ctx, monkeypatch):
    """Both taps read "not exempt" before either writes (forced): the second is told, not listed twice."""
    assignment, secretary = db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["sec_a1"])
    member = db.session.get(User, world.user["m_a1b"])
    monkeypatch.setattr(exemptions, "active_exemption", lambda *_: None)  # each tap's check saw none
    exemptions.exempt(assignment, member, ExemptionReason.SICK, "住院", secretary)
    with pytest.raises(ServiceError, match="已经免学"):
        exemptions.exempt(assignment, member, ExemptionReason.SICK, "住院", secretary)
    monkeypatch.undo()
    assert _active_exemptions(assignment.id, member.id) == 1
    row = next(u for u in reports.assignment_report(scope_for(secretary), assignment).units if u.org.id == world.org["a1"])
    assert (row.members, row.exempt) == (3, 1)
    exemptions.revoke(assignment, member, secretary)  # 撤销免学 really ends it
    assert _active_exemptions(assignment.id, member.id) == 0 and exemptions.active_exemption(assignment, member) is None
    exemptions.exempt(assignment, member, ExemptionReason.LEAVE, "", secretary)  # and it can be given again
    assert _active_exemptions(assignment.id, member.id) == 1


def test_a_paper_result_racing_a_start_gives_one_of_the_two_orders(app, world, ctx, monkeypatch):
    """The secretary's 代录 and the member's tap on 开始答题 both count attempts before either writes."""
    assignment, secretary = db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["sec_a1"])
    member = db.session.get(User, world.user["m_a1"])
    assignment.max_attempts = 2
    db.session.commit()
    real_attempts_of = quizzes.papers.attempts_of
    raced = []

    def paper_recorded_first(a, u):
        seen = real_attempts_of(a, u)
        if not raced:  # the start counted 0 attempts; now the 代录 commits attempt number 1
            raced.append(True)
            exemptions.record_paper_result(a, u, 85, "纸质试卷", secretary)
        return seen

    monkeypatch.setattr(quizzes.papers, "attempts_of", paper_recorded_first)
    attempt = quizzes.start_attempt(assignment, member)
    monkeypatch.undo()
    numbers = sorted((a.number, a.state, a.entered_by_id is not None) for a in quizzes.attempts_of(assignment, member))
    assert numbers == [(1, AttemptState.FINISHED, True), (2, AttemptState.IN_PROGRESS, False)]
    assert attempt.number == 2 and attempt.state is AttemptState.IN_PROGRESS


@pytest.mark.parametrize(("typed", "stored", "passed"), [("0", 0.0, False), ("59.5", 59.5, False), ("60", 60.0, True),
                                                         ("100", 100.0, True), ("59.50", 59.5, False)])
def test_paper_scores_are_stored_as_typed(app, world, login, typed, stored, passed):
    c = login(world.login["sec_a1"])
    url = f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}/proxy"
    page = c.post(url, data={"score": typed, "note": "纸质试卷"}, follow_redirects=True).get_data(as_text=True)
    assert "已为 党员甲一 代录成绩" in page
    with app.app_context():
        result = db.session.get(MemberResult, (world.assignment_a, world.user["m_a1"]))
        assert (result.score, result.passed) == (stored, passed)


@pytest.mark.parametrize(("typed", "message"), [("59.96", "最多保留一位小数"), ("", "请填写分数"), ("-1", "0 到 100"),
                                                ("100.5", "0 到 100"), ("abc", "请填写一个数字"), ("NaN", "请填写一个数字")])
def test_unusable_paper_scores_are_refused_and_nothing_is_stored(app, world, login, typed, message):
    c = login(world.login["sec_a1"])
    url = f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}/proxy"
    page = c.post(url, data={"score": typed, "note": "纸质试卷"}, follow_redirects=True).get_data(as_text=True)
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id)).where(Attempt.user_id == world.user["m_a1"])) == 0
