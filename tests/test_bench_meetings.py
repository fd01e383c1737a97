"""bench/meetings*.py, `python -m bench meetings`: the rules its phones follow (as meeting.js), its accounting
(lags, lost answers), and that the sessions it signs and the pages it reads work against the app itself.
Counts and contents only, never speed."""

from __future__ import annotations

import json
import math
import random

import pytest
from flask import url_for

from bench import meetings as bench_meetings
from bench.meetings_client import answer_value, form_token, lags, next_wait, page_fields, stats
from bench.meetings_setup import _sign_in
from learnhub.extensions import db
from learnhub.models import User

from .meetings.helpers import make_meeting


def test_the_next_poll_waits_as_long_as_the_server_says_give_or_take_a_tenth():
    rng = random.Random(1)
    waits = [next_wait({"x-poll-after": ["4000"]}, 1500, rng) for _ in range(500)]
    assert 3.6 <= min(waits) < 3.7 and 4.3 < max(waits) <= 4.4


@pytest.mark.parametrize("headers", [{}, {"x-poll-after": ["soon"]}, {"x-poll-after": ["0"]}])
def test_without_a_usable_poll_after_the_phone_keeps_meeting_js_interval(headers):
    rng = random.Random(2)
    waits = [next_wait(headers, 1500, rng) for _ in range(200)]
    assert all(1.35 <= w <= 1.65 for w in waits)


@pytest.mark.parametrize("kind", ["single", "multiple", "truefalse"])
def test_answers_take_the_form_meeting_js_sends_and_a_changed_mind_differs(kind):
    rng = random.Random(3)
    question = {"kind": kind, "labels": ["对", "错"] if kind == "truefalse" else ["A", "B", "C", "D"]}
    for _ in range(50):
        first = answer_value(question, rng)
        second = answer_value(question, rng, first)
        assert second != first
        if kind == "truefalse":
            assert first in ("true", "false")
        elif kind == "single":
            assert type(first) is int and 0 <= first < 4
        else:
            assert first == sorted(set(first)) and first and set(first) <= {0, 1, 2, 3}


def test_the_lag_counts_from_next_for_phones_already_on_their_page_and_never_below_zero():
    opened = {(1, 1): 100.0, (1, 2): 150.0}
    seen = [(1, 1, 100.5, 90.0), (1, 1, 101.5, 95.0), (1, 1, 99.9, 80.0),  # seen just before the 302 arrived
            (1, 1, 102.0, 100.2),  # this phone's page loaded after `next`: its wait is not the poll's
            (1, 2, 151.0, 90.0), (2, 1, 5.0, 1.0)]  # a question whose `next` failed: no lag either
    found, left_out = lags(opened, seen)
    assert sorted(found) == pytest.approx([0.0, 0.5, 1.0, 1.5]) and left_out == 2


def test_percentiles_are_nearest_rank_in_milliseconds():
    summary = stats([0.001 * n for n in range(1, 101)])
    assert (summary["count"], summary["p50_ms"], summary["p95_ms"], summary["p99_ms"], summary["max_ms"]) == \
        (100, pytest.approx(50), pytest.approx(95), pytest.approx(99), pytest.approx(100))
    assert math.isnan(stats([])["p99_ms"])


def test_an_acknowledged_answer_missing_or_stored_older_is_a_loss():
    acked = {"1 1 7": 20, "1 1 8": 30, "1 2 7": 40}
    stored = {"1 1 7": 20, "1 1 8": 25, "1 1 9": 10}
    result = bench_meetings.check(acked, stored)
    assert (result["missing"], result["older"], result["stored_not_acknowledged"]) == (1, 1, 1)
    assert set(result["examples"]) == {"1 2 7", "1 1 8"}
    assert bench_meetings.check(acked, {**acked, "1 1 8": 31})["missing"] == 0


def test_a_page_without_a_token_leaves_the_answer_to_the_csrf_header():
    html = ('<meta name="csrf-token" content="abc"><div class="phone" id="phone" data-role="phone" '
            'data-state-url="/meetings/5/phone/state" data-answer-url="/meetings/5/answer">')
    assert page_fields(html) == {"csrf": "abc", "state": "/meetings/5/phone/state", "answer": "/meetings/5/answer"}
    tokened = html.replace('data-role="phone"', 'data-role="phone" data-token="t.o-k"')
    assert page_fields(tokened)["token"] == "t.o-k"


def _cookie_client(app, cookie: str):
    client = app.test_client()
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value)
    return client


def test_phones_signed_in_by_the_benchmark_join_and_poll_as_the_pages_tell_them(app, world):
    """The cookies meetings_setup signs are a login the app accepts, and the pages still carry what the
    generator reads (a changed template would otherwise only show as a failed benchmark)."""
    with app.app_context():
        meeting = make_meeting(world.org["a1"], world.user["sec_a1"])
        member, secretary = db.session.get(User, world.user["m_a1"]), db.session.get(User, world.user["sec_a1"])
        cookies = _sign_in(app, [member, secretary])
        with app.test_request_context():
            join = url_for("meetings.join", code=meeting.code)
            urls = {"state": url_for("meetings.phone_state", meeting_id=meeting.id),
                    "answer": url_for("meetings.answer", meeting_id=meeting.id),
                    "screen": url_for("meetings.screen", meeting_id=meeting.id),
                    "screen_state": url_for("meetings.screen_state", meeting_id=meeting.id)}
    phone = _cookie_client(app, cookies[member.id])
    page = phone.get(join)
    assert page.status_code == 200 and form_token(page.get_data(as_text=True))
    joined = phone.post(join, data={"csrf_token": form_token(page.get_data(as_text=True))})
    assert joined.status_code == 302
    fields = page_fields(phone.get(joined.location).get_data(as_text=True))
    assert fields["state"] == urls["state"] and fields["answer"] == urls["answer"] and fields["csrf"] and fields["token"]
    state = phone.get(fields["state"], headers={"Accept": "application/json", "X-Meeting-Token": fields["token"]})
    assert state.status_code == 200 and json.loads(state.data)["phase"] == "lobby"
    assert int(state.headers["X-Poll-After"]) >= 1000

    screen = _cookie_client(app, cookies[secretary.id])
    fields = page_fields(screen.get(urls["screen"]).get_data(as_text=True))
    assert fields["state"] == urls["screen_state"] and fields["csrf"]
    assert json.loads(screen.get(fields["state"]).data)["joined"] == 1
