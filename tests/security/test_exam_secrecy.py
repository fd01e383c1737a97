"""No key during an exam: while a member sits a paper, no route of the app shows them its keys.

The walk takes every rule of the URL map (classified in test_matrix.ENDPOINTS), fills its arguments
with every object that could carry a key of the open paper — the paper's questions in every revision,
the member's other attempts and practice answers, other members' papers of the same exam — sends GET
and POST with sensible bodies (practice answers for each exam question, saves, key corrections, a bank
file with the paper's questions), follows redirects, and looks for the keys in every body with the
detector of secret_bank.py. It does so as a member, and as a secretary and an organiser who sit the
exam themselves. The positive control: after hand-in the same detector finds every key in the review.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from learnhub.extensions import db
from learnhub.models import (
    Assignment,
    Attempt,
    Grant,
    MistakeCard,
    Organisation,
    PracticeAnswer,
    PracticeMode,
    Question,
    QuestionKind,
    ShowAnswers,
    User,
    utcnow,
)
from learnhub.services.exam import key_corrections, quizzes, secrecy
from learnhub.services import meetings
from learnhub.services.study import practice
from learnhub.services.bank import question_reports
from learnhub.services.bank.subjects import part_of
from learnhub.services.auth import sessions

from ..factories import make_assignment, practise
from ..meetings.helpers import make_meeting, right_answer
from ..quiz.helpers import form_fields, shown_answer
from ..study.material_helpers import org_material
from .conftest import other_key
from .secret_bank import SecretQuestion, body_text, build_secret_bank, revealed
from .test_matrix import ENDPOINTS

WALKERS = ["m_a1", "sec_a1", "org_a"]
PAPER = ["sec-s1", "sec-s2", "sec-s3", "sec-s4"]
TZ = "Asia/Shanghai"


@dataclass
class Exam:
    bank: dict[str, SecretQuestion]
    exam: int  # the assignment the walker sits
    older: int  # an assignment they finished earlier, with sec-s1 (revision 1), sec-s2 and sec-u1
    attempt_open: int  # the walker's attempt on `exam` (handed in, for the after-close variant)
    attempt_older: int
    others_done: list[int]  # other members' finished attempts on `exam`
    practice_answer: int  # the walker's practice answer to sec-s3, given before the exam started
    served: int  # a question of the paper served to the walker in practice before the exam, not answered
    report: int  # the walker's 题目有误 report on sec-s1
    corrections: list[int]  # key corrections of sec-s4, the last of which can be reverted
    device: int  # another device the walker is signed in on
    mistakes: list[int] = field(default_factory=list)  # the walker's mistake cards (the paper's questions among them)
    meeting: int = 0  # a meeting quiz of branch A1 asking the paper's questions, the first one open
    meeting_code: str = ""


def _finish(assignment: Assignment, user: User, right: bool = True) -> Attempt:
    attempt = quizzes.start_attempt(assignment, user)
    answers = {}
    for pos, entry in enumerate(attempt.paper, start=1):
        q = db.session.get(Question, entry["q"])
        answers[pos] = shown_answer(q, entry["perm"], right)
    quizzes.submit_attempt(attempt, answers, 60)
    return attempt


def build_exam(world, walker: str, show_answers: ShowAnswers) -> Exam:
    """The walker's history with the secret bank, then their attempt on an exam of four secret questions."""
    bank = build_secret_bank()
    person = db.session.get(User, world.user[walker])
    committee = db.session.get(Organisation, world.org["a"])
    current = {k: db.session.get(Question, sq.ids[-1]) for k, sq in bank.items()}
    older = make_assignment(committee, [db.session.get(Question, bank["sec-s1"].ids[0]), current["sec-s2"], current["sec-u1"]],
                            title="旧测验", show_answers=ShowAnswers.AFTER_SUBMIT)
    exam = make_assignment(committee, [current[k] for k in PAPER], title="秘密考试", show_answers=show_answers)
    db.session.commit()
    attempt_older = _finish(older, person, right=False)
    # Practice before the exam: an answer to sec-s3 (wrong, so it is in the mistake book and due now), and
    # sec-s2 served but not yet answered.
    answer = practise(person, current["sec-s3"], "false", PracticeMode.CHAPTER).answer
    db.session.execute(update(MistakeCard).where(MistakeCard.user_id == person.id)
                       .values(due=utcnow() - timedelta(hours=1)))
    served = practice.serve(person, current["sec-s2"], PracticeMode.CHAPTER)
    report = question_reports.file_report(person, current["sec-s1"], "选项好像有两个对的")
    # The admin corrected sec-s4's key and then corrected it back: the second correction, revertible, names
    # the paper's real key on its revert page.
    admin, s4 = db.session.get(User, world.user["admin"]), current["sec-s4"]
    real = key_corrections.shown(s4, s4.answer)
    first = key_corrections.correct_key(s4, other_key(s4), "核对", admin)
    back = key_corrections.correct_key(db.session.get(Question, s4.id), real, "改回", admin)
    others = [_finish(exam, db.session.get(User, world.user[m])) for m in ("m_a1b", "m_a2")]
    attempt = quizzes.start_attempt(exam, person)
    # The exam shows every question's options in reverse, so the stored order shows nowhere on the paper.
    attempt.paper = [{"q": e["q"], "perm": list(range(len(e["perm"])))[::-1]} for e in attempt.paper]
    db.session.commit()
    if show_answers is ShowAnswers.AFTER_CLOSE:
        quizzes.submit_attempt(attempt, None, 60)
    device = sessions.start(person, "Android", remember=True, lifetime=timedelta(days=1))
    db.session.commit()
    cards = list(db.session.scalars(select(MistakeCard.id).where(MistakeCard.user_id == person.id)))
    meeting = _meeting(world, person, [current[k] for k in PAPER if current[k].kind is not QuestionKind.FILL])
    return Exam(bank, exam.id, older.id, attempt.id, attempt_older.id, [a.id for a in others], answer.id, served.id,
                report.id, [first.id, back.id], device.device_id, cards, meeting.id, meeting.code)


