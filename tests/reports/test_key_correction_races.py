"""Key corrections racing hand-ins, and corrections over many papers (issue 17, rows 4 and 8).

Assignment A (党委A, five questions, pass mark 60): the admin corrects t01-003 (true/false, key 对)
to 错, so a member with all five right goes from 100 to 80 and still passes.

The races are forced with threads and events, as in test_tallies.py. On PostgreSQL they are real: row
locks between sessions. On SQLite one writer at a time already serialises them; they run there too,
and show the batched regrade keeps that order.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, insert, select

from learnhub import extensions
from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, AttemptState, KeyCorrection, MemberResult, Question, Response, User, utcnow
from learnhub.services import ServiceError
from learnhub.services.exam import key_corrections, key_regrade, quizzes
from learnhub.services.reports import tallies
from learnhub.services.exam.quizzes import handin, papers

from ..quiz.helpers import shown_answer
from .test_tallies import ALL, assert_consistent, take


class Thread(threading.Thread):
    """A thread whose exception reaches the test at join()."""

    def __init__(self, target, *args):
        super().__init__(target=self._run, args=(target, *args))
        self.error: BaseException | None = None

    def _run(self, target, *args):
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def finish(self, timeout: float = 60) -> None:
        self.join(timeout)
        assert not self.is_alive(), "thread did not finish"
        if self.error is not None:
            raise self.error


def t01_003() -> int:
    return db.session.scalar(select(Question.id).filter_by(key="t01-003"))


def correct(app, world) -> None:
    with app.app_context():
        admin = db.session.get(User, world.user["admin"])
        key_corrections.correct_key(db.session.get(Question, t01_003()), "错", "党章第七条核对", admin)


def standing(app, world, member: str) -> tuple[float, float, bool]:
    """(score of the member's paper on A, their result's score, passed)."""
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).filter_by(assignment_id=world.assignment_a, user_id=world.user[member]))
        result = db.session.get(MemberResult, (world.assignment_a, world.user[member]))
        return attempt.score, result.score, result.passed


def logged(app) -> tuple[int, int, int, int, bool]:
    """The correction's counts: papers regraded, members, scores changed, passes changed; finished?"""
    with app.app_context():
        c = db.session.scalar(select(KeyCorrection))
        return c.attempts_regraded, c.members, c.scores_changed, c.passes_changed, c.finished_at is not None


def consistent(app, world) -> None:
    with app.app_context():
        assert_consistent(world.assignment_a)


def correct_while_a_hand_in_is_graded_but_not_committed(app, world, attempt_id: int) -> None:
    """The hand-in has graded the paper with the old key when the correction starts, and commits later."""
    graded, release = threading.Event(), threading.Event()

    def hand_in():
        with app.app_context():
            attempt = papers._lock(db.session.get(Attempt, attempt_id))
            handin._finish(attempt, utcnow())
            graded.set()
            release.wait(10)
            db.session.commit()

    handing_in = Thread(hand_in)
    handing_in.start()
    assert graded.wait(10)
    correcting = Thread(correct, app, world)
    correcting.start()
    correcting.join(0.5)  # not locking the paper, it would be done here, before the hand-in commits
    release.set()
    handing_in.finish()
    correcting.finish()


def test_a_paper_graded_with_the_old_key_as_the_correction_starts_is_regraded_and_counted(app, world):
    with app.app_context():
        attempt_id = take(world.assignment_a, world.user["m_a1"], ALL, submit=False).id
    correct_while_a_hand_in_is_graded_but_not_committed(app, world, attempt_id)
    assert standing(app, world, "m_a1") == (80.0, 80.0, True)
    assert logged(app) == (1, 1, 1, 0, True)
    consistent(app, world)


def test_a_hand_in_in_flight_as_the_correction_starts_is_counted_once_in_the_tallies(app, world):
    with app.app_context():
        take(world.assignment_a, world.user["m_a1b"], ALL)  # same branch: the correction moves its tally row
        attempt_id = take(world.assignment_a, world.user["m_a1"], ALL, submit=False).id
    correct_while_a_hand_in_is_graded_but_not_committed(app, world, attempt_id)
    assert standing(app, world, "m_a1") == standing(app, world, "m_a1b") == (80.0, 80.0, True)
    assert logged(app) == (2, 2, 2, 0, True)
    consistent(app, world)


def test_a_hand_in_during_the_regrade_waits_for_it_and_grades_with_the_new_key(app, world, monkeypatch):
    with app.app_context():
        attempt_id = take(world.assignment_a, world.user["m_a1"], ALL, submit=False).id
    real, handing_in = key_regrade.is_correct, []

    def regrading(question, answer):  # the correction is regrading (and holds its batch's papers)
        if not handing_in:
            def hand_in():
                with app.app_context():
                    quizzes.submit_attempt(db.session.get(Attempt, attempt_id), None, 60)
            handing_in.append(Thread(hand_in))
            handing_in[0].start()
            handing_in[0].join(0.5)  # not waiting for the batch, it would commit here, graded with the old key
        return real(question, answer)

    monkeypatch.setattr(key_regrade, "is_correct", regrading)
    monkeypatch.setattr(key_corrections, "is_correct", regrading)  # where the regrade ran before batches
    correct(app, world)
    handing_in[0].finish()
    assert standing(app, world, "m_a1") == (80.0, 80.0, True)
    assert logged(app) == (0, 0, 0, 0, True)  # in progress when the regrade reached it: graded by its hand-in
    consistent(app, world)


