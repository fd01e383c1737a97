"""Crafted input gets a 4xx, never a 5xx: every route of the URL map, as a member, a secretary, an organiser
and an admin, with generated path parameters, query strings and bodies.

Path parameters: real ids of the world, huge, negative and zero numbers, text. Query strings: the arguments
views read (page, org, unit, part, ...) with junk. Bodies: every form field name the app knows, filled with
junk (NaN, Infinity, 1e309, sNaN, 5,000 digits, odd unicode), or JSON with nesting, NaN/Infinity and huge
numbers. Derandomized like the upload property tests: LEARNHUB_FUZZ=<n> runs n fresh random examples per
route and role instead, to look for new bugs.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from wtforms import Form
from wtforms.fields.core import UnboundField

from learnhub.admin import forms as admin_forms, subject_forms
from learnhub.auth import forms as auth_forms
from learnhub.extensions import db
from learnhub.models import Assignment, Grant, PracticeMode, Question, User
from learnhub.quiz import forms as quiz_forms
from learnhub.reports import forms as report_forms
from learnhub.services.exam import quizzes

from ..factories import practise

ROLES = ("m_a1", "sec_a1", "org_a", "admin")
_FUZZ = int(os.environ.get("LEARNHUB_FUZZ", "0"))
PER_ROUTE = settings(
    max_examples=_FUZZ or 3, derandomize=not _FUZZ, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)

HOSTILE_NUMBERS = [
    "0", "-1", "1.5", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1e309", "1e30", "-0",
    str(2**31), str(2**63 - 1), str(2**63), str(2**64), "9" * 26, "9" * 5000, "²", "١٢", "１２", "0x10", "1_000", " 7 ",
]
HOSTILE_TEXT = HOSTILE_NUMBERS + ["", " ", "\x00", "a" * 10_000, "<script>", "' OR 1=1 --", "%00", "../../etc", "\u202e",
                                  "𠀀" * 50, "\ufeff", "A1:XFD14000"]
QUERY_KEYS = ["page", "org", "unit", "part", "point", "kind", "q", "state", "finished", "mastery", "next", "per_page",
              "subject", "retired"]
# Raw request.form keys read by views, besides the fields of the WTForms classes.
RAW_FORM_KEYS = ["question_id", "mode", "a", "part_id", "back", "shown", "answer", "reason", "q1", "q2", "q3",
                 "rules-0-node", "rules-0-count", "rules-0-difficulty", "rules-1-node", "rules-1-count",
                 "part-name", "point-name", "dir", "next",
                 "body", "points", "owner", "material_id", "version", "action"]
NESTED = "[" * 100_000 + "]" * 100_000


def _form_field_names() -> list[str]:
    """Every field name declared on a form class of the app."""
    names = set(RAW_FORM_KEYS)
    for module in (admin_forms, subject_forms, auth_forms, quiz_forms, report_forms):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Form):
                for klass in value.__mro__:
                    names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    return sorted(names)


FIELDS = _form_field_names()
TEXT = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30), st.integers().map(str))
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=10), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e30, -1e30, 2**63, 2**31, 0.5, -1]),
)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=8)
SAVE_KEYS = ("position", "seq", "answer", "q")
JSON_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(SAVE_KEYS), JSON_VALUES, max_size=4).map(lambda d: json.dumps(d)),
    JSON_VALUES.map(lambda v: json.dumps(v)),
    st.sampled_from([NESTED, '{"position": 1, "seq": 1e30, "answer": "0"}', '{"position": 1, "seq": NaN}',
                     '{"position": 1e309, "seq": 1}', '{"seq": 1, "position": 1, "answer": ' + NESTED + "}",
                     '{"position": 1, "seq": 1, "q": 99999999999999999999}', "not json", "\udcff"]),
)


def _segments(rule) -> list[str]:
    return re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule)


def _build(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(values[m[1]], safe=""), rule.rule)


@dataclass
class Ids:
    """Ids that exist: `named` gives each URL argument one a viewer of 党委A may reach (so requests get past the
    404 into the view's own parsing), `pool` every real id for the generated examples."""

    named: dict[str, str]
    pool: list[str]


@pytest.fixture
def ids(app, world, shared, foreign) -> Ids:
    """The world's ids, plus an open attempt and a practice answer of m_a1's."""
    with app.app_context():
        member = db.session.get(User, world.user["m_a1"])
        attempt = quizzes.start_attempt(db.session.get(Assignment, world.assignment_a), member)
        answer = practise(member, db.session.get(Question, shared.question), ["0"], PracticeMode.CHAPTER).answer
        named = {
            "attempt_id": attempt.id, "assignment_id": world.assignment_a, "user_id": world.user["m_a1b"],
            "org_id": world.org["a1"], "question_id": shared.question, "part_id": shared.part, "answer_id": answer.id,
            "report_id": foreign["branch_a2"].ids["report"], "filename": shared.static_file,
            "correction_id": foreign["branch_a2"].ids["correction"], "device_id": foreign["branch_a2"].ids["device"],
            "grant_id": db.session.scalar(select(Grant.id).filter_by(org_id=world.org["a1"])),
            "card_id": foreign["branch_a2"].ids["mistake"],
            "meeting_id": foreign["branch_a2"].ids["meeting"], "code": foreign["branch_a2"].ids["meeting_code"],
            "subject_id": foreign["branch_a2"].ids["subject"], "node_id": foreign["branch_a2"].ids["node"],
            "material_id": foreign["branch_a2"].ids["org_material"], "attachment_id": foreign["branch_a2"].ids["org_attachment"],
            "number": 1, "slug": foreign["branch_a2"].ids["org_material_slug"],
        }
        pool = {v for v in named.values() if isinstance(v, int)} | set(world.org.values())
        pool |= {world.assignment_b} | {v for f in foreign.values() for v in f.ids.values() if isinstance(v, int)}
        # Not the viewers' own accounts: a reset of one's own password would end the session mid-walk.
        pool |= {u for k, u in world.user.items() if k not in ROLES}
    return Ids({k: str(v) for k, v in named.items()}, sorted(str(i) for i in pool) + [shared.material])


def _requests(app, role: str):
    """(rule, method) for every route, logout last (it ends the session)."""
    pairs = [(rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(pairs, key=lambda p: (p[0].endpoint == "auth.logout", p[0].rule, p[1]))


# Always tried, on every route, besides the generated examples: the cases of the report and their kin.
HUGE = "9" * 26
QUERY_CASES = [
    {"page": HUGE, "org": HUGE, "unit": HUGE, "part": HUGE, "point": HUGE, "finished": "NaN", "mastery": "1e309",
     "q": "a\x00b"},
    {"page": str(2**63 - 1), "org": "²", "unit": "１２", "part": "-1", "point": "0", "q": "a" * 10_000, "kind": "\x00"},
]
FORM_VALUES = ["sNaN", "NaN", "Infinity", "1e309", "-1", "9" * 5000, HUGE, "²", "a\x00b"]
JSON_CASES = ['{"position": 1, "seq": 1e30, "answer": "0"}', NESTED, '{"position": 1, "seq": Infinity, "answer": "0"}',
              '{"position": 5, "seq": 1, "answer": ["a\\u0000"]}',
              f'{{"position": 1, "seq": 1, "answer": "0", "q": {2**40}}}', f'{{"position": {HUGE}, "seq": {HUGE}}}']


def _fixed_examples(rule, method: str, named: dict[str, str]) -> list[dict]:
    """The always-tried requests for one route: huge ids in the path; real ids with hostile queries or bodies."""
    names = _segments(rule)
    real = {n: named[n] for n in names}
    cases = [{"path": dict.fromkeys(names, HUGE), "query": {}, "body": ("form", {})}]
    if method == "GET":
        return cases + [{"path": real, "query": q, "body": ("form", {})} for q in QUERY_CASES]
    cases += [{"path": real, "query": {}, "body": ("form", dict.fromkeys(FIELDS, v))} for v in FORM_VALUES]
    return cases + [{"path": real, "query": {}, "body": ("json", j)} for j in JSON_CASES]


def _fuzz_route(client, role: str, rule, method: str, ids: Ids, failures: dict[str, str]) -> None:
    """Send one route its fixed cases and PER_ROUTE generated requests; record the first 5xx or exception."""
    where = f"{role} {method} {rule.rule} ({rule.endpoint})"
    segment = st.one_of(st.sampled_from(ids.pool), st.sampled_from(HOSTILE_TEXT),
                        st.integers(min_value=-(2**70), max_value=2**70).map(str))
    query = st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=5)), TEXT, max_size=4)
    form = st.dictionaries(st.sampled_from(FIELDS), st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=8)
    bodies = st.one_of(form.map(lambda f: ("form", f)), JSON_BODIES.map(lambda j: ("json", j)))

    def probe(path, query, body):
        url = _build(rule, path)
        kind, payload = body
        if method == "GET":
            extra = {}
        elif kind == "form":
            extra = {"data": payload}
        else:
            extra = {"data": payload.encode("utf-8", "surrogatepass"), "content_type": "application/json"}
        try:
            response = client.open(url, method=method, query_string=query, **extra)
        except Exception as exc:  # noqa: BLE001 - TESTING may propagate errors: count them as failures
            failures.setdefault(where, f"raised {exc!r:.300} for {url} query={query!r:.200} body={payload!r:.200}")
            return
        if response.status_code >= 500:
            failures.setdefault(where, f"{response.status_code} for {url} query={query!r:.200} body={payload!r:.200}")

    for case in _fixed_examples(rule, method, ids.named):
        probe = example(**case)(probe)
    given(path=st.fixed_dictionaries({n: segment for n in _segments(rule)}), query=query, body=bodies)(PER_ROUTE(probe))()


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_to_crafted_input(app, world, login, ids, role):
    client = login(world.login[role])
    failures: dict[str, str] = {}
    for rule, method in _requests(app, role):
        _fuzz_route(client, role, rule, method, ids, failures)
    assert not failures, f"{len(failures)} routes answered 5xx as {role}:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())
