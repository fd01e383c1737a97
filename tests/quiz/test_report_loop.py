"""The question-report loop closes (issue 14, item 9): after 题目有误 the member is back where they came
from (the review at that question, or the practice feedback); the report keeps the options in the order
the member saw them, so "选项B" means what they meant; the organisers' queue shows that order and links
to the question; no page shows a file path of the built-in bank."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select, update

from learnhub.extensions import db
from learnhub.models import Attempt, PracticeMode, Question, QuestionKind, QuestionReport, User
from learnhub.services.exam import quizzes

from ..factories import practise
from .helpers import attempt_id_from


@pytest.fixture
def reviewed(app, world, login):
    """m_a1's handed-in paper of 党委A's exam, with the options of its single-choice question in reverse
    order; (client, attempt id, position and id of that question)."""
    client = login(world.login["m_a1"])
    attempt_id = attempt_id_from(client.post(f"/quiz/{world.assignment_a}/start").location)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        paper = [dict(e) for e in attempt.paper]
        position = next(i for i, e in enumerate(paper, start=1) if db.session.get(Question, e["q"]).kind is QuestionKind.SINGLE)
        entry = paper[position - 1]
        entry["perm"] = list(range(len(entry["perm"])))[::-1]
        attempt.paper = paper
        db.session.commit()
        quizzes.submit_attempt(db.session.get(Attempt, attempt_id), None, 60)
    return client, attempt_id, position, entry["q"]


def report_link(page: str, question_id: int) -> str:
    return html.unescape(re.search(rf'href="(/quiz/questions/{question_id}/report[^"]*)"', page).group(1))


def test_a_report_from_the_review_goes_back_to_that_question(app, world, reviewed):
    client, attempt_id, position, question_id = reviewed
    review = client.get(f"/quiz/attempts/{attempt_id}/review").get_data(as_text=True)
    link = report_link(review, question_id)
    assert f"attempt={attempt_id}" in link and f"next=/quiz/attempts/{attempt_id}/review%23r{position}" in link.replace("#", "%23")
    page = client.get(link).get_data(as_text=True)
    with app.app_context():
        options = db.session.get(Question, question_id).options
    seen = re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="opts" type="A">(.*?)</ol>', page, re.S).group(1))
    assert seen == options[::-1], "the report page shows the options as the member saw them"
    done = client.post(link, data={"note": "选项B的说法不准确"})
    assert done.status_code == 302 and done.location == f"/quiz/attempts/{attempt_id}/review#r{position}"
    assert "感谢指正" in client.get(done.location).get_data(as_text=True)
    with app.app_context():
        report = db.session.scalar(select(QuestionReport))
        assert report.shown_options == options[::-1] and report.note == "选项B的说法不准确"


def test_the_queue_shows_what_the_member_saw_and_links_to_the_question(app, world, login, reviewed):
    client, attempt_id, _, question_id = reviewed
    client.post(report_link(client.get(f"/quiz/attempts/{attempt_id}/review").get_data(as_text=True), question_id),
                data={"note": "选项B的说法不准确"})
    with app.app_context():
        question = db.session.get(Question, question_id)
        options, key = question.options, question.answer
    queue = login(world.login["admin"]).get("/admin/question-reports").get_data(as_text=True)
    assert f'href="/admin/questions/{question_id}"' in queue and "党员看到的选项" in queue
    shown = re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="opts" type="A">(.*?)</ol>', queue, re.S).group(1))
    assert [re.sub(r" <span.*", "", s) for s in shown] == options[::-1]
    assert [i for i, s in enumerate(shown) if "现为正确答案" in s] == [len(options) - 1 - k for k in key]
    # An organiser of the member's committee sees it too (a built-in question: they cannot resolve it),
    # with a link to the question's page.
    organiser = login(world.login["org_a"]).get("/admin/question-reports").get_data(as_text=True)
    assert "选项B的说法不准确" in organiser and f'href="/admin/questions/{question_id}"' in organiser


def test_a_report_from_practice_goes_back_to_the_feedback(app, world, login):
    client = login(world.login["m_a1"])
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.key == "t01-001"))
        feedback_id = practise(db.session.get(User, world.user["m_a1"]), question, ["0"], PracticeMode.CHAPTER).answer.id
    feedback = client.get(f"/practice/answers/{feedback_id}").get_data(as_text=True)
    link = report_link(feedback, question.id)
    assert "attempt=" not in link
    done = client.post(link, data={"note": "解析有错字"})
    assert done.location == f"/practice/answers/{feedback_id}"
    with app.app_context():
        assert db.session.scalar(select(QuestionReport.shown_options)) == question.options


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_a_report_never_sends_the_member_off_the_site(app, world, login, target):
    client = login(world.login["m_a1"])
    with app.app_context():
        question_id = db.session.scalar(select(Question.id).where(Question.key == "t01-001"))
    page = client.get(f"/quiz/questions/{question_id}/report", query_string={"next": target}).get_data(as_text=True)
    assert "evil" not in page and "javascript:" not in page
    done = client.post(f"/quiz/questions/{question_id}/report", query_string={"next": target}, data={"note": "有误"})
    assert done.location == "/"


def test_another_members_paper_does_not_set_the_order(app, world, login, reviewed):
    _, attempt_id, _, question_id = reviewed
    other = login(world.login["m_a1b"])
    other.post(f"/quiz/questions/{question_id}/report", query_string={"attempt": attempt_id}, data={"note": "有误"})
    with app.app_context():
        assert db.session.scalar(select(QuestionReport.shown_options)) == db.session.get(Question, question_id).options


def test_a_question_on_an_open_paper_shows_no_options_on_the_report_page(app, world, login):
    client = login(world.login["m_a1"])
    attempt_id = attempt_id_from(client.post(f"/quiz/{world.assignment_a}/start").location)
    with app.app_context():
        question = next(db.session.get(Question, e["q"]) for e in db.session.get(Attempt, attempt_id).paper
                        if db.session.get(Question, e["q"]).options)
    page = client.get(f"/quiz/questions/{question.id}/report", query_string={"attempt": attempt_id}).get_data(as_text=True)
    assert question.stem in page and '<ol class="opts"' not in page
    assert not any(option in page for option in question.options)


def test_no_page_shows_the_banks_file_paths(app, world, login, reviewed):
    client, attempt_id, _, question_id = reviewed
    with app.app_context():
        db.session.execute(update(Question).values(source="questions/c01-test.yaml"))
        db.session.commit()
    client.post(report_link(client.get(f"/quiz/attempts/{attempt_id}/review").get_data(as_text=True), question_id),
                data={"note": "有误"})
    admin = login(world.login["admin"])
    pages = [
        client.get(f"/quiz/attempts/{attempt_id}/review"), client.get(f"/quiz/questions/{question_id}/report"),
        admin.get("/admin/question-reports"), admin.get(f"/admin/questions/{question_id}"), admin.get("/admin/questions"),
        admin.get(f"/reports/assignments/{world.assignment_a}/items"),
        admin.get(f"/reports/questions/{question_id}/fix-key", query_string={"answer": ""}),
    ]
    for response in pages:
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and "questions/c01" not in text and ".yaml" not in text, response.request.path
