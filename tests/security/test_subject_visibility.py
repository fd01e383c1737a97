"""An organisation's subject never reaches another committee: every GET route of the URL map, walked by
党委A's member, secretary and organiser with 党委B's objects (and their own), with ?subject= naming 党委B's
subject, shows none of its names, points or questions — pages, Excel and CSV alike.

党委B's subject carries a token (ZQX) in every name and stem; 党委B's members took an exam drawn from it
and practised it, so it has answers, tallies and trends to leak. The positive controls: 党委B's member and
organiser see the token on their practice and report pages.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.models import Organisation, PracticeMode, Question, User

from ..factories import practise
from ..quiz.helpers import shown_answer
from ..subject_world import build_subject, subject_assignment, take_paper
from .secret_bank import body_text
from .test_matrix import ENDPOINTS, _requests

TOKEN = "ZQX"
WALKERS = ("m_a1", "sec_a1", "org_a")


@pytest.fixture
def secret_subject(app, world, shared, foreign):
    """党委B's subject (2 parts, 3 points), an exam of 党委B's drawn from it, taken; practice on it."""
    with app.app_context():
        b = db.session.get(Organisation, world.org["b"])
        ids = build_subject(b, "乙委专题", {"乙委部分一": ["乙委要点一", "乙委要点二"], "乙委部分二": ["乙委要点三"]}, "zqx",
                            tag=TOKEN)
        exam = subject_assignment(b, ids.subject, 6, title=f"乙委专题测验{TOKEN}")
        db.session.commit()
        member = db.session.get(User, world.user["m_b1"])
        take_paper(exam, member, wrong={"zqx-001", "zqx-003"})
        q = db.session.scalar(select(Question).filter_by(key="zqx-005"))
        practise(member, q, shown_answer(q, list(range(len(q.options))), right=False), PracticeMode.CHAPTER)
        return ids, exam.id


def _objects(fset, shared, ids, exam_id: int | None = None) -> dict:
    objects = {**fset.ids, "builtin_question": shared.builtin_question, "part": ids.parts["乙委部分一"],
               "material": shared.material, "static_file": shared.static_file}
    if exam_id is not None:
        objects["assignment"] = exam_id
    return objects


def _walk(app, client, objects: dict, subject_id: int) -> tuple[list[str], int]:
    """GET every route with these objects, without and with ?subject=: the leaks and server errors, and how
    many requests were made."""
    problems, made = [], 0
    for endpoint, method, url, query, access in _requests(app, objects):
        if method != "GET" or access.ends_session:
            continue
        for extra in ({}, {"subject": subject_id}):
            response = client.get(url, query_string={**query, **extra})
            made += 1
            if response.status_code >= 500:
                problems.append(f"GET {url} ({endpoint}): {response.status_code}")
                continue
            text, _ = body_text(response)
            if TOKEN in text:
                at = text.index(TOKEN)
                problems.append(f"GET {url} {extra} ({endpoint}) -> {response.status_code}: …{text[max(0, at - 60):at + 20]}…")
    return problems, made


@pytest.mark.parametrize("walker", WALKERS)
def test_no_route_shows_another_committees_subject(app, world, shared, foreign, secret_subject, login, walker):
    ids, exam_id = secret_subject
    client = login(world.login[walker])
    problems, made = [], 0
    for fset, exam in ((foreign["committee_b"], exam_id), (foreign["committee_b"], None), (foreign["branch_a2"], None)):
        found, count = _walk(app, client, _objects(fset, shared, ids, exam), ids.subject)
        problems, made = problems + found, made + count
    assert made > 100
    assert not problems, f"{len(problems)} pages show 党委B's subject to {walker}:\n" + "\n".join(problems[:40])
    # The subject's part does not exist for them in practice; its subject filter is refused.
    assert client.get(f"/practice/chapter/{ids.parts['乙委部分一']}").status_code == 404
    assert client.get(f"/practice/?subject={ids.subject}").status_code == 404
    if walker != "m_a1":
        assert client.get(f"/reports/trends?subject={ids.subject}").status_code == 404
        assert client.get(f"/reports/assignments/{exam_id}/export.xlsx").status_code == 404


def test_the_walk_sees_the_subject_where_it_belongs(app, world, shared, foreign, secret_subject, login):
    """Positive controls: the same detector finds the token on 党委B's own pages."""
    ids, exam_id = secret_subject
    member = login(world.login["m_b1"])
    assert TOKEN in member.get("/practice/").get_data(as_text=True)
    assert member.get(f"/practice/chapter/{ids.parts['乙委部分一']}").status_code == 200
    organiser = login(world.login["org_b"])
    assert f"乙委要点一{TOKEN}" in organiser.get(f"/reports/assignments/{exam_id}").get_data(as_text=True)
    text, sheet = body_text(organiser.get(f"/reports/assignments/{exam_id}/export.xlsx"))
    assert sheet and f"乙委部分一{TOKEN}" in text
    assert TOKEN in organiser.get(f"/reports/trends?unit={world.org['b1']}&subject={ids.subject}").get_data(as_text=True)
    assert {r.endpoint for r in app.url_map.iter_rules()} <= set(ENDPOINTS)  # the walk covers every route
