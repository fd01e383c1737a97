"""Nobody sees outside their organisation: every staff route, walked from the app's URL map."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Grant, Organisation, User
from learnhub.models import Question
from learnhub.services.exam import key_corrections, quizzes
from learnhub.services.bank import question_reports

from .factories import make_question, make_subject
from .study.material_helpers import org_material

STAFF_AREAS = ("reports.", "admin.")
# Routes only organisers may use at all: a secretary gets 403 there whatever the object.
ORGANISER_ONLY = {
    "admin.question_reports_list", "admin.question_report_resolve", "admin.bank_list", "admin.bank_edit",
    "admin.bank_retire", "admin.bank_import", "admin.bank_import_confirm", "reports.fix_key", "reports.fix_key_confirm",
    "reports.key_revert", "reports.key_revert_confirm", "reports.key_resume",
    "admin.org_tree", "admin.org_detail", "admin.org_edit", "admin.org_move", "admin.org_active", "admin.org_grant",
    "admin.org_revoke", "admin.org_import", "admin.org_import_confirm", "admin.org_import_template",
    "admin.subject_list", "admin.subject_new", "admin.subject_detail", "admin.subject_part_new", "admin.subject_retire",
    "admin.subject_node", "admin.subject_point_new", "admin.subject_node_move", "admin.subject_node_retire",
    "admin.subject_question_new",
    "admin.materials_list", "admin.material_new", "admin.material_edit", "admin.material_preview", "admin.material_retire",
    "admin.material_version", "admin.material_attachment_add", "admin.material_attachment_remove",
}


def staff_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith(STAFF_AREAS)]


@pytest.fixture
def foreign(app, world):
    """Ids of objects that belong to 党委B, where the A-side users have no authority."""
    with app.app_context():
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_b), db.session.get(User, world.user["m_b1"]))
        quizzes.submit_attempt(attempt, None, 60)
        report = question_reports.file_report(db.session.get(User, world.user["m_b1"]), attempt_question(attempt), "答案错了")
        like = db.session.scalar(select(Question).filter_by(key="t01-001"))
        owned = make_question(db.session.get(Organisation, world.org["b"]), "b-001", like)  # 党委B's own bank
        correction = key_corrections.correct_key(owned, "A", "核对后更正", db.session.get(User, world.user["org_b"]))
        subject, _, point = make_subject(db.session.get(Organisation, world.org["b"]))  # 党委B's 学习科目
        db.session.commit()
        material = org_material(db.session.get(Organisation, world.org["b"]), db.session.get(User, world.user["org_b"]),
                                Path(app.instance_path) / "attachments", "党委B专题")  # with an image and a PDF
        return {
            "subject_id": subject.id, "node_id": point.id,
            "material_id": material.material, "attachment_id": material.image, "number": 1,
            "report_id": report.id, "question_id": owned.id, "correction_id": correction.id,
            "assignment_id": world.assignment_b, "org_id": world.org["b1"], "user_id": world.user["m_b1"],
            "attempt_id": attempt.id,
            "grant_id": db.session.scalar(select(Grant.id).filter_by(org_id=world.org["b1"])),
        }


def attempt_question(attempt) -> Question:
    return db.session.get(Question, attempt.paper[0]["q"])


def url_for_rule(rule, ids: dict) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"route {rule.rule} takes {missing}: teach this test which foreign object to use"
    return rule.build(ids, append_unknown=False)[1]


def requests_for(rule, url):
    methods = rule.methods - {"HEAD", "OPTIONS"}
    return [(m, url) for m in sorted(methods)]


def test_anonymous_users_are_sent_to_login(app, client, foreign):
    for rule in staff_rules(app):
        for method, url in requests_for(rule, url_for_rule(rule, foreign)):
            r = client.open(url, method=method)
            assert r.status_code == 302 and "/auth/login" in r.location, (method, url, r.status_code)


@pytest.mark.parametrize("member", ["m_a1", "m_b1"])
def test_members_get_403_on_every_staff_page(app, world, foreign, login, member):
    c = login(world.login[member])
    for rule in staff_rules(app):
        for method, url in requests_for(rule, url_for_rule(rule, foreign)):
            assert c.open(url, method=method).status_code == 403, (method, url)


@pytest.mark.parametrize("staff", ["sec_a1", "org_a"])
def test_staff_get_404_for_another_committees_objects(app, world, foreign, login, staff):
    c = login(world.login[staff])
    for rule in staff_rules(app):
        if not rule.arguments:
            continue
        if staff.startswith("sec") and rule.endpoint in ORGANISER_ONLY:
            expected = {403}
        else:
            expected = {404}
        for method, url in requests_for(rule, url_for_rule(rule, foreign)):
            assert c.open(url, method=method).status_code in expected, (method, url)


def test_secretary_gets_404_for_a_sibling_branch_by_guessed_id(world, login):
    c = login(world.login["sec_a1"])
    a, a2 = world.assignment_a, world.org["a2"]
    assert c.get(f"/reports/assignments/{a}/units/{world.org['a1']}").status_code == 200
    assert c.get(f"/reports/assignments/{a}/units/{a2}").status_code == 404
    assert c.get(f"/reports/assignments/{a}/units/{a2}/export.xlsx").status_code == 404
    assert c.get(f"/reports/assignments/{a}/units/{world.org['b1']}/export.xlsx").status_code == 404
    assert c.get(f"/admin/members/{world.user['m_a2']}/edit").status_code == 404
    assert c.post(f"/admin/members/{world.user['m_a2']}/reset-password").status_code == 404
    assert c.get("/reports/assignments/999999").status_code == 404


def test_secretary_member_list_shows_only_their_branch(world, login):
    page = login(world.login["sec_a1"]).get("/admin/members").get_data(as_text=True)
    assert "党员甲一" in page and "党员甲二" not in page and "党员乙一" not in page
    page = login(world.login["sec_a1"]).get(f"/admin/members?org={world.org['b1']}")
    assert page.status_code == 404


def test_organiser_export_covers_only_their_committee(world, login):
    import io

    import openpyxl

    r = login(world.login["org_b"]).get(f"/reports/assignments/{world.assignment_a}/export.xlsx")
    assert r.status_code == 404
    r = login(world.login["org_a"]).get(f"/reports/assignments/{world.assignment_a}/export.xlsx")
    names = {row[1] for ws in openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[1:] for row in ws.iter_rows(min_row=5, values_only=True)}
    assert "党员甲一" in names and "党员乙一" not in names and "书记乙一" not in names


def test_admin_sees_everything(app, world, foreign, login):
    c = login(world.login["admin"])
    for rule in staff_rules(app):
        if "GET" in rule.methods:
            assert c.get(url_for_rule(rule, foreign)).status_code in (200, 302), rule.rule
