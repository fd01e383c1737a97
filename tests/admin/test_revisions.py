"""Papers never change under a member: an edit of a question on any paper makes a new revision, and no
edit answers 500 or changes anything when it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    KnowledgePoint,
    Organisation,
    PointLevel,
    PracticeMode,
    Question,
    User,
)
from learnhub.models.types import utcnow
from learnhub.services.study import mistakes
from learnhub.services.bank import question_reports
from learnhub.services.exam import quizzes
from learnhub.services.exam.assignments import AssignmentData, DrawRule, create_assignment
from learnhub.services.orgs import scope_for

from ..factories import practise
from ..quiz.helpers import paper, shown_answer
from ..security.conftest import table_snapshot

THREE_OPTIONS = {
    "kind": "single", "stem": "党龄从何时算起？", "option_a": "预备期满转为正式党员之日", "option_b": "入党宣誓之日",
    "option_c": "递交申请书之日", "answer": "A", "explanation": "党章第七条。", "article": "第七条",
    "point": "预备期", "difficulty": "2",
}


def drawn_exam(app, world) -> int:
    """An exam for 党委A whose papers are drawn per member from the part 第一章; the world's fixed papers
    lose t01-005, so the only paper it is on is the member's drawn one."""
    with app.app_context():
        db.session.execute(delete(AssignmentQuestion).where(AssignmentQuestion.question_id == select(Question.id).filter_by(key="t01-005").scalar_subquery()))
        part = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.PART, name="第一章 党员"))
        organiser = db.session.get(User, world.user["org_a"])
        data = AssignmentData(
            title="抽题考试", kind=AssignmentKind.EXAM, org=db.session.get(Organisation, world.org["a"]),
            opens_at=utcnow() - timedelta(hours=1), closes_at=utcnow() + timedelta(days=1),
            rules=[DrawRule(part, 5)],
        )
        return create_assignment(scope_for(organiser), data, organiser).id


def start(app, world, assignment_id: int, member: str = "m_a1") -> int:
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, assignment_id), db.session.get(User, world.user[member]))
        return attempt.id


def question_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Question.id).filter_by(key=key, is_current=True))


def test_editing_a_question_on_an_open_unanswered_paper_keeps_the_members_paper(app, world, login):
    attempt_id = start(app, world, drawn_exam(app, world))
    old_id = question_id(app, "t01-005")  # 4 options, on the drawn paper, nobody has answered it
    admin = login(world.login["admin"])  # the world's bank is built-in
    r = admin.post(f"/admin/questions/{old_id}", data=THREE_OPTIONS, follow_redirects=True)
    assert "已保存为新版本" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, old_id).options[3] == "入党宣誓之日"  # the paper's revision is untouched
        new = db.session.scalar(select(Question).filter_by(key="t01-005", is_current=True))
        assert new.id != old_id and new.revision == 2 and len(new.options) == 3
    member = login(world.login["m_a1"])
    page = member.get(f"/quiz/attempts/{attempt_id}")
    assert page.status_code == 200 and "党龄从哪一天算起？" in page.get_data(as_text=True)
    for pos, q, perm in paper(app, attempt_id):
        member.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": pos})
    member.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""})
    review = member.get(f"/quiz/attempts/{attempt_id}/review")
    assert review.status_code == 200 and "100" in review.get_data(as_text=True)


