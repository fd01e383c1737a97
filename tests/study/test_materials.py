"""Members read study notes: Markdown rendered safely, reading recorded."""

from __future__ import annotations

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Material, Reading
from learnhub.services.study import materials

from ..conftest import DATA


def load_notes(app):
    with app.app_context():
        materials.import_notes(DATA / "notes")


def test_reading_is_recorded_and_can_be_marked_done(app, world, login):
    load_notes(app)
    c = login(world.login["m_a1"])
    assert "第一章 党员（测试）" in c.get("/study/").get_data(as_text=True)
    page = c.get("/study/c01-test").get_data(as_text=True)
    assert "<strong>十八岁</strong>" in page and "我已学完" in page
    with app.app_context():
        reading = db.session.scalar(select(Reading))
        assert reading.opened_at is not None and reading.completed_at is None
    c.post("/study/c01-test/done")
    assert "你已学完这篇资料" in c.get("/study/c01-test").get_data(as_text=True)
    assert "已学完" in c.get("/study/").get_data(as_text=True)


def test_markdown_scripts_and_handlers_render_inert(app, world, login):
    load_notes(app)
    page = login(world.login["m_a1"]).get("/study/c01-test").get_data(as_text=True)
    body = page.split('<article class="prose">')[1].split("</article>")[0]
    assert "<script" not in body and "<img" not in body and 'href="javascript' not in body
    assert "&lt;script&gt;" in body  # shown as text, never run


def test_notes_import_is_idempotent_and_refuses_unknown_points(app, world, tmp_path):
    load_notes(app)
    load_notes(app)
    with app.app_context():
        assert len(db.session.scalars(select(Material)).all()) == 1
        (tmp_path / "x.md").write_text("---\nslug: x\ntitle: X\npoints: [没有这个点]\n---\n正文", encoding="utf-8")
        try:
            materials.import_notes(tmp_path)
        except materials.ServiceError as exc:
            assert "没有这个点" in str(exc)
        else:
            raise AssertionError("unknown point accepted")


def test_unknown_material_is_404(world, login):
    assert login(world.login["m_a1"]).get("/study/nope").status_code == 404
