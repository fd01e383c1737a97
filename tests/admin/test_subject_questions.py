"""Questions written in the browser under a subject's point (each of the four types, validated as `questions
check` validates a bank file, problems beside their fields, nothing stored), edited afterwards; and importing
a file into a chosen subject (previewed, nothing stored before confirmation, new parts and points in it)."""

from __future__ import annotations

import io
import random
import re

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, Organisation, PointLevel, Question, QuestionKind, Subject, User
from learnhub.services.bank import question_bank
from learnhub.services.bank.files import Bank, read_question
from learnhub.services.bank.formats.common import generated_key
from learnhub.services.bank.question_write import QuestionDraft, raw_of
from learnhub.services.exam import quizzes
from learnhub.services.study import practice

from ..factories import make_subject
from ..security.conftest import table_snapshot

GOOD = {
    "single": {"stem": "党支部党员大会一般每季度召开几次？", "option_a": "一次", "option_b": "两次", "option_c": "三次",
               "correct": "A", "explanation": "《支部工作条例》第十八条。", "difficulty": "1"},
    "multiple": {"stem": "“三会一课”包括哪些？", "option_a": "支部党员大会", "option_b": "支部委员会",
                 "option_c": "党小组会", "option_d": "党课", "option_e": "", "correct": ["A", "B", "C", "D"],
                 "explanation": "条例第十八条。", "difficulty": "2"},
    "truefalse": {"stem": "党小组会一般每月召开1次。", "truth": "对", "explanation": "条例第十八条。", "difficulty": "1"},
    "fill": {"stem": "党支部委员会一般每____召开1次，党课每____至少1次。", "blanks": "月\n季度|季",
             "explanation": "条例第十八条。", "difficulty": "3"},
}


@pytest.fixture
def point(app, world) -> dict[str, int]:
    """党委A's subject 支部工作 with part 第一章 总则 and point 三会一课."""
    with app.app_context():
        subject, part, node = make_subject(db.session.get(Organisation, world.org["a"]))
        db.session.commit()
        return {"subject": subject.id, "part": part.id, "point": node.id}


def new_question(client, point_id: int, kind: str, data: dict, **extra):
    return client.post(f"/admin/subjects/nodes/{point_id}/questions/new?kind={kind}", data={**data, **extra})


def questions_on(app, point_id: int) -> list[Question]:
    with app.app_context():
        found = list(db.session.scalars(select(Question).filter_by(point_id=point_id).order_by(Question.id)))
        db.session.expunge_all()
        return found


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_each_type_is_written_under_a_point_of_the_committees_subject(app, world, login, point, kind):
    c = login(world.login["org_a"])
    form = c.get(f"/admin/subjects/nodes/{point['point']}/questions/new?kind={kind}").get_data(as_text=True)
    assert 'aria-current="page">' + QuestionKind(kind).label in form
    assert ('name="option_a"' in form) == (kind in ("single", "multiple"))
    assert ('name="article"' in form) is False  # a committee's subject cites no article
    response = new_question(c, point["point"], kind, GOOD[kind])
    assert response.status_code == 302 and response.location.endswith(f"/admin/subjects/nodes/{point['point']}")
    [q] = questions_on(app, point["point"])
    assert q.kind is QuestionKind(kind) and q.stem == GOOD[kind]["stem"] and q.owner_org_id == world.org["a"]
    assert q.key == generated_key(q.stem) and q.article == "" and q.source == "网页录入" and q.revision == 1
    expected = {"single": [0], "multiple": [0, 1, 2, 3], "truefalse": [True], "fill": [["月"], ["季度", "季"]]}[kind]
    assert q.answer == expected and q.difficulty == int(GOOD[kind]["difficulty"])
    assert q.options == ([] if kind in ("truefalse", "fill") else [o for o in (GOOD[kind].get(f"option_{x}") for x in "abcde") if o])
    # It is a question like any other: on the point's page, in the bank list, drawn for 党委A's members.
    assert GOOD[kind]["stem"][:10] in c.get(f"/admin/subjects/nodes/{point['point']}").get_data(as_text=True)
    assert "共 1 题" in c.get(f"/admin/questions?subject={point['subject']}").get_data(as_text=True)
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        assert [x.id for x in quizzes.rule_pool({"part_id": point["part"]}, member.org)] == [q.id]
        assert practice.next_chapter_question(member, point["part"], random.Random(1)).id == q.id
        other = db.session.get(User, world.user["m_b1"])
        assert quizzes.rule_pool({"part_id": point["part"]}, other.org) == []


