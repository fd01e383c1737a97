"""The crafted inputs of the report, one by one: each gets a 4xx or a Chinese message, never a 500, and
changes nothing. tests/security/test_fuzz_routes.py drives every route the same way with generated input."""

from __future__ import annotations

import json
import math
import re

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from learnhub.extensions import db
from learnhub.inputs import DB_INT_MAX, INT64_MAX, MAX_JSON_DEPTH, MAX_PAGE, BoundedJSONProvider
from learnhub.models import Assignment, Attempt, MemberResult, Response, User

from ..quiz.helpers import attempt_id_from

HUGE = "9" * 26
_PROVIDER = BoundedJSONProvider(Flask(__name__))  # what app.json parses request bodies with


def _start(client, assignment_id: int) -> int:
    response = client.post(f"/quiz/{assignment_id}/start")
    assert response.status_code == 302
    return attempt_id_from(response.location)


# --- ids in the URL -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [HUGE, str(2**64), str(INT64_MAX + 1), str(INT64_MAX), str(DB_INT_MAX + 1), str(DB_INT_MAX)])
def test_an_id_beyond_any_row_is_404(world, login, number):
    member, organiser = login(world.login["m_a1"]), login(world.login["org_a"])
    assert member.get(f"/quiz/{number}").status_code == 404
    assert member.get(f"/quiz/attempts/{number}/review").status_code == 404
    assert member.post(f"/quiz/attempts/{number}/answers", json={"position": 1, "answer": "0", "seq": 1}).status_code == 404
    assert organiser.get(f"/reports/assignments/{number}/units/{number}/export.csv").status_code == 404
    assert organiser.get(f"/admin/questions/{number}").status_code == 404


def test_every_int_segment_uses_the_bounded_converter(app):
    """Routes added later are covered too: the app's "int" converter is the bounded one."""
    segments = [(rule.rule, name, converter) for rule in app.url_map.iter_rules()
                for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
    assert len(segments) > 20
    for rule, name, converter in segments:
        assert converter.max == DB_INT_MAX, f"{rule}: <{name}> accepts ids no row can have"


# --- page numbers and query numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", [HUGE, str(INT64_MAX), str(DB_INT_MAX), str(MAX_PAGE + 1), "-5", "0", "abc", "1e5", "²"])
def test_a_huge_or_odd_page_number_still_shows_the_list(world, login, page):
    c = login(world.login["org_a"])
    for url in ("/admin/members", "/admin/questions"):
        response = c.get(url, query_string={"page": page})
        assert response.status_code == 200, (url, page)


def test_a_page_past_the_end_is_empty_and_junk_is_the_first_page(world, login):
    c = login(world.login["org_a"])
    for page in ("1", HUGE, "abc"):
        assert "党员甲一" in c.get("/admin/members", query_string={"page": page}).get_data(as_text=True)
    for page in ("2", str(DB_INT_MAX)):
        assert "党员甲一" not in c.get("/admin/members", query_string={"page": page}).get_data(as_text=True)


@pytest.mark.parametrize("value", [HUGE, "²", "١٢", "-1", "NaN"])
def test_odd_numbers_in_filters_are_ignored_or_404(world, login, value):
    c = login(world.login["org_a"])
    assert c.get("/admin/members", query_string={"org": value}).status_code in (200, 404)
    assert c.get("/reports/trends", query_string={"unit": value}).status_code in (200, 404)
    assert c.get("/admin/questions", query_string={"part": value, "point": value}).status_code == 200
    assert c.get(f"/reports/assignments/{world.assignment_a}", query_string={"org": value}).status_code == 200


def test_a_rule_naming_a_huge_knowledge_point_is_refused_in_chinese(app, world, shared, login):
    """The draw-rule and materials fields are not checked against their choices: their numbers are bounded."""
    c = login(world.login["org_a"])
    data = {"title": "越界抽题", "kind": "exam", "org_id": world.org["a1"], "opens_at": "2030-01-01T08:00",
            "closes_at": "2030-01-08T08:00", "per_member": "1", "pass_mark": "60", "max_attempts": "1",
            "scoring": "highest", "show_answers": "after_submit", "rules-0-node": str(DB_INT_MAX + 1), "rules-0-count": "1",
            "materials": [str(2**40)]}
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Assignment))
    response = c.post("/admin/assignments/new", data=data)
    assert response.status_code == 200 and "无法转化类型" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == before


# --- the answer save's JSON -----------------------------------------------------------------------------------

