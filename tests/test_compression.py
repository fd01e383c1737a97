"""Pages, CSS and JS reach a phone compressed when its browser accepts it; tiny replies are left alone."""

from __future__ import annotations

import gzip
import zlib

from .quiz.test_taking import start


def test_quiz_page_and_its_assets_are_sent_compressed(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    plain = c.get(f"/quiz/attempts/{attempt_id}")
    packed = c.get(f"/quiz/attempts/{attempt_id}", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    page = gzip.decompress(packed.data).decode()
    assert 'data-save-url' in page and len(packed.data) < len(plain.data) / 2
    for asset in ("/static/css/app.css", "/static/js/quiz.js"):
        raw = c.get(asset).data
        sent = c.get(asset, headers={"Accept-Encoding": "gzip, deflate"})
        assert sent.headers["Content-Encoding"] in ("gzip", "deflate")
        body = gzip.decompress(sent.data) if sent.headers["Content-Encoding"] == "gzip" else zlib.decompress(sent.data)
        assert body == raw and len(sent.data) < len(raw)


def test_an_answer_save_reply_is_too_small_to_compress(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = start(c, world.assignment_a)
    r = c.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": 1, "answer": 0, "seq": 1},
               headers={"Accept-Encoding": "gzip"})
    assert r.json["ok"] is True and "Content-Encoding" not in r.headers
