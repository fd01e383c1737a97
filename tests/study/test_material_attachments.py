"""Attachments: images, PDF and audio recognised by content, refused (with a Chinese message, nothing kept)
when too big, of another type behind a right extension, SVG or badly named; served only to those who may
read the material, with headers that keep them from ever running."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import Material, MaterialAttachment, Organisation, Subject, User

from .material_helpers import (
    GIF, HTML, JPEG, M4A, MP3, SVG, WEBP, make_material, make_subject, org_material, pdf, png, stored_files, upload,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def folder(app) -> Path:
    return Path(app.instance_path) / "attachments"


@pytest.fixture
def material_a(app, world) -> int:
    """A material of 党委A with no attachment yet."""
    with app.app_context():
        subject = make_subject(db.session.get(Organisation, world.org["a"]), "支部工作")
        return make_material(subject, subject.owner, db.session.get(User, world.user["org_a"])).id


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(MaterialAttachment))


def _flash(page: str) -> str:
    return " ".join(re.findall(r'<div class="flash flash-error"[^>]*>(.*?)</div>', page, re.S))


@pytest.mark.parametrize(("name", "data", "kind", "mimetype", "shown"), [
    ("党员大会.png", png(), "image", "image/png", "党员大会.png"),
    ("合影.JPEG", JPEG, "image", "image/jpeg", "合影.JPEG"),
    ("动图.gif", GIF, "image", "image/gif", "动图.gif"),
    ("photo.webp", WEBP, "image", "image/webp", "photo.webp"),
    ("条例全文.pdf", pdf(), "pdf", "application/pdf", "条例全文.pdf"),
    ("党课录音.mp3", MP3, "audio", "audio/mpeg", "党课录音.mp3"),
    ("党课录音.m4a", M4A, "audio", "audio/mp4", "党课录音.m4a"),
    # Decided by content: a PDF named .jpg is a PDF, kept and offered as .pdf; a PNG without extension gets one.
    ("扫描件.jpg", pdf(), "pdf", "application/pdf", "扫描件.pdf"),
    ("截图", png(), "image", "image/png", "截图.png"),
])
def test_accepted_files_are_kept_under_a_name_the_app_makes_and_served_safely(
        app, world, login, folder, material_a, name, data, kind, mimetype, shown):
    c = login(world.login["org_a"])
    response = upload(c, material_a, name, data)
    assert response.status_code == 302, _flash(response.get_data(as_text=True))
    with app.app_context():
        item = db.session.scalar(select(MaterialAttachment))
        assert (item.kind, item.mimetype, item.name, item.size) == (kind, mimetype, shown, len(data))
        assert item.sha256 == hashlib.sha256(data).hexdigest()
    files = stored_files(folder)
    assert files == [item.stored_name] and re.fullmatch(r"[0-9a-f]{32}\.(png|jpg|gif|webp|pdf|mp3|m4a)", files[0])
    assert (folder / files[0]).read_bytes() == data
    served = login(world.login["m_a1"]).get(f"/study/attachments/{item.id}")
    assert served.status_code == 200 and served.data == data
    h = served.headers
    assert h["Content-Type"] == mimetype and h["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in [d.strip().split(" ")[0] for d in h["Content-Security-Policy"].split(";")]
    assert "script-src" not in h["Content-Security-Policy"] and "default-src 'none'" in h["Content-Security-Policy"]
    disposition = h["Content-Disposition"]
    assert disposition.startswith("inline; ")
    star = re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1)
    assert unquote(star) == shown and re.fullmatch(r"[\x20-\x7e]+", disposition)  # ASCII on the wire
    plain = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert plain == (shown if shown.isascii() else f"attachment-{item.id}.{files[0].rsplit('.', 1)[1]}")
    cache = h["Cache-Control"]
    assert "private" in cache and "max-age=31536000" in cache and "no-store" not in cache and "public" not in cache
    assert h["ETag"] == f'"{item.sha256}"'
    again = login(world.login["m_a1"]).get(f"/study/attachments/{item.id}", headers={"If-None-Match": h["ETag"]})
    assert again.status_code == 304 and again.data == b""


LONG = "很" * 98 + ".png"  # 102 characters


@pytest.mark.parametrize(("case", "name", "data", "words"), [
    ("oversized image", "大图.png", png() + b"\x00" * (5 * 2**20), "图片不能超过 5 MB"),
    ("html behind .png", "照片.png", HTML, "网页"),
    ("html behind .pdf", "文件.pdf", b"\xef\xbb\xbf  <html><script>alert(1)</script></html>", "网页"),
    ("svg with script", "图标.svg", SVG, "SVG"),
    ("svg behind .png", "图标.png", SVG, "SVG"),
    ("text behind .jpg", "说明.jpg", "这不是图片".encode(), "看不出这是什么文件"),
    ("exe behind .pdf", "setup.pdf", b"MZ\x90\x00" + b"\x00" * 200, "看不出这是什么文件"),
    ("empty file", "空.png", b"", "文件是空的"),
    ("path up", "../../etc/passwd.png", png(), "路径"),
    ("path down", "a/b.png", png(), "路径"),
    # A name in a multipart header is a quoted string: "\\" arrives as one backslash, "\." as a dot.
    ("windows path", "..\\\\..\\\\win.ini.png", png(), "路径"),
    ("escaped dots", "..\\..\\win.ini.png", png(), "句点"),
    ("absolute path", "/tmp/x.png", png(), "路径"),
    ("NUL", "x.png\x00.html", png(), "控制字符"),
    ("newline", "x\r\nSet-Cookie: a=b.png", png(), "请求有误"),  # the multipart parser refuses the request (400)
    ("tab", "x\t.png", png(), "控制字符"),
    ("right-to-left override", "照片\u202egnp.exe", png(), "控制字符"),
    ("very long", LONG, png(), "文件名太长"),
    ("windows device", "CON.png", png(), "设备名"),
    ("windows device, lower case", "nul.tar.pdf", pdf(), "设备名"),
    ("windows device COM1", "com1.png", png(), "设备名"),
    ("windows reserved character", 'a<b>"c".png', png(), "符号"),
    ("trailing dot", "照片.png.", png(), "结尾"),
    ("only dots", "..", png(), "结尾"),
    ("no name", "", png(), "请选择要上传的文件"),
])
def test_refused_uploads_say_why_in_chinese_and_leave_nothing(app, world, login, folder, material_a, case, name, data, words):
    with app.app_context():
        before = _rows()
    response = upload(login(world.login["org_a"]), material_a, name, data)
    page = response.get_data(as_text=True)
    if response.status_code == 400:  # refused by the multipart parser, before the app reads anything
        message = page.split("<h1>")[1].split("</h1>")[0]
    else:
        assert response.status_code == 200, (case, response.status_code)
        message = _flash(page)
    assert CJK.search(message) and words in message, (case, message)
    with app.app_context():
        assert _rows() == before, case
    assert stored_files(folder) == [], case


def test_an_upload_over_the_largest_limit_is_refused_before_it_is_read(app, world, make_app, folder, material_a):
    small = make_app(ATTACHMENT_IMAGE_MB=0.01, ATTACHMENT_PDF_MB=0.02, ATTACHMENT_AUDIO_MB=0.02)
    c = small.test_client()
    assert c.post("/auth/login", data={"identifier": world.login["org_a"], "password": "pass1234"}).status_code == 302
    response = upload(c, material_a, "大文件.pdf", pdf() + b"\x00" * (2 * 2**20))
    assert response.status_code == 413 and "上传的文件太大" in response.get_data(as_text=True)
    # Within the request limit but over the image limit: the image's own message.
    response = upload(c, material_a, "图.png", png() + b"\x00" * 15_000)
    assert response.status_code == 200 and "图片不能超过 10 KB" in _flash(response.get_data(as_text=True))
    with small.app_context():
        assert _rows() == 0
    assert stored_files(folder) == []
    # Other forms keep MAX_CONTENT_LENGTH: the attachment route alone may carry more.
    assert small.config["MAX_CONTENT_LENGTH"] == 5 * 2**20


def test_an_image_placed_in_the_text_shows_and_a_removed_one_is_gone(app, world, login, folder, material_a):
    c = login(world.login["org_a"])
    upload(c, material_a, "示意图.png", png())
    with app.app_context():
        item = db.session.scalar(select(MaterialAttachment))
    edit = c.get(f"/admin/materials/{material_a}").get_data(as_text=True)
    assert f"![示意图](attachment:{item.id})" in edit and "插入正文" in edit
    c.post(f"/admin/materials/{material_a}", data={"title": "支部工作要点", "body": f"看图：\n\n![示意图](attachment:{item.id})",
                                                   "points": [p for p in _points(app, material_a)], "action": "save"})
    member = login(world.login["m_a1"])
    with app.app_context():
        slug = db.session.get(MaterialAttachment, item.id).material.slug
    assert f'<img src="/study/attachments/{item.id}" alt="示意图"' in member.get(f"/study/{slug}").get_data(as_text=True)
    assert c.post(f"/admin/materials/{material_a}/attachments/{item.id}/remove").status_code == 302
    assert stored_files(folder) == []
    assert member.get(f"/study/attachments/{item.id}").status_code == 404
    page = member.get(f"/study/{slug}").get_data(as_text=True)
    assert "<img" not in page.split('<article class="prose">')[1].split("</article>")[0] and "[图片：示意图]" in page


def _points(app, material_id: int) -> list[int]:
    with app.app_context():
        return [p.id for p in db.session.get(Material, material_id).points]


def test_pdf_and_audio_are_listed_at_the_end_of_the_reading_page(app, world, login, material_a):
    c = login(world.login["org_a"])
    upload(c, material_a, "条例全文.pdf", pdf())
    upload(c, material_a, "党课录音.mp3", MP3)
    with app.app_context():
        ids = list(db.session.scalars(select(MaterialAttachment.id).order_by(MaterialAttachment.id)))
        slug = db.session.get(Material, material_a).slug
    page = login(world.login["m_a2"]).get(f"/study/{slug}").get_data(as_text=True)
    assert f'<a href="/study/attachments/{ids[0]}">条例全文.pdf</a>' in page
    assert f'<audio controls preload="none" src="/study/attachments/{ids[1]}">' in page


def test_another_committee_gets_404_on_every_material_and_attachment_address(app, world, login, folder):
    """党委B's organiser, secretary and member: every URL naming 党委A's material or its files is 404 (for the
    secretary and the member, the organisers' pages are 403 whatever the id, as every organiser page is);
    the same URLs answer 党委A's people (the control)."""
    with app.app_context():
        a = org_material(db.session.get(Organisation, world.org["a"]), db.session.get(User, world.user["org_a"]),
                         folder, "支部工作")
    gets = [f"/study/{a.slug}", f"/study/attachments/{a.image}", f"/study/attachments/{a.pdf}",
            f"/admin/materials/{a.material}", f"/admin/materials/{a.material}/versions/1",
            f"/admin/materials/new?subject={a.subject}"]
    posts = [(f"/study/{a.slug}/done", {}), (f"/admin/materials/{a.material}", {"title": "改", "body": "改", "points": a.points}),
             (f"/admin/materials/{a.material}/retire", {}),
             (f"/admin/materials/{a.material}/attachments/{a.image}/remove", {}),
             ("/admin/materials/preview", {"body": "x", "material_id": a.material}),
             (f"/admin/materials/new?subject={a.subject}", {"title": "改", "body": "改", "points": a.points})]
    with app.app_context():
        before = (_rows(), db.session.get(Subject, a.subject).name, db.session.get(Material, a.material).version)

    def expected(who: str, url: str) -> int:
        return 403 if who != "org_b" and url.startswith("/admin/") else 404

    for who in ("org_b", "sec_b1", "m_b1"):
        c = login(world.login[who])
        for url in gets:
            assert c.get(url).status_code == expected(who, url), (who, url)
        for url, data in posts:
            assert c.post(url, data=data).status_code == expected(who, url), (who, url)
        assert upload(c, a.material, "x.png", png()).status_code == expected(who, "/admin/")
        assert f"/study/{a.slug}" not in c.get("/study/").get_data(as_text=True)
    with app.app_context():
        assert (_rows(), db.session.get(Subject, a.subject).name, db.session.get(Material, a.material).version) == before
        assert db.session.get(Material, a.material).retired_at is None
    assert len(stored_files(folder)) == 2
    # The controls: 党委A's member of another branch reads it all; its organiser edits it.
    member = login(world.login["m_a3"])
    assert all(member.get(url).status_code == 200 for url in gets[:3])
    organiser = login(world.login["org_a"])
    assert all(organiser.get(url).status_code == 200 for url in gets)
