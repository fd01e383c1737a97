"""The flask commands: checking and loading the bank, the demo organisation, bootstrap."""

from __future__ import annotations

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
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1
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
        report = assignment_report(scope_for(organiser), db.session.scalar(select(Assignment)))
        rates = {u.org.name: u.finished_rate for u in report.units}
        averages = {u.org.name: u.average for u in report.units}
        assert rates["第一党支部"] >= 80 and rates["第四党支部"] <= 60
        assert averages["第一党支部"] > averages["第四党支部"]


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
