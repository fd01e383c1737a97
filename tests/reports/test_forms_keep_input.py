"""Forms keep what was typed (issue 14): a refused 免学, 代录 or key correction shows the page again with the
choice and the text as they were, the error right beneath the field it is about (which points at it, so
static/js/forms.js can bring it into view), and stores nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, Exemption, Question, QuestionKind, User
from learnhub.services.exam import quizzes

from ..quiz.helpers import shown_answer
from ..security.conftest import table_snapshot


def error_beside(page: str, field_id: str) -> str:
    """The error under a field that points at it (aria-describedby), and the field's tag."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', page).group()
    assert 'aria-invalid="true"' in tag and f'aria-describedby="{field_id}-error"' in tag, tag
    return re.search(rf'<ul class="errors" id="{field_id}-error"[^>]*><li>(.*?)</li>', page).group(1)


@pytest.fixture
def member_page(world):
    return f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}"


def test_exempting_with_other_and_no_note_keeps_the_reason_and_says_so_beside_the_note(app, world, login, member_page):
    secretary = login(world.login["sec_a1"])
    response = secretary.post(f"{member_page}/exempt", data={"reason": "other", "note": "  "})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert error_beside(page, "exempt-note") == "选择“其他”时请写明原因"
    assert re.search(r'<option selected value="other">其他</option>', page), "the chosen reason was reset"
    assert "flash-error" not in page  # not at the top of the page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Exemption)) == 0
    done = secretary.post(f"{member_page}/exempt", data={"reason": "other", "note": "随队出差"}, follow_redirects=True)
    assert "已免学：其他（随队出差）" in done.get_data(as_text=True)


@pytest.mark.parametrize(("score", "message"), [
    ("101", "分数应在 0 到 100 之间"), ("八十", "请填写一个数字（0 到 100）"), ("59.96", "分数最多保留一位小数"),
])
def test_a_refused_paper_score_is_kept_with_the_error_beside_it(app, world, login, member_page, score, message):
    response = login(world.login["sec_a1"]).post(f"{member_page}/proxy", data={"score": score, "note": "纸质试卷，5月8日"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and error_beside(page, "score") == message
    assert re.search(rf'<input[^>]*id="score"[^>]*value="{re.escape(score)}"', page), "the score typed was emptied"
    assert re.search(r'<input[^>]*id="proxy-note"[^>]*value="纸质试卷，5月8日"', page)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_a_paper_score_without_its_grounds_is_kept_too(app, world, login, member_page):
    page = login(world.login["sec_a1"]).post(f"{member_page}/proxy", data={"score": "85", "note": ""}).get_data(as_text=True)
    assert error_beside(page, "proxy-note") == "请注明代录依据"
    assert re.search(r'<input[^>]*id="score"[^>]*value="85"', page)


@pytest.fixture
def single(app, world) -> int:
    """A single-choice question of 党委A's exam, on a paper m_a1 has handed in; its id."""
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), db.session.get(User, world.user["m_a1"]))
        for pos, entry in enumerate(attempt.paper, start=1):
            quizzes.save_answer(attempt, pos, shown_answer(db.session.get(Question, entry["q"]), entry["perm"]), pos, 60)
        quizzes.submit_attempt(attempt, None, 60)
        return next(e["q"] for e in attempt.paper if db.session.get(Question, e["q"]).kind is QuestionKind.SINGLE)


def test_an_empty_key_correction_says_fill_it_in_beside_the_field(app, world, login, single):
    admin = login(world.login["admin"])
    items = admin.get(f"/reports/assignments/{world.assignment_a}/items").get_data(as_text=True)
    form = re.search(rf'<form method="get" action="(/reports/questions/{single}/fix-key)"', items)
    assert form, "the item analysis has a correction form for the question"
    page = admin.get(form.group(1), query_string={"back": world.assignment_a, "answer": ""}).get_data(as_text=True)
    assert error_beside(page, "answer") == "请填写正确答案"
    assert "不在选项" not in page and "确认改正" not in page


def test_a_correction_confirmed_without_a_reason_keeps_the_preview_and_the_answer(app, world, login, single):
    admin = login(world.login["admin"])
    with app.app_context():
        question = db.session.get(Question, single)
        other = "ABCDEF"[next(i for i in range(len(question.options)) if i not in question.answer)]
        before = table_snapshot()
    response = admin.post(f"/reports/questions/{single}/fix-key", data={"answer": other, "reason": " ", "back": world.assignment_a})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and error_beside(page, "reason") == "请说明改正的理由"
    assert re.search(rf'<input type="text" id="answer" name="answer" value="{other}"', page)
    assert "确认前请核对影响" in page and f'name="answer" value="{other}"' in page
    with app.app_context():
        assert table_snapshot() == before


def test_a_revert_without_a_reason_keeps_the_page(app, world, login, single):
    admin = login(world.login["admin"])
    with app.app_context():
        question = db.session.get(Question, single)
        other = "ABCDEF"[next(i for i in range(len(question.options)) if i not in question.answer)]
    admin.post(f"/reports/questions/{single}/fix-key", data={"answer": other, "reason": "核对"})
    correction = re.search(r"/reports/key-corrections/(\d+)/revert", admin.get(f"/admin/questions/{single}").get_data(as_text=True))
    page = admin.post(f"/reports/key-corrections/{correction.group(1)}/revert", data={"reason": ""}).get_data(as_text=True)
    assert error_beside(page, "reason") == "请说明撤销的理由" and "确认撤销并重新评分" in page
