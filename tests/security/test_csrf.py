"""CSRF: with protection on (as in production), every POST route walked from the URL map refuses a request
without a valid token, answers 400 with a Chinese message (JSON for the quiz's background save), and
changes nothing. The same request with the page's token goes through, so the refusal is the token's doing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Grant, Organisation, PracticeMode, Question, User
from learnhub.services.exam import key_corrections, quizzes
from learnhub.services.study import practice
from learnhub.services.bank import question_reports
from learnhub.services.auth import sessions

from ..conftest import DATA
from ..factories import make_subject
from ..meetings.helpers import make_meeting
from ..study.material_helpers import org_material
from .conftest import csrf_token_from, login_with_token, other_key, table_snapshot

MESSAGE = "页面已过期，请刷新后再提交"
JSON_ENDPOINTS = {"quiz.save", "quiz.phone_check_echo", "meetings.answer"}  # background fetch() requests: they send JSON and read JSON back
LAST = {"auth.logout", "auth.sign_out_everywhere"}  # end the session: run after the others


@pytest.fixture
def csrf_app(app, world, make_app):
    """A second app on the world's database, with CSRF protection switched on as in production."""
    return make_app(WTF_CSRF_ENABLED=True, QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))


@pytest.fixture
def own(app, world, shared):
    """URL arguments naming the admin's own (or in-scope) objects, so each POST would succeed with a token."""
    with app.app_context():
        admin = db.session.get(User, world.user["admin"])
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), admin)
        question = attempt.paper[0]["q"]
        member, question = db.session.get(User, world.user["m_a1"]), db.session.get(Question, question)
        report = question_reports.file_report(member, question, "有误")
        builtin = db.session.get(Question, shared.builtin_question)
        correction = key_corrections.correct_key(builtin, other_key(builtin), "核对后更正", admin)
        other_device = sessions.start(admin, "Windows", remember=False, lifetime=timedelta(days=1))
        db.session.commit()
        meeting = make_meeting(world.org["a1"], world.user["admin"])
        subject, _, point = make_subject(db.session.get(Organisation, world.org["a"]))
        db.session.commit()
        m = org_material(db.session.get(Organisation, world.org["a"]), admin, Path(app.instance_path) / "attachments", "检查专题")
        return {
            "subject_id": subject.id, "node_id": point.id,
            "material_id": m.material, "attachment_id": m.image, "number": 1,
            "meeting_id": meeting.id, "code": meeting.code,
            "assignment_id": world.assignment_a, "attempt_id": attempt.id, "question_id": shared.builtin_question,
            "user_id": world.user["m_a1b"], "org_id": world.org["a1"], "report_id": report.id, "slug": shared.material,
            "part_id": shared.part, "correction_id": correction.id, "device_id": other_device.device_id,
            "served": practice.serve(admin, db.session.get(Question, shared.question), PracticeMode.CHAPTER).id,
            "grant_id": db.session.scalar(select(Grant.id).filter_by(org_id=world.org["a1"])),
        }


def post_rules(app):
    """Every rule that accepts POST, session-enders last."""
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, r.endpoint))


def build(rule, own: dict) -> str:
    missing = set(rule.arguments) - set(own)
    assert not missing, f"POST route {rule.rule} takes {missing}: teach the `own` fixture in test_csrf.py which object"
    return rule.build({k: own[k] for k in rule.arguments}, append_unknown=False)[1]


def body_for(endpoint: str, own: dict) -> dict:
    if endpoint == "quiz.phone_check_echo":
        return {"json": {"n": 1}}
    if endpoint in JSON_ENDPOINTS:
        return {"json": {"position": 1, "answer": "", "seq": 1}}
    if endpoint == "practice.answer":
        return {"data": {"served": own["served"], "a": "0"}}
    return {"data": {"resolution": "已处理", "note": "说明", "reason": "leave"}}


def assert_refused(endpoint: str, response) -> None:
    assert response.status_code == 400, (endpoint, response.status_code)
    if endpoint in JSON_ENDPOINTS:
        assert response.is_json and response.get_json()["ok"] is False, endpoint
        assert response.get_json()["error"] == MESSAGE
    else:
        assert MESSAGE in response.get_data(as_text=True), endpoint


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_post_route_refuses_a_request_without_a_token(csrf_app, world, own, who):
    client = csrf_app.test_client()
    if who != "anonymous":
        login_with_token(client, world.login[who])
    for rule in post_rules(csrf_app):
        url, body = build(rule, own), body_for(rule.endpoint, own)
        with csrf_app.app_context():
            before = table_snapshot()
        response = client.post(url, **body)
        assert_refused(rule.endpoint, response)
        with csrf_app.app_context():
            assert table_snapshot() == before, f"{rule.endpoint}: a refused request changed the database"
    if who != "anonymous":
        assert client.get("/").status_code == 200, "the refused logout must not have ended the session"


def test_the_same_posts_go_through_with_the_pages_token(csrf_app, world, own):
    """The control for the test above: with a token read from a page, no route answers the CSRF 400."""
    client = login_with_token(csrf_app.test_client(), world.login["admin"])
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    for rule in post_rules(csrf_app):
        url, body = build(rule, own), body_for(rule.endpoint, own)
        if "json" in body:
            response = client.post(url, headers={"X-CSRFToken": token}, **body)
        else:
            response = client.post(url, data={**body["data"], "csrf_token": token})
        assert MESSAGE not in response.get_data(as_text=True), rule.endpoint
        assert response.status_code != 400, (rule.endpoint, response.status_code)


def test_a_token_from_another_session_is_refused(csrf_app, world):
    victim = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    attacker = csrf_app.test_client()
    stolen = csrf_token_from(attacker.get("/auth/login").get_data(as_text=True))
    with csrf_app.app_context():
        before = table_snapshot()
    response = victim.post("/auth/change-password", data={
        "current": "pass1234", "new": "owned12345", "confirm": "owned12345", "csrf_token": stolen,
    })
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    with csrf_app.app_context():
        assert table_snapshot() == before


def test_login_itself_needs_a_token(csrf_app, world):
    """Login CSRF: a cross-site form must not log the victim into the attacker's account."""
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"identifier": world.login["m_a1"], "password": "pass1234"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_background_save_needs_its_own_sessions_token_in_the_header(csrf_app, world, own):
    """The quiz page's fetch() sends the token in X-CSRFToken. Another session's token there, or the
    right token only inside the JSON body, is refused and stores nothing."""
    client = login_with_token(csrf_app.test_client(), world.login["admin"])
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    stolen = csrf_token_from(csrf_app.test_client().get("/auth/login").get_data(as_text=True))
    url = f"/quiz/attempts/{own['attempt_id']}/answers"
    body = {"position": 1, "answer": [], "seq": 1}
    with csrf_app.app_context():
        before = table_snapshot()
    for response in (client.post(url, json=body, headers={"X-CSRFToken": stolen}),
                     client.post(url, json={**body, "csrf_token": token})):
        assert_refused("quiz.save", response)
    with csrf_app.app_context():
        assert table_snapshot() == before
    accepted = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200 and accepted.get_json()["ok"] is True