BAD_SAVES = {
    "seq 1e30": '{"position": 1, "answer": "0", "seq": 1e30}',
    "seq 2**31": f'{{"position": 1, "answer": "0", "seq": {DB_INT_MAX + 1}}}',
    "seq 26 digits": f'{{"position": 1, "answer": "0", "seq": {HUGE}}}',
    "seq Infinity": '{"position": 1, "answer": "0", "seq": Infinity}',
    "seq NaN": '{"position": 1, "answer": "0", "seq": NaN}',
    "seq -1": '{"position": 1, "answer": "0", "seq": -1}',
    "position 1e309": '{"position": 1e309, "answer": "0", "seq": 1}',
    "nested 100,000 deep": '{"position": 1, "seq": 1, "answer": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "nested past the limit": '{"position": 1, "seq": 1, "answer": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}",
    "a body of brackets": "[" * 100_000,
}


@pytest.mark.parametrize("case", list(BAD_SAVES))
def test_a_crafted_save_is_a_400_and_saves_nothing(app, world, login, case):
    c = login(world.login["m_a1"])
    attempt_id = _start(c, world.assignment_a)
    response = c.post(f"/quiz/attempts/{attempt_id}/answers", data=BAD_SAVES[case], content_type="application/json")
    assert response.status_code == 400 and response.json == {"ok": False, "error": "请求格式不正确"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id)) == 0


def test_a_huge_question_hint_is_ignored_and_the_answer_saved(app, world, login):
    """The page's `q` hint only saves a query; a useless one must not cost the member the answer."""
    c = login(world.login["m_a1"])
    attempt_id = _start(c, world.assignment_a)
    body = {"position": 1, "answer": "0", "seq": 1, "q": 2**40}
    response = c.post(f"/quiz/attempts/{attempt_id}/answers", json=body)
    assert response.status_code == 200 and response.json["saved"] is True


def test_a_hand_in_with_odd_positions_is_graded(app, world, login):
    c = login(world.login["m_a1"])
    attempt_id = _start(c, world.assignment_a)
    response = c.post(f"/quiz/attempts/{attempt_id}/submit", data={"shown": f"1,²,١,{'9' * 5000},-1", "q1": "0"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).is_finished


@pytest.mark.parametrize("body", ["[{}]", "0.5", '{"stem": [3.5e110, [true, null]], "answer": {"a": 1}}', '{"name": "x"}'])
def test_a_json_body_sent_to_a_form_is_refused(app, world, shared, login, body):
    """Flask-WTF would read it as form data: lists, numbers and nested values there broke the forms."""
    c = login(world.login["org_a"])
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
    for url in ("/admin/members/new", "/auth/change-password", f"/admin/questions/{shared.question}",
                "/admin/assignments/new", "/practice/answer"):
        response = c.post(url, data=body, content_type="application/json")
        assert response.status_code == 415 and response.json == {"ok": False, "error": "请求格式不正确"}, url
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_a_nul_character_anywhere_is_a_400_and_changes_nothing(app, world, login):
    """PostgreSQL refuses NUL in text with an error: it never gets that far."""
    c = login(world.login["org_a"])
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
    assert c.get("/admin/members", query_string={"q": "甲\x00"}).status_code == 400
    assert c.get("/admin/questions", query_string={"kind": "\x00"}).status_code == 400
    assert c.get("/study/%00").status_code == 400
    new = {"name": "新\x00党员", "member_no": "X9001", "org_id": world.org["a1"], "category": "full", "password": "abcd1234"}
    assert c.post("/admin/members/new", data=new).status_code == 400
    assert app.test_client().post("/auth/login", data={"identifier": "ma1\x00", "password": "x"}).status_code == 400
    member = login(world.login["m_a1"])
    attempt_id = _start(member, world.assignment_a)
    saves = [member.post(f"/quiz/attempts/{attempt_id}/answers", json={"position": p, "answer": ["甲\x00"], "seq": p})
             for p in range(1, 6)]
    assert {s.status_code for s in saves} == {400}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        assert db.session.scalar(select(func.count()).select_from(Response).where(Response.attempt_id == attempt_id)) == 0


@pytest.mark.parametrize("text, refused", [
    ('{"a": NaN}', True), ('{"a": Infinity}', True), ('{"a": -Infinity}', True), ('{"a": 1e309}', True),
    (f'{{"a": {2**64}}}', True), ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
    ('{"a": "x\\u0000"}', True), ('{"\\u0000": 1}', True),
    ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False), ('{"a": [1, 2.5, "x", null, true], "b": {"c": -3}}', False),
    (f"[{INT64_MAX}, {-INT64_MAX - 1}]", False), (f"[{INT64_MAX + 1}]", True), (f"[{-INT64_MAX - 2}]", True),
    ('{"a": "x\\\\u0000"}', False), ('{"a": "' + "[{" * MAX_JSON_DEPTH + '"}', False), ('["' + "9" * 30 + '"]', False),
])
def test_request_json_is_parsed_with_limits(app, text, refused):
    provider = BoundedJSONProvider(app)
    if refused:
        with pytest.raises(ValueError):
            provider.loads(text)
    else:
        assert provider.loads(text) == json.loads(text)