def test_save_and_write_another_comes_back_to_the_same_type(app, world, login, point):
    c = login(world.login["org_a"])
    response = new_question(c, point["point"], "truefalse", GOOD["truefalse"], next="more")
    assert response.location.endswith(f"/questions/new?kind=truefalse")
    page = c.get(response.location).get_data(as_text=True)
    assert "已保存判断题" in page and GOOD["truefalse"]["stem"] not in page


BAD = {
    "single, two options": ("single", {"option_c": ""}, "options", "单选题应有 3 到 6 个选项"),
    "single, no answer": ("single", {"correct": ""}, "correct", "请选出正确答案"),
    "single, two answers": ("single", {"correct": ["A", "B"]}, "correct", "单选题只能有一个答案"),
    "single, answer without option": ("single", {"correct": "D"}, "correct", "答案「D」不在选项 ABC 之中"),
    "single, same options": ("single", {"option_b": " 一次 "}, "options", "选项不能为空或重复"),
    "single, a gap": ("single", {"option_b": "", "option_d": "四次"}, "options", "选项不能为空或重复"),
    "multiple, one answer": ("multiple", {"correct": ["B"]}, "correct", "多选题至少应有两个正确选项"),
    "multiple, three options": ("multiple", {"option_d": ""}, "options", "多选题应有 4 到 6 个选项"),
    "truefalse, no answer": ("truefalse", {"truth": ""}, "truth", "请选择“对”或“错”"),
    "fill, no blank": ("fill", {"stem": "党支部委员会一般每月召开1次。", "blanks": "月"}, "blanks", "题干中有 0 个空（____），答案却有 1 个"),
    "fill, no answer": ("fill", {"blanks": " \n "}, "blanks", "请填写每个空的答案"),
    "empty stem": ("truefalse", {"stem": "  "}, "stem", "题干为空"),
    "empty explanation": ("fill", {"explanation": ""}, "explanation", "解析为空"),
    "bad difficulty": ("truefalse", {"difficulty": "9"}, "difficulty", "难度应为 1、2 或 3"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_said_beside_its_field_and_stores_nothing(app, world, login, point, case):
    kind, change, field, message = BAD[case]
    c = login(world.login["org_a"])
    with app.app_context():
        before = table_snapshot()
    response = new_question(c, point["point"], kind, {**GOOD[kind], **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="{field}-error"' in page, page[page.find("<form"):][:3000]
    errors = re.search(rf'<ul class="errors" id="{field}-error"[^>]*>(.*?)</ul>', page, re.S).group(1)
    assert message in errors
    assert GOOD[kind]["explanation"] in page or change.get("explanation") == ""  # what was typed stays in the form
    with app.app_context():
        assert table_snapshot() == before


def test_the_form_refuses_what_questions_check_refuses(app, world, point):
    """The same draft through the bank files' reader gives the same messages the page shows."""
    with app.app_context():
        node = db.session.get(KnowledgePoint, point["point"])
        draft = QuestionDraft(kind="single", stem="题？", explanation="", difficulty=4, options=("甲", "甲", "乙"), correct="AB")
        bank = Bank()
        assert read_question(raw_of(draft, node, "x-1"), question_bank.db_points(subject_id=node.subject_id), "f", bank) is None
        assert sorted(p.message for p in bank.problems) == sorted(["解析为空", "难度应为 1、2 或 3", "选项不能为空或重复", "单选题只能有一个答案"])


def test_a_stem_already_in_the_bank_is_refused_and_another_banks_stem_gets_its_own_key(app, world, login, point):
    c = login(world.login["org_a"])
    assert new_question(c, point["point"], "truefalse", GOOD["truefalse"]).status_code == 302
    page = new_question(c, point["point"], "truefalse", {**GOOD["truefalse"], "stem": "党小组会，一般每月召开1次"}).get_data(as_text=True)
    assert f"题干与本题库已有的题目（{generated_key(GOOD['truefalse']['stem'])}）重复" in page
    with app.app_context():
        _, _, b_point = make_subject(db.session.get(Organisation, world.org["b"]), "乙委专题", "组织生活")
        db.session.commit()
        b_point_id = b_point.id
    assert new_question(login(world.login["org_b"]), b_point_id, "truefalse", GOOD["truefalse"]).status_code == 302
    [b] = questions_on(app, b_point_id)
    assert b.key == f"{generated_key(GOOD['truefalse']['stem'])}-o{world.org['b']}" and b.owner_org_id == world.org["b"]


def test_a_question_written_here_is_edited_on_the_bank_page(app, world, login, point):
    c = login(world.login["org_a"])
    new_question(c, point["point"], "single", GOOD["single"])
    [q] = questions_on(app, point["point"])
    form = c.get(f"/admin/questions/{q.id}").get_data(as_text=True)
    assert "支部工作" in form and 'name="article"' not in form and '<option selected value="三会一课">' in form
    r = c.post(f"/admin/questions/{q.id}", data={
        "kind": "single", "stem": "党支部党员大会一般每季度召开几次？（修改）", "option_a": "一次", "option_b": "两次",
        "option_c": "三次", "answer": "A", "explanation": "条例第十八条。", "article": "", "point": "三会一课", "difficulty": "2",
    }, follow_redirects=True)
    assert "已保存" in r.get_data(as_text=True)
    [q] = questions_on(app, point["point"])
    assert q.stem.endswith("（修改）") and q.difficulty == 2 and q.point_id == point["point"]


def test_the_built_in_subject_takes_questions_from_admins_with_their_article(app, world, login):
    with app.app_context():
        node = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.POINT, name="入党条件"))
    admin = login(world.login["admin"])
    form = admin.get(f"/admin/subjects/nodes/{node.id}/questions/new?kind=truefalse").get_data(as_text=True)
    assert 'name="article"' in form and 'value="第一条"' in form
    data = {"stem": "年满十八岁可以申请入党。", "truth": "对", "explanation": "党章第一条。", "difficulty": "1"}
    page = new_question(admin, node.id, "truefalse", {**data, "article": "第二条"}).get_data(as_text=True)
    assert "知识点「入党条件」属于第一条，与题目的条文第二条不一致" in page
    assert new_question(admin, node.id, "truefalse", {**data, "article": "第一条"}).status_code == 302
    [q] = [q for q in questions_on(app, node.id) if q.stem == data["stem"]]
    assert q.owner_org_id is None and q.article == "第一条"
    assert login(world.login["org_a"]).get(f"/admin/subjects/nodes/{node.id}/questions/new").status_code == 403


def test_a_key_is_corrected_when_the_subjects_point_shares_a_name_with_a_point_of_the_charter(app, world, login):
    with app.app_context():
        _, _, node = make_subject(db.session.get(Organisation, world.org["a"]), "入党专题", point="党员的权利")
        db.session.commit()
        node_id = node.id
    c = login(world.login["org_a"])
    assert new_question(c, node_id, "truefalse", GOOD["truefalse"]).status_code == 302
    with app.app_context():  # a later bank file brings a 党章 point of the same name (names are unique per subject)
        article = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.ARTICLE, name="第四条 党员的权利"))
        db.session.add(KnowledgePoint(level=PointLevel.POINT, name="党员的权利", parent=article))
        db.session.commit()
    [q] = questions_on(app, node_id)
    page = c.get(f"/reports/questions/{q.id}/fix-key?answer=错").get_data(as_text=True)
    assert "确认改正并重新评分" in page and "不一致" not in page


