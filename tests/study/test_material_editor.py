"""Organisers write materials in the browser: preview, save, versions, retire; members read the current
version of what their organisation published, and the reading records the version."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import (
    Assignment, KnowledgePoint, Material, MaterialVersion, Organisation, PointLevel, Reading, Subject, User,
)
from learnhub.services.study import materials

from ..conftest import DATA
from .material_helpers import make_material, make_subject, points_of


@pytest.fixture
def subject_a(app, world) -> dict:
    """党委A's own subject with two points."""
    with app.app_context():
        subject = make_subject(db.session.get(Organisation, world.org["a"]), "支部工作")
        db.session.commit()
        return {"id": subject.id, "points": [p.id for p in points_of(subject)]}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(title: str, body: str, points: list[int], action: str = "save") -> dict:
    return {"title": title, "body": body, "points": points, "action": action}


def _messages(page: str) -> str:
    return " ".join(re.findall(r'<(?:div class="flash[^"]*"|ul class="errors"[^>]*)[^>]*>(.*?)</(?:div|ul)>', page, re.S))


def test_an_organiser_previews_then_saves_and_the_committees_members_read_it(app, world, login, subject_a):
    c = login(world.login["org_a"])
    page = c.get(f"/admin/materials/new?subject={subject_a['id']}").get_data(as_text=True)
    assert "写新资料" in page and "支部会议" in page and 'data-preview="/admin/materials/preview"' in page
    body = "## 三会一课\n\n支部党员大会**每季度**召开一次。"
    with app.app_context():
        before = (_count(Material), _count(MaterialVersion))
    # 预览 without script: the same page with the text rendered, nothing saved.
    preview = c.post(f"/admin/materials/new?subject={subject_a['id']}", data=_form("三会一课", body, subject_a["points"][:1], "preview"))
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>每季度</strong>" in text and 'id="preview-box" class="preview-box">' in text
    with app.app_context():
        assert (_count(Material), _count(MaterialVersion)) == before
    saved = c.post(f"/admin/materials/new?subject={subject_a['id']}", data=_form("三会一课", body, subject_a["points"][:1]))
    assert saved.status_code == 302
    with app.app_context():
        material = db.session.scalar(select(Material).where(Material.title == "三会一课"))
        assert (material.owner_org_id, material.subject_id, material.version) == (world.org["a"], subject_a["id"], 1)
        assert material.created_by_id == world.user["org_a"] and material.slug == f"m{material.id}"
        assert [v.number for v in db.session.scalars(select(MaterialVersion).filter_by(material_id=material.id))] == [1]
        slug = material.slug
    assert saved.location.endswith(f"/admin/materials/{material.id}")
    member = login(world.login["m_a2"])
    listing = member.get("/study/").get_data(as_text=True)
    assert "支部工作" in listing and "三会一课" in listing
    reading_page = member.get(f"/study/{slug}").get_data(as_text=True)
    assert "<strong>每季度</strong>" in reading_page and "支部会议" in reading_page
    with app.app_context():
        reading = db.session.get(Reading, (world.user["m_a2"], material.id))
        assert reading.opened_at is not None and reading.completed_at is None and reading.version == 1


