"""The data `python -m bench meetings` runs on, made in-process with the app's own code: a small province
(bench.generate), a meeting per branch (services/meetings/setup.create_meeting, questions from the
bank), a signed-in device per phone and one for the organiser who drives every projector.

Phones are signed in the way a login leaves them — a device row (services/auth/sessions.start) and a
session cookie the app's own session interface signs (security.sign_in_device: "_user_id" = "id:version",
the device key) under the secret key the server will run with — without the login form: what logins
cost is measured elsewhere (the start of an exam in bench/load.py). After a run, `stored_answers` reads
back what the database holds.
"""

from __future__ import annotations

import math
import random

from .common import bench_app, normalise_url
from .generate import ORGANISER_NO, Params
from .meetings_client import USER_AGENT

ANSWERED_PER_ATTEMPT = 20


def params_for(meetings: int, phones: int, seed: int) -> Params:
    """A province small enough to build in well under a minute with at least `meetings` branches of
    `phones` members or more: half as many branches again as meetings, twice `phones` members per branch
    on average (sizes spread log-normally: ~85 % of the branches have `phones` or more), finished papers
    for a tenth of the members."""
    branches = math.ceil(meetings * 1.5) + 10
    members = branches * max(60, 2 * phones + 3)
    responses = 10 * (members // 200) + ANSWERED_PER_ATTEMPT * max(100, members // 10)
    return Params(members=members, branches=branches, responses=responses, seed=seed)


def _app(url: str, secret: str):
    app = bench_app(normalise_url(url))
    app.config["SECRET_KEY"] = secret  # the server's key: the cookies signed here are good there
    return app


def _dispose(app) -> None:
    from learnhub.extensions import db

    db.session.remove()
    db.engine.dispose()
    app.extensions["learnhub.autocommit_engine"].dispose()


def _branches(meetings: int, phones: int, rng: random.Random) -> list:
    """`meetings` branches with at least `phones` active members, chosen at random."""
    from sqlalchemy import func, select

    from learnhub.extensions import db
    from learnhub.models import OrgKind, Organisation, User

    big = db.session.scalars(
        select(Organisation).join(User, User.org_id == Organisation.id)
        .where(Organisation.kind == OrgKind.BRANCH, Organisation.active, User.active, ~User.must_change_password)
        .group_by(Organisation.id).having(func.count(User.id) >= phones).order_by(Organisation.id)).all()
    if len(big) < meetings:
        raise SystemExit(f"only {len(big)} branches have {phones} members or more: ask for fewer meetings or phones")
    return sorted(rng.sample(list(big), meetings), key=lambda o: o.id)


def _questions():
    """Built-in questions a meeting can ask with buttons, on no paper (so no phone sits an exam with one)."""
    from sqlalchemy import select

    from learnhub.extensions import db
    from learnhub.models import AssignmentQuestion, Question, QuestionKind

    return list(db.session.scalars(
        select(Question).where(Question.is_current.is_(True), Question.retired.is_(False),
                               Question.kind != QuestionKind.FILL, Question.owner_org_id.is_(None),
                               Question.id.not_in(select(AssignmentQuestion.question_id)))
        .order_by(Question.id)))


def _cookie(app, user, issued) -> str:
    """The session cookie the login would have set: signed by the app's session interface."""
    from flask import session

    from learnhub.security import sign_in_device

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        sign_in_device(user, issued)
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def _sign_in(app, users: list) -> dict[int, str]:
    """A device login (services/auth/sessions.start) and its session cookie for each user, by id."""
    from learnhub.extensions import db
    from learnhub.services.auth import sessions

    lifetime = app.extensions["learnhub.login_rules"].lifetime
    cookies = {}
    for start in range(0, len(users), 500):
        batch = [(user, sessions.start(user, USER_AGENT, False, lifetime)) for user in users[start:start + 500]]
        db.session.commit()
        cookies.update({user.id: _cookie(app, user, issued) for user, issued in batch})
    return cookies


def prepare(url: str, secret: str, labels: list[str], meetings: int, phones: int, questions: int, seconds: int,
            timing: dict, seed: int) -> dict:
    """Meetings for each run (`labels`: a fresh set per run, in the same branches, with the same phones),
    the phones' and the organiser's cookies, and the timings of each room. Returns the rooms by label."""
    from flask import url_for
    from sqlalchemy import select

    from learnhub.extensions import db
    from learnhub.models import MeetingKind, User
    from learnhub.services import meetings as service
    from learnhub.services.orgs import scope_for

    rng = random.Random(seed)
    app = _app(url, secret)
    with app.app_context():
        branches = _branches(meetings, phones, rng)
        people = {}
        for org in branches:
            people[org.id] = list(db.session.scalars(
                select(User).where(User.org_id == org.id, User.active, ~User.must_change_password)
                .order_by(User.id).limit(phones)))
        organiser = db.session.scalar(select(User).where(User.member_no == ORGANISER_NO))
        cookies = _sign_in(app, [organiser] + [u for users in people.values() for u in users])
        pool, scope = _questions(), scope_for(organiser)
        per_meeting = max(questions, service.MIN_QUESTIONS)
        if len(pool) < per_meeting:
            raise SystemExit(f"the bank has only {len(pool)} questions a meeting can ask")
        rooms: dict[str, list[dict]] = {}
        for label in labels:
            rooms[label] = []
            for n, org in enumerate(branches, start=1):
                chosen = rng.sample(pool, per_meeting)
                meeting = service.create_meeting(scope, org, f"基准测试会议 {label} {n}", MeetingKind.GENERAL, chosen,
                                                 organiser, seconds)
                with app.test_request_context():
                    urls = {"join": url_for("meetings.join", code=meeting.code),
                            "screen": url_for("meetings.screen", meeting_id=meeting.id),
                            "next": url_for("meetings.next_question", meeting_id=meeting.id),
                            "close": url_for("meetings.close_question", meeting_id=meeting.id),
                            "end": url_for("meetings.end", meeting_id=meeting.id)}
                rooms[label].append({
                    "id": meeting.id, "code": meeting.code, **urls, "seconds": seconds, "ask": questions,
                    "start_at": rng.uniform(0, timing["window"]),
                    "phones": [{"user": u.id, "cookie": cookies[u.id], "join_at": rng.uniform(0, timing["join_window"])}
                               for u in people[org.id]]})
        staff_cookie = cookies[organiser.id]
        _dispose(app)
    return {"rooms": rooms, "staff_cookie": staff_cookie}


def stored_answers(url: str, secret: str, meeting_ids: list[int]) -> dict:
    """What the database holds for these meetings: answers ("meeting position user" -> seq), attendance,
    meetings ended."""
    from sqlalchemy import func, select

    from learnhub.extensions import db
    from learnhub.models import Meeting, MeetingAnswer, MeetingAttendance

    app = _app(url, secret)
    with app.app_context():
        answers = {f"{m} {p} {u}": s for m, p, u, s in db.session.execute(
            select(MeetingAnswer.meeting_id, MeetingAnswer.position, MeetingAnswer.user_id, MeetingAnswer.seq)
            .where(MeetingAnswer.meeting_id.in_(meeting_ids)))}
        present = db.session.scalar(select(func.count()).select_from(MeetingAttendance)
                                    .where(MeetingAttendance.meeting_id.in_(meeting_ids)))
        ended = db.session.scalar(select(func.count()).select_from(Meeting)
                                  .where(Meeting.id.in_(meeting_ids), Meeting.ended_at.is_not(None)))
        _dispose(app)
    return {"answers": answers, "attendance": present, "ended": ended}