# ---- import into a subject ------------------------------------------------------------------------------

CSV = ("题型,题干,选项A,选项B,选项C,答案,知识点\n"
       "单选,党支部每年至少开展几次民主评议党员？,一次,两次,三次,A,三会一课\n"
       "判断,组织生活会一般每年召开1次。,,,,对,组织生活会\n"
       "判断,入党须年满十八岁。,,,,对,入党条件\n")


def upload(client, data: bytes, **fields):
    return client.post("/admin/questions/import", data={"file": (io.BytesIO(data), "支部工作题.csv"), "point": "", **fields},
                       content_type="multipart/form-data")


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Question, KnowledgePoint, Subject))


def test_a_file_is_imported_into_a_chosen_subject_after_a_preview(app, world, login, point):
    c = login(world.login["org_a"])
    assert f'<option value="{point["subject"]}">支部工作（党委A）</option>' in c.get("/admin/questions/import").get_data(as_text=True)
    before = counts(app)
    page = upload(c, CSV.encode(), subject=str(point["subject"])).get_data(as_text=True)
    assert "科目：支部工作" in page and "<b>3</b>新增" in page and "<b>1</b>新知识点" in page
    # Names resolve in the subject (三会一课) and the 党章 (入党条件); new parts only in the subject.
    parts = re.search(r'<select name="part" id="part">(.*?)</select>', page, re.S).group(1)
    assert "第一章 总则" in parts and "第一章 党员" not in parts
    assert counts(app) == before
    c.post("/admin/questions/import/preview", data={"part": str(point["part"])})
    assert counts(app) == before
    done = c.post("/admin/questions/import/confirm", data={"part": str(point["part"])}, follow_redirects=True)
    assert "导入完成：新增 3 题" in done.get_data(as_text=True)
    assert counts(app) == (before[0] + 3, before[1] + 1, before[2])
    with app.app_context():
        by_stem = {q.stem: q for q in db.session.scalars(select(Question).where(Question.owner_org_id == world.org["a"]))}
        assert by_stem["党支部每年至少开展几次民主评议党员？"].point_id == point["point"]
        new = by_stem["组织生活会一般每年召开1次。"].point
        assert (new.subject_id, new.parent_id, new.owner_org_id) == (point["subject"], point["part"], world.org["a"])
        assert by_stem["入党须年满十八岁。"].point.subject_id == 1


