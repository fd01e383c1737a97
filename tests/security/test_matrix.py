"""The authorisation matrix: every rule of the URL map × every role × a foreign organisation's objects.

ENDPOINTS below is the one place where each endpoint is classified: who may use it at all, and which
object each URL argument (or query argument) names and how the viewer must stand to that object. A
route added without an entry fails `test_every_endpoint_is_classified`, so nobody ships a route
without deciding who may reach it.

Expected answers:
- anonymous on anything but a public route: 302 to /auth/login;
- a member on a staff page: 403; a secretary on an organiser-only page: 403;
- staff on an object outside their scope: 404 (it does not exist for them);
- anyone but its member on a member's own object (attempt, practice answer, a question served to them in
  practice): 404, admins included;
- a member on an assignment not given to their organisation: 404;
- anyone on a question of another organisation's bank (one not above their own organisation): 404; the
  question's organisation's organisers (and admins) manage it. Built-in questions: see the tests below.
Each foreign object also has the roles that may reach it, so the same URL answers 200/302 for its owner
or manager: a positive control that the id is real and the 404 comes from the access check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Assignment, Material, Organisation, Role, User
from learnhub.services.orgs import grant

from .conftest import ANONYMOUS, ForeignSet, Shared, count_rows

# Who may use an endpoint at all.
PUBLIC = "public"  # anyone, logged in or not
LOGGED_IN = "logged-in"  # any logged-in user (member or staff)
STAFF = "staff"  # secretaries, organisers, admins; members get 403
ORGANISER = "organiser"  # organisers and admins; members and secretaries get 403

# How the viewer must stand to the objects the URL names.
SHARED = "shared"  # belongs to nobody's organisation (Constitution part, material, static file)
MANAGED = "managed"  # the viewer's staff scope must cover it (a question: the viewer's organisation owns it)
OWN = "own"  # it must be the viewer's own (their attempt, their practice answer)
ASSIGNED = "assigned"  # the assignment must have been given to the viewer's organisation
USABLE = "usable"  # a question of the bank of the viewer's organisation or one above it (or theirs to manage)

GET_OK = frozenset({200})
POST_OK = frozenset({200, 302})


@dataclass(frozen=True)
class Access:
    who: str
    args: dict[str, str] = field(default_factory=dict)  # URL argument -> object key
    relation: str = SHARED
    query: dict[str, str] = field(default_factory=dict)  # query-string argument -> object key (GET requests)
    body: Callable[[dict], dict] | None = None  # POST body from the object ids; "json" key sends JSON
    body_refs: tuple[str, ...] = ()  # object keys the POST body names (checked like URL arguments)
    ok: dict[str, frozenset[int]] = field(default_factory=dict)  # per-method statuses meaning "allowed"
    anonymous: dict[str, frozenset[int]] = field(default_factory=dict)  # PUBLIC only: what anonymous users get
    ends_session: bool = False  # run last: it logs the client out


def _practice_answer(o: dict) -> dict:
    """An answer to a question the server served in practice: the body names the served record, not a question."""
    return {"served": o["served"], "a": "0"}


ENDPOINTS: dict[str, Access] = {
    # --- public -------------------------------------------------------------------------------------
    "static": Access(PUBLIC, {"filename": "static_file"}, anonymous={"GET": GET_OK}),
    "healthz": Access(PUBLIC, anonymous={"GET": GET_OK}),
    # A logged-in user is sent home from the login page; anonymous users see it (an empty POST re-renders it).
    "auth.login": Access(PUBLIC, ok={"GET": frozenset({302}), "POST": frozenset({302})},
                         anonymous={"GET": GET_OK, "POST": GET_OK}),
    "auth.logout": Access(
        PUBLIC, ok={"POST": frozenset({302})}, anonymous={"POST": frozenset({302})}, ends_session=True
    ),
    # 大字模式: anyone may switch it (signed out, this device keeps it); it goes back to the page or home.
    "auth.large_type": Access(PUBLIC, ok={"POST": frozenset({302})}, anonymous={"POST": frozenset({302})}),
    # --- any logged-in user -------------------------------------------------------------------------
    "auth.change_password": Access(LOGGED_IN),
    "auth.account": Access(LOGGED_IN),
    # Signing out one's own device: anyone else's device does not exist for them, admins included.
    "auth.device_sign_out": Access(LOGGED_IN, {"device_id": "device"}, OWN, ok={"POST": frozenset({302})}),
    "auth.sign_out_everywhere": Access(LOGGED_IN, ok={"POST": frozenset({302})}, ends_session=True),
    "study.index": Access(LOGGED_IN),
    "study.tasks": Access(LOGGED_IN),
    "study.materials_list": Access(LOGGED_IN),
    # A committee's material and its files: read by the committee's subtree; for anyone else they do not exist.
    "study.material": Access(LOGGED_IN, {"slug": "org_material_slug"}, USABLE),
    "study.material_done": Access(LOGGED_IN, {"slug": "org_material_slug"}, USABLE),
    "study.attachment": Access(LOGGED_IN, {"attachment_id": "org_attachment"}, USABLE),
    "quiz.detail": Access(LOGGED_IN, {"assignment_id": "assignment"}, ASSIGNED),
    "quiz.start": Access(LOGGED_IN, {"assignment_id": "assignment"}, ASSIGNED),
    "quiz.attempt": Access(LOGGED_IN, {"attempt_id": "attempt_open"}, OWN, ok={"GET": POST_OK}),
    "quiz.save": Access(LOGGED_IN, {"attempt_id": "attempt_open"}, OWN,
                        body=lambda o: {"json": {"position": 1, "answer": "", "seq": 1}},
                        ok={"POST": frozenset({200, 409})}),
    "quiz.submit": Access(LOGGED_IN, {"attempt_id": "attempt_open"}, OWN),
    "quiz.state": Access(LOGGED_IN, {"attempt_id": "attempt_open"}, OWN),  # the paper's answers as stored (JSON)
    "quiz.phone_check": Access(LOGGED_IN),  # 测试一下你的手机: the page, no data of anyone's
    "quiz.phone_check_echo": Access(LOGGED_IN, body=lambda o: {"json": {"n": 1}}),  # echoes; stores nothing
    "quiz.review": Access(LOGGED_IN, {"attempt_id": "attempt_done"}, OWN),
    # A member may flag any question that exists for them as faulty.
    "quiz.report_question": Access(LOGGED_IN, {"question_id": "question"}, USABLE),
    "practice.index": Access(LOGGED_IN),
    "practice.daily": Access(LOGGED_IN),
    "practice.review": Access(LOGGED_IN, ok={"GET": POST_OK}),  # redirects home when nothing is due
    "practice.chapter": Access(LOGGED_IN, {"part_id": "part"}),
    # Practice grades only what it served to this very member: anyone else's served question is 404.
    "practice.answer": Access(LOGGED_IN, relation=OWN, body=_practice_answer, body_refs=("served",)),
    "practice.feedback": Access(LOGGED_IN, {"answer_id": "practice_answer"}, OWN),
    "practice.mistakes_list": Access(LOGGED_IN),
    # A question of the member's own mistake book, practised now: anyone else's card is 404.
    "practice.mistake": Access(LOGGED_IN, {"card_id": "mistake"}, OWN),
    # Meeting quizzes from a phone: the branch's members (and invited guests) only; anyone else gets 404.
    "meetings.enter": Access(LOGGED_IN),  # the code form: an unknown or foreign code is a form error
    "meetings.join": Access(LOGGED_IN, {"code": "meeting_code"}, ASSIGNED),
    "meetings.phone": Access(LOGGED_IN, {"meeting_id": "meeting"}, ASSIGNED, ok={"GET": POST_OK}),  # to join first
    "meetings.phone_state": Access(LOGGED_IN, {"meeting_id": "meeting"}, ASSIGNED),
    "meetings.answer": Access(LOGGED_IN, {"meeting_id": "meeting"}, ASSIGNED,
                              body=lambda o: {"json": {"position": 1, "answer": 0, "seq": 1}},
                              ok={"POST": frozenset({400, 409})}),  # not joined / no question open yet
    # --- staff: secretaries, organisers, admins -----------------------------------------------------
    "meetings.create": Access(STAFF, {"org_id": "org"}, MANAGED),
    "meetings.detail": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.screen": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.screen_state": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.export": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.next_question": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.close_question": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.end": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "meetings.guest_add": Access(STAFF, {"meeting_id": "meeting"}, MANAGED),
    "reports.index": Access(STAFF),
    "reports.assignment": Access(STAFF, {"assignment_id": "assignment"}, MANAGED),
    "reports.assignment_export": Access(STAFF, {"assignment_id": "assignment"}, MANAGED),
    "reports.unit": Access(STAFF, {"assignment_id": "assignment", "org_id": "org"}, MANAGED),
    "reports.unit_export": Access(STAFF, {"assignment_id": "assignment", "org_id": "org"}, MANAGED),
    "reports.member": Access(STAFF, {"assignment_id": "assignment", "user_id": "user"}, MANAGED),
    "reports.member_exempt": Access(STAFF, {"assignment_id": "assignment", "user_id": "user"}, MANAGED),
    "reports.member_revoke": Access(STAFF, {"assignment_id": "assignment", "user_id": "user"}, MANAGED),
    "reports.member_proxy": Access(STAFF, {"assignment_id": "assignment", "user_id": "user"}, MANAGED),
    "reports.attempt": Access(STAFF, {"attempt_id": "attempt_done"}, MANAGED),
    "reports.assignment_csv": Access(STAFF, {"assignment_id": "assignment"}, MANAGED),
    "reports.unit_csv": Access(STAFF, {"assignment_id": "assignment", "org_id": "org"}, MANAGED),
    "reports.items_page": Access(STAFF, {"assignment_id": "assignment"}, MANAGED),
    "reports.recheck": Access(STAFF, {"assignment_id": "assignment", "org_id": "org"}, MANAGED),
    # Withdrawing: anyone who may see the assignment gets the page (it says who may withdraw it, and
    # whether anyone has started); outside their scope it does not exist.
    "reports.withdraw": Access(STAFF, {"assignment_id": "assignment"}, MANAGED),
    "reports.trends_page": Access(STAFF, relation=MANAGED, query={"unit": "org"}),
    "admin.members_list": Access(STAFF, relation=MANAGED, query={"org": "org"}),
    "admin.member_new": Access(STAFF),
    "admin.members_import": Access(STAFF),
    "admin.members_import_confirm": Access(STAFF),
    "admin.members_import_template": Access(STAFF),
    "admin.member_edit": Access(STAFF, {"user_id": "user"}, MANAGED),
    "admin.member_reset": Access(STAFF, {"user_id": "user"}, MANAGED),
    "admin.assignment_new": Access(STAFF),
    # --- organisers only ----------------------------------------------------------------------------
    "admin.question_reports_list": Access(ORGANISER),
    "admin.question_report_resolve": Access(ORGANISER, {"report_id": "report"}, MANAGED,
                                            body=lambda o: {"resolution": "已核实并修改"}),
    # --- the question bank: organisers only, each on the questions their organisations own -----------
    "admin.bank_list": Access(ORGANISER),
    "admin.bank_edit": Access(ORGANISER, {"question_id": "question"}, MANAGED),
    "admin.bank_retire": Access(ORGANISER, {"question_id": "question"}, MANAGED),
    "admin.bank_import": Access(ORGANISER),
    "admin.bank_import_preview": Access(ORGANISER),
    "admin.bank_import_confirm": Access(ORGANISER),
    "admin.bank_import_template": Access(ORGANISER),
    # --- 学习科目: organisers only; a subject (and its parts and points) is managed by the organisers of its
    # owner, read by those beneath, and does not exist for anyone else.
    "admin.subject_list": Access(ORGANISER),
    "admin.subject_new": Access(ORGANISER),
    "admin.subject_detail": Access(ORGANISER, {"subject_id": "subject"}, MANAGED),
    "admin.subject_part_new": Access(ORGANISER, {"subject_id": "subject"}, MANAGED),
    "admin.subject_retire": Access(ORGANISER, {"subject_id": "subject"}, MANAGED),
    "admin.subject_node": Access(ORGANISER, {"node_id": "node"}, MANAGED),
    "admin.subject_point_new": Access(ORGANISER, {"node_id": "node"}, MANAGED),
    "admin.subject_node_move": Access(ORGANISER, {"node_id": "node"}, MANAGED),
    "admin.subject_node_retire": Access(ORGANISER, {"node_id": "node"}, MANAGED),
    "admin.subject_question_new": Access(ORGANISER, {"node_id": "node"}, MANAGED),
    # Correcting a key regrades papers: the question's owners only, after a preview; and reverting it.
    "reports.fix_key": Access(ORGANISER, {"question_id": "question"}, MANAGED),
    "reports.fix_key_confirm": Access(ORGANISER, {"question_id": "question"}, MANAGED),
    "reports.key_revert": Access(ORGANISER, {"correction_id": "correction"}, MANAGED),
    "reports.key_revert_confirm": Access(ORGANISER, {"correction_id": "correction"}, MANAGED),
    "reports.key_resume": Access(ORGANISER, {"correction_id": "correction"}, MANAGED),
    # --- study materials: organisers on their organisations' materials, admins on all --------------------
    "admin.materials_list": Access(ORGANISER),
    # Without ?subject= it lists the subjects to write for; with another committee's subject it is 404.
    "admin.material_new": Access(ORGANISER, relation=MANAGED, query={"subject": "org_material_subject"}),
    "admin.material_edit": Access(ORGANISER, {"material_id": "org_material"}, MANAGED),
    "admin.material_preview": Access(ORGANISER, relation=MANAGED, body=lambda o: {"body": "x", "material_id": o["org_material"]},
                                     body_refs=("org_material",)),
    "admin.material_retire": Access(ORGANISER, {"material_id": "org_material"}, MANAGED),
    "admin.material_version": Access(ORGANISER, {"material_id": "org_material", "number": "org_material_version"}, MANAGED),
    "admin.material_attachment_add": Access(ORGANISER, {"material_id": "org_material"}, MANAGED),
    "admin.material_attachment_remove": Access(ORGANISER, {"material_id": "org_material", "attachment_id": "org_attachment"},
                                               MANAGED),
    # --- the organisation tree: organisers on their own subtrees, admins on all ------------------------
    "admin.org_tree": Access(ORGANISER),
    "admin.org_detail": Access(ORGANISER, {"org_id": "org"}, MANAGED),
    "admin.org_edit": Access(ORGANISER, {"org_id": "org"}, MANAGED),
    "admin.org_move": Access(ORGANISER, {"org_id": "org"}, MANAGED),
    "admin.org_active": Access(ORGANISER, {"org_id": "org"}, MANAGED),
    "admin.org_grant": Access(ORGANISER, {"org_id": "org"}, MANAGED),
    "admin.org_revoke": Access(ORGANISER, {"org_id": "org", "grant_id": "grant"}, MANAGED),
    "admin.org_import": Access(ORGANISER),
    "admin.org_import_confirm": Access(ORGANISER),
    "admin.org_import_template": Access(ORGANISER),
}

MEMBERS = {"m_a1", "m_a2", "m_b1"}
SECRETARIES = {"sec_a1"}
# (foreign set, role): 党委B's objects seen by every role, and branch A2's objects seen from inside 党委A.
CASES = [("committee_b", r) for r in (ANONYMOUS, "m_a1", "sec_a1", "org_a", "org_b", "admin", "m_b1")] + [
    ("branch_a2", r) for r in ("m_a1", "sec_a1", "org_a", "m_a2")
]
METHOD_ORDER = {"GET": 0, "HEAD": 1, "OPTIONS": 2, "POST": 3, "PUT": 4, "PATCH": 5, "DELETE": 6}
TO_LOGIN = "302 to /auth/login"


def _classify_hint(endpoint: str, rule: str) -> str:
    return (
        f"endpoint {endpoint!r} ({rule}) is not classified: add it to ENDPOINTS in tests/security/test_matrix.py "
        "with who may use it (PUBLIC / LOGGED_IN / STAFF / ORGANISER), which object each URL "
        "argument names and how the viewer must stand to it (SHARED / MANAGED / OWN / ASSIGNED / USABLE)"
    )


def test_every_endpoint_is_classified(app):
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    problems = [_classify_hint(e, r.rule) for e, r in sorted(rules.items()) if e not in ENDPOINTS]
    problems += [f"ENDPOINTS lists {e!r}, which the app no longer has: remove it" for e in ENDPOINTS if e not in rules]
    for endpoint, rule in rules.items():
        access = ENDPOINTS.get(endpoint)
        if access is not None and set(rule.arguments) != set(access.args):
            problems.append(
                f"{endpoint} ({rule.rule}) takes {sorted(rule.arguments)} but ENDPOINTS maps {sorted(access.args)}: "
                "say which foreign object each argument names"
            )
    assert not problems, "\n".join(problems)


def _expected(role: str, access: Access, fset: ForeignSet, method: str):
    """The statuses (or TO_LOGIN) that `role` must get for `method` on this endpoint with fset's objects."""
    verb = "GET" if method == "HEAD" else method
    if role == ANONYMOUS:
        return access.anonymous.get(verb, frozenset()) if access.who == PUBLIC else TO_LOGIN
    if access.who == STAFF and role in MEMBERS:
        return frozenset({403})
    if access.who == ORGANISER and (role in MEMBERS or role in SECRETARIES):
        return frozenset({403})
    allowed = {SHARED: None, MANAGED: fset.managers, OWN: fset.owners, ASSIGNED: fset.assigned,
               USABLE: fset.usable}[access.relation]
    refs = [*access.args.values(), *(access.query.values() if verb == "GET" else ()), *(access.body_refs if verb == "POST" else ())]
    for key in refs:
        if allowed is not None and role not in allowed.get(key, set()):
            return frozenset({404})
    return access.ok.get(verb, GET_OK if verb == "GET" else POST_OK)