def _meeting(world, person: User, questions: list[Question]):
    """A meeting quiz of branch A1 on the paper's questions, the first one open and answered by a member of
    A1 (and joined by the walker, when they belong to A1)."""
    meeting = make_meeting(world.org["a1"], world.user["admin"], questions, title="秘密会议测验")
    member = db.session.get(User, world.user["m_a1b"])
    for who in (member, person):
        if meetings.may_join(meeting, who):
            meetings.join(meeting, who)
    mq = meetings.open_next(meeting)
    meetings.record_answer(meeting, member, 1, right_answer(mq.question), 1)
    return meeting


@pytest.fixture
def exam_for(app, world, shared):
    def _build(walker: str, show_answers: ShowAnswers = ShowAnswers.AFTER_SUBMIT) -> Exam:
        with app.app_context():
            return build_exam(world, walker, show_answers)
    return _build


# ---- the walk ---------------------------------------------------------------------------------------


def _objects(world, shared, e: Exam) -> dict[str, list]:
    """Candidates for each kind of object a URL names: every one that could carry a key of the paper."""
    questions = [i for k in PAPER for i in e.bank[k].ids]
    return {
        "static_file": [shared.static_file], "material": [shared.material], "part": [shared.part],
        "assignment": [e.exam, e.older], "assignment_open": [e.exam],
        "attempt_open": [e.attempt_open], "attempt_done": [e.attempt_older, *e.others_done],
        "question": questions, "practice_answer": [e.practice_answer], "report": [e.report],
        "correction": e.corrections, "device": [e.device], "mistake": e.mistakes,
        "user": [world.user["m_a1b"], world.user["m_a1"]], "org": [world.org["a1"], world.org["a"]],
        "meeting": [e.meeting], "meeting_code": [e.meeting_code],
    }


# Handing in the open paper ends the secrecy under test: it is the positive control, done after the walk.
# Here the walk hands in the member's older, finished attempt instead.
ARG_OVERRIDES = {"quiz.submit": {"attempt_id": "attempt_done"}}


