"""Several pages of one paper, and pages that outlive their session (issue 17, rows 1-3).

- A hand-in from a page that is behind (an untouched tab, a second phone) never erases answers stored
  since it was shown: each answer it carries goes through the saves' "newer wins" rule with the seq it
  had on the page, and a blank never replaces a stored answer.
- An open paper saves and hands in after the session cookie is gone (SESSION_HOURS): the page's own
  token names the attempt and the device's login, and is checked as the session would be: a device
  signed out, a password changed, or a token of another paper gets nothing stored.
- The paper's state (GET .../state) tells a page what the server holds, seq included, so a page whose
  answer lost to a newer one can show the newer one.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Attempt, DeviceSession, Response, User

from ..conftest import DATA
from ..security.conftest import login_with_token
from .helpers import attempt_id_from, paper, shown_answer

JSON = {"Accept": "application/json"}
T0 = 1_780_000_000_000_000  # a seq as pages number answers: server milliseconds x 1000 + page id


def page_of(client, attempt_id: int) -> dict:
    """What the paper's page holds: its hidden fields (seqs, token) and its data attributes."""
    html = client.get(f"/quiz/attempts/{attempt_id}").get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return {"fields": fields, "token": fields.get("attempt_token"),
            "server_ms": int(re.search(r'data-server-ms="(\d+)"', html).group(1))}


def stored(app, attempt_id: int) -> dict[int, list]:
    """position -> the stored answer (canonical), for the answered positions."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        rows = {r.question_id: r.answer for r in db.session.scalars(select(Response).where(Response.attempt_id == attempt_id))}
        return {pos: rows[e["q"]] for pos, e in enumerate(attempt.paper, start=1) if rows.get(e["q"])}


def score_of(app, attempt_id: int) -> float | None:
    with app.app_context():
        return db.session.get(Attempt, attempt_id).score


def hand_in_body(answers: dict[int, object], seqs: dict[int, int], extra: dict | None = None) -> dict:
    body = {"shown": ",".join(str(p) for p in answers), **(extra or {})}
    for pos, value in answers.items():
        body[f"q{pos}"] = [str(x) for x in value] if isinstance(value, list) else [str(value)]
        body[f"s{pos}"] = str(seqs.get(pos, 0))
    return body


@pytest.fixture
def two_phones(app, world, login):
    """One member signed in on two phones, with the paper open on both: (phone A, phone B, attempt id)."""
    a = login(world.login["m_a1"])
    attempt_id = attempt_id_from(a.post(f"/quiz/{world.assignment_a}/start").location)
    b = login(world.login["m_a1"])
    return a, b, attempt_id


# ---- row 1: a hand-in from a page that is behind ------------------------------------------------------


def test_an_untouched_page_handing_in_keeps_the_answers_another_phone_saved(app, two_phones):
    a, b, attempt_id = two_phones
    shown_on_a = page_of(a, attempt_id)["fields"]  # phone A's page, opened before any answer
    items = paper(app, attempt_id)
    for n, (pos, q, perm) in enumerate(items):
        r = b.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": T0 + n})
        assert r.json["saved"] is True
    # Phone A's timer runs out: its form posts every position as shown, blanks and seqs of 0.
    body = {"shown": shown_on_a["shown"], **{k: v for k, v in shown_on_a.items() if k.startswith("s")}}
    r = a.post(f"/quiz/attempts/{attempt_id}/submit", data=body, headers=JSON)
    assert r.status_code == 200 and r.json["notice"] is None
    assert score_of(app, attempt_id) == 100.0
    assert len(stored(app, attempt_id)) == len(items)


def test_a_stale_page_handing_in_its_older_answers_loses_to_the_newer_ones(app, two_phones):
    a, b, attempt_id = two_phones
    items = paper(app, attempt_id)
    wrong = {pos: shown_answer(q, perm, right=False) for pos, q, perm in items}
    for pos, value in wrong.items():  # phone A answered everything wrongly first ...
        assert a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": value, "seq": T0 + pos}).json["saved"]
    for pos, q, perm in items:  # ... then phone B corrected every answer, later
        b.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": T0 + 1000 + pos})
    r = a.post(f"/quiz/attempts/{attempt_id}/submit", data=hand_in_body(wrong, {p: T0 + p for p in wrong}), headers=JSON)
    assert score_of(app, attempt_id) == 100.0
    assert r.json["notice"].startswith("第 1、2、3、4、5 题的答案在另一页面") and "已按更新的答案计分" in r.json["notice"]


def test_a_hand_in_stores_what_the_page_gave_after_its_last_save(app, two_phones):
    a, _, attempt_id = two_phones
    (pos, q, perm), *_ = paper(app, attempt_id)
    a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, right=False), "seq": T0})
    r = a.post(f"/quiz/attempts/{attempt_id}/submit", headers=JSON,
               data=hand_in_body({pos: shown_answer(q, perm)}, {pos: T0 + 5000}))  # given later, never saved
    assert r.json["notice"] is None
    assert score_of(app, attempt_id) == 20.0  # one right answer of five


def test_a_page_without_javascript_changes_a_saved_answer_at_hand_in(app, two_phones):
    """The form carries the seq each answer had when shown: an answer changed on that page (equal seq) is written."""
    a, _, attempt_id = two_phones
    (pos, q, perm), *_ = paper(app, attempt_id)
    a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, right=False), "seq": T0})
    shown = page_of(a, attempt_id)["fields"]
    assert shown[f"s{pos}"] == str(T0)
    a.post(f"/quiz/attempts/{attempt_id}/submit", data=hand_in_body({pos: shown_answer(q, perm)}, {pos: T0}))
    assert score_of(app, attempt_id) == 20.0


def test_a_blank_never_replaces_a_stored_answer(app, two_phones):
    a, b, attempt_id = two_phones
    items = paper(app, attempt_id)
    fill = next((pos, q, perm) for pos, q, perm in items if q.kind.value == "fill")
    choice = next((pos, q, perm) for pos, q, perm in items if q.kind.value in ("single", "multiple"))
    for pos, q, perm in (fill, choice):
        b.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": T0 + pos})
    blanks = {fill[0]: [""] * len(fill[1].answer), choice[0]: []}
    a.post(f"/quiz/attempts/{attempt_id}/submit", data=hand_in_body(blanks, {p: T0 + 9999 for p in blanks}), headers=JSON)
    assert score_of(app, attempt_id) == 40.0


# ---- row 2: saves and the hand-in outlive the session cookie -----------------------------------------


@pytest.fixture
def csrf_app(app, world, make_app):
    """The world's database served with CSRF protection on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True, QUESTIONS_DIR=str(DATA / "bank"), NOTES_DIR=str(DATA / "notes"))


