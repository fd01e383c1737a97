"""Fixtures for the security suite: the objects a viewer must not reach, and logins that carry a CSRF token.

Two sets of "foreign" objects are built on top of the standard world (tests/world.py):

- ``committee_b``: everything belongs to 党委B (member m_b1 of branch B1), down to a question of 党委B's own
  bank, a 题目有误 report on it and a key correction of it. Every 党委A role is an outsider.
- ``branch_a2``: everything belongs to the sibling branch A2 (member m_a2), its question in A2's bank. The
  secretary of A1 is an outsider there, but the organiser of 党委A is not.

Each object key also records who may legitimately reach it, so the matrix has positive controls: the same
URL that gives an outsider 404 gives its owner or manager 200, which proves the id is real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    AssignmentQuestion,
    Grant,
    Material,
    MistakeCard,
    Organisation,
    PointLevel,
    PracticeMode,
    Question,
    QuestionKind,
    Role,
    User,
)
from learnhub.services.exam import key_corrections, quizzes
from learnhub.services.study import materials, practice
from learnhub.services.bank import question_reports
from learnhub.services.auth import sessions

from ..conftest import DATA
from ..factories import PASSWORD, make_assignment, make_question, make_subject, practise
from ..meetings.helpers import make_meeting
from ..study.material_helpers import org_material

ANONYMOUS = "anonymous"


@dataclass
class ForeignSet:
    """Ids of objects of one foreign organisation, and who may legitimately reach each of them.

    managers: roles whose staff scope covers the object (reports/admin pages may show it; for a question,
              the organisers who own it).
    owners:   the member whose own object it is (their attempt, their practice answer).
    assigned: roles to whom an assignment was given (they may open it as a member).
    usable:   roles for whom a question exists (its organisation's members and organisers, admins).
    """

    name: str
    ids: dict[str, int | str]
    managers: dict[str, set[str]]
    owners: dict[str, set[str]] = field(default_factory=dict)
    assigned: dict[str, set[str]] = field(default_factory=dict)
    usable: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Shared:
    """Objects that belong to nobody's organisation: the built-in bank, the study notes, static files."""

    builtin_question: int  # a question of the built-in bank on nobody's paper (so nobody who sits one is kept
    # from its key)
    part: int  # a part (chapter) of the Constitution that has questions
    material: str  # a study material's slug
    static_file: str = "css/app.css"

    @property
    def question(self) -> int:
        return self.builtin_question


def _user(world, key: str) -> User:
    return db.session.get(User, world.user[key])


def _question_on_no_paper() -> Question:
    """A question of the built-in bank that is on no fixed paper."""
    on_papers = select(AssignmentQuestion.question_id)
    return db.session.scalars(select(Question).where(
        Question.id.not_in(on_papers), Question.owner_org_id.is_(None)
    ).order_by(Question.key)).first()


def other_key(question: Question) -> str:
    """A key for `question` that differs from its own, as a key correction form takes it."""
    if question.kind is QuestionKind.TRUEFALSE:
        return "错" if question.answer == [True] else "对"
    return "B" if question.answer == [0] else "A"


def _committee_material(world, committee: str, organiser: str, name: str) -> dict:
    """A material of `committee`'s own subject, with an image (placed in its text) and a PDF."""
    folder = Path(current_app.instance_path) / "attachments"
    m = org_material(db.session.get(Organisation, world.org[committee]), _user(world, organiser), folder, name)
    return dict(org_material=m.material, org_material_slug=m.slug, org_attachment=m.image, org_material_version=1,
                org_material_subject=m.subject)


def _foreign_set(
    name: str, world, member: str, org: str, assignment_id: int, open_org: str, question: Question, bank: str,
    committee: tuple[str, str],
) -> dict:
    """Build one member's attempts, practice answer (on the built-in `question`), an open assignment for
    them, a question of organisation `bank`'s own bank with their report on it and a key correction of it."""
    person = _user(world, member)
    owned = make_question(db.session.get(Organisation, world.org[bank]), f"own-{bank}",
                          db.session.scalars(select(Question).where(Question.kind == QuestionKind.SINGLE)
                                             .order_by(Question.key)).first())
    done = quizzes.start_attempt(db.session.get(Assignment, assignment_id), person)
    quizzes.submit_attempt(done, None, 60)
    questions = list(db.session.scalars(select(Question).order_by(Question.key)))[:3]
    open_assignment = make_assignment(
        db.session.get(Organisation, world.org[open_org]), questions, title=f"{name} 练习卷", max_attempts=0,
    )
    db.session.commit()
    # Practised before the open attempt starts: had the question been on its paper, it would now be sealed.
    answer = practise(person, question, ["0"], PracticeMode.CHAPTER).answer
    in_progress = quizzes.start_attempt(open_assignment, person)
    report = question_reports.file_report(person, owned, "答案好像不对")
    correction = key_corrections.correct_key(owned, other_key(owned), "核对后更正", _user(world, "admin"))
    # A question served to this member in practice, not on their open paper: only they may answer it.
    unsealed = next(q for q in reversed(list(db.session.scalars(select(Question).order_by(Question.key))))
                    if q.id not in {entry["q"] for entry in in_progress.paper})
    served = practice.serve(person, unsealed, PracticeMode.CHAPTER)
    device = sessions.start(person, "Android", remember=True, lifetime=timedelta(days=1))
    db.session.commit()
    # A meeting quiz of the member's branch, started by the admin.
    meeting = make_meeting(world.org[org], world.user["admin"], title=f"{name} 会议测验")
    # The secretary's grant on the member's branch (revoked by the organisation tree's pages).
    secretary_grant = db.session.scalar(select(Grant.id).where(Grant.org_id == world.org[org], Grant.role == Role.SECRETARY))
    # A subject of organisation `bank` (学习科目) and a knowledge point of it (the question form hangs there).
    subject, _, point = make_subject(db.session.get(Organisation, world.org[bank]), f"{name}科目")
    db.session.commit()
    # A question of their mistake book (the finished paper was handed in blank) that is not on the open paper.
    sealed = {entry["q"] for entry in in_progress.paper}
    mistake = next(c for c in db.session.scalars(select(MistakeCard).where(MistakeCard.user_id == person.id)
                                                 .order_by(MistakeCard.question_key.desc()))
                   if c.question_id not in sealed)
    return dict(
        **_committee_material(world, *committee, name=f"{name}专题"),
        grant=secretary_grant,
        assignment=assignment_id, assignment_open=open_assignment.id, attempt_done=done.id, attempt_open=in_progress.id,
        practice_answer=answer.id, report=report.id, user=person.id, org=world.org[org], question=owned.id,
        correction=correction.id, served=served.id, device=device.device_id, mistake=mistake.id,
        meeting=meeting.id, meeting_code=meeting.code, subject=subject.id, node=point.id,
    )


@pytest.fixture
def shared(app, world) -> Shared:
    """Import the study notes, and pick a built-in question and a part that has questions."""
    with app.app_context():
        materials.import_notes(DATA / "notes")
        question = _question_on_no_paper()
        part = question.point
        while part.level is not PointLevel.PART:
            part = part.parent
        slug = db.session.scalars(select(Material.slug)).first()
        return Shared(builtin_question=question.id, part=part.id, material=slug)


@pytest.fixture
def foreign(app, world, shared) -> dict[str, ForeignSet]:
    """The two foreign sets (党委B, and the sibling branch A2), with who may reach what."""
    with app.app_context():
        question = db.session.get(Question, shared.builtin_question)
        b = _foreign_set("党委B", world, "m_b1", "b1", world.assignment_b, "b1", question, bank="b",
                         committee=("b", "org_b"))
        # A2's material is 党委A's: every 党委A member reads it, 党委A's organiser edits it.
        a2 = _foreign_set("第二支部", world, "m_a2", "a2", world.assignment_a, "a2", question, bank="a2",
                          committee=("a", "org_a"))
    staff_b = {"org_b", "admin"}
    staff_a2 = {"org_a", "admin"}
    committee_b = ForeignSet(
        "committee_b", b,
        managers={k: staff_b for k in b},
        owners={k: {"m_b1"} for k in ("attempt_done", "attempt_open", "practice_answer", "report", "served", "device", "mistake")},
        assigned={"assignment": {"m_b1", "org_b"}, "assignment_open": {"m_b1"}, "meeting": {"m_b1"},
                  "meeting_code": {"m_b1"}},
        usable={"question": {"m_b1", "org_b", "admin"},
                **dict.fromkeys(("org_material_slug", "org_attachment"), {"m_b1", "org_b", "admin"})},
    )
    branch_a2 = ForeignSet(
        "branch_a2", a2,
        # 党委A's assignment reaches branch A1 too, so its secretary may see the assignment (not A2's rows).
        managers={**{k: staff_a2 for k in a2}, "assignment": {"sec_a1", "org_a", "admin"}},
        owners={k: {"m_a2"} for k in ("attempt_done", "attempt_open", "practice_answer", "report", "served", "device", "mistake")},
        assigned={"assignment": {"m_a1", "m_a2", "sec_a1", "org_a", "admin"}, "assignment_open": {"m_a2"},
                  "meeting": {"m_a2"}, "meeting_code": {"m_a2"}},
        # A2's question: its members use it, 党委A's organiser owns it; branch A1 never sees it.
        usable={"question": {"m_a2", "org_a", "admin"},
                **dict.fromkeys(("org_material_slug", "org_attachment"), {"m_a1", "m_a2", "sec_a1", "org_a", "admin"})},
    )
    return {"committee_b": committee_b, "branch_a2": branch_a2}


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(html: str) -> str:
    """The value of the first csrf_token hidden input on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token hidden input on the page"
    return match.group(1) or match.group(2)


def login_with_token(client, member_no: str, password: str = PASSWORD):
    """Log in the way a browser does: GET the form, read its csrf_token, POST it back."""
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"identifier": member_no, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def table_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: compare two snapshots to prove nothing changed."""
    snapshot = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        snapshot[table.name] = sorted((tuple(repr(v) for v in row) for row in rows))
    return snapshot


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))