def _gift(e: Exam) -> bytes:
    """A bank file that re-imports the paper's questions with guessed keys (preview: 'unchanged' would tell)."""
    meta = "// learnhub: article=第一条; point=入党条件; difficulty=1; version=2022\n"
    return (meta + "::sec-s3::秘密判断 STEMS3 对吗？{T}\n\n" + meta + "::sec-s1::秘密题 STEMS1 问的是什么？{=OPTS1C ~OPTS1A ~OPTS1B ~OPTS1D}\n").encode()


def _bodies(e: Exam, questions: list[int]) -> dict[str, list]:
    """POST bodies per endpoint (callables: a file upload is read once); anything else posts an empty form."""
    practice_posts = [
        *({"question_id": q, "mode": m, "a": a} for q in questions for m in ("daily", "chapter", "review") for a in ("0", "true")),
        {"served": e.served, "a": "0"}, {"served": e.served, "a": "3"},
    ]
    saves = [{"json": {"position": p, "answer": a, "seq": 100 + p, "q": q}}
             for p, q in enumerate(questions, start=1) for a in ("0", "true", ["x"])]
    return {
        "practice.answer": [lambda b=b: {"data": b} for b in practice_posts],
        "quiz.save": [lambda b=b: b for b in saves],
        "quiz.report_question": [lambda: {"data": {"note": "这道题的答案是什么？"}}],
        "meetings.answer": [lambda p=p, a=a: {"json": {"position": p, "answer": a, "seq": 10 + p}} for p in (1, 2) for a in (0, "true")],
        "reports.fix_key": [lambda: {"data": {"answer": "A", "reason": "核对", "back": str(e.exam)}}],
        "admin.bank_edit": [lambda: {"data": {"kind": "single", "stem": "改过的题干", "option_a": "甲", "option_b": "乙",
                                              "answer": "A", "explanation": "改", "article": "第一条", "point": "入党条件"}}],
        "admin.bank_import": [lambda: {"data": {"file": (io.BytesIO(_gift(e)), "paper.gift")},
                                       "content_type": "multipart/form-data"}],
    }


def walk(app, client, world, shared, e: Exam) -> tuple[list[tuple[str, str, object]], set[str]]:
    """Every rule with every candidate object, GET and POST, redirects followed: (method, url, response)s."""
    objects = _objects(world, shared, e)
    with app.app_context():  # a grant on branch A1 (the organisation pages revoke grants by id)
        objects["grant"] = [db.session.scalar(select(Grant.id).filter_by(org_id=world.org["a1"]))]
        # The 学习科目 pages of the paper's point (they list its questions), its part and its subject.
        point = db.session.get(Question, e.bank["sec-s1"].ids[-1]).point
        objects["node"], objects["subject"] = [point.id, part_of(point).id], [point.subject_id]
        # 党委A's own material with an image: every material page and file route is walked too.
        m = org_material(db.session.get(Organisation, world.org["a"]), db.session.get(User, world.user["org_a"]),
                         Path(app.instance_path) / "attachments", "保密检查专题")
        objects.update(org_material=[m.material], org_material_slug=[m.slug], org_attachment=[m.image],
                       org_material_version=[1], org_material_subject=[m.subject])
    bodies = _bodies(e, objects["question"])
    seen, walked = [], set()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (ENDPOINTS[r.endpoint].ends_session, r.endpoint, r.rule))
    for rule in rules:
        access = ENDPOINTS[rule.endpoint]
        arg_keys = {**access.args, **ARG_OVERRIDES.get(rule.endpoint, {})}
        for values in product(*(objects[k] for k in arg_keys.values())):
            url = rule.build(dict(zip(arg_keys, values, strict=True)), append_unknown=False)[1]
            query = {arg: objects[key][0] for arg, key in access.query.items()}
            for method in sorted(rule.methods & {"GET", "POST"}):
                for make in bodies.get(rule.endpoint, [dict]) if method == "POST" else [dict]:
                    payload = make()
                    response = client.open(url, method=method, query_string=query if method == "GET" else None, **payload)
                    walked.add(rule.endpoint)
                    seen.append((method, url, response))
                    if response.status_code in (301, 302, 303) and not response.location.endswith("/auth/login"):
                        seen.append(("GET", response.location, client.get(response.location)))
    return seen, walked


# Endpoints that end the session (test_matrix: ends_session), walked last: their login redirect is expected.
SESSION_ENDERS = {"/auth/logout", "/auth/sign-out-everywhere"}


