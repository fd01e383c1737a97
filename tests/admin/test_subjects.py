"""学习科目 pages: an organiser creates a subject of their committee with parts and points, renames and
reorders them, retires a point or the subject; bad names are refused beside the field and change nothing;
nobody outside the owner's subtree reaches any of it (404), secretaries and members get 403, and those
who see a subject but do not own it read it only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, Organisation, PointLevel, Question, Role, Subject, User
from learnhub.models.types import utcnow

from ..factories import make_assignment, make_question, make_subject, make_user
from ..security.conftest import table_snapshot


def create(client, name="支部工作条例", description="学习《中国共产党支部工作条例（试行）》。", **extra):
    return client.post("/admin/subjects/new", data={"name": name, "description": description, **extra})


def ids(app, name: str) -> tuple[int, dict[str, int]]:
    """The subject of this name and its nodes' ids by name."""
    with app.app_context():
        subject = db.session.scalar(select(Subject).filter_by(name=name))
        nodes = db.session.scalars(select(KnowledgePoint).filter_by(subject_id=subject.id))
        return subject.id, {n.name: n.id for n in nodes}


def error_beside(page: str, field: str) -> str:
    """The error list right after the input named `field`."""
    match = re.search(rf'name="{field}"[^>]*>(?:[^<]*</textarea>)?\s*<ul class="errors" id="{field}-error"[^>]*>(.*?)</ul>', page, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


@pytest.fixture
def subject_a(app, world, login) -> tuple[int, dict[str, int]]:
    """党委A's subject 支部工作条例, made through the pages: part 第一章 总则 with points 支部的设置 and
    支部的职责, and part 第二章 组织生活 with 三会一课."""
    c = login(world.login["org_a"])
    assert create(c).status_code == 302
    subject_id, _ = ids(app, "支部工作条例")
    for part in ("第一章 总则", "第二章 组织生活"):
        assert c.post(f"/admin/subjects/{subject_id}/parts", data={"part-name": part}).status_code == 302
    _, nodes = ids(app, "支部工作条例")
    for part, point in (("第一章 总则", "支部的设置"), ("第一章 总则", "支部的职责"), ("第二章 组织生活", "三会一课")):
        assert c.post(f"/admin/subjects/nodes/{nodes[part]}/points", data={"point-name": point}).status_code == 302
    return ids(app, "支部工作条例")


def test_an_organiser_creates_a_subject_with_parts_and_points(app, world, login, subject_a):
    subject_id, nodes = subject_a
    with app.app_context():
        subject = db.session.get(Subject, subject_id)
        assert subject.owner_org_id == world.org["a"] and subject.created_by_id == world.user["org_a"]
        points = {n.name: n for n in db.session.scalars(select(KnowledgePoint).filter_by(subject_id=subject_id))}
        assert points["支部的设置"].parent.name == "第一章 总则" and points["支部的设置"].level is PointLevel.POINT
        assert points["第一章 总则"].parent_id is None and points["第一章 总则"].level is PointLevel.PART
        assert {n.owner_org_id for n in points.values()} == {world.org["a"]}
    c = login(world.login["org_a"])
    listing = c.get("/admin/subjects").get_data(as_text=True)
    assert "支部工作条例" in listing and "2 个章节 · 3 个知识点 · 0 道题" in listing
    assert "中国共产党章程（2022年修订）" in listing
    page = c.get(f"/admin/subjects/{subject_id}").get_data(as_text=True)
    assert page.index("支部的设置") < page.index("支部的职责") < page.index("三会一课")
    # Reorder: 支部的职责 up, then 第二章 before 第一章.
    c.post(f"/admin/subjects/nodes/{nodes['支部的职责']}/move", data={"dir": "up"})
    c.post(f"/admin/subjects/nodes/{nodes['第二章 组织生活']}/move", data={"dir": "up"})
    page = c.get(f"/admin/subjects/{subject_id}").get_data(as_text=True)
    assert page.index("三会一课") < page.index("支部的职责") < page.index("支部的设置")
    # Rename the subject and a point.
    c.post(f"/admin/subjects/{subject_id}", data={"name": "支部工作条例（试行）", "description": "新的说明"})
    c.post(f"/admin/subjects/nodes/{nodes['三会一课']}", data={"name": "“三会一课”制度"})
    page = c.get(f"/admin/subjects/{subject_id}").get_data(as_text=True)
    assert "<h1>支部工作条例（试行）</h1>" in page and "新的说明" in page and "“三会一课”制度" in page


def test_the_subjects_page_is_reached_from_the_organisers_pages(world, login):
    c = login(world.login["org_a"])
    assert 'href="/admin/subjects"' in c.get("/reports/").get_data(as_text=True)
    assert 'href="/admin/subjects"' in c.get("/admin/questions").get_data(as_text=True)
    assert 'href="/admin/subjects"' not in login(world.login["sec_a1"]).get("/reports/").get_data(as_text=True)


BAD_NAMES = {
    "empty": ("  ", "请填写"),
    "too long": ("长" * 101, "名称过长（最多 100 字，现有 101 字）"),
}


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
def test_bad_names_are_refused_beside_the_field_and_change_nothing(app, world, login, subject_a, case):
    name, message = BAD_NAMES[case]
    subject_id, nodes = subject_a
    c = login(world.login["org_a"])
    with app.app_context():
        before = table_snapshot()
    for url, what, field in (("/admin/subjects/new", "科目", "name"), (f"/admin/subjects/{subject_id}", "科目", "name"),
                             (f"/admin/subjects/{subject_id}/parts", "章节", "part-name"),
                             (f"/admin/subjects/nodes/{nodes['第一章 总则']}/points", "知识点", "point-name"),
                             (f"/admin/subjects/nodes/{nodes['三会一课']}", "知识点", "name")):
        response = c.post(url, data={field: name, "description": ""})
        assert response.status_code == 200, url
        said = error_beside(response.get_data(as_text=True), field)
        assert message in said and (case != "empty" or f"请填写{what}名称" in said), (url, said)
    with app.app_context():
        assert table_snapshot() == before


def test_duplicate_names_within_a_subject_are_refused_and_change_nothing(app, world, login, subject_a):
    subject_id, nodes = subject_a
    c = login(world.login["org_a"])
    with app.app_context():
        before = table_snapshot()
    cases = [
        ("/admin/subjects/new", {"name": "支部工作条例"}, "党委A已有名为「支部工作条例」的科目"),
        (f"/admin/subjects/{subject_id}/parts", {"part-name": "第二章 组织生活"}, "本科目已有名为「第二章 组织生活」的章节"),
        # Point names are unique in the whole subject, not only in their part.
        (f"/admin/subjects/nodes/{nodes['第一章 总则']}/points", {"point-name": "三会一课"}, "本科目已有名为「三会一课」的知识点"),
        (f"/admin/subjects/nodes/{nodes['支部的设置']}", {"name": "支部的职责"}, "本科目已有名为「支部的职责」的知识点"),
        (f"/admin/subjects/nodes/{nodes['第一章 总则']}", {"name": " 第二章  组织生活 "}, "本科目已有名为「第二章 组织生活」的章节"),
    ]
    for url, data, message in cases:
        page = c.post(url, data=data).get_data(as_text=True)
        assert message in error_beside(page, next(iter(data))), url
    with app.app_context():
        assert table_snapshot() == before
    # The same names are free in another subject, and 党委B may have a subject of the same name.
    assert create(c, name="另一个科目").status_code == 302
    other, _ = ids(app, "另一个科目")
    assert c.post(f"/admin/subjects/{other}/parts", data={"part-name": "第一章 总则"}).status_code == 302
    assert create(login(world.login["org_b"])).status_code == 302


def _routes(subject_id: int, part_id: int, point_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/admin/subjects/{subject_id}", {}), ("POST", f"/admin/subjects/{subject_id}", {"name": "改"}),
        ("POST", f"/admin/subjects/{subject_id}/parts", {"part-name": "新章"}), ("POST", f"/admin/subjects/{subject_id}/retire", {}),
        ("GET", f"/admin/subjects/nodes/{part_id}", {}), ("POST", f"/admin/subjects/nodes/{part_id}", {"name": "改"}),
        ("POST", f"/admin/subjects/nodes/{part_id}/points", {"point-name": "新点"}),
        ("POST", f"/admin/subjects/nodes/{part_id}/move", {"dir": "down"}),
        ("GET", f"/admin/subjects/nodes/{point_id}", {}), ("POST", f"/admin/subjects/nodes/{point_id}", {"name": "改"}),
        ("POST", f"/admin/subjects/nodes/{point_id}/move", {"dir": "up"}), ("POST", f"/admin/subjects/nodes/{point_id}/retire", {}),
        ("GET", f"/admin/subjects/nodes/{point_id}/questions/new?kind=truefalse", {}),
        ("POST", f"/admin/subjects/nodes/{point_id}/questions/new?kind=truefalse",
         {"stem": "越权写的题。", "truth": "对", "explanation": "无", "difficulty": "1"}),
    ]


@pytest.fixture
def committee_a_subject(app, world) -> dict[str, int]:
    """党委A's subject with a part, a point and a question on it (made directly)."""
    with app.app_context():
        subject, part, point = make_subject(db.session.get(Organisation, world.org["a"]), "甲委专题")
        like = db.session.scalar(select(Question).filter_by(key="t11-001"))
        question = make_question(db.session.get(Organisation, world.org["a"]), "a-301", like)
        question.point_id, question.article = point.id, ""
        db.session.commit()
        return {"subject": subject.id, "part": part.id, "point": point.id, "question": question.id}


def test_another_committees_organiser_gets_404_on_every_route_and_changes_nothing(app, world, login, committee_a_subject):
    s = committee_a_subject
    org_b = login(world.login["org_b"])
    with app.app_context():
        before = table_snapshot()
    for method, url, data in _routes(s["subject"], s["part"], s["point"]):
        assert org_b.open(url, method=method, data=data).status_code == 404, (method, url)
    for method, url in (("GET", f"/admin/questions/{s['question']}"), ("POST", f"/admin/questions/{s['question']}/retire")):
        assert org_b.open(url, method=method).status_code == 404, url
    with app.app_context():
        assert table_snapshot() == before
    assert "甲委专题" not in org_b.get("/admin/subjects").get_data(as_text=True)
    assert "甲委专题" not in org_b.get("/admin/questions").get_data(as_text=True)
    assert f'value="{s["subject"]}"' not in org_b.get("/admin/questions/import").get_data(as_text=True)
    # The control: the same routes answer 党委A's organiser.
    org_a = login(world.login["org_a"])
    for method, url, data in _routes(s["subject"], s["part"], s["point"]):
        assert org_a.open(url, method=method, data=data).status_code in (200, 302), (method, url)


@pytest.mark.parametrize("who", ["sec_a1", "m_a1", "m_b1"])
def test_secretaries_and_members_get_403_on_every_route(app, world, login, committee_a_subject, who):
    s = committee_a_subject
    c = login(world.login[who])
    with app.app_context():
        before = table_snapshot()
    for method, url, data in [("GET", "/admin/subjects", {}), ("GET", "/admin/subjects/new", {}),
                              ("POST", "/admin/subjects/new", {"name": "越权科目"}), *_routes(s["subject"], s["part"], s["point"])]:
        assert c.open(url, method=method, data=data).status_code == 403, (who, method, url)
    with app.app_context():
        assert table_snapshot() == before


def test_those_who_see_but_do_not_own_a_subject_read_it_only(app, world, login, committee_a_subject):
    s = committee_a_subject
    with app.app_context():
        make_user(db.session.get(Organisation, world.org["ga"]), "orgga", "总支组织员", role=Role.ORGANISER)
        builtin_part = db.session.scalar(select(KnowledgePoint.id).filter_by(level=PointLevel.PART, name="第一章 党员"))
        builtin_point = db.session.scalar(select(KnowledgePoint.id).filter_by(level=PointLevel.POINT, name="入党条件"))
        db.session.commit()
    general = login("orgga")  # an organiser beneath 党委A: uses its subject, does not change it
    org_a = login(world.login["org_a"])
    with app.app_context():
        before = table_snapshot()
    page = general.get(f"/admin/subjects/{s['subject']}").get_data(as_text=True)
    assert "甲委专题" in page and "只有该组织的组织员能修改" in page and "添加章节" not in page and "停用这个科目" not in page
    for method, url, data in _routes(s["subject"], s["part"], s["point"]):
        expected = (200,) if method == "GET" and "questions/new" not in url else (403,)
        assert general.open(url, method=method, data=data).status_code in expected, (method, url)
    # The 党章 for an organiser: read-only too.
    assert "只有系统管理员能修改" in org_a.get("/admin/subjects/1").get_data(as_text=True)
    for method, url, data in _routes(1, builtin_part, builtin_point):
        expected = (200,) if method == "GET" and "questions/new" not in url else (403,)
        assert org_a.open(url, method=method, data=data).status_code in expected, (method, url)
    with app.app_context():
        assert table_snapshot() == before


def test_admins_rename_the_built_in_subject_but_its_tree_follows_the_bank_files(app, world, login):
    admin = login(world.login["admin"])
    assert admin.post("/admin/subjects/1", data={"name": "党章（2022）", "description": "内置"}).status_code == 302
    with app.app_context():
        assert db.session.get(Subject, 1).name == "党章（2022）"
        part = db.session.scalar(select(KnowledgePoint).filter_by(level=PointLevel.PART, name="第一章 党员"))
        before = table_snapshot()
    page = admin.post("/admin/subjects/1/parts", data={"part-name": "新章"}, follow_redirects=True).get_data(as_text=True)
    assert "党章的章节、条文和知识点与题库文件一致" in page
    admin.post(f"/admin/subjects/nodes/{part.id}", data={"name": "改名"})
    admin.post("/admin/subjects/1/retire")
    with app.app_context():
        assert table_snapshot() == before


def test_retiring_a_point_takes_it_and_its_questions_out_of_lists_but_not_off_papers(app, world, login, committee_a_subject):
    s = committee_a_subject
    with app.app_context():
        paper = make_assignment(db.session.get(Organisation, world.org["a"]), [db.session.get(Question, s["question"])],
                                title="甲委专题测验")
        db.session.commit()
        paper_id = paper.id
    org_a = login(world.login["org_a"])
    assert "三会一课" in org_a.get("/admin/assignments/new").get_data(as_text=True)
    response = org_a.post(f"/admin/subjects/nodes/{s['point']}/retire", follow_redirects=True)
    assert "其中 1 道题同时停用" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, s["question"]).retired
        assert db.session.get(KnowledgePoint, s["point"]).retired_at is not None
        assert [aq.question_id for aq in db.session.get(type(paper), paper_id).questions] == [s["question"]]
    assert "三会一课" not in org_a.get("/admin/assignments/new").get_data(as_text=True)
    assert "三会一课" not in org_a.get(f"/admin/questions?part={s['part']}").get_data(as_text=True).split("<ul class=\"list card\">")[0]
    page = org_a.get(f"/admin/subjects/{s['subject']}").get_data(as_text=True)
    assert "已停用的知识点（1 个）" in page and "0 个知识点" in page
    assert org_a.get(f"/admin/subjects/nodes/{s['point']}/questions/new").status_code == 302  # no new questions
    # Others who saw it no longer do; the member's paper still shows the question.
    with app.app_context():
        make_user(db.session.get(Organisation, world.org["ga"]), "orgga", "总支组织员", role=Role.ORGANISER)
        db.session.commit()
    assert login("orgga").get(f"/admin/subjects/nodes/{s['point']}").status_code == 404
    member = login(world.login["m_a1"])
    started = member.post(f"/quiz/{paper_id}/start", follow_redirects=True).get_data(as_text=True)
    assert "党徽" in started
    # Back again: the point returns, its questions stay retired until brought back one by one.
    org_a.post(f"/admin/subjects/nodes/{s['point']}/retire")
    with app.app_context():
        assert db.session.get(KnowledgePoint, s["point"]).retired_at is None and db.session.get(Question, s["question"]).retired