def _object_ids(fset: ForeignSet, shared: Shared) -> dict:
    return {**fset.ids, "builtin_question": shared.builtin_question, "part": shared.part, "material": shared.material,
            "static_file": shared.static_file}


def _requests(app, objects: dict):
    """(endpoint, method, url, access) for every rule and method, reads first and session-enders last."""
    out = []
    for rule in app.url_map.iter_rules():
        access = ENDPOINTS.get(rule.endpoint)
        if access is None:
            continue  # test_every_endpoint_is_classified fails for it, with what to do
        path = rule.build({arg: objects[key] for arg, key in access.args.items()}, append_unknown=False)[1]
        for method in rule.methods:
            query = {arg: objects[key] for arg, key in access.query.items()} if method in ("GET", "HEAD") else {}
            out.append((access.ends_session, METHOD_ORDER.get(method, 9), rule.endpoint, method, path, query, access))
    return [r[2:] for r in sorted(out, key=lambda r: r[:4])]


def _check(role, endpoint, method, url, response, expected) -> str | None:
    status, location = response.status_code, urlsplit(response.location or "").path
    where = f"{role:9} {method:7} {url} ({endpoint}) -> {status}"
    if status >= 500:
        return f"{where}: server error"
    if method == "OPTIONS":
        # Flask answers OPTIONS itself: it may redirect or refuse, but must never hand over a page.
        return None if status != 200 or not response.get_data() else f"{where}: OPTIONS returned a body"
    if expected == TO_LOGIN:
        return None if status == 302 and location == "/auth/login" else f"{where}: expected 302 to /auth/login"
    if status not in expected:
        return f"{where}: expected {sorted(expected)}"
    if status == 302 and role != ANONYMOUS and location == "/auth/login" and not ENDPOINTS[endpoint].ends_session:
        return f"{where}: a permitted request sent a logged-in user to the login page"
    return None


