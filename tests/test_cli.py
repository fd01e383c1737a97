"""The flask commands: checking and loading the bank, the demo organisation, bootstrap."""

from __future__ import annotations

from pathlib import Path

import json
import shutil

from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Assignment, Attempt, Organisation, Question, Response, User
from learnhub.services.bank import question_bank

from .conftest import DATA


def test_questions_check_passes_on_a_good_bank(runner):
    result = runner.invoke(args=["questions", "check", str(DATA / "bank")])
    assert result.exit_code == 0 and "OK: 6 questions" in result.output


def test_questions_check_names_file_id_and_problem(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "part: 第一章 党员\npoints:\n  - {name: 入党条件, article: 第一条}\nquestions:\n"
        "  - {id: b-1, type: single, article: 第一条, point: 入党条件, difficulty: 1, version: '2022',"
        " stem: 题干, options: [甲, 乙, 丙], answer: D, explanation: 因为}\n"
        "  - {id: b-2, type: fill, article: 第九十条, point: 没有, difficulty: 5, version: '2017',"
        " stem: 没有空, answer: [''], explanation: 因为}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["questions", "check", str(bad)])
    assert result.exit_code != 0
    for expected in ("bad.yaml [b-1]: 答案「D」不在选项 ABC 之中", "bad.yaml [b-2]: 条文「第九十条」不存在",
                     "[b-2]: 知识点「没有」未定义", "[b-2]: 难度应为", "[b-2]: version 应为 2022", "[b-2]: 填空题每个空都要有答案"):
        assert expected in result.output, expected


def test_questions_stats_json(runner):
    stats = json.loads(runner.invoke(args=["questions", "stats", str(DATA / "bank"), "--json"]).output)
    assert stats["total"] == 6 and stats["by_type"] == {"fill": 1, "multiple": 1, "single": 2, "truefalse": 2}
    assert stats["by_article"]["第七条"] == 3


def test_import_is_idempotent_and_revises_answered_questions(app, runner, world, tmp_path):
    result = runner.invoke(args=["questions", "import", str(DATA / "bank")])
    assert "0 created" in result.output and "6 unchanged" in result.output
    bank = tmp_path / "bank"
    shutil.copytree(DATA / "bank", bank)
    path = bank / "c01-test.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("申请入党的最低年龄是多少？", "申请入党须年满几岁？"), encoding="utf-8")
    with app.app_context():
        old = db.session.scalar(select(Question).where(Question.key == "t01-001"))
        old_id = old.id
    result = runner.invoke(args=["questions", "import", str(bank)])
    assert "1 revised" in result.output  # it sits on an assignment's paper
    with app.app_context():
        rows = db.session.scalars(select(Question).where(Question.key == "t01-001").order_by(Question.revision)).all()
        assert [(q.revision, q.is_current) for q in rows] == [(1, False), (2, True)]
        assert rows[0].id == old_id and rows[0].stem == "申请入党的最低年龄是多少？"


def test_bad_bank_imports_nothing(app, tmp_path):
    (tmp_path / "x.yaml").write_text("part: 第一章 党员\npoints: []\nquestions:\n  - {id: x}\n", encoding="utf-8")
    with app.app_context():
        try:
            question_bank.import_dir(tmp_path)
        except question_bank.BankError as exc:
            assert exc.problems
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_seed_demo_is_idempotent_and_prints_logins(app, runner):
    with app.app_context():
        question_bank.import_dir(DATA / "bank")
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "demo organisation built" in first.output and "zb1sj" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "already present" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 6
        members = db.session.scalar(select(func.count()).select_from(User))
        assert 38 <= members <= 45
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 2  # + the demo subject's task
        assert db.session.scalar(select(func.count()).select_from(Attempt)) > 20
        assert db.session.scalar(select(func.count()).select_from(Response)) > 100


def test_demo_reports_show_a_strong_and_a_weak_branch(app, runner):
    from learnhub.services.orgs import scope_for
    from learnhub.services.reports.completion import assignment_report

    with app.app_context():
        question_bank.import_dir(DATA / "bank")
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        organiser = db.session.scalar(select(User).where(User.member_no == "dw001"))
        report = assignment_report(scope_for(organiser), db.session.scalar(select(Assignment).order_by(Assignment.id)))
        rates = {u.org.name: u.finished_rate for u in report.units}
        averages = {u.org.name: u.average for u in report.units}
        assert rates["第一党支部"] >= 80 and rates["第四党支部"] <= 60
        assert averages["第一党支部"] > averages["第四党支部"]


def test_the_demo_has_a_subject_of_its_own_with_a_material_and_a_read_then_quiz_task(app, runner):
    """Issue 15, item 6: `make run` shows an organisation's subject: two parts, eight points, 20 questions, a
    material with an image and a PDF (files on disk), assigned as "read, then quiz" to 第一党支部 with five
    papers handed in, so the weak-branch report shows the subject's points."""
    from learnhub.models import Material, MaterialAttachment, Question, Subject
    from learnhub.services.orgs import scope_for
    from learnhub.services.reports.mastery import mastery_report

    with app.app_context():
        question_bank.import_dir(DATA / "bank")
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        subject = db.session.scalar(select(Subject).where(Subject.owner_org_id.is_not(None)))
        assert subject.name == "学习平台使用指南（示例科目）" and subject.owner.code == "demo"
        questions = db.session.scalars(select(Question).join(Question.point).where(
            Question.point.has(subject_id=subject.id))).all()
        assert len(questions) == 20 and {q.kind.value for q in questions} == {"single", "multiple", "truefalse", "fill"}
        assert all(q.owner_org_id == subject.owner_org_id and q.article == "" for q in questions)
        material = db.session.scalar(select(Material).where(Material.subject_id == subject.id))
        files = db.session.scalars(select(MaterialAttachment).where(MaterialAttachment.material_id == material.id)).all()
        assert sorted(f.kind for f in files) == ["image", "pdf"]
        folder = Path(app.instance_path) / "attachments"
        assert all((folder / f.stored_name).stat().st_size == f.size for f in files)
        assert f"attachment:{next(f.id for f in files if f.kind == 'image')}" in material.body_md
        assert material.version == 2  # the text, then the picture and the PDF added
        task = db.session.scalar(select(Assignment).where(Assignment.title == "平台使用指南学习测验"))
        assert task.org.code == "demo-b1" and task.read_first and task.materials == [material]
        organiser = db.session.scalar(select(User).where(User.member_no == "dw001"))
        report = mastery_report(scope_for(organiser), task)
        shown = {p.name for p in report.points}
        assert shown and shown <= {"答案的保存", "断网时作答", "交卷与限时", "中途离开答题页", "错题本", "大字模式与朗读",
                                   "测试一下你的手机", "会议测验"}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "demo subject added" not in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subject)) == 2


def test_bootstrap_loads_bank_notes_and_demo(app, runner):
    result = runner.invoke(args=["bootstrap"])
    assert result.exit_code == 0, result.output
    assert "question bank loaded: 6 questions" in result.output and "1 study notes loaded" in result.output
    assert "Demo logins" in result.output
    again = runner.invoke(args=["bootstrap"])
    assert again.exit_code == 0 and "question bank loaded" not in again.output


def test_orgs_and_admin_commands(app, runner):
    assert runner.invoke(args=["orgs", "add", "某某党委", "--code", "x", "--kind", "committee"]).exit_code == 0
    assert runner.invoke(args=["orgs", "add", "一支部", "--code", "x1", "--kind", "branch", "--parent", "x"]).exit_code == 0
    r = runner.invoke(args=["users", "create-admin", "root1", "--name", "管理员", "--org", "x", "--password", "admin1234"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.member_no == "root1"))
        assert admin.is_admin and not admin.must_change_password
        branch = db.session.scalar(select(Organisation).where(Organisation.code == "x1"))
        assert branch.path.count("/") == 3
