"""A bank with owners: each question belongs to an organisation or to the built-in bank. Two committees
never see or change each other's questions; built-in ones only admins change; papers and practice use
only the questions of the organisation's own bank, the banks above it and the built-in one."""

from __future__ import annotations

import io
import random
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentKind,
    KnowledgePoint,
    Organisation,
    PointLevel,
    Question,
    QuestionReport,
    Role,
    User,
)
from learnhub.models.types import utcnow
from learnhub.services import ServiceError
from learnhub.services.exam import key_corrections, quizzes
from learnhub.services.study import practice
from learnhub.services.bank import question_bank
from learnhub.services.exam.assignments import AssignmentData, DrawRule, create_assignment
from learnhub.services.bank.formats import export_excel
from learnhub.services.orgs import grant, scope_for

from ..conftest import DATA
from ..factories import make_question, make_user
from ..security.conftest import table_snapshot

EDIT = {
    "kind": "truefalse", "stem": "党徽为镰刀和锤头组成的图案。", "answer": "对", "explanation": "党章第五十三条。",
    "article": "第五十三条", "point": "党徽党旗的样式", "difficulty": "1",
}


@pytest.fixture
def banks(app, world) -> dict[str, int]:
    """Question ids: 'a' in 党委A's bank, 'b' in 党委B's, 'builtin' of the built-in bank (all like t11-001),
    and a key correction of A's question ('a_correction')."""
    with app.app_context():
        like = db.session.scalar(select(Question).filter_by(key="t11-001"))
        a = make_question(db.session.get(Organisation, world.org["a"]), "a-001", like)
        b = make_question(db.session.get(Organisation, world.org["b"]), "b-001", like)
        db.session.commit()
        fixed = key_corrections.correct_key(a, "对", "核对后更正", db.session.get(User, world.user["org_a"]))
        return {"a": a.id, "b": b.id, "builtin": like.id, "a_correction": fixed.id}


def stem_of(app, question_id: int) -> str:
    with app.app_context():
        return db.session.get(Question, question_id).stem


def test_an_organiser_of_another_committee_gets_404_on_its_questions_and_changes_nothing(app, world, banks, login):
    a, correction = banks["a"], banks["a_correction"]
    org_b, member_b = login(world.login["org_b"]), login(world.login["m_b1"])
    page = org_b.get("/admin/questions?q=党徽").get_data(as_text=True)
    assert "（b-001）" in page and "党徽由五角星和麦穗组成。</a>" in page and "（a-001）" not in page
    with app.app_context():
        before = table_snapshot()
    assert org_b.get(f"/admin/questions/{a}").status_code == 404
    assert org_b.post(f"/admin/questions/{a}", data=EDIT).status_code == 404
    assert org_b.post(f"/admin/questions/{a}/retire").status_code == 404
    assert org_b.get(f"/reports/questions/{a}/fix-key?answer=错").status_code == 404
    assert org_b.post(f"/reports/questions/{a}/fix-key", data={"answer": "错", "reason": "改"}).status_code == 404
    assert org_b.get(f"/reports/key-corrections/{correction}/revert").status_code == 404
    assert org_b.post(f"/reports/key-corrections/{correction}/revert", data={"reason": "撤销"}).status_code == 404
    assert member_b.get(f"/quiz/questions/{a}/report").status_code == 404
    with app.app_context():
        assert table_snapshot() == before


def test_an_organiser_edits_retires_and_corrects_their_own_committees_questions(app, world, banks, login):
    org_a = login(world.login["org_a"])
    assert "（a-001）" in org_a.get("/admin/questions?q=党徽").get_data(as_text=True)
    r = org_a.post(f"/admin/questions/{banks['a']}", data=EDIT, follow_redirects=True)
    assert r.status_code == 200 and "已保存为新版本" in r.get_data(as_text=True)  # a correction refers to it
    with app.app_context():
        current = db.session.scalar(select(Question).filter_by(key="a-001", is_current=True))
        assert current.stem == EDIT["stem"] and current.owner_org_id == world.org["a"]  # the revision stays A's
        current_id = current.id
    assert org_a.post(f"/admin/questions/{current_id}/retire").status_code == 302
    with app.app_context():
        assert db.session.get(Question, current_id).retired
    assert "确认改正并重新评分" in org_a.get(f"/reports/questions/{current_id}/fix-key?answer=错").get_data(as_text=True)
    assert login(world.login["m_a1"]).get(f"/quiz/questions/{banks['a']}/report").status_code == 200


