"""One definition of who counts (services/reports/counting.py): a disabled member and an exempt member leave
every figure alike — completion, mastery, item analysis and trends — and come back alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from learnhub.extensions import db
from learnhub.models import Assignment, ExemptionReason, Organisation, User, utcnow
from learnhub.services.auth import accounts
from learnhub.services.exam import exemptions
from learnhub.services.reports import items, mastery, completion as reports, trends
from learnhub.services.orgs import edit as org_edit
from learnhub.services.orgs import scope_for

from .test_tallies import ALL, assert_consistent, take


def _figures(world) -> dict:
    """What the committee's organiser sees of assignment A for branch a1, report by report."""
    assignment = db.session.get(Assignment, world.assignment_a)
    scope = scope_for(db.session.get(User, world.user["org_a"]))
    unit = next(u for u in reports.assignment_report(scope, assignment).units if u.org.id == world.org["a1"])
    row = next(r for r in mastery.mastery_report(scope, assignment).rows if r.org.id == world.org["a1"])
    answered = sum(s.answered for s in items.item_analysis(scope, assignment))
    trend = {r.key: r for r in trends.branch_trend(scope, utcnow() + timedelta(minutes=1), "Asia/Shanghai", 2).rows}
    cells = trend[world.org["a1"]].cells if world.org["a1"] in trend else {}
    return {
        "finished": unit.finished, "expected": unit.expected, "mastery_answered": row.answered,
        "items_answered": answered, "trend_answered": sum(c.answered for c in cells.values()),
    }


@pytest.fixture
def two_took_it(app, world, ctx):
    take(world.assignment_a, world.user["m_a1"], ALL)  # 5 questions, all right
    take(world.assignment_a, world.user["m_a1b"], set())  # 5 questions, all wrong
    db.session.expire_all()
    return _figures(world)


def test_both_count_to_begin_with(world, two_took_it):
    assert two_took_it == {"finished": 2, "expected": 3, "mastery_answered": 10, "items_answered": 10,
                           "trend_answered": 10}


def test_a_disabled_member_leaves_every_figure_and_comes_back(world, ctx, two_took_it):
    member = db.session.get(User, world.user["m_a1b"])
    accounts.set_active(member, False)
    db.session.expire_all()
    assert _figures(world) == {"finished": 1, "expected": 2, "mastery_answered": 5, "items_answered": 5,
                               "trend_answered": 5}
    accounts.set_active(db.session.get(User, world.user["m_a1b"]), True)
    db.session.expire_all()
    assert _figures(world) == two_took_it
    assert_consistent(world.assignment_a)


def test_an_exempt_member_leaves_every_figure_and_comes_back(world, ctx, two_took_it):
    assignment, secretary = db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["sec_a1"])
    member = db.session.get(User, world.user["m_a1b"])
    exemptions.exempt(assignment, member, ExemptionReason.SICK, "住院", secretary)
    db.session.expire_all()
    assert _figures(world) == {"finished": 1, "expected": 2, "mastery_answered": 5, "items_answered": 5,
                               "trend_answered": 5}
    assert_consistent(world.assignment_a)
    exemptions.revoke(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["m_a1b"]),
                      secretary)
    db.session.expire_all()
    assert _figures(world) == two_took_it
    assert_consistent(world.assignment_a)


def test_a_flag_flipped_outside_the_app_is_seen_alike_after_a_rebuild(world, ctx, two_took_it, runner):
    """Disabled in SQL by hand: every live figure follows at once; the tallies after `report tallies --rebuild`."""
    db.session.execute(update(User).where(User.id == world.user["m_a1b"]).values(active=False))
    db.session.commit()
    assert runner.invoke(args=["report", "tallies", "--rebuild"]).exit_code == 0
    db.session.expire_all()
    assert _figures(world) == {"finished": 1, "expected": 2, "mastery_answered": 5, "items_answered": 5,
                               "trend_answered": 5}


def _a1_anywhere(world) -> dict:
    """Whether branch a1 appears at all in each figure the organiser sees (it does not once disabled)."""
    assignment = db.session.get(Assignment, world.assignment_a)
    scope = scope_for(db.session.get(User, world.user["org_a"]))
    a1 = world.org["a1"]
    trend = trends.branch_trend(scope, utcnow() + timedelta(minutes=1), "Asia/Shanghai", 2).rows
    return {
        "units": any(u.org.id == a1 for u in reports.assignment_report(scope, assignment).units),
        "mastery": any(r.org.id == a1 and r.counts.expected for r in mastery.mastery_report(scope, assignment).rows),
        "items_answered": sum(s.answered for s in items.item_analysis(scope, assignment)),
        "trend": any(r.key == a1 and any(c.answered for c in r.cells.values()) for r in trend),
        "export": sum(1 for row in reports.export_rows(scope, assignment) if row.org_name == "第一支部"),
    }


def test_a_disabled_organisations_members_leave_every_figure_and_come_back(world, ctx, two_took_it):
    admin = scope_for(db.session.get(User, world.user["admin"]))
    before = _a1_anywhere(world)
    assert before == {"units": True, "mastery": True, "items_answered": 10, "trend": True, "export": 3}
    org_edit.set_active(admin, db.session.get(Organisation, world.org["ga"]), False)  # a1 and a2 with it
    db.session.expire_all()
    assert _a1_anywhere(world) == {"units": False, "mastery": False, "items_answered": 0, "trend": False, "export": 0}
    assert_consistent(world.assignment_a)
    org_edit.set_active(admin, db.session.get(Organisation, world.org["ga"]), True)
    db.session.expire_all()
    assert _a1_anywhere(world) == before
    assert _figures(world) == two_took_it
    assert_consistent(world.assignment_a)