def test_a_hand_in_after_a_correction_grades_with_the_new_key_even_if_its_page_read_the_old_one(app, world):
    with app.app_context():
        attempt = take(world.assignment_a, world.user["m_a1"], ALL, submit=False)
        page = quizzes.paper_items(attempt)  # the questions, old key included, are now in this session
        correcting = Thread(correct, app, world)
        correcting.start()
        correcting.finish()
        quizzes.submit_attempt(attempt, None, 60)
        assert len(page) == 5  # (the page's questions stayed in the session all along)
    assert standing(app, world, "m_a1") == (80.0, 80.0, True)
    consistent(app, world)


# ------------------------------------------------------------------ many papers, batches, resuming

def many_papers(world, n: int) -> None:
    """n more members of 第一支部 who handed in A with all five right (a copy of 党员甲一's paper), in bulk."""
    model = take(world.assignment_a, world.user["m_a1"], ALL)
    answers = [(r.question_id, r.answer, r.is_correct) for r in db.session.scalars(
        select(Response).where(Response.attempt_id == model.id))]
    me = db.session.get(User, world.user["m_a1"])
    db.session.execute(insert(User), [
        dict(member_no=f"bulk{i:05d}", name=f"党员{i}", org_id=me.org_id, password_hash=me.password_hash,
             must_change_password=False) for i in range(n)])
    users = db.session.scalars(select(User.id).where(User.member_no.like("bulk%")).order_by(User.id)).all()
    now = utcnow()
    db.session.execute(insert(Attempt), [
        dict(assignment_id=world.assignment_a, user_id=u, number=1, state=AttemptState.FINISHED, started_at=now,
             finished_at=now, paper=model.paper, correct_count=5, total=5, score=100.0, passed=True) for u in users])
    attempts = dict(db.session.execute(select(Attempt.user_id, Attempt.id).where(Attempt.user_id.in_(users))).all())
    db.session.execute(insert(Response), [
        dict(attempt_id=attempts[u], question_id=q, answer=answer, is_correct=ok, seq=1, saved_at=now)
        for u in users for q, answer, ok in answers])
    db.session.execute(insert(MemberResult), [
        dict(assignment_id=world.assignment_a, user_id=u, attempts=1, score=100.0, passed=True,
             counted_attempt_id=attempts[u], finished_at=now) for u in users])
    tallies.rebuild(world.assignment_a)
    db.session.commit()


def all_regraded(app, world, papers_: int) -> None:
    with app.app_context():
        scores = db.session.execute(select(Attempt.score, func.count()).where(
            Attempt.assignment_id == world.assignment_a, Attempt.state == AttemptState.FINISHED).group_by(Attempt.score)).all()
        results = db.session.execute(select(MemberResult.score, func.count()).where(
            MemberResult.assignment_id == world.assignment_a).group_by(MemberResult.score)).all()
        assert scores == results == [(80.0, papers_)]
        c = db.session.scalar(select(KeyCorrection))
        assert c.orgs == [["党委A", papers_, papers_]] and c.progress is None
    assert logged(app) == (papers_, papers_, papers_, 0, True)
    consistent(app, world)


class LockHolds:
    """How long each thread held the database for writing, from its first write (or read FOR UPDATE) to
    the end of that transaction: on SQLite the write lock (extensions._WriterLock), on PostgreSQL the
    row locks the transaction took."""

    def __init__(self, app, monkeypatch):
        self.held: dict[str, list[float]] = {}
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.since: dict[str, float] = {}
        with app.app_context():
            engine = db.engine
        if engine.dialect.name == "sqlite":
            acquire, release = extensions._WriterLock.acquire, extensions._WriterLock.release

            def acquired(lock):
                acquire(lock)
                self.start()

            def released(lock):
                self.stop()
                release(lock)
            monkeypatch.setattr(extensions._WriterLock, "acquire", acquired)
            monkeypatch.setattr(extensions._WriterLock, "release", released)
        else:
            def statement(conn, cursor, sql, *args):
                if not sql.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in sql:
                    self.start()
            event.listen(engine, "before_cursor_execute", statement)
            event.listen(engine, "commit", lambda conn: self.stop())
            event.listen(engine, "rollback", lambda conn: self.stop())

    def start(self) -> None:
        self.since.setdefault(threading.current_thread().name, time.perf_counter())

    def stop(self) -> None:
        name = threading.current_thread().name
        if name in self.since:
            began = self.since.pop(name)
            self.held.setdefault(name, []).append(time.perf_counter() - began)
            self.spans.setdefault(name, []).append((began, time.perf_counter()))


PAPERS = 1000  # about a second of write lock held at once before batches (~1 ms a paper)


