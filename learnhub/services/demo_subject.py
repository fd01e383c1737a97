"""The demo's second subject (issue 15): 学习平台使用指南（示例科目）, owned by the demo 党委, built through the
same services the organiser's pages use — a subject with two parts and eight points, a material with an
image and a PDF, 20 questions — and assigned as "read, then quiz" to 第一党支部, where five members have
read it and handed in. Its content lives in learnhub/content/demo-subject/. Idempotent: added to a demo
that lacks it (an installation upgraded from before subjects), never twice."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from ..extensions import db
from ..models import AssignmentKind, Organisation, Question, Reading, ShowAnswers, Subject, User, utcnow
from .bank import subject_edit
from .bank.question_write import QuestionDraft, add_question
from .demo import DEMO_CODE, _answer_for
from .exam.assignments import AssignmentData, DrawRule, create_assignment
from .exam.quizzes import save_answer, start_attempt, submit_attempt
from .orgs import scope_for
from .study import attachments, material_editor
from .study.attachments import Limits

CONTENT = Path(__file__).resolve().parents[1] / "content" / "demo-subject"
TITLE = "平台使用指南学习测验"
TAKERS = ["D1001", "D1003", "D1004", "D1005", "D1006"]  # D1002 is left to try it in the demo
RIGHT_SHARE = 0.7
# {{attachment:NAME|说明}} in material.md: an image shown in the text (PNG) or a link to the file.
ATTACHMENT_REF = re.compile(r"\{\{attachment:([^|}]+)\|([^}]*)\}\}")


def _front_matter(text: str) -> tuple[dict, str]:
    _, meta, body = text.split("---", 2)
    return yaml.safe_load(meta) or {}, body.strip()


def seed_demo_subject(attachments_dir: Path, limits: Limits, content: Path = CONTENT, seed: int = 2026) -> bool:
    """Add the subject, its material and questions and the branch's task to the demo, if the demo exists
    and has no such subject yet; return True if added. Commits."""
    committee = db.session.scalar(select(Organisation).where(Organisation.code == DEMO_CODE))
    organiser = db.session.scalar(select(User).where(User.member_no == "dw001"))
    branch = db.session.scalar(select(Organisation).where(Organisation.code == "demo-b1"))
    if committee is None or organiser is None or branch is None:
        return False
    spec = yaml.safe_load((content / "subject.yaml").read_text(encoding="utf-8"))
    if db.session.scalar(select(Subject).where(Subject.owner_org_id == committee.id, Subject.name == spec["subject"])):
        return False
    scope = scope_for(organiser)
    subject = subject_edit.create_subject(scope, committee, spec["subject"], spec["description"], organiser)
    points = {}
    for part_spec in spec["parts"]:
        part = subject_edit.add_part(scope, subject, part_spec["name"])
        for name in part_spec["points"]:
            points[name] = subject_edit.add_point(scope, part, name)
    for q in spec["questions"]:
        add_question(scope, points[q["point"]], QuestionDraft(
            kind=q["type"], stem=q["stem"], explanation=q["explanation"], difficulty=q["difficulty"],
            options=tuple(q.get("options") or ()), correct=q["answer"] if q["type"] in ("single", "multiple") else "",
            truth=("对" if q["answer"] else "错") if q["type"] == "truefalse" else "",
            blanks=tuple(q["answer"]) if q["type"] == "fill" else (),
        ))
    meta, body = _front_matter((content / "material.md").read_text(encoding="utf-8"))
    point_ids = [points[p].id for p in meta["points"]]
    # Version 1 is the text alone; version 2 adds the picture and the printable PDF, as an organiser would.
    material = material_editor.create(subject, committee, material_editor.Draft(
        title=meta["title"], body=ATTACHMENT_REF.sub(lambda m: m.group(2), body), point_ids=point_ids), organiser)
    ids = {}
    for name in meta["attachments"]:
        with (content / name).open("rb") as fh:
            ids[name] = attachments.add(material, name, fh, limits, attachments_dir, organiser).id

    def ref(m: re.Match) -> str:
        name, caption = m.group(1), m.group(2)
        return f"{'!' if name.endswith('.png') else ''}[{caption}](attachment:{ids[name]})"

    material_editor.save(material, material_editor.Draft(
        title=meta["title"], body=ATTACHMENT_REF.sub(ref, body), point_ids=point_ids), organiser)
    now = utcnow()
    assignment = create_assignment(scope, AssignmentData(
        title=TITLE, kind=AssignmentKind.EXAM, org=branch, opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=11), pass_mark=60, max_attempts=2, show_answers=ShowAnswers.AFTER_SUBMIT,
        materials=[material], rules=[DrawRule(node=None, subject=subject, count=10)], read_first=True,
    ), organiser)
    rng = random.Random(seed)
    for member_no in TAKERS:
        member = db.session.scalar(select(User).where(User.member_no == member_no))
        if member is None:
            continue
        when = now - timedelta(days=rng.randint(1, 2), hours=rng.randint(0, 8))
        db.session.add(Reading(user_id=member.id, material_id=material.id, opened_at=when,
                               completed_at=when + timedelta(minutes=6), version=material.version))
        db.session.commit()
        attempt = start_attempt(assignment, member, now=when + timedelta(minutes=7), rng=rng)
        for position, entry in enumerate(attempt.paper, start=1):
            question = db.session.get(Question, entry["q"])
            answer = _answer_for(question, entry["perm"], rng.random() < RIGHT_SHARE)
            save_answer(attempt, position, answer, position, 0, now=when + timedelta(minutes=8))
        submit_attempt(attempt, None, 0, now=when + timedelta(minutes=15))
    return True