def leaks_in(seen, bank: dict[str, SecretQuestion], sealed: set[str]) -> list[str]:
    """Keys shown by any response of the walk; also a server error, or a walk that lost its session (it
    would then see only the login page and prove nothing)."""
    problems = []
    for method, url, response in seen:
        if response.status_code >= 500:
            problems.append(f"{method} {url}: {response.status_code}")
            continue
        if "/auth/login" in (response.location or "") and url not in SESSION_ENDERS:
            problems.append(f"{method} {url}: sent to the login page (the walk lost its session)")
        text, sheet = body_text(response)
        problems += [f"{method} {url} -> {response.status_code}: {leak}" for leak in revealed(text, bank, sealed, sheet)]
    return problems


def _unchanged(app, e: Exam) -> dict:
    with app.app_context():
        rows = db.session.scalars(select(Question).where(Question.key.in_(PAPER)).order_by(Question.id))
        return {q.id: (q.answer, q.explanation, q.retired, q.is_current, q.options) for q in rows}


def _practice_rows(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PracticeAnswer).join(Question)
                                 .where(PracticeAnswer.user_id == user_id, Question.key.in_(PAPER)))


@pytest.mark.parametrize("walker", WALKERS)
def test_no_route_shows_a_key_of_the_open_paper(app, world, shared, login, exam_for, walker):
    e = exam_for(walker)
    client = login(world.login[walker])
    before, practised = _unchanged(app, e), _practice_rows(app, world.user[walker])
    seen, walked = walk(app, client, world, shared, e)
    assert walked == {r.endpoint for r in app.url_map.iter_rules()}, "the walk missed a route"
    problems = leaks_in(seen, e.bank, set(PAPER))
    assert not problems, f"{len(problems)} keys of the open paper shown to {walker}:\n" + "\n".join(problems[:60])
    # The detector had the paper in front of it: the member's own paper lists every question.
    paper = next(r for m, url, r in seen if url == f"/quiz/attempts/{e.attempt_open}" and m == "GET")
    assert paper.status_code == 200 and all(e.bank[k].stem_token in paper.get_data(as_text=True) for k in PAPER)
    # Nothing the walk posted changed the paper's questions or graded one of them in practice.
    assert _unchanged(app, e) == before and _practice_rows(app, world.user[walker]) == practised
    # The positive control: once handed in (answers shown after submit) the review shows every key.
    client = login(world.login[walker])
    handed_in = client.post(f"/quiz/attempts/{e.attempt_open}/submit", data=form_fields({}))
    review = client.get(handed_in.location)
    text, _ = body_text(review)
    shown = {leak.split(":")[0] for leak in revealed(text, e.bank, set(PAPER))}
    assert review.status_code == 200 and shown == set(PAPER), text


def test_answers_shown_after_close_are_not_shown_earlier_by_any_route(app, world, shared, login, exam_for):
    """Handed in, answers out only when the window closes: until then the walk finds no key either."""
    e = exam_for("m_a1", ShowAnswers.AFTER_CLOSE)
    client = login(world.login["m_a1"])
    seen, _ = walk(app, client, world, shared, e)
    problems = leaks_in(seen, e.bank, set(PAPER))
    assert not problems, "\n".join(problems[:60])
    with app.app_context():
        db.session.get(Assignment, e.exam).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    text, _ = body_text(login(world.login["m_a1"]).get(f"/quiz/attempts/{e.attempt_open}/review"))  # the walk signed out
    assert {leak.split(":")[0] for leak in revealed(text, e.bank, set(PAPER))} == set(PAPER)


# ---- the same rules, one page at a time ----------------------------------------------------------------


def _shown(response, e: Exam, keys) -> set[str]:
    text, sheet = body_text(response)
    return {leak.split(":")[0] for leak in revealed(text, e.bank, set(keys), sheet)}