GOOD = {
    "kind": "single", "stem": "申请入党的最低年龄是多少？", "option_a": "十六岁", "option_b": "十八岁", "option_c": "二十岁",
    "option_d": "二十二岁", "answer": "B", "explanation": "党章第一条规定年满十八岁。", "article": "第一条",
    "point": "入党条件", "difficulty": "1",
}
BAD_EDITS = {
    "empty answer": ({"answer": ""}, "请填写答案"),
    "answer out of range": ({"answer": "E"}, "不在选项 ABCD 之中"),
    "fewer options than the key": ({"option_d": "", "answer": "D"}, "不在选项 ABC 之中"),
    "too few options": ({"option_c": "", "option_d": ""}, "单选题应有 3 到 6 个选项"),
    "two keys on a single choice": ({"answer": "AB"}, "单选题只能有一个答案"),
    "one key on a multiple choice": ({"kind": "multiple"}, "多选题至少应有两个正确选项"),
    "options on a true/false": ({"kind": "truefalse", "answer": "对"}, "判断题和填空题不应有选项"),
    "true/false key": ({"kind": "truefalse", "answer": "B", **dict.fromkeys(("option_a", "option_b", "option_c", "option_d"), "")},
                       "判断题答案应为「对」或「错」"),
    "blanks and keys differ": ({"kind": "fill", "stem": "年满____岁，承认____", "answer": "十八",
                                **dict.fromkeys(("option_a", "option_b", "option_c", "option_d"), "")}, "个空（____），答案却有 1 个"),
    "empty stem": ({"stem": ""}, "请填写题干"),
    "unknown point": ({"point": "不存在的知识点"}, "知识点「不存在的知识点」未定义"),
    "unknown article": ({"article": "第九十九条"}, "条文「第九十九条」不存在"),
    "duplicate options": ({"option_b": "十六岁"}, "选项不能为空或重复"),
    "unknown type": ({"kind": "essay"}, "不是有效的选择"),
    "difficulty out of range": ({"difficulty": "9"}, "不是有效的选择"),
}


@pytest.mark.parametrize("case", list(BAD_EDITS), ids=list(BAD_EDITS))
def test_a_bad_edit_gets_a_chinese_error_and_changes_nothing(app, world, login, case):
    change, message = BAD_EDITS[case]
    qid = question_id(app, "t01-001")
    admin = login(world.login["admin"])
    with app.app_context():
        before = table_snapshot()
    response = admin.post(f"/admin/questions/{qid}", data={**GOOD, **change})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "已保存" not in page
    with app.app_context():
        assert table_snapshot() == before


def test_the_edit_form_as_sent_saves(app, world, login):
    """The control for the bad edits: the same form with nothing wrong in it goes through."""
    qid = question_id(app, "t01-001")
    r = login(world.login["admin"]).post(f"/admin/questions/{qid}", data={**GOOD, "explanation": "党章第一条。"},
                                         follow_redirects=True)
    assert "已保存为新版本" in r.get_data(as_text=True)


def _seen_only_by(app, world, how: str) -> int:
    """t11-001 (on no fixed paper), seen by a member in one way only; return its id."""
    with app.app_context():
        question = db.session.scalar(select(Question).filter_by(key="t11-001"))
        member = db.session.get(User, world.user["m_a1"])
        if how == "practice":
            practise(member, question, "true", PracticeMode.CHAPTER)
        elif how == "report":
            question_reports.file_report(member, question, "有误")
        elif how == "mistake book":
            mistakes.record_mistakes(member.id, [question], utcnow())
            db.session.commit()
        return question.id


@pytest.mark.parametrize("how", ["practice", "report", "mistake book", "nothing"])
def test_a_question_a_member_has_seen_anywhere_is_revised_not_edited(app, world, login, how):
    qid = _seen_only_by(app, world, how)
    edit = {"kind": "truefalse", "stem": "党徽由镰刀和锤头组成。", "answer": "对", "explanation": "党章第五十三条。",
            "article": "第五十三条", "point": "党徽党旗的样式", "difficulty": "1"}
    r = login(world.login["admin"]).post(f"/admin/questions/{qid}", data=edit, follow_redirects=True)
    assert ("已保存为新版本" in r.get_data(as_text=True)) is (how != "nothing")
    with app.app_context():
        old = db.session.get(Question, qid)
        current = db.session.scalar(select(Question).filter_by(key="t11-001", is_current=True))
        if how == "nothing":  # nobody has seen it: corrected in place, no revision to keep
            assert current.id == qid and old.stem == "党徽由镰刀和锤头组成。"
        else:
            assert current.id != qid and old.stem == "党徽由五角星和麦穗组成。" and old.answer == [False]