@pytest.mark.parametrize(("set_name", "role"), CASES, ids=[f"{s}-{r}" for s, r in CASES])
def test_access_matrix(app, world, foreign, shared, login, set_name, role):
    fset = foreign[set_name]
    objects = _object_ids(fset, shared)
    client = app.test_client() if role == ANONYMOUS else login(world.login[role])
    failures = []
    for endpoint, method, url, query, access in _requests(app, objects):
        body = access.body(objects) if access.body and method == "POST" else {}
        payload = {"json": body["json"]} if "json" in body else {"data": body}
        try:
            # Unbuffered: the matrix judges the answer (status, redirect), not a streamed body's later failure.
            response = client.open(url, method=method, query_string=query, buffered=False, **payload)
        except Exception as exc:  # TESTING propagates errors: report the request instead of stopping the walk
            failures.append(f"{role:9} {method:7} {url} ({endpoint}) -> raised {exc!r}")
            continue
        failure = _check(role, endpoint, method, url, response, _expected(role, access, fset, method))
        response.close()
        if failure:
            failures.append(failure)
    assert not failures, f"{len(failures)} access-matrix mismatches for {role} on {set_name}:\n" + "\n".join(failures)


# --- form fields that name organisations ----------------------------------------------------------------


@pytest.mark.parametrize("staff", ["sec_a1", "org_a"])
def test_form_fields_cannot_place_anything_in_a_foreign_organisation(app, world, shared, login, staff):
    """Organisation ids in form fields are checked like ids in URLs; the same forms with an own id succeed."""
    c = login(world.login[staff])
    own = world.org["a1"]

    def new_member(org_id: int, number: str):
        data = {"name": "新党员", "member_no": number, "org_id": org_id, "category": "full", "password": "hongse-2024"}
        return c.post("/admin/members/new", data=data)

    def move_member(org_id: int):
        data = {"name": "党员甲一", "member_no": "ma1", "org_id": org_id, "category": "full"}
        return c.post(f"/admin/members/{world.user['m_a1']}/edit", data=data)

    def new_task(org_id: int, title: str):
        with app.app_context():
            material = db.session.scalar(select(Material.id).filter_by(slug=shared.material))
        data = {
            "title": title, "kind": "study", "org_id": org_id, "opens_at": "2030-01-01T08:00",
            "closes_at": "2030-01-08T08:00", "materials": material, "per_member": "1", "pass_mark": "60",
            "max_attempts": "1", "scoring": "highest", "show_answers": "after_submit",
        }
        return c.post("/admin/assignments/new", data=data)

    with app.app_context():
        users, tasks = count_rows(User), count_rows(Assignment)
    for org_id in (world.org["b"], world.org["b1"]):
        assert new_member(org_id, "X9001").status_code in (200, 404)
        assert move_member(org_id).status_code in (200, 404)
        assert new_task(org_id, "越权任务").status_code in (200, 404)
    with app.app_context():
        assert (count_rows(User), count_rows(Assignment)) == (users, tasks)
        assert db.session.get(User, world.user["m_a1"]).org_id == own
    # The controls: with an organisation inside the viewer's scope, the same forms go through.
    assert new_member(own, "X9002").status_code == 302
    assert move_member(world.org["a1"]).status_code == 302
    assert new_task(own, "本支部任务").status_code == 302
    with app.app_context():
        assert (count_rows(User), count_rows(Assignment)) == (users + 1, tasks + 1)