@pytest.mark.parametrize("staff", ["sec_a1", "org_a"])
def test_staff_who_sit_the_exam_get_the_withheld_page_until_they_hand_in(app, world, login, exam_for, staff):
    e = exam_for(staff)
    c = login(world.login[staff])
    items, paper = f"/reports/assignments/{e.exam}/items", f"/reports/attempts/{e.others_done[0]}"
    for url in (items, paper):
        r = c.get(url)
        assert r.status_code == 403 and secrecy.SITTING in r.get_data(as_text=True), url
    # The control: a secretary of the same committee who does not sit it sees every key there.
    assert _shown(login(world.login["sec_a2"]).get(items), e, PAPER) == set(PAPER)
    c.post(f"/quiz/attempts/{e.attempt_open}/submit", data=form_fields({}))
    assert _shown(c.get(items), e, PAPER) == set(PAPER)
    assert c.get(paper).status_code == 200 and _shown(c.get(paper), e, PAPER) == set(PAPER)


def test_an_organiser_who_sits_the_exam_cannot_read_or_change_its_keys_in_the_bank(app, world, login, exam_for):
    e = exam_for("org_a")
    c = login(world.login["org_a"])
    s1 = e.bank["sec-s1"].ids[-1]
    before = _unchanged(app, e)
    assert c.get(f"/admin/questions/{s1}").status_code == 403
    r = c.post(f"/reports/questions/{s1}/fix-key", data={"answer": "A", "reason": "改成我选的", "back": e.exam})
    assert r.status_code == 403 and secrecy.WITHHELD in r.get_data(as_text=True)
    assert c.post(f"/admin/questions/{s1}/retire").status_code == 403
    assert _unchanged(app, e) == before
    # A question of the bank that is not on the paper stays editable for them.
    assert c.get(f"/admin/questions/{e.bank['sec-u1'].ids[-1]}").status_code == 200


def test_practice_does_not_serve_or_grade_a_question_of_the_open_paper(app, world, exam_for):
    e = exam_for("m_a1")
    with app.app_context():
        member, now = db.session.get(User, world.user["m_a1"]), utcnow()
        part = db.session.get(Question, e.bank["sec-s1"].ids[-1]).point.parent.parent
        drawn = {practice.next_chapter_question(member, part.id, random.Random(i)).key for i in range(40)}
        assert drawn and not drawn & set(PAPER) and "sec-u1" in drawn
        # Due in the mistake book: sec-s3 (practice), sec-s1, sec-s2 and sec-u1 (the older paper). Only one is not sealed.
        assert [c.question_key for c in practice.due_cards(member, now, TZ)] == ["sec-u1"]
        assert not {q.key for q in practice.daily(member, now, TZ).pending} & set(PAPER)
        with pytest.raises(practice.PracticeError, match="答案公布后才能练习"):
            practice.answer(member, e.served, ["0"])
        assert _practice_rows(app, member.id) == 1  # only the answer given before the exam
        quizzes.submit_attempt(db.session.get(Attempt, e.attempt_open), None, 60)
        assert practice.answer(member, e.served, ["0"]).answer.question.key == "sec-s2"  # the control
        later = utcnow() + timedelta(days=60)  # the hand-in put the paper's mistakes in the book: due later
        assert {c.question_key for c in practice.due_cards(member, later, TZ)} == {*PAPER, "sec-u1"}


def test_earlier_feedback_and_reviews_withhold_only_the_papers_questions(app, world, login, exam_for):
    e = exam_for("m_a1")
    c = login(world.login["m_a1"])
    feedback, older = c.get(f"/practice/answers/{e.practice_answer}"), c.get(f"/quiz/attempts/{e.attempt_older}/review")
    assert secrecy.WITHHELD in feedback.get_data(as_text=True) and not _shown(feedback, e, PAPER)
    # The older paper: sec-s1 (revision 1) and sec-s2 are withheld, sec-u1 is not on the open paper and shows.
    assert secrecy.WITHHELD in older.get_data(as_text=True) and _shown(older, e, [*PAPER, "sec-u1"]) == {"sec-u1"}
    c.post(f"/quiz/attempts/{e.attempt_open}/submit", data=form_fields({}))
    assert _shown(c.get(f"/practice/answers/{e.practice_answer}"), e, PAPER) == {"sec-s3"}
    assert _shown(c.get(f"/quiz/attempts/{e.attempt_older}/review"), e, PAPER) == {"sec-s1", "sec-s2"}
