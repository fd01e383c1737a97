"""大字模式 on every page: walk every GET rule of the URL map (as classified in test_matrix.ENDPOINTS, with
the objects of the access matrix) for a member and staff accounts with large type on, and every HTML page
they are allowed to see is drawn with the class `large` on <html> and carries the switch; with it off,
none is."""

from __future__ import annotations

import pytest

from learnhub.extensions import db
from learnhub.models import User

from .test_matrix import ENDPOINTS, _expected, _object_ids, _requests

LARGE = '<!doctype html>\n<html class="large"'
SWITCH = 'action="/auth/large-type"'
# Pages for a room's screen, not a person's phone: the projector's meeting page is large by design and
# carries no personal switch (a member's 大字模式 is theirs, not the meeting room's).
PROJECTOR_PAGES = {"meetings.screen"}
MIN_STAFF_PAGES = {"m_a2": 0, "sec_a1": 10, "org_a": 20}  # a guard against a walk that finds nothing


def _pages(app, client, role, fset, shared):
    """(endpoint, url, body) of every HTML page `role` may GET with the foreign set's objects."""
    out = []
    for endpoint, method, url, query, access in _requests(app, _object_ids(fset, shared)):
        if method != "GET" or endpoint in {"static", *PROJECTOR_PAGES} or 200 not in _expected(role, access, fset, method):
            continue
        response = client.get(url, query_string=query)
        if response.status_code == 200 and response.mimetype == "text/html":
            out.append((endpoint, url, response.get_data(as_text=True)))
    return out


@pytest.mark.parametrize("role", ["m_a2", "sec_a1", "org_a"])
def test_every_page_is_in_large_type_when_the_account_chose_it(app, world, foreign, shared, login, role):
    with app.app_context():
        db.session.get(User, world.user[role]).large_type = True
        db.session.commit()
    client = login(world.login[role])
    pages = _pages(app, client, role, foreign["branch_a2"], shared)
    if role == "sec_a1":  # A2's objects are outside a secretary of A1: their own branch's pages too
        own = [f"/reports/assignments/{world.assignment_a}/units/{world.org['a1']}",
               f"/reports/assignments/{world.assignment_a}/members/{world.user['m_a1']}",
               f"/admin/members/{world.user['m_a1']}/edit", f"/reports/trends?unit={world.org['a1']}"]
        for url in own:
            response = client.get(url)
            assert response.status_code == 200, url
            pages.append(("own", url, response.get_data(as_text=True)))
    staff_pages = [e for e, _, _ in pages if e == "own" or ENDPOINTS[e].who != "logged-in"]
    assert len(pages) >= 15 and len(staff_pages) >= MIN_STAFF_PAGES[role], [e for e, _, _ in pages]
    missing = [f"{e} {u}" for e, u, body in pages if not body.startswith(LARGE) or SWITCH not in body]
    assert not missing, "pages without large type or its switch:\n" + "\n".join(missing)


@pytest.mark.parametrize("role", ["m_a2", "org_a"])
def test_no_page_is_in_large_type_when_it_is_off(app, world, foreign, shared, login, role):
    pages = _pages(app, login(world.login[role]), role, foreign["branch_a2"], shared)
    assert pages
    wrong = [f"{e} {u}" for e, u, body in pages if 'class="large"' in body.split("<head>")[0] or SWITCH not in body]
    assert not wrong, wrong
