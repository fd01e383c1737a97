"""Every page of the app, for every role, on a 360×640 phone: targets big enough to hit (WCAG 2.2 SC 2.5.8),
text of at least 14 px, nothing wider than the screen, and axe-core with no serious or critical violation.

The pages come from the URL map, with the objects tests/security builds (its `foreign` and `shared` fixtures)
and the classification of tests/security/test_matrix.py: each GET route whose object the role may reach is
opened in the browser. A route a role may use that neither answers with a page nor redirects fails the walk,
so a new page cannot slip past it. What is measured is in measure.js.

The walk runs once per display mode. A mode is a name and a callable that sets the account up for it (in an
app context, on the User row); adding one is one entry in MODES.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from learnhub.extensions import db
from learnhub.models import User

from ..security.conftest import foreign, shared  # noqa: F401 (fixtures: the objects every URL argument names)
from ..security.test_matrix import ASSIGNED, ENDPOINTS, LOGGED_IN, ORGANISER, OWN, PUBLIC, STAFF, _object_ids
from .conftest import ARTIFACTS, SMALL
from .test_phone_flows import log_in

pytestmark = pytest.mark.browser

MEASURE = (Path(__file__).parent / "measure.js").read_text(encoding="utf-8")

# Display modes: name -> what to set on the account before logging in (in an app context; the walk commits).
MODES: dict[str, Callable[[User], None]] = {
    "normal": lambda user: None,
    "large": lambda user: setattr(user, "large_type", True),  # 大字模式 (auth/display.py)
}

# Who walks: role -> the account of the world (tests/world.py). All four stand in 党委A, whose branch A2 owns
# the `branch_a2` objects: its member's own attempts, its secretary's branch, its committee's organiser.
ROLES = {"member": "m_a2", "secretary": "sec_a2", "organiser": "org_a", "admin": "admin"}
ADMITTED = {
    "member": {LOGGED_IN},
    "secretary": {LOGGED_IN, STAFF},
    "organiser": {LOGGED_IN, STAFF, ORGANISER},
    "admin": {LOGGED_IN, STAFF, ORGANISER},
}
# Axe findings that fail the walk.
BLOCKING = {"serious", "critical"}


def pages_for(app, role: str, fset, objects: dict) -> list[tuple[str, str, bool]]:
    """(endpoint, path with query, may_refuse) of every GET route `role` may use. may_refuse: the route
    names another person's own object (an attempt, a practice answer), which nobody else may open, or an
    object given to others only (a meeting quiz of a branch the role is not in)."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = ENDPOINTS.get(rule.endpoint)
        if access is None or "GET" not in rule.methods or access.who not in ADMITTED[role]:
            continue
        path = rule.build({arg: objects[key] for arg, key in access.args.items()}, append_unknown=False)[1]
        # Another person's own object, or one given to other people (a branch's meeting quiz is for its
        # members, not the committee's staff): the security walks check the refusal; here it is skipped.
        reachers = {OWN: fset.owners, ASSIGNED: fset.assigned}.get(access.relation)
        may_refuse = reachers is not None and any(
            ROLES[role] not in reachers.get(key, set()) for key in access.args.values()
        )
        out.append((rule.endpoint, path, may_refuse))
        if access.query:  # the same page narrowed to one object, e.g. one branch's trends
            query = "&".join(f"{arg}={objects[key]}" for arg, key in access.query.items())
            out.append((rule.endpoint, f"{path}?{query}", may_refuse))
    return out


@pytest.fixture(params=list(MODES))
def mode(request):
    return request.param


@pytest.fixture
def narrow(browser, request):
    """A 360×640 touch phone, zh-CN, with a folder for screenshots."""
    out = ARTIFACTS / request.node.name.replace("[", "-").rstrip("]")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SMALL, device_scale_factor=1, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.artifacts = out
    yield page
    context.close()


def _check_page(page, axe: Axe, label: str) -> list[str]:
    problems = [f"{label}: {p}" for p in page.evaluate(MEASURE)]
    for v in axe.run(page).response["violations"]:
        if v["impact"] in BLOCKING:
            where = ", ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"]) for n in v["nodes"][:3])
            problems.append(f"{label}: axe {v['impact']} {v['id']} ({v['help']}) at {where}")
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_a_small_phone(app, world, foreign, shared, live_server, narrow, mode, role):  # noqa: F811
    fset = foreign["branch_a2"]
    objects = _object_ids(fset, shared)
    with app.app_context():
        MODES[mode](db.session.get(User, world.user[ROLES[role]]))
        db.session.commit()
    page, axe, problems, walked = narrow, Axe(), [], []
    page.goto(f"{live_server}/auth/login")
    problems += _check_page(page, axe, "/auth/login (anonymous)")
    log_in(page, live_server, world.login[ROLES[role]])
    page.wait_for_url(lambda url: "/auth/login" not in url)
    for endpoint, path, may_refuse in pages_for(app, role, fset, objects):
        probe = page.request.get(f"{live_server}{path}")
        kind = probe.headers.get("content-type", "")
        if probe.status == 404 and may_refuse:
            continue
        if probe.status != 200:
            problems.append(f"{path} ({endpoint}): {role} may use it but it answered {probe.status}")
            continue
        if not kind.startswith("text/html"):
            continue  # a download, JSON or a static file
        page.goto(f"{live_server}{path}")
        walked.append(endpoint)
        page.screenshot(path=str(page.artifacts / f"{len(walked):02d}-{endpoint}.png"), full_page=True)
        problems += _check_page(page, axe, f"{path} ({endpoint})")
    assert "study.index" in walked
    assert not problems, f"{len(problems)} problems for {role} in {mode} mode on {len(walked)} pages:\n" + "\n".join(problems)