def test_the_live_preview_is_rendered_by_the_server_through_the_sanitiser_and_saves_nothing(app, world, login):
    c = login(world.login["org_a"])
    with app.app_context():
        before = _count(Material)
    response = c.post("/admin/materials/preview", data={"body": "**粗**<script>alert(1)</script>[x](javascript:alert(2))"},
                      headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    html = response.get_json()["html"]
    assert "<strong>粗</strong>" in html and "<script" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html.replace("[x](javascript:alert(2))", "")
    fragment = c.post("/admin/materials/preview", data={"body": "# 标题"}).get_data(as_text=True)
    assert "<h1>标题</h1>" in fragment and "<html" not in fragment
    with app.app_context():
        assert _count(Material) == before
    # Members and secretaries have no editor.
    assert login(world.login["m_a1"]).post("/admin/materials/preview", data={"body": "x"}).status_code == 403
    assert login(world.login["sec_a1"]).post("/admin/materials/preview", data={"body": "x"}).status_code == 403


def test_a_changed_save_is_a_new_version_and_the_reading_records_the_version_read(app, world, login, subject_a):
    with app.app_context():
        material = make_material(db.session.get(Subject, subject_a["id"]), db.session.get(Organisation, world.org["a"]),
                                 db.session.get(User, world.user["org_a"]), body="第一版正文")
        mid, slug = material.id, material.slug
    member, organiser = login(world.login["m_a1"]), login(world.login["org_a"])
    member.get(f"/study/{slug}")
    member.post(f"/study/{slug}/done", data={"version": "1"})
    with app.app_context():
        assert db.session.get(Reading, (world.user["m_a1"], mid)).version == 1
    assert organiser.post(f"/admin/materials/{mid}", data=_form("支部工作要点", "第二版正文", subject_a["points"])).status_code == 302
    # Saving the same text again changes the points only: no third version.
    assert organiser.post(f"/admin/materials/{mid}", data=_form("支部工作要点", "第二版正文", subject_a["points"][:1])).status_code == 302
    with app.app_context():
        numbers = sorted(v.number for v in db.session.scalars(select(MaterialVersion).filter_by(material_id=mid)))
        material = db.session.get(Material, mid)
        assert numbers == [1, 2] and material.version == 2 and material.body_md == "第二版正文"
        assert [p.id for p in material.points] == subject_a["points"][:1]
        assert db.session.get(MaterialVersion, db.session.scalar(select(MaterialVersion.id).filter_by(
            material_id=mid, number=2))).author_id == world.user["org_a"]
    page = member.get(f"/study/{slug}").get_data(as_text=True)
    assert "第二版正文" in page and "第一版正文" not in page
    assert "你学完的是第 1 版，资料已更新到第 2 版" in page and "我已学完" in page
    assert "有更新" in member.get("/study/").get_data(as_text=True)
    member.post(f"/study/{slug}/done", data={"version": "2"})
    with app.app_context():
        assert db.session.get(Reading, (world.user["m_a1"], mid)).version == 2
    assert "你已学完这篇资料" in member.get(f"/study/{slug}").get_data(as_text=True)
    old = organiser.get(f"/admin/materials/{mid}/versions/1").get_data(as_text=True)
    assert "第一版正文" in old and "旧版本" in old
    assert organiser.get(f"/admin/materials/{mid}/versions/3").status_code == 404


def test_a_member_who_read_version_1_keeps_it_when_the_page_they_read_was_older(app, world, login, subject_a):
    """The version recorded is the one the member's page showed, not a newer one saved meanwhile."""
    with app.app_context():
        material = make_material(db.session.get(Subject, subject_a["id"]), db.session.get(Organisation, world.org["a"]),
                                 db.session.get(User, world.user["org_a"]))
        mid, slug = material.id, material.slug
    login(world.login["org_a"]).post(f"/admin/materials/{mid}", data=_form("新标题", "新正文", subject_a["points"]))
    member = login(world.login["m_a1"])
    member.post(f"/study/{slug}/done", data={"version": "1"})
    with app.app_context():
        reading = db.session.get(Reading, (world.user["m_a1"], mid))
        assert reading.completed_at is not None and reading.version == 1
    member.post(f"/study/{slug}/done", data={"version": "99"})  # not a version: the current one
    with app.app_context():
        assert db.session.get(Reading, (world.user["m_a1"], mid)).version == 2


@pytest.mark.parametrize(("title", "body", "points", "field", "words"), [
    ("", "正文", "own", "title", "请填写标题"),
    ("标题" * 51, "正文", "own", "title", "不能超过 100 个字"),
    ("标题", "   ", "own", "body", "请填写正文"),
    ("标题", "字" * 50_001, "own", "body", "不能超过 50000 个字"),
    ("标题", "正文", "none", "points", "请至少选择一个知识点"),
    ("标题", "正文", "builtin", "points", "不属于这个主题"),
    ("标题", "正文", "junk", "points", "不属于这个主题"),
])
def test_a_bad_form_is_refused_in_chinese_and_nothing_is_saved(app, world, login, subject_a, title, body, points, field, words):
    with app.app_context():
        builtin_point = db.session.scalar(select(KnowledgePoint.id).where(KnowledgePoint.subject_id == 1,
                                                                          KnowledgePoint.level == PointLevel.POINT))
        before = (_count(Material), _count(MaterialVersion))
    chosen = {"own": subject_a["points"][:1], "none": [], "builtin": [builtin_point], "junk": ["99999999999", "x"]}[points]
    response = login(world.login["org_a"]).post(f"/admin/materials/new?subject={subject_a['id']}", data=_form(title, body, chosen))
    assert response.status_code == 200
    assert words in _messages(response.get_data(as_text=True))
    with app.app_context():
        assert (_count(Material), _count(MaterialVersion)) == before


def test_a_retired_material_leaves_lists_and_new_assignments_and_its_readings_stay(app, world, login, subject_a):
    with app.app_context():
        material = make_material(db.session.get(Subject, subject_a["id"]), db.session.get(Organisation, world.org["a"]),
                                 db.session.get(User, world.user["org_a"]), title="将停用的资料")
        mid, slug = material.id, material.slug
    member, organiser = login(world.login["m_a1"]), login(world.login["org_a"])
    member.post(f"/study/{slug}/done", data={"version": "1"})
    assert f'name="materials" value="{mid}"' in organiser.get("/admin/assignments/new").get_data(as_text=True)
    assert organiser.post(f"/admin/materials/{mid}/retire").status_code == 302
    link, edit_link = f'href="/study/{slug}"', f'href="/admin/materials/{mid}"'
    assert link not in member.get("/study/").get_data(as_text=True)
    assert edit_link not in organiser.get("/admin/materials").get_data(as_text=True)
    assert edit_link in organiser.get("/admin/materials?retired=1").get_data(as_text=True)
    assert f'name="materials" value="{mid}"' not in organiser.get("/admin/assignments/new").get_data(as_text=True)
    task = {"title": "读资料", "kind": "study", "org_id": world.org["a1"], "opens_at": "2030-01-01T08:00",
            "closes_at": "2030-01-08T08:00", "materials": mid, "per_member": "1", "pass_mark": "60",
            "max_attempts": "1", "scoring": "highest", "show_answers": "after_submit"}
    with app.app_context():
        tasks = _count(Assignment)
    organiser.post("/admin/assignments/new", data=task)
    with app.app_context():
        assert _count(Assignment) == tasks
        assert db.session.get(Reading, (world.user["m_a1"], mid)).completed_at is not None
    # A member who has the address (an old task's link) still reads it, told it is retired.
    page = member.get(f"/study/{slug}").get_data(as_text=True)
    assert "这篇资料已停用" in page
    organiser.post(f"/admin/materials/{mid}/retire")  # brought back
    assert link in member.get("/study/").get_data(as_text=True)


def test_built_in_notes_are_the_built_in_subjects_materials_owned_by_the_installation(app, world, login, tmp_path):
    with app.app_context():
        materials.import_notes(DATA / "notes")
        note = db.session.scalar(select(Material).filter_by(slug="c01-test"))
        assert (note.subject_id, note.owner_org_id, note.version) == (1, None, 1)
        # A changed note file is a new version; an unchanged one is not.
        changed = tmp_path / "notes"
        changed.mkdir()
        text = (DATA / "notes" / "c01-test.md").read_text(encoding="utf-8")
        (changed / "c01-test.md").write_text(text.replace("年满**十八岁**", "年满**十八周岁**"), encoding="utf-8")
        materials.import_notes(changed)
        materials.import_notes(changed)
        note = db.session.scalar(select(Material).filter_by(slug="c01-test"))
        assert note.version == 2 and "十八周岁" in note.body_md
    # Organisers read the built-in notes but only admins change them.
    assert login(world.login["org_a"]).get(f"/admin/materials/{note.id}").status_code == 403
    assert login(world.login["admin"]).get(f"/admin/materials/{note.id}").status_code == 200
    assert "十八周岁" in login(world.login["m_b1"]).get("/study/c01-test").get_data(as_text=True)


def test_an_organiser_may_publish_on_the_constitution_to_their_own_committee_only(app, world, login):
    """A committee's material tied to 党章 points: its members read it; another committee's do not."""
    with app.app_context():
        point = db.session.scalar(select(KnowledgePoint.id).where(KnowledgePoint.subject_id == 1,
                                                                   KnowledgePoint.level == PointLevel.POINT))
    c = login(world.login["org_a"])
    page = c.get("/admin/materials/new?subject=1").get_data(as_text=True)
    assert "党委A" in page and "内置资料" not in page  # the owner is the committee, never the built-in set
    assert c.post("/admin/materials/new?subject=1", data={**_form("党章学习心得", "正文", [point]), "owner": ""}).status_code == 302
    with app.app_context():
        material = db.session.scalar(select(Material).filter_by(title="党章学习心得"))
        assert material.owner_org_id == world.org["a"]
    assert "党章学习心得" in login(world.login["m_a3"]).get("/study/").get_data(as_text=True)
    assert "党章学习心得" not in login(world.login["m_b1"]).get("/study/").get_data(as_text=True)
    assert login(world.login["m_b1"]).get(f"/study/{material.slug}").status_code == 404


def test_editor_pages_render_for_an_existing_material(app, world, login, subject_a):
    with app.app_context():
        material = make_material(db.session.get(Subject, subject_a["id"]), db.session.get(Organisation, world.org["a"]),
                                 db.session.get(User, world.user["org_a"]))
        mid = material.id
    c = login(world.login["org_a"])
    page = c.get(f"/admin/materials/{mid}").get_data(as_text=True)
    assert "图片和附件" in page and "停用这篇资料" in page and "第 1 版" in page and 'name="material_id"' in page
    listing = c.get("/admin/materials").get_data(as_text=True)
    assert "支部工作要点" in listing and "写新资料" in listing
    chooser = c.get("/admin/materials/new").get_data(as_text=True)
    assert "支部工作" in chooser and "先选主题" in chooser