@pytest.fixture
def open_paper(csrf_app, world):
    """A member with the paper open in a browser whose session cookie then expired: (app, client, attempt, page)."""
    client = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    home = client.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    attempt_id = attempt_id_from(client.post(f"/quiz/{world.assignment_a}/start", data={"csrf_token": token}).location)
    page = page_of(client, attempt_id)
    client.delete_cookie(csrf_app.config["SESSION_COOKIE_NAME"])  # the browser drops it after SESSION_HOURS
    assert client.get("/").status_code == 302  # signed out as far as pages go
    return csrf_app, client, attempt_id, page


def test_an_open_paper_saves_and_hands_in_after_the_session_cookie_expired(open_paper):
    app, client, attempt_id, page = open_paper
    items = paper(app, attempt_id)
    for n, (pos, q, perm) in enumerate(items[:4]):
        r = client.post(f"/quiz/attempts/{attempt_id}/answers", headers={"X-Attempt-Token": page["token"]},
                        json={"position": pos, "answer": shown_answer(q, perm), "seq": T0 + n})
        assert r.status_code == 200 and r.json["saved"] is True
    pos, q, perm = items[4]
    r = client.post(f"/quiz/attempts/{attempt_id}/submit", headers=JSON,
                    data=hand_in_body({pos: shown_answer(q, perm)}, {pos: T0 + 10}, {"attempt_token": page["token"]}))
    assert r.status_code == 200 and r.json["url"].endswith("/review")
    assert score_of(app, attempt_id) == 100.0


def test_a_save_with_its_token_leaves_the_session_cookie_alone_and_pages_still_read_it(csrf_app, world):
    """A paper's token makes the session unneeded for a save: the cookie is neither decoded nor re-sent
    (learnhub/lazy_session.py); a page asked with the same header still reads it and slides it."""
    client = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    home = client.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    attempt_id = attempt_id_from(client.post(f"/quiz/{world.assignment_a}/start", data={"csrf_token": token}).location)
    page = page_of(client, attempt_id)
    pos, q, perm = paper(csrf_app, attempt_id)[0]
    r = client.post(f"/quiz/attempts/{attempt_id}/answers", headers={"X-Attempt-Token": page["token"]},
                    json={"position": pos, "answer": shown_answer(q, perm), "seq": T0})
    assert r.status_code == 200 and r.json["saved"] is True
    assert "Set-Cookie" not in r.headers and "Cookie" not in r.headers.get("Vary", "")
    assert list(stored(csrf_app, attempt_id)) == [pos]
    again = client.get(f"/quiz/attempts/{attempt_id}", headers={"X-Attempt-Token": page["token"]})
    assert again.status_code == 200 and "session=" in again.headers.get("Set-Cookie", "")