def test_a_correction_over_many_papers_lets_other_members_save_while_it_regrades(app, world, monkeypatch):
    """Row 8: the regrade goes in batches, each holding the write lock (SQLite) or its row locks
    (PostgreSQL) briefly; a member saving answers meanwhile is never kept waiting for the whole of it."""
    with app.app_context():
        many_papers(world, PAPERS - 1)
        saver = take(world.assignment_a, world.user["m_a1b"], set(), submit=False)
        saver_id, saver_user = saver.id, saver.user_id
        entry = saver.paper[0]
        first = db.session.get(Question, entry["q"])
        answers = [shown_answer(first, entry["perm"], right) for right in (True, False)]
    holds = LockHolds(app, monkeypatch)
    correcting = Thread(correct, app, world)
    correcting.name = "correction"
    saved_at: list[float] = []  # when each save meanwhile returned, on the same clock as the lock holds

    def save_meanwhile():
        with app.app_context():
            seq = 100
            while correcting.is_alive() or not saved_at:
                seq += 1
                result = quizzes.record_answer(saver_id, saver_user, 1, answers[seq % 2], seq, 60)
                saved_at.append(time.perf_counter())
                assert result.saved
                time.sleep(0.005)

    saving = Thread(save_meanwhile)
    saving.start()
    correcting.start()
    correcting.finish(120)
    saving.finish()
    # Order, not speed (speed is `python -m bench keyfix`): the correction wrote in many short holds, and
    # saves went through between them, from its first hold to its last. Before batches it held the
    # database once, for the whole correction, and every save waited for all of it.
    spans = holds.spans["correction"]
    first, last = spans[0][0], spans[-1][1]
    between = [t for t in saved_at if first < t < last]
    assert len(spans) >= 10, f"the correction held the database {len(spans)} times"
    assert len(between) >= 3, f"{len(between)} saves went through while the correction ran ({len(saved_at)} in all)"
    all_regraded(app, world, PAPERS)


def test_a_regrade_cut_short_is_finished_by_resuming_it_and_counts_each_paper_once(app, world, login, monkeypatch):
    with app.app_context():
        many_papers(world, 59)
        question_id = t01_003()
    real, batches = key_regrade._paper_batch, []

    def crashes_after_two_batches(*args):
        if len(batches) == 2:
            raise RuntimeError("the server stopped")
        batches.append(args)
        return real(*args)

    monkeypatch.setattr(key_regrade, "FIRST_BATCH", 10)
    monkeypatch.setattr(key_regrade, "_paper_batch", crashes_after_two_batches)
    with pytest.raises(RuntimeError):
        correct(app, world)
    monkeypatch.setattr(key_regrade, "_paper_batch", real)
    with app.app_context():
        db.session.rollback()
        c = db.session.scalar(select(KeyCorrection))
        assert db.session.get(Question, question_id).answer == [False] and c.finished_at is None
        regraded = db.session.scalar(select(func.count()).where(Attempt.score == 80.0))
        assert 0 < regraded == c.attempts_regraded == c.scores_changed < 60  # what is done is counted, once
        assert_consistent(world.assignment_a)
        with pytest.raises(ServiceError, match="重新评分尚未完成"):
            key_corrections.plan_correction(db.session.get(Question, question_id), "对")
        with pytest.raises(ServiceError, match="重新评分尚未完成"):
            key_corrections.revert(c, "撤销", db.session.get(User, world.user["admin"]))
        correction_id = c.id
    admin = login(world.login["admin"])
    page = admin.get(f"/admin/questions/{question_id}").get_data(as_text=True)
    assert "重新评分未完成" in page and "继续重新评分" in page and "撤销这次改正" not in page
    r = admin.post(f"/reports/key-corrections/{correction_id}/resume", follow_redirects=True)
    assert "已完成重新评分：共 60 份试卷，60 份分数改变" in r.get_data(as_text=True)
    all_regraded(app, world, 60)
    page = admin.get(f"/admin/questions/{question_id}").get_data(as_text=True)
    assert "重新评分未完成" not in page and "撤销这次改正" in page


def test_two_runs_of_one_regrade_take_turns_and_count_each_paper_once(app, world, monkeypatch):
    """Resuming a regrade that is in fact still running (an organiser's click, or two) is harmless."""
    with app.app_context():
        many_papers(world, 99)
    real = key_regrade._paper_batch

    def stops_after_one(*args):
        monkeypatch.setattr(key_regrade, "_paper_batch", real)
        real(*args)
        raise RuntimeError("the server stopped")

    monkeypatch.setattr(key_regrade, "FIRST_BATCH", 10)
    monkeypatch.setattr(key_regrade, "MAX_BATCH", 10)
    monkeypatch.setattr(key_regrade, "_paper_batch", stops_after_one)
    with pytest.raises(RuntimeError):
        correct(app, world)

    def resume():
        with app.app_context():
            key_corrections.resume(db.session.scalar(select(KeyCorrection)))
    runs = [Thread(resume) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.finish()
    all_regraded(app, world, 100)