def test_built_in_questions_are_used_by_organisers_but_changed_only_by_admins(app, world, banks, login):
    builtin = banks["builtin"]
    org_a = login(world.login["org_a"])
    page = org_a.get(f"/admin/questions/{builtin}").get_data(as_text=True)
    assert "这道题属于内置题库" in page and "只有系统管理员能修改" in page and ">保存</button>" not in page
    with app.app_context():
        before = table_snapshot()
    assert org_a.post(f"/admin/questions/{builtin}", data=EDIT).status_code == 403
    assert org_a.post(f"/admin/questions/{builtin}/retire").status_code == 403
    assert org_a.get(f"/reports/questions/{builtin}/fix-key?answer=对").status_code == 403
    assert org_a.post(f"/reports/questions/{builtin}/fix-key", data={"answer": "对", "reason": "改"}).status_code == 403
    with app.app_context():
        assert table_snapshot() == before
    admin = login(world.login["admin"])
    assert admin.post(f"/admin/questions/{builtin}", data=EDIT).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Question).filter_by(key="t11-001", is_current=True)).stem == EDIT["stem"]


def test_an_organiser_beneath_the_owner_uses_its_questions_but_cannot_change_them(app, world, banks, login):
    with app.app_context():
        general = db.session.get(Organisation, world.org["ga"])
        make_user(general, "orgga", "总支组织员", role=Role.ORGANISER)
        db.session.commit()
    c = login("orgga")
    assert "（a-001）" in c.get("/admin/questions?q=党徽").get_data(as_text=True)
    assert c.get(f"/admin/questions/{banks['a']}").status_code == 200
    assert c.post(f"/admin/questions/{banks['a']}", data=EDIT).status_code == 403
    assert c.get(f"/admin/questions/{banks['b']}").status_code == 404


def _part_11(app) -> int:
    with app.app_context():
        return db.session.scalar(select(KnowledgePoint.id).filter_by(level=PointLevel.PART, name="第十一章 党徽党旗"))


def exam_data(org: Organisation, part: KnowledgePoint, count: int, per_member: bool = False) -> AssignmentData:
    now = utcnow()
    return AssignmentData(title="党徽党旗测验", kind=AssignmentKind.EXAM, org=org, opens_at=now, per_member=per_member,
                          closes_at=now + timedelta(days=1), rules=[DrawRule(part, count)])


def test_papers_and_practice_use_only_the_organisations_own_banks_and_the_built_in_one(app, world, banks, ctx):
    part = db.session.get(KnowledgePoint, _part_11(app))
    org_b, committee_b = db.session.get(User, world.user["org_b"]), db.session.get(Organisation, world.org["b"])
    with pytest.raises(ServiceError, match="只有 2 道题，不够抽 3 道"):  # t11-001 and B's own, never A's
        create_assignment(scope_for(org_b), exam_data(committee_b, part, 3), org_b)
    fixed = create_assignment(scope_for(org_b), exam_data(committee_b, part, 2), org_b)
    assert {aq.question.key for aq in fixed.questions} == {"t11-001", "b-001"}
    drawn = create_assignment(scope_for(org_b), exam_data(committee_b, part, 2, per_member=True), org_b)
    attempt = quizzes.start_attempt(drawn, db.session.get(User, world.user["m_b1"]))
    assert {db.session.get(Question, e["q"]).key for e in attempt.paper} == {"t11-001", "b-001"}
    # Not m_b1: that member now sits the drawn paper, so its questions are kept from their practice.
    member_b, member_a = db.session.get(User, world.user["sec_b1"]), db.session.get(User, world.user["m_a1"])
    rng = random.Random(1)
    assert {practice.next_chapter_question(member_b, part.id, rng).key for _ in range(30)} == {"t11-001", "b-001"}
    assert {practice.next_chapter_question(member_a, part.id, rng).key for _ in range(30)} == {"t11-001", "a-001"}
    daily = {q.key for q in practice.daily_questions(member_b, utcnow(), "Asia/Shanghai")}
    assert "a-001" not in daily


