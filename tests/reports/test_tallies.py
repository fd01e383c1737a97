"""The first-try tallies behind the weak-branch report stay equal to a count from scratch, whatever
happens: submits, retakes, overdue closing, 代录, key corrections, members moved, disabled, enabled.

Assignment A (党委A, five questions, two attempts allowed): t01-001 and t01-002 on 入党条件,
t01-003..005 on 预备期; t01-003 is the true/false question whose key the tests correct.
"""

from __future__ import annotations

import importlib.util
import random
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, ExemptionReason, KnowledgePoint, Organisation, PointTally, Question, User, utcnow
from learnhub.services.auth import accounts
from learnhub.services.exam import exemptions, key_corrections, quizzes
from learnhub.services.reports import tallies
from learnhub.services.exam.quizzes import QuizError, handin, papers

from ..conftest import PG_URL
from ..quiz.helpers import shown_answer

ALL = {"t01-001", "t01-002", "t01-003", "t01-004", "t01-005"}


def take(assignment_id: int, user_id: int, right: set[str], submit: bool = True, now=None) -> Attempt:
    attempt = quizzes.start_attempt(db.session.get(Assignment, assignment_id), db.session.get(User, user_id), now=now)
    for pos, entry in enumerate(attempt.paper, start=1):
        q = db.session.get(Question, entry["q"])
        quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], q.key in right), pos, 60, now=now)
    if submit:
        quizzes.submit_attempt(attempt, None, 60, now=now)
    return attempt


