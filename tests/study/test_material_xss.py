"""What an organiser writes can never run in a member's page: Markdown goes through the parser with HTML off
and the sanitiser, images load only from this material's own attachments."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from learnhub.extensions import db
from learnhub.models import Material, Organisation, User

from .material_helpers import org_material

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "script in a heading": "## 标题<script>alert(1)</script>",
    "img onerror": '<img src=x onerror="alert(2)">',
    "svg onload": "<svg onload=alert(3)>",
    "javascript link": "[点我](javascript:alert(4))",
    "javascript link, escaped": "[点我](jav&#x09;ascript:alert(5))",
    "vbscript link": "[点我](vbscript:msgbox(6))",
    "data link": "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==)",
    "javascript image": "![图](javascript:alert(8))",
    "data image": "![图](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoOSk+)",
    "outside image": "![图](https://evil.example/track.png)",
    "relative image": "![图](/admin/members)",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style": "<style>body{display:none}</style>",
    "link with onclick": '<a href="#" onclick="alert(10)">x</a>',
    "autolink javascript": "<javascript:alert(11)>",
    "html attribute breakout": '![x" onerror="alert(12)](attachment:1)',
}


def _article(page: str) -> str:
    return page.split('<article class="prose">')[1].split("</article>")[0]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))


def _scheme(url: str) -> str | None:
    """The scheme a browser reads in a URL (tabs and newlines removed, as the URL standard does), or None
    for a relative URL."""
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", re.sub(r"[\t\n\r]", "", url).lstrip("\x00 "))
    return match.group(1).lower() if match else None


def _dangerous(html: str) -> list[str]:
    """Every element or attribute of rendered HTML that could run script or load from elsewhere."""
    parser = _Elements()
    parser.feed(html)
    found = []
    for tag, attrs in parser.elements:
        if tag in {"script", "iframe", "svg", "style", "object", "embed", "form", "input", "link", "meta", "base"}:
            found.append(tag)
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on") or name in ("style", "srcset", "formaction"):
                found.append(f"{tag} {name}")
            elif name == "src" and not re.fullmatch(r"/study/attachments/\d+", value):
                found.append(f"{tag} src={value}")
            elif name == "href" and _scheme(value) not in (None, "http", "https", "mailto"):
                found.append(f"{tag} href={value}")
    return found


@pytest.fixture
def two(app, world):
    """党委A's material (image + PDF) and 党委B's, with their attachment ids."""
    folder = Path(app.instance_path) / "attachments"
    with app.app_context():
        a = org_material(db.session.get(Organisation, world.org["a"]), db.session.get(User, world.user["org_a"]),
                         folder, "支部工作")
        b = org_material(db.session.get(Organisation, world.org["b"]), db.session.get(User, world.user["org_b"]),
                         folder, "乙委专题")
    return a, b


def _write(app, material_id: int, body: str) -> None:
    with app.app_context():
        material = db.session.get(Material, material_id)
        material.body_md = body
        db.session.commit()


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_nothing_an_organiser_writes_runs_in_a_members_page_or_the_preview(app, world, login, two, name):
    a, _ = two
    body = f"正文开头\n\n{PAYLOADS[name]}\n\n![示意图](attachment:{a.image})"
    _write(app, a.material, body)
    html = _article(login(world.login["m_a1"]).get(f"/study/{a.slug}").get_data(as_text=True))
    assert not _dangerous(html), (name, html)
    assert f'<img src="/study/attachments/{a.image}"' in html  # the control: this material's image shows
    preview = login(world.login["org_a"]).post("/admin/materials/preview", data={"body": body, "material_id": a.material},
                                               headers={"Accept": "application/json"}).get_json()["html"]
    assert not _dangerous(preview), (name, preview)


def test_an_attachment_of_another_material_is_never_shown(app, world, login, two):
    """党委A's text naming 党委B's image and PDF: not resolved (text only), so nothing of B's loads or links."""
    a, b = two
    body = f"![乙的图](attachment:{b.image})\n\n[乙的文件](attachment:{b.pdf})\n\n![用PDF当图](attachment:{a.pdf})"
    _write(app, a.material, body)
    html = _article(login(world.login["m_a1"]).get(f"/study/{a.slug}").get_data(as_text=True))
    assert f"/study/attachments/{b.image}" not in html and f"/study/attachments/{b.pdf}" not in html
    assert "[图片：乙的图]" in html and "乙的文件" in html and "<img" not in html
    preview = login(world.login["org_a"]).post("/admin/materials/preview", data={"body": body, "material_id": a.material},
                                               headers={"Accept": "application/json"}).get_json()["html"]
    assert f"/study/attachments/{b.image}" not in preview and "<img" not in preview
    # Naming 党委B's material in the preview is 404, not a way to see its images.
    assert login(world.login["org_a"]).post("/admin/materials/preview",
                                            data={"body": body, "material_id": b.material}).status_code == 404


def test_the_title_and_file_names_are_escaped(app, world, login, two):
    a, _ = two
    with app.app_context():
        material = db.session.get(Material, a.material)
        material.title = "<script>alert(1)</script>标题"
        db.session.commit()
    for page in (login(world.login["m_a1"]).get(f"/study/{a.slug}"), login(world.login["org_a"]).get(f"/admin/materials/{a.material}")):
        text = page.get_data(as_text=True)
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