# ---- imports ------------------------------------------------------------------------------------------


def xlsx(app, rows: list[tuple[str, str]]) -> bytes:
    """An Excel bank of t11-001 copies: (id, stem) per row; an empty id makes a row without one."""
    with app.app_context():
        like = question_bank.to_bank_question(db.session.scalar(select(Question).filter_by(key="t11-001")))
    return export_excel([replace(like, key=key, stem=stem) for key, stem in rows])


def upload(client, data: bytes, owner: str | None = None):
    form = {"file": (io.BytesIO(data), "题库.xlsx"), "point": ""}
    if owner is not None:
        form["owner"] = owner
    return client.post("/admin/questions/import", data=form, content_type="multipart/form-data")


def owners(app) -> dict[str, int | None]:
    with app.app_context():
        return dict(db.session.execute(select(Question.key, Question.owner_org_id).where(Question.is_current.is_(True))).all())


def test_an_organisers_import_fills_their_committees_bank(app, world, login):
    c = login(world.login["org_a"])
    page = upload(c, xlsx(app, [("a-101", "党旗为旗面缀有金黄色党徽图案的红旗。")])).get_data(as_text=True)
    assert "导入到：党委A" in page and "党旗为旗面缀有金黄色党徽图案的红旗。" in page
    assert "新增 1 题" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    assert owners(app)["a-101"] == world.org["a"]


def test_an_organiser_with_two_committees_picks_the_bank_and_the_first_is_the_default(app, world, login):
    with app.app_context():
        grant(db.session.get(User, world.user["org_a"]), db.session.get(Organisation, world.org["b"]), Role.ORGANISER)
        db.session.commit()
    c = login(world.login["org_a"])
    form = c.get("/admin/questions/import").get_data(as_text=True)
    choices = re.findall(r'<option[^>]*value="(\d*)"[^>]*>(党委[AB])</option>', form)
    assert choices == [(str(world.org["a"]), "党委A"), (str(world.org["b"]), "党委B")]
    upload(c, xlsx(app, [("b-101", "党徽党旗是党的象征和标志。")]), owner=str(world.org["b"]))
    c.post("/admin/questions/import/confirm")
    upload(c, xlsx(app, [("a-102", "党的各级组织应当按照规定使用党徽党旗。")]), owner=str(world.org["b1"]))  # not a grant
    c.post("/admin/questions/import/confirm")
    assert owners(app)["b-101"] == world.org["b"] and owners(app)["a-102"] == world.org["a"]


def test_an_import_never_overwrites_a_built_in_or_foreign_question(app, world, banks, login):
    rows = [("a-103", "新题：党徽党旗的使用须庄重。"), ("t11-001", "党徽由五角星组成。"), ("b-001", "改写乙的题。")]
    c = login(world.login["org_a"])
    with app.app_context():
        before = table_snapshot()
    page = upload(c, xlsx(app, rows)).get_data(as_text=True)
    assert "没有导入任何题目" in page
    assert "第 3 行：题目编号「t11-001」已是内置题库的题目，不能导入覆盖" in page
    assert "第 4 行：题目编号「b-001」已是其他组织题库的题目，不能导入覆盖" in page
    assert "党委B" not in page  # the foreign owner is not named
    with app.app_context():
        assert table_snapshot() == before