def stored(assignment_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """{(organisation name, point name): (answered, correct)} as the table holds them."""
    rows = db.session.execute(
        select(Organisation.name, Organisation.code, KnowledgePoint.name, PointTally.answered, PointTally.correct)
        .join(Organisation, Organisation.id == PointTally.org_id)
        .join(KnowledgePoint, KnowledgePoint.id == PointTally.point_id)
        .where(PointTally.assignment_id == assignment_id)
    )
    return {(code, point): (n, c) for _name, code, point, n, c in rows}


def assert_consistent(*assignment_ids: int) -> None:
    db.session.expire_all()
    for aid in assignment_ids:
        assert tallies.drift(aid) == {}, f"tally of assignment {aid} drifted from a recount"


def member_data(user: User, org: Organisation) -> accounts.MemberData:
    return accounts.MemberData(name=user.name, member_no=user.member_no, phone=user.phone, org=org, category=user.category)


def flip_key(by: User) -> None:
    question = db.session.scalar(select(Question).filter_by(key="t01-003", is_current=True))
    key_corrections.correct_key(question, "错" if question.answer == [True] else "对", "测试：改正答案", by)


@pytest.fixture
def a(world):
    return world.assignment_a


def test_submits_add_first_tries_per_branch_and_point(app, world, ctx, a):
    take(a, world.user["m_a1"], ALL)
    take(a, world.user["sec_a1"], {"t01-001", "t01-002"})
    take(a, world.user["m_a2"], {"t01-003"})
    take(a, world.user["m_a1b"], ALL, submit=False)  # in progress: not counted
    assert stored(a) == {
        ("a1", "入党条件"): (4, 4), ("a1", "预备期"): (6, 3),
        ("a2", "入党条件"): (2, 0), ("a2", "预备期"): (3, 1),
    }
    assert_consistent(a, world.assignment_b)


def test_a_retake_does_not_count_and_a_blank_paper_counts_as_wrong(app, world, ctx, a):
    take(a, world.user["m_a2"], set())
    take(a, world.user["m_a2"], ALL)  # second attempt: the report judges first tries only
    member = db.session.get(User, world.user["m_a3"])
    quizzes.submit_attempt(quizzes.start_attempt(db.session.get(Assignment, a), member), None, 60)  # nothing answered
    assert stored(a) == {("a2", "入党条件"): (2, 0), ("a2", "预备期"): (3, 0), ("a3", "入党条件"): (2, 0), ("a3", "预备期"): (3, 0)}
    assert_consistent(a)


def test_overdue_attempts_closed_with_what_was_saved_count(app, world, ctx, a):
    attempt = take(a, world.user["m_a1"], ALL, submit=False)
    assignment = db.session.get(Assignment, a)
    assert quizzes.close_overdue(60, now=assignment.closes_at + timedelta(minutes=5)) == 1
    assert stored(a) == {("a1", "入党条件"): (2, 2), ("a1", "预备期"): (3, 3)}
    assert db.session.get(Attempt, attempt.id).is_finished
    assert_consistent(a)


def test_paper_results_entered_by_a_secretary_do_not_count(app, world, ctx, a):
    exemptions.record_paper_result(db.session.get(Assignment, a), db.session.get(User, world.user["m_a1"]), 90,
                                   "纸质试卷", db.session.get(User, world.user["sec_a1"]))
    assert stored(a) == {}
    take(a, world.user["m_a1"], ALL)  # attempt number 2 after the paper one: not a first try either
    assert stored(a) == {}
    assert_consistent(a)


def test_a_key_correction_moves_counts_between_right_and_wrong(app, world, ctx, a):
    take(a, world.user["m_a1"], ALL)
    take(a, world.user["sec_a1"], {"t01-001", "t01-002"})
    flip_key(db.session.get(User, world.user["admin"]))  # 预备期一年 is now 错: 党员甲一 wrong, 书记甲一 right
    assert stored(a)[("a1", "预备期")] == (6, 3)
    assert_consistent(a)
    take(a, world.user["m_a2"], {"t01-003"})  # graded against the corrected key
    assert stored(a)[("a2", "预备期")] == (3, 1)
    assert_consistent(a)


def test_a_member_moved_takes_their_first_tries_along(app, world, ctx, a):
    take(a, world.user["m_a1"], ALL)
    take(a, world.user["sec_a1"], set())
    member = db.session.get(User, world.user["m_a1"])
    accounts.update_member(member, member_data(member, db.session.get(Organisation, world.org["a3"])))
    assert stored(a) == {("a1", "入党条件"): (2, 0), ("a1", "预备期"): (3, 0), ("a3", "入党条件"): (2, 2), ("a3", "预备期"): (3, 3)}
    # Moved out of the assignment's subtree: still counted under their organisation, outside the report.
    accounts.update_member(member, member_data(member, db.session.get(Organisation, world.org["b1"])))
    assert ("a3", "入党条件") not in stored(a) and stored(a)[("b1", "入党条件")] == (2, 2)
    assert_consistent(a)


def test_a_disabled_member_leaves_the_tally_and_comes_back_when_enabled(app, world, ctx, a):
    take(a, world.user["m_a1"], ALL)
    take(a, world.user["sec_a1"], set())
    member = db.session.get(User, world.user["m_a1"])
    accounts.set_active(member, False)
    assert stored(a) == {("a1", "入党条件"): (2, 0), ("a1", "预备期"): (3, 0)}
    accounts.set_active(member, False)  # no change, no double subtraction
    assert_consistent(a)
    accounts.set_active(member, True)
    assert stored(a) == {("a1", "入党条件"): (4, 2), ("a1", "预备期"): (6, 3)}
    assert_consistent(a)


def test_an_attempt_finished_while_disabled_counts_once_enabled(app, world, ctx, a):
    attempt = take(a, world.user["m_a1"], ALL, submit=False)
    accounts.set_active(db.session.get(User, world.user["m_a1"]), False)
    quizzes.close_overdue(60, now=db.session.get(Assignment, a).closes_at + timedelta(minutes=5))
    assert db.session.get(Attempt, attempt.id).is_finished and stored(a) == {}
    accounts.set_active(db.session.get(User, world.user["m_a1"]), True)
    assert stored(a) == {("a1", "入党条件"): (2, 2), ("a1", "预备期"): (3, 3)}
    assert_consistent(a)


def test_rebuild_and_the_migrations_backfill_equal_the_running_tally(app, world, ctx, a):
    take(a, world.user["m_a1"], ALL)
    take(a, world.user["m_a2"], {"t01-001"})
    take(world.assignment_b, world.user["m_b1"], {"t01-004"})
    accounts.set_active(db.session.get(User, world.user["m_a2"]), False)
    before = {aid: stored(aid) for aid in (a, world.assignment_b)}
    tallies.rebuild(a)
    db.session.commit()
    assert stored(a) == before[a]
    db.session.execute(delete(PointTally))
    tallies.rebuild()
    assert {aid: stored(aid) for aid in before} == before
    db.session.execute(delete(PointTally))
    db.session.execute(text(_migration("0004_point_tally.py").BACKFILL))
    assert {aid: stored(aid) for aid in before} == before


def _migration(name: str):
    path = Path(__file__).parents[2] / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_report_reads_the_tally(app, world, ctx, a):
    from learnhub.services.reports import mastery
    from learnhub.services.orgs import scope_for

    take(a, world.user["m_a1"], ALL)
    db.session.execute(
        PointTally.__table__.update().where(PointTally.org_id == world.org["a1"]).values(correct=0)
    )
    report = mastery.mastery_report(scope_for(db.session.get(User, world.user["org_a"])), db.session.get(Assignment, a))
    branch = next(r for r in report.rows if r.org.id == world.org["a1"])
    assert branch.answered == 5 and branch.mastery == 0.0  # what the table says, not a recount


def test_cli_checks_and_rebuilds_the_tallies(app, world, runner, a):
    with app.app_context():
        take(a, world.user["m_a1"], ALL)
    assert runner.invoke(args=["report", "tallies"]).exit_code == 0
    with app.app_context():
        db.session.execute(PointTally.__table__.update().values(correct=0))
        db.session.commit()
    result = runner.invoke(args=["report", "tallies", "--assignment", str(a)])
    assert result.exit_code != 0 and "differ from a recount" in result.output
    assert runner.invoke(args=["report", "tallies", "--rebuild"]).exit_code == 0
    assert runner.invoke(args=["report", "tallies"]).exit_code == 0
    with app.app_context():
        assert stored(a) == {("a1", "入党条件"): (2, 2), ("a1", "预备期"): (3, 3)}


@pytest.mark.skipif(not PG_URL, reason="row locks between two sessions: PostgreSQL (SQLite has one writer at a time)")
def test_a_member_disabled_while_their_submit_is_in_flight_is_counted_once(app, world, a):
    with app.app_context():
        attempt_id = take(a, world.user["m_a1"], ALL, submit=False).id
    graded, release = threading.Event(), threading.Event()

    def submit():  # graded and tallied, not yet committed, when the secretary disables the member
        with app.app_context():
            attempt = papers._lock(db.session.get(Attempt, attempt_id))
            handin._finish(attempt, utcnow())
            graded.set()
            release.wait(10)
            db.session.commit()

    def disable():
        with app.app_context():
            accounts.set_active(db.session.get(User, world.user["m_a1"]), False)

    submitting = threading.Thread(target=submit)
    submitting.start()
    assert graded.wait(10)
    disabling = threading.Thread(target=disable)
    disabling.start()
    disabling.join(0.5)  # with no lock it would finish here, before the submit commits
    release.set()
    submitting.join(10)
    disabling.join(10)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).is_finished and not db.session.get(User, world.user["m_a1"]).active
        assert stored(a) == {}
        assert_consistent(a)