# --- escalation: resetting the password of someone with more authority -----------------------------------


def _temporary_password(page: str) -> str | None:
    match = re.search(r"临时密码：(\w+)", page)
    return match.group(1) if match else None


def test_organiser_cannot_reset_the_system_admins_password(app, world, login):
    c = login(world.login["org_a"])
    response = c.post(f"/admin/members/{world.user['admin']}/reset-password", follow_redirects=True)
    with app.app_context():
        admin = db.session.get(User, world.user["admin"])
        unchanged = admin.session_version == 1 and not admin.must_change_password
    assert response.status_code in (403, 404) and unchanged
    assert _temporary_password(response.get_data(as_text=True)) is None


def test_secretary_cannot_take_over_a_member_who_holds_a_grant_elsewhere(app, world, login):
    with app.app_context():
        person = db.session.get(User, world.user["m_a1"])
        grant(person, db.session.get(Organisation, world.org["b"]), Role.ORGANISER)
        db.session.commit()
    c = login(world.login["sec_a1"])
    response = c.post(f"/admin/members/{world.user['m_a1']}/reset-password", follow_redirects=True)
    with app.app_context():
        unchanged = db.session.get(User, world.user["m_a1"]).session_version == 1
    assert response.status_code in (403, 404) and unchanged


def test_secretary_may_reset_a_plain_member_of_their_branch(app, world, login):
    """The positive control for the two tests above."""
    c = login(world.login["sec_a1"])
    response = c.post(f"/admin/members/{world.user['m_a1b']}/reset-password", follow_redirects=True)
    assert response.status_code == 200 and _temporary_password(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(User, world.user["m_a1b"]).must_change_password
