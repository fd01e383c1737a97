"""An organiser writes a material on a 360×640 phone: the live preview follows the typing, an uploaded
image goes into the text with 插入正文, and a member reads the page with the image; without script the
预览 button still shows the preview."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Material, MaterialAttachment, Organisation, Reading

from ..study.material_helpers import make_subject, pdf, png
from .test_phone_flows import log_in

pytestmark = pytest.mark.browser
# The end of the text and the preview on one screen, below the sticky top bar.
_SHOW_PREVIEW = "window.scrollTo(0, document.getElementById('preview-box').getBoundingClientRect().top + scrollY - 330)"


@pytest.fixture
def subject_id(app, world) -> int:
    with app.app_context():
        subject = make_subject(db.session.get(Organisation, world.org["a"]), "支部工作")
        db.session.commit()
        return subject.id


def test_an_organiser_writes_with_a_live_preview_and_a_member_reads_it_with_the_image(
        app, world, live_server, small, subject_id, tmp_path):
    page = small
    log_in(page, live_server, world.login["org_a"])
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto(f"{live_server}/admin/materials/new?subject={subject_id}")
    page.fill("#title", "三会一课制度要点")
    page.locator("#body").type("## 支部党员大会\n\n一般**每季度**召开一次。\n\n- 讨论发展党员\n- 评议党员", delay=5)
    preview = page.locator("#preview .prose")
    preview.locator("strong", has_text="每季度").wait_for()  # the server's rendering, without a click
    assert preview.locator("li").count() == 2
    page.locator("label.check", has_text="支部会议").click()
    page.evaluate(_SHOW_PREVIEW)
    page.shot("1-editor-live-preview", full=False)
    page.click("button[value=save]")
    page.wait_for_url("**/admin/materials/*")
    assert "第 1 版" in page.content()

    # An image and a PDF, then the image into the text where the cursor is.
    image, doc = tmp_path / "支部大会合影.png", tmp_path / "制度全文.pdf"
    image.write_bytes(png(120, 60, (196, 40, 40)))
    doc.write_bytes(pdf("Party branch rules"))
    for path in (image, doc):
        page.set_input_files("#file", str(path))
        page.click("form[data-upload] button[type=submit]")
        page.wait_for_url("**#files")
    with app.app_context():
        material = db.session.scalar(select(Material).filter_by(title="三会一课制度要点"))
        picture = db.session.scalar(select(MaterialAttachment).filter_by(kind="image"))
        slug, mid = material.slug, material.id
    page.locator("#body").click()
    page.keyboard.press("Control+End")
    page.locator(f'[data-insert="![支部大会合影](attachment:{picture.id})"]').click()
    assert f"![支部大会合影](attachment:{picture.id})" in page.input_value("#body")
    page.locator(f'#preview img[src="/study/attachments/{picture.id}"]').wait_for()
    page.evaluate(_SHOW_PREVIEW)
    page.shot("2-editor-image-in-preview", full=False)
    page.shot("2b-editor-full")
    with page.expect_navigation():  # the address keeps its #files: a redirect inherits the fragment
        page.click("button[value=save]")
    assert "已保存为第 2 版" in page.content()

    # The member reads version 2, the image loaded (its natural width is the PNG's), the PDF listed.
    page.context.clear_cookies()
    log_in(page, live_server, world.login["m_a1"])
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto(f"{live_server}/study/")
    page.click("text=三会一课制度要点")
    img = page.locator("article.prose img")
    img.wait_for()
    assert page.evaluate("i => i.complete && i.naturalWidth", img.element_handle()) == 120
    assert page.locator("#files a", has_text="制度全文.pdf").count() == 1
    page.shot("3-member-reads-with-image")
    page.click("button:has-text('我已学完')")
    page.wait_for_load_state()
    with app.app_context():
        reading = db.session.get(Reading, (world.user["m_a1"], mid))
        assert reading.completed_at is not None and reading.version == 2


def test_without_script_the_preview_button_shows_the_preview(browser, app, world, live_server, subject_id):
    context = browser.new_context(viewport={"width": 360, "height": 640}, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, live_server, world.login["org_a"])
        page.wait_for_url(lambda url: "/auth/login" not in url)
        page.goto(f"{live_server}/admin/materials/new?subject={subject_id}")
        assert page.locator("#preview-box").is_hidden()
        page.fill("#title", "无脚本预览")
        page.fill("#body", "正文里有**重点**。")
        page.click("button[value=preview]")
        page.locator("#preview strong", has_text="重点").wait_for()
        assert page.input_value("#body") == "正文里有**重点**。" and page.input_value("#title") == "无脚本预览"
        with app.app_context():
            assert db.session.scalar(select(Material).filter_by(title="无脚本预览")) is None
    finally:
        context.close()