@pytest.mark.parametrize("body", [
    '{"answer": ["为人民服务"], "seq": 3}'.encode(), '{"a": [1, "甲"]}'.encode("utf-16"),
    '{"a": 1}'.encode("utf-32-le"), bytearray(b"[1, 2.5]"),
])
def test_request_json_bytes_are_read_in_any_json_encoding(app, body):
    """Request bodies arrive as bytes: UTF-8, -16 or -32 are all JSON, as the standard library reads them."""
    assert BoundedJSONProvider(app).loads(body) == json.loads(body)


@pytest.mark.parametrize("text", ["\ufeff{}", b'{"a": NaN}', '{"a": "x\\u0000"}'.encode("utf-16")])
def test_request_json_refusals_hold_for_bytes_and_a_bom(app, text):
    with pytest.raises(ValueError):
        BoundedJSONProvider(app).loads(text)


def _breaks_a_bound(value, depth: int = 1) -> bool:
    """What the bounded parser must refuse, said directly: deeper than MAX_JSON_DEPTH, a NUL in a key or a
    string, an integer outside 64 bits, NaN or an infinity."""
    if isinstance(value, (dict, list)):
        items = list(value.values()) if isinstance(value, dict) else value
        keys = value if isinstance(value, dict) else []
        return depth > MAX_JSON_DEPTH or any("\x00" in k for k in keys) or any(_breaks_a_bound(v, depth + 1) for v in items)
    if isinstance(value, float):
        return not math.isfinite(value)
    if type(value) is int:
        return not -INT64_MAX - 1 <= value <= INT64_MAX
    return isinstance(value, str) and "\x00" in value


_TEXT = st.text(st.sampled_from(["a", "甲", "\x00", "\\", "u", "0", "9", "[", "{", '"', " "]), max_size=24)
_LEAVES = (st.none() | st.booleans() | st.floats() | _TEXT
           | st.integers(-(2**66), 2**66) | st.integers(-(10**18), 10**18))
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                       max_leaves=12)


@settings(max_examples=400, deadline=None, database=None)
@given(value=_VALUES, wrapped=st.integers(0, MAX_JSON_DEPTH + 2), ascii_only=st.booleans(),
       encoding=st.sampled_from([None, "utf-8", "utf-16", "utf-32"]))
def test_request_json_is_refused_exactly_when_a_value_breaks_a_bound(value, wrapped, ascii_only, encoding):
    """Generated bodies, as text or bytes in any JSON encoding: refused if and only if a value breaks a bound."""
    for _ in range(wrapped):
        value = [value]
    text = json.dumps(value, ensure_ascii=ascii_only)
    body = text if encoding is None else text.encode(encoding)
    if _breaks_a_bound(value):
        with pytest.raises(ValueError):
            _PROVIDER.loads(body)
    else:
        assert _PROVIDER.loads(body) == json.loads(text)


# --- 代录: a paper exam's score typed by a secretary -----------------------------------------------------------


@pytest.mark.parametrize("score, message", [
    ("sNaN", "请填写一个数字"), ("NaN", "请填写一个数字"), ("Infinity", "请填写一个数字"), ("-Infinity", "请填写一个数字"),
    ("abc", "请填写一个数字"), ("1e309", "分数应在 0 到 100 之间"), ("-1", "分数应在 0 到 100 之间"),
    ("100.1", "分数应在 0 到 100 之间"), ("9" * 5000, "分数应在 0 到 100 之间"), ("", "请填写分数"),
])
def test_a_proxy_score_that_is_not_a_score_is_refused_in_chinese(app, world, login, score, message):
    c = login(world.login["sec_a1"])
    url = f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1b']}/proxy"
    response = c.post(url, data={"score": score, "note": "纸质试卷"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page, re.findall(r'flash-error[^>]*>([^<]*)', page)
    with app.app_context():
        assert db.session.get(MemberResult, (world.assignment_a, world.user["m_a1b"])) is None


@pytest.mark.parametrize("score, stored", [("0", 0.0), ("85.5", 85.5), (" 100 ", 100.0)])
def test_a_proxy_score_in_range_is_recorded(app, world, login, score, stored):
    c = login(world.login["sec_a1"])
    url = f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1b']}/proxy"
    assert "代录成绩" in c.post(url, data={"score": score, "note": "纸质试卷"}, follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MemberResult, (world.assignment_a, world.user["m_a1b"])).score == stored