def test_retiring_a_subject_takes_it_out_of_lists_and_practice(app, world, login, committee_a_subject):
    s = committee_a_subject
    member = login(world.login["m_a1"])
    assert "第一章 总则" in member.get("/practice/").get_data(as_text=True)
    org_a = login(world.login["org_a"])
    done = org_a.post(f"/admin/subjects/{s['subject']}/retire", follow_redirects=True).get_data(as_text=True)
    assert "已停用科目「甲委专题」，其中 1 道题同时停用" in done
    with app.app_context():
        assert db.session.get(Subject, s["subject"]).retired_at is not None and db.session.get(Question, s["question"]).retired
    listing = org_a.get("/admin/subjects").get_data(as_text=True)
    assert "已停用的科目（1 个）" in listing and listing.index("甲委专题") > listing.index("已停用的科目")
    assert "第一章 总则" not in member.get("/practice/").get_data(as_text=True)
    assert "第一章 总则" not in org_a.get("/admin/assignments/new").get_data(as_text=True)
    page = org_a.post(f"/admin/subjects/{s['subject']}/parts", data={"part-name": "新章"}, follow_redirects=True)
    assert "这个科目已停用，恢复后才能修改" in page.get_data(as_text=True)
    org_a.post(f"/admin/subjects/{s['subject']}/retire")
    with app.app_context():
        assert db.session.get(Subject, s["subject"]).retired_at is None
        assert db.session.scalar(select(func.count()).select_from(KnowledgePoint).filter_by(subject_id=s["subject"])) == 2