def test_without_its_token_an_expired_page_is_refused_and_nothing_is_stored(open_paper):
    app, client, attempt_id, _ = open_paper
    r = client.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": 1, "answer": "0", "seq": T0})
    assert r.status_code == 400  # no CSRF token, no session: the CSRF check refuses it
    assert stored(app, attempt_id) == {}


@pytest.mark.parametrize("what", ["forged", "another paper", "device signed out", "password changed", "account disabled"])
def test_a_token_is_only_as_good_as_the_login_it_was_issued_for(open_paper, world, what):
    app, client, attempt_id, page = open_paper
    token = page["token"]
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        if what == "forged":
            token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        elif what == "another paper":
            attempt_id += 1000
        elif what == "device signed out":
            db.session.execute(DeviceSession.__table__.delete().where(DeviceSession.user_id == member.id))
        elif what == "password changed":
            member.session_version += 1
        else:
            member.active = False
        db.session.commit()
    save = client.post(f"/quiz/attempts/{attempt_id}/answers", headers={"X-Attempt-Token": token},
                       json={"position": 1, "answer": "0", "seq": T0})
    hand_in = client.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": "1", "q1": "0", "s1": str(T0), "attempt_token": token})
    state = client.get(f"/quiz/attempts/{attempt_id}/state", headers={"X-Attempt-Token": token})
    for response in (save, hand_in, state):
        assert response.status_code in (302, 400)  # to the login page, or the CSRF refusal without a valid token
        if response.status_code == 302:
            assert "/auth/login" in response.location
    assert stored(app, open_paper[2]) == {}
    with app.app_context():
        assert db.session.get(Attempt, open_paper[2]).is_finished is False


def test_a_token_signs_nothing_in_for_the_rest_of_the_site(open_paper):
    _, client, attempt_id, page = open_paper
    r = client.get("/", headers={"X-Attempt-Token": page["token"]})
    assert r.status_code == 302 and "/auth/login" in r.location


def test_someone_elses_token_is_refused_by_the_members_own_attempt(csrf_app, world):
    """A token names one member and one paper: another member's cannot save into it."""
    other = login_with_token(csrf_app.test_client(), world.login["m_a1b"])
    home = other.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    theirs = attempt_id_from(other.post(f"/quiz/{world.assignment_a}/start", data={"csrf_token": csrf}).location)
    their_token = page_of(other, theirs)["token"]
    mine = login_with_token(csrf_app.test_client(), world.login["m_a1"])
    home = mine.get(f"/quiz/{world.assignment_a}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    my_attempt = attempt_id_from(mine.post(f"/quiz/{world.assignment_a}/start", data={"csrf_token": csrf}).location)
    r = mine.post(f"/quiz/attempts/{my_attempt}/answers", headers={"X-Attempt-Token": their_token},
                  json={"position": 1, "answer": "0", "seq": T0})
    assert r.status_code == 400  # not this paper's token, and no CSRF token
    assert stored(csrf_app, my_attempt) == {}


# ---- row 3: the state a page refreshes itself from ----------------------------------------------------


def test_a_page_whose_answer_lost_reads_the_newer_one_from_the_state(app, two_phones):
    a, b, attempt_id = two_phones
    (pos, q, perm), *_ = paper(app, attempt_id)
    newer = b.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": T0 + 2000})
    older = a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm, right=False), "seq": T0 + 1000})
    assert newer.json["saved"] is True and older.json == {"ok": True, "saved": False, "last_seq": T0 + 2000, "feedback": None}
    state = a.get(f"/quiz/attempts/{attempt_id}/state").json
    right = shown_answer(q, perm)
    assert state["answers"][str(pos)] == {"answer": right if isinstance(right, list) else [right], "seq": T0 + 2000}
    assert state["finished"] is False and 0 < state["seconds_left"] and state["server_ms"] > 0


def test_the_state_of_a_handed_in_paper_points_to_the_result(app, two_phones):
    a, b, attempt_id = two_phones
    b.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": ""}, headers=JSON)
    assert a.get(f"/quiz/attempts/{attempt_id}/state").json == {"finished": True, "url": f"/quiz/attempts/{attempt_id}/review"}


def test_seqs_as_pages_number_them_fit_the_database(app, two_phones):
    """Server milliseconds x 1000 + page id is past 32 bits: stored and compared exactly (BIGINT on PostgreSQL)."""
    a, _, attempt_id = two_phones
    (pos, q, perm), *_ = paper(app, attempt_id)
    ms = page_of(a, attempt_id)["server_ms"]
    for seq in (ms * 1000 + 7, ms * 1000 + 8):
        assert a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": seq}).json["saved"]
    assert a.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": pos, "answer": shown_answer(q, perm), "seq": ms * 1000 + 7}).json["saved"] is False
