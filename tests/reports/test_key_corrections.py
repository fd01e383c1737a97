"""Key corrections: the only edit that regrades handed-in papers. A confirmation page says what will
change first; a confirmed correction is logged and can be reverted, and the first-try tallies follow.

Both committees' exams hold the built-in t01-003 (预备期一年, key 对); the admin corrects it to 错:
  党员甲一 (党委A) all right: 100 → 80, still passes.
  书记甲一 (党委A) answered 错 on it: 40 → 60, now passes.
  党员乙一 (党委B) right on t01-001..003 only: 60 → 40, now fails.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, KeyCorrection, MemberResult, MistakeCard, Organisation, PracticeMode, Question, User
from learnhub.services.exam import key_corrections, quizzes

from ..factories import make_assignment, make_question, practise
from ..quiz.helpers import shown_answer
from ..security.conftest import table_snapshot

RIGHT = {
    "m_a1": {"t01-001", "t01-002", "t01-003", "t01-004", "t01-005"},
    "sec_a1": {"t01-001", "t01-002"},
    "m_b1": {"t01-001", "t01-002", "t01-003"},
}


def take(assignment_id: int, user_id: int, right: set[str]) -> None:
    attempt = quizzes.start_attempt(db.session.get(Assignment, assignment_id), db.session.get(User, user_id))
    for pos, entry in enumerate(attempt.paper, start=1):
        q = db.session.get(Question, entry["q"])
        quizzes.save_answer(attempt, pos, shown_answer(q, entry["perm"], q.key in right), pos, 60)
    quizzes.submit_attempt(attempt, None, 60)


@pytest.fixture
def taken(app, world) -> int:
    """Everyone in RIGHT has handed in; return the id of t01-003."""
    with app.app_context():
        for member, right in RIGHT.items():
            take(world.assignment_b if member == "m_b1" else world.assignment_a, world.user[member], right)
        return db.session.scalar(select(Question.id).filter_by(key="t01-003"))


def scores(app, world) -> dict[str, float]:
    with app.app_context():
        return {m: db.session.get(MemberResult, (world.assignment_b if m == "m_b1" else world.assignment_a,
                                                 world.user[m])).score for m in RIGHT}


def tallies_clean(runner) -> bool:
    result = runner.invoke(args=["report", "tallies"])
    return result.exit_code == 0 and "tallies match a recount" in result.output


def test_the_confirmation_page_says_what_will_change_and_changes_nothing(app, world, taken, login):
    admin = login(world.login["admin"])
    with app.app_context():
        before = table_snapshot()
    page = admin.get(f"/reports/questions/{taken}/fix-key?answer=错").get_data(as_text=True)
    with app.app_context():
        assert table_snapshot() == before
    assert "答案将由 对 改为 错" in page
    counts = {label: int(n) for n, label in re.findall(r"<b>(\d+)</b>([^<]+)</div>", page)}
    assert counts == {"份已交试卷重新评分": 3, "名党员": 3, "份分数改变": 3, "份合格与否改变": 2}
    assert re.search(r"<td>党委A</td><td>2</td><td>2</td>", page) and re.search(r"<td>党委B</td><td>1</td><td>1</td>", page)
    assert "书记甲一（第一支部） · 党委A测验 · 40 → 60 · 由不合格变为合格" in page
    assert "党员乙一（第一支部） · 党委B测验 · 60 → 40 · 由合格变为不合格" in page
    assert "党员甲一（" not in page  # 100 → 80: still passes, not in the list
    assert 'name="reason"' in page and "确认改正并重新评分" in page


def test_a_confirmed_correction_regrades_is_logged_and_keeps_the_tallies(app, world, taken, login, runner):
    admin = login(world.login["admin"])
    r = admin.post(f"/reports/questions/{taken}/fix-key", data={"answer": "错", "reason": "党章第七条核对", "back": world.assignment_a},
                   follow_redirects=True)
    assert "已改正答案，重新评分 3 份试卷，3 份分数改变" in r.get_data(as_text=True)
    assert scores(app, world) == {"m_a1": 80.0, "sec_a1": 60.0, "m_b1": 40.0}
    with app.app_context():
        row = db.session.scalar(select(KeyCorrection))
        assert (row.by_id, row.reason, row.old_answer, row.new_answer) == (world.user["admin"], "党章第七条核对", [True], [False])
        assert (row.attempts_regraded, row.members, row.scores_changed, row.passes_changed) == (3, 3, 3, 2)
        assert row.orgs == [["党委A", 2, 2], ["党委B", 1, 1]] and row.created_at is not None
        assert db.session.get(MemberResult, (world.assignment_a, world.user["sec_a1"])).passed
    assert tallies_clean(runner)
    log = admin.get(f"/admin/questions/{taken}").get_data(as_text=True)
    assert "答案改正记录" in log and "对 → 错" in log and "党章第七条核对" in log and "撤销这次改正" in log


def test_a_correction_is_reverted_after_a_preview_and_the_revert_is_logged(app, world, taken, login, runner):
    admin = login(world.login["admin"])
    admin.post(f"/reports/questions/{taken}/fix-key", data={"answer": "错", "reason": "党章第七条核对"})
    with app.app_context():
        correction_id = db.session.scalar(select(KeyCorrection.id))
        before = table_snapshot()
    page = admin.get(f"/reports/key-corrections/{correction_id}/revert").get_data(as_text=True)
    assert "恢复为：<b>对</b>" in page and "答案将由 错 改为 对" in page and "确认撤销并重新评分" in page
    r = admin.post(f"/reports/key-corrections/{correction_id}/revert", data={"reason": ""}, follow_redirects=True)
    assert "请说明撤销的理由" in r.get_data(as_text=True)
    with app.app_context():
        assert table_snapshot() == before
    r = admin.post(f"/reports/key-corrections/{correction_id}/revert", data={"reason": "原答案正确"}, follow_redirects=True)
    assert "已撤销改正，恢复原答案，重新评分 3 份试卷" in r.get_data(as_text=True)
    assert scores(app, world) == {"m_a1": 100.0, "sec_a1": 40.0, "m_b1": 60.0}
    with app.app_context():
        assert db.session.get(Question, taken).answer == [True]
        undo = db.session.scalar(select(KeyCorrection).where(KeyCorrection.reverts_id == correction_id))
        assert (undo.old_answer, undo.new_answer, undo.reason, undo.passes_changed) == ([False], [True], "原答案正确", 2)
    assert tallies_clean(runner)
    again = admin.get(f"/reports/key-corrections/{correction_id}/revert").get_data(as_text=True)
    assert "这次改正已经撤销过了" in again and "确认撤销" not in again
    assert "已撤销" in admin.get(f"/admin/questions/{taken}").get_data(as_text=True)


def test_a_correction_names_the_answers_it_turned_right_or_wrong_for_the_mistake_books(app, world, taken, ctx):
    """Row 10 of issue 17 (the key-correction part): the mistake books are to follow the regrade, so the
    correction says whose answers to the question it flipped, on handed-in papers and in practice."""
    question = db.session.get(Question, taken)
    practise(db.session.get(User, world.user["m_b1"]), question, "true", PracticeMode.CHAPTER)  # right until now
    practise(db.session.get(User, world.user["m_a1"]), question, "false", PracticeMode.CHAPTER)  # wrong until now
    fixed = key_corrections.correct_key(question, "错", "核对", db.session.get(User, world.user["admin"]))
    u = world.user
    assert sorted((f.user_id, f.question_id, f.now_correct, f.practice) for f in fixed.flips) == sorted([
        (u["m_a1"], taken, False, False), (u["sec_a1"], taken, True, False), (u["m_b1"], taken, False, False),
        (u["m_b1"], taken, False, True), (u["m_a1"], taken, True, True),
    ])
    assert key_corrections.revert(fixed, "撤销", db.session.get(User, u["admin"])).flips  # and back again


def test_a_correction_changed_again_later_cannot_be_reverted_on_its_own(app, world, taken, ctx):
    admin = db.session.get(User, world.user["admin"])
    question = db.session.get(Question, taken)
    first = key_corrections.correct_key(question, "错", "第一次", admin)
    key_corrections.correct_key(question, "对", "又改回", admin)
    with pytest.raises(key_corrections.ServiceError, match="此后答案又改动过"):
        key_corrections.revert(first, "撤销第一次", admin)


@pytest.mark.parametrize(("answer", "message"), [
    ("X", "判断题答案应为「对」或「错」"), ("对", "新答案与原答案相同"), ("", "请填写正确答案"),
])
def test_a_bad_key_gets_a_chinese_error_and_changes_nothing(app, world, taken, login, answer, message):
    admin = login(world.login["admin"])
    with app.app_context():
        before = table_snapshot()
    if answer:
        assert message in admin.get(f"/reports/questions/{taken}/fix-key?answer={answer}").get_data(as_text=True)
    r = admin.post(f"/reports/questions/{taken}/fix-key", data={"answer": answer, "reason": "理由"}, follow_redirects=True)
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    r = admin.post(f"/reports/questions/{taken}/fix-key", data={"answer": "错", "reason": "  "}, follow_redirects=True)
    assert "请说明改正的理由" in r.get_data(as_text=True)
    with app.app_context():
        assert table_snapshot() == before


def test_an_organiser_corrects_their_committees_question_on_their_committees_papers(app, world, login):
    with app.app_context():
        like = db.session.scalar(select(Question).filter_by(key="t01-001"))  # 十八岁, key B
        owned = make_question(db.session.get(Organisation, world.org["a"]), "a-001", like)
        exam = make_assignment(db.session.get(Organisation, world.org["a"]), [owned], title="党委A自编题测验")
        db.session.commit()
        take(exam.id, world.user["m_a1"], {"a-001"})
        owned_id, exam_id = owned.id, exam.id
    org_a = login(world.login["org_a"])
    page = org_a.get(f"/reports/questions/{owned_id}/fix-key?answer=C&back={exam_id}").get_data(as_text=True)
    assert "答案将由 B 改为 C" in page and "<td>党委A</td><td>1</td><td>1</td>" in page
    assert "党员甲一（第一支部） · 党委A自编题测验 · 100 → 0 · 由合格变为不合格" in page
    r = org_a.post(f"/reports/questions/{owned_id}/fix-key", data={"answer": "C", "reason": "更正", "back": exam_id})
    assert r.status_code == 302 and r.location.endswith(f"/reports/assignments/{exam_id}/items")
    with app.app_context():
        assert db.session.get(MemberResult, (exam_id, world.user["m_a1"])).score == 0.0


def test_a_correction_updates_the_mistake_books(app, world, taken, ctx):
    """Row 10 of issue 17: m_a1 answered t01-003 right and sec_a1 wrong; the key turns out to be the other
    way round. sec_a1's card goes (their only mistake is now right), m_a1 gets one; a revert undoes both."""
    admin = db.session.get(User, world.user["admin"])

    def in_book(member: str) -> bool:
        return db.session.scalar(select(MistakeCard.id).where(
            MistakeCard.user_id == world.user[member], MistakeCard.question_key == "t01-003",
            MistakeCard.cleared_at.is_(None))) is not None

    assert (in_book("m_a1"), in_book("sec_a1")) == (False, True)
    question = db.session.get(Question, taken)
    fixed = key_corrections.correct_key(question, "错" if question.answer == [True] else "对", "核对", admin)
    db.session.expire_all()
    assert (in_book("m_a1"), in_book("sec_a1")) == (True, False)
    key_corrections.revert(fixed, "撤销", admin)
    db.session.expire_all()
    assert (in_book("m_a1"), in_book("sec_a1")) == (False, True)