def test_an_import_into_a_new_part_of_a_subject_and_the_default_subject(app, world, login, point):
    c = login(world.login["org_a"])
    upload(c, CSV.encode(), subject=str(point["subject"]))
    choices = {"part": "new", "part_name": "第二章 组织生活"}
    assert 'value="第二章 组织生活"' in c.post("/admin/questions/import/preview", data=choices).get_data(as_text=True)
    assert "导入完成" in c.post("/admin/questions/import/confirm", data=choices, follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        part = db.session.scalar(select(KnowledgePoint).filter_by(subject_id=point["subject"], name="第二章 组织生活"))
        assert part.level is PointLevel.PART and [n.name for n in db.session.scalars(
            select(KnowledgePoint).filter_by(parent_id=part.id))] == ["组织生活会"]
    # 党委B cannot choose 党委A's subject: the value is ignored and B's own subject is used.
    b = login(world.login["org_b"])
    page = upload(b, CSV.replace("组织生活会", "乙的点").encode(), subject=str(point["subject"])).get_data(as_text=True)
    assert "科目：党委B题库（导入时新建）" in page and "第一章 总则" not in page and "科目：支部工作" not in page
    b.post("/admin/questions/import/confirm", follow_redirects=True)
    with app.app_context():
        node = db.session.scalar(select(KnowledgePoint).filter_by(name="乙的点"))
        assert node.subject.owner_org_id == world.org["b"] and node.subject_id != point["subject"]


def test_the_bank_list_filters_by_subject(app, world, login, point):
    c = login(world.login["org_a"])
    new_question(c, point["point"], "truefalse", GOOD["truefalse"])
    everything = c.get("/admin/questions").get_data(as_text=True)
    assert "共 7 题" in everything and '<optgroup label="支部工作">' in everything
    mine = c.get(f"/admin/questions?subject={point['subject']}").get_data(as_text=True)
    assert "共 1 题" in mine and "支部工作 · 党委A" in mine
    assert "共 6 题" in c.get("/admin/questions?subject=1").get_data(as_text=True)
    assert "共 1 题" in c.get(f"/admin/questions?part={point['part']}").get_data(as_text=True)
    # A subject the viewer does not see filters nothing in.
    with app.app_context():
        foreign, _, _ = make_subject(db.session.get(Organisation, world.org["b"]), "乙委专题")
        db.session.commit()
        foreign_id = foreign.id
    assert "共 7 题" in c.get(f"/admin/questions?subject={foreign_id}").get_data(as_text=True)