# ------------------------------------------------------------------ random sequences of everything

MEMBERS = ["m_a1", "m_a1b", "sec_a1", "m_a2", "sec_a2", "m_a3", "m_b1"]
PLACES = ["a1", "a2", "a3", "ga", "b1"]


def _random_step(rng: random.Random, world, log: list[str]) -> None:
    key = rng.choice(MEMBERS)
    member = db.session.get(User, world.user[key])
    assignment = db.session.get(Assignment, rng.choice([world.assignment_a, world.assignment_b]))
    op = rng.choice(["take", "take", "take", "start", "submit", "overdue", "move", "active", "fix", "paper", "exempt"])
    log.append(f"{op} {key} {assignment.id}")
    try:
        if op in ("take", "start"):
            take(assignment.id, member.id, set(rng.sample(sorted(ALL), rng.randint(0, 5))), submit=op == "take")
        elif op == "submit":
            attempt = quizzes.open_attempt(assignment, member)
            if attempt is not None:
                quizzes.submit_attempt(attempt, None, 60)
        elif op == "overdue":
            quizzes.close_overdue(60, now=assignment.closes_at + timedelta(minutes=5))
        elif op == "move":
            accounts.update_member(member, member_data(member, db.session.get(Organisation, world.org[rng.choice(PLACES)])))
        elif op == "active":
            accounts.set_active(member, not member.active)
        elif op == "fix":
            flip_key(db.session.get(User, world.user["admin"]))
        elif op == "exempt":
            admin = db.session.get(User, world.user["admin"])
            if exemptions.active_exemption(assignment, member) is None:
                exemptions.exempt(assignment, member, ExemptionReason.SICK, "", admin)
            else:
                exemptions.revoke(assignment, member, admin)
        elif op == "paper":
            exemptions.record_paper_result(assignment, member, 75, "纸质试卷", db.session.get(User, world.user["admin"]))
    except (QuizError, accounts.ServiceError):
        db.session.rollback()  # not allowed now (attempts used up, not assigned, already in progress)


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_keep_the_tally_equal_to_a_recount(app, world, ctx, seed):
    rng = random.Random(seed)
    log: list[str] = []
    for _ in range(30):
        _random_step(rng, world, log)
        db.session.expire_all()
        for aid in (world.assignment_a, world.assignment_b):
            assert tallies.drift(aid) == {}, "after: " + "; ".join(log)


def test_a_hand_in_committing_during_the_check_is_not_reported_as_drift(app, world, a, runner, monkeypatch):
    """`report tallies` reads the tallies, then recounts: a hand-in that commits between the two reads
    must not look like drift (it would push an operator to --rebuild in the middle of an exam)."""
    with app.app_context():
        attempt_id = take(a, world.user["m_a1"], ALL, submit=False).id
    real, handed_in = tallies.contributions, []

    def hand_in_between_the_reads(*where):
        if not handed_in:  # the stored tallies are read; another process's hand-in commits now
            handed_in.append(True)  # before: the hand-in's own tally update calls this too

            def submit():
                with app.app_context():
                    quizzes.submit_attempt(db.session.get(Attempt, attempt_id), None, 60)
            thread = threading.Thread(target=submit)
            thread.start()
            thread.join(30)
        return real(*where)

    monkeypatch.setattr(tallies, "contributions", hand_in_between_the_reads)
    result = runner.invoke(args=["report", "tallies", "--assignment", str(a)])
    assert handed_in and result.exit_code == 0, result.output
    monkeypatch.setattr(tallies, "contributions", real)
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).is_finished
        assert_consistent(a)
    assert runner.invoke(args=["report", "tallies", "--assignment", str(a)]).exit_code == 0
