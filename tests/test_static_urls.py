"""Static files are linked with a hash of their content, so nginx may let phones cache them for a year."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from flask import url_for


def test_pages_link_css_and_js_by_a_hash_of_their_content(client, app):
    page = client.get("/auth/login").get_data(as_text=True)
    css = (Path(app.static_folder) / "css" / "app.css").read_bytes()
    assert f'/static/css/app.css?v={hashlib.sha256(css).hexdigest()[:12]}"' in page
    assert re.search(r'/static/js/forms\.js\?v=[0-9a-f]{12}"', page)
    linked = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)
    assert client.get(linked).data == css


def test_a_changed_file_gets_a_new_address_and_a_missing_one_none(app, tmp_path):
    folder = tmp_path / "static"
    shutil.copytree(app.static_folder, folder)
    app.static_folder = str(folder)
    with app.test_request_context():
        before = url_for("static", filename="css/app.css")
        (folder / "css" / "app.css").write_text("body { color: red }\n")
        after = url_for("static", filename="css/app.css")
        assert before != after and after.startswith("/static/css/app.css?v=")
        assert url_for("static", filename="css/none.css") == "/static/css/none.css"