def test_two_committees_may_import_the_same_file_of_questions_without_ids(app, world, login):
    data = xlsx(app, [("", "党旗旗面为红色。")])
    for who in ("org_a", "org_b"):
        c = login(world.login[who])
        upload(c, data)
        assert "新增 1 题" in c.post("/admin/questions/import/confirm", follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(select(Question.key, Question.owner_org_id).filter_by(stem="党旗旗面为红色。")).all()
    assert sorted(owner for _, owner in rows) == [world.org["a"], world.org["b"]] and len({k for k, _ in rows}) == 2


def test_the_cli_import_keeps_the_shipped_bank_built_in_and_never_takes_a_committees_question(app, world, runner):
    result = runner.invoke(args=["questions", "import", str(DATA / "bank")])
    assert result.exit_code == 0 and "0 created" in result.output
    assert set(owners(app).values()) == {None}
    assert runner.invoke(args=["questions", "owner", "t11-001", "--org", "a"]).exit_code == 0
    result = runner.invoke(args=["questions", "import", str(DATA / "bank")])
    assert result.exit_code != 0 and "题目编号「t11-001」已是其他组织题库的题目" in result.output
    assert owners(app)["t11-001"] == world.org["a"]


def test_the_cli_hands_questions_imported_from_a_file_to_a_committee(app, world, runner, tmp_path):
    path = tmp_path / "甲委题库.xlsx"
    path.write_bytes(xlsx(app, [("x-101", "党徽党旗的尺寸有规定。")]))
    assert runner.invoke(args=["questions", "import", str(path)]).exit_code == 0
    assert owners(app)["x-101"] is None  # built-in, as everything after the upgrade
    result = runner.invoke(args=["questions", "owner", "--org", "a", "--source", "甲委题库.xlsx"])
    assert result.exit_code == 0 and "1 question(s) now belong to 党委A" in result.output
    assert owners(app)["x-101"] == world.org["a"]
    assert runner.invoke(args=["questions", "owner", "x-101", "--builtin"]).exit_code == 0
    assert owners(app)["x-101"] is None


# ---- 题目有误 reports go to the question's owners; item analysis counts the viewer's members only ----


def test_reports_go_to_the_questions_owners(app, world, banks, login):
    login(world.login["m_a1"]).post(f"/quiz/questions/{banks['a']}/report", data={"note": "甲的题有误"})
    login(world.login["m_b1"]).post(f"/quiz/questions/{banks['builtin']}/report", data={"note": "内置题有误"})
    org_a, org_b, admin = (login(world.login[k]) for k in ("org_a", "org_b", "admin"))
    queue_a = org_a.get("/admin/question-reports").get_data(as_text=True)
    queue_b = org_b.get("/admin/question-reports").get_data(as_text=True)
    assert "甲的题有误" in queue_a and "内置题有误" not in queue_a
    assert "甲的题有误" not in queue_b and "内置题有误" in queue_b and "由题目所属单位处理" in queue_b
    assert {"甲的题有误", "内置题有误"} <= set(re.findall(r"<p>(.*?有误)</p>", admin.get("/admin/question-reports").get_data(as_text=True)))
    with app.app_context():
        ids = dict(db.session.execute(select(QuestionReport.note, QuestionReport.id)).all())
    assert org_b.post(f"/admin/question-reports/{ids['甲的题有误']}/resolve", data={"resolution": "x"}).status_code == 404
    assert org_b.post(f"/admin/question-reports/{ids['内置题有误']}/resolve", data={"resolution": "x"}).status_code == 403
    assert org_a.post(f"/admin/question-reports/{ids['甲的题有误']}/resolve", data={"resolution": "已改"}).status_code == 302
    assert admin.post(f"/admin/question-reports/{ids['内置题有误']}/resolve", data={"resolution": "无误"}).status_code == 302
    for client in (org_a, org_b, admin):
        assert "没有待处理的反馈" in client.get("/admin/question-reports").get_data(as_text=True)


def test_item_analysis_counts_only_reports_from_the_viewers_members(app, world, login):
    with app.app_context():
        for member in ("m_a1", "m_b1"):
            user = db.session.get(User, world.user[member])
            attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a if member == "m_a1" else world.assignment_b), user)
            quizzes.submit_attempt(attempt, None, 60)
        qid = db.session.scalar(select(Question.id).filter_by(key="t01-001"))
    for member in ("m_a1", "m_b1"):
        login(world.login[member]).post(f"/quiz/questions/{qid}/report", data={"note": "答案有误"})
    org_a = login(world.login["org_a"]).get(f"/reports/assignments/{world.assignment_a}/items").get_data(as_text=True)
    admin = login(world.login["admin"]).get(f"/reports/assignments/{world.assignment_a}/items").get_data(as_text=True)
    assert "1 条“题目有误”反馈" in org_a and "2 条“题目有误”反馈" not in org_a
    assert "2 条“题目有误”反馈" in admin
