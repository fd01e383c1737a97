"""A synthetic province in a fresh database: 党委 → 党总支 → 党支部, members, the real question bank,
assignments on the top 党委, finished attempts with their responses, and MemberResult rows.

The schema comes from the migrations (`flask db upgrade`), the question bank from `questions/` through
the app's importer; the bulk rows go into the app's tables with executemany (SQLite) or COPY
(PostgreSQL). The same --seed gives the same data: timestamps are fixed, not "now".
"""

from __future__ import annotations

import enum
import heapq
import json
import math
import os
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from . import ROOT
from .common import bench_app, dialect_of, normalise_url, sqlite_path

PASSWORD = "bench2026pass"
ORGANISER_NO = "bench-organiser"
PAPER_TITLE = "党章学习测验（第{n}期）"
LOAD_TITLE = "压力测试：逐题自动保存"
BASE = datetime(2026, 1, 5, 0, 0)  # naive UTC: the data does not depend on when it was generated
FAR = datetime(2099, 12, 31, 0, 0)
KIND_SHARE = {"single": 0.4, "multiple": 0.2, "truefalse": 0.2, "fill": 0.2}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国秀英志强丽华海燕卫东红梅国庆晓明春兰永刚淑珍立新桂芳文博子涵雨欣浩然思远嘉怡明轩俊杰婷婷"
PLACES = "安平宁和新丰永兴长清泰东西南北阳山河源江湖川岭城桥林石田"
UNITS = ["社区", "村", "小学", "中学", "卫生院", "供电所", "派出所", "税务所", "街道机关", "医院", "公司", "农场", "学院", "银行支行"]


@dataclass
class Params:
    members: int = 100_000
    branches: int = 2_000
    responses: int = 5_000_000
    seed: int = 2026
    paper: int = 20

    @classmethod
    def quick(cls, seed: int = 2026) -> Params:
        return cls(members=10_000, branches=200, responses=200_000, seed=seed)


@dataclass
class Org:
    id: int
    name: str
    kind: str
    parent: Org | None
    position: int
    path: str = ""
    skill: float = 0.0  # how well the branch's members know the content
    finish: float = 0.0  # how likely a member is to take an assignment at all


@dataclass
class QInfo:
    """What the generator needs of a question; duck-types Question for quizzes.build_paper."""

    id: int
    kind: object
    options: list
    penalty: float
    right: str  # canonical answer, JSON, graded right by the app's grader
    wrong: str  # a canonical answer the grader marks wrong


@dataclass
class Plan:
    """Everything decided before rows are written."""

    orgs: list[Org]
    member_org: list[Org]  # by member index
    skill: list[float]  # by member index
    secretaries: dict[int, int] = field(default_factory=dict)  # branch id -> member index


# ---------------------------------------------------------------- bulk loading


class Loader:
    """Buffer rows per table and write them in large batches: executemany on SQLite, COPY on PostgreSQL.

    Tables flush in the order they were first used, so rows always land after the rows they reference.
    The data is consistent by construction, so foreign keys are not checked row by row while loading
    (they stay declared). On PostgreSQL a thread runs the COPYs while the next batch is being built.
    """

    def __init__(self, engine, batch: int = 50_000):
        self.engine, self.batch = engine, batch
        self.sqlite = engine.dialect.name == "sqlite"
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.buffers: dict[str, list] = {}
        self.sql: dict[str, str] = {}
        self.extra: dict[str, tuple] = {}
        self.count: dict[str, int] = {}
        self.writer: CopyThread | None = None
        self._begin()

    def _begin(self) -> None:
        if self.sqlite:
            for pragma in ("foreign_keys = OFF", "synchronous = OFF", "journal_mode = MEMORY", "cache_size = -1048576"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")
            return
        try:
            self.conn.execute("SET session_replication_role = replica")  # skips FK triggers; needs a superuser
        except Exception:  # not a superuser: load with the checks on (slower, same result)
            self.conn.rollback()
        self.writer = CopyThread(self.conn)
        self.writer.start()

    def ts(self, when: datetime | None) -> str | None:
        """A naive-UTC datetime in the form SQLAlchemy stores it on this database."""
        if when is None:
            return None
        text = when.isoformat(" ", "microseconds")
        return text if self.sqlite else text + "+00"

    def table(self, table, columns: list[str]) -> None:
        """Declare the columns rows of `table` will carry; NOT NULL columns left out get their model default."""
        quote = self.engine.dialect.identifier_preparer
        extra = [(c.name, self._default(c)) for c in table.columns if c.name not in columns and self._needs_default(c)]
        names = columns + [name for name, _ in extra]
        cols = ", ".join(quote.quote(n) for n in names)
        target = quote.format_table(table)
        if self.sqlite:
            self.sql[table.name] = f"INSERT INTO {target} ({cols}) VALUES ({', '.join('?' * len(names))})"
        else:
            self.sql[table.name] = f"COPY {target} ({cols}) FROM STDIN"
        self.extra[table.name] = tuple(value for _, value in extra)
        self.buffers.setdefault(table.name, [])
        self.count.setdefault(table.name, 0)

    @staticmethod
    def _needs_default(column) -> bool:
        return not column.nullable and column.default is not None and not column.primary_key

    def _default(self, column):
        arg = column.default.arg
        value = arg(None) if callable(arg) else arg
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, datetime):
            return self.ts(value.replace(tzinfo=None))
        if isinstance(value, (list, dict)):
            return json.dumps(value)
        return value

    def add(self, table_name: str, row: tuple) -> None:
        """Queue one row (values in the declared column order, already plain: str, int, float, bool, None)."""
        buffer = self.buffers[table_name]
        buffer.append(row + self.extra[table_name] if self.extra[table_name] else row)
        if len(buffer) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write every buffered row, tables in first-declared order."""
        for name, rows in self.buffers.items():
            if rows:
                if self.sqlite:
                    self.conn.executemany(self.sql[name], rows)
                else:
                    self.writer.put(self.sql[name], list(rows))
                self.count[name] += len(rows)
                rows.clear()

    def close(self) -> None:
        """Flush, commit, and drop this connection (its session settings must not leak into the pool)."""
        self.flush()
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.writer.finish()
            self.conn.execute("SET session_replication_role = DEFAULT")
            self.conn.commit()
        self.raw.invalidate()


class CopyThread(threading.Thread):
    """Runs COPY batches, in order, on one psycopg connection."""

    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn = conn
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None

    def put(self, sql: str, rows: list) -> None:
        """Queue a batch (blocks while two are waiting); re-raise an error the thread met."""
        if self.error:
            raise self.error
        self.queue.put((sql, rows))

    def finish(self) -> None:
        """Wait for every queued batch."""
        self.queue.put(None)
        self.join()
        if self.error:
            raise self.error

    def run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._copy(*item)
                except BaseException as exc:  # handed to the generator at its next put()
                    self.error = exc

    def _copy(self, sql: str, rows: list) -> None:
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


# ---------------------------------------------------------------- the tree and the members


def plan_tree(branches: int, rng: random.Random) -> list[Org]:
    """Top 党委 → county 党委 (one per ~100 branches) → 党总支 (~18 branches each) → 党支部; 10% of a
    county's branches sit directly under its 党委. Weak branches: 10%, chosen at random."""
    orgs: list[Org] = []

    def add(name: str, kind: str, parent: Org | None, position: int) -> Org:
        org = Org(len(orgs) + 1, name, kind, parent, position)
        org.path = f"{parent.path if parent else '/'}{org.id}/"
        orgs.append(org)
        return org

    top = add("省直机关党委", "committee", None, 0)
    counties = max(1, round(branches / 100))
    per_county = _split(branches, counties)
    for c, count in enumerate(per_county, start=1):
        place = "".join(rng.sample(PLACES, 2))
        county = add(f"{place}县委", "committee", top, c)
        direct = count // 10
        rest = count - direct
        generals = [add(f"{place}县第{g}党总支", "general_branch", county, g) for g in range(1, max(1, round(rest / 18)) + 1)]
        for b in range(count):
            parent = county if b < direct else generals[(b - direct) % len(generals)]
            unit = "".join(rng.sample(PLACES, 2)) + rng.choice(UNITS)
            branch = add(f"{place}{unit}党支部", "branch", parent, b + 1)
            _give_skill(branch, rng)
    return orgs


def _give_skill(branch: Org, rng: random.Random) -> None:
    weak = rng.random() < 0.10
    branch.skill = rng.uniform(0.35, 0.55) if weak else rng.uniform(0.65, 0.92)
    branch.finish = rng.uniform(0.45, 0.75) if weak else rng.uniform(0.80, 1.0)


def _split(total: int, parts: int) -> list[int]:
    """`total` split into `parts` near-equal integers."""
    base, extra = divmod(total, parts)
    return [base + (i < extra) for i in range(parts)]


def plan_members(orgs: list[Org], members: int, rng: random.Random) -> Plan:
    """Branch sizes from a log-normal spread (a few big branches, many of 20–60); skill per member."""
    branches = [o for o in orgs if o.kind == "branch"]
    if members < 3 * len(branches):
        raise SystemExit(f"need at least 3 members per branch: {members} members for {len(branches)} branches")
    weights = [rng.lognormvariate(0, 0.6) for _ in branches]
    spare = members - 3 * len(branches)
    sizes = [3 + int(spare * w / sum(weights)) for w in weights]
    for i in range(members - sum(sizes)):
        sizes[i % len(sizes)] += 1
    plan = Plan(orgs=orgs, member_org=[], skill=[])
    for branch, size in zip(branches, sizes, strict=True):
        plan.secretaries[branch.id] = len(plan.member_org)
        for _ in range(size):
            plan.member_org.append(branch)
            plan.skill.append(min(0.98, max(0.05, rng.gauss(branch.skill, 0.08))))
    return plan


def load_tree(loader: Loader, plan: Plan, password_hash: str, rng: random.Random) -> None:
    """Organisations, the organiser and the members (user id = member index + 2), secretaries' grants."""
    from learnhub.models import Grant, Organisation, User

    created = loader.ts(BASE)
    loader.table(Organisation.__table__, ["id", "name", "code", "kind", "parent_id", "path", "position", "created_at"])
    for o in plan.orgs:
        loader.add("organisation", (o.id, o.name, f"org{o.id}", o.kind, o.parent.id if o.parent else None, o.path, o.position, created))
    user_cols = ["id", "member_no", "phone", "name", "org_id", "category", "password_hash", "must_change_password",
                 "is_admin", "active", "session_version", "created_at"]
    loader.table(User.__table__, user_cols)
    loader.add("user", (1, ORGANISER_NO, None, "省直机关组织员", 1, "full", password_hash, False, False, True, 1, created))
    for i, org in enumerate(plan.member_org):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        category = "probationary" if rng.random() < 0.05 else "full"
        loader.add("user", (i + 2, member_no(i), f"13{i:09d}", name, org.id, category, password_hash, False, False, True, 1, created))
    loader.table(Grant.__table__, ["user_id", "org_id", "role"])
    loader.add("grant", (1, 1, "organiser"))
    for branch_id, index in plan.secretaries.items():
        loader.add("grant", (index + 2, branch_id, "secretary"))


def member_no(index: int) -> str:
    """The login of member `index` (0-based); their user id is index + 2."""
    return f"P{index + 1:07d}"


# ---------------------------------------------------------------- questions and assignments


def load_questions() -> dict:
    """Import the real bank through the app; return it by kind as QInfo, with a right and a wrong answer each."""
    from sqlalchemy import select

    from learnhub.extensions import db
    from learnhub.models import Question
    from learnhub.services.bank import question_bank
    from learnhub.services.exam.grading import is_correct

    question_bank.import_dir(ROOT / "questions")
    by_kind: dict[str, list[QInfo]] = {k: [] for k in KIND_SHARE}
    rows = db.session.scalars(
        select(Question).where(Question.is_current.is_(True), Question.retired.is_(False)).order_by(Question.key)
    )
    for q in rows:
        right, wrong = _right_answer(q), _wrong_answer(q)
        if not is_correct(q, right) or is_correct(q, wrong):
            raise SystemExit(f"cannot build a right and a wrong answer for question {q.key}")
        penalty = 0.07 * (q.difficulty - 2)
        by_kind[q.kind.value].append(QInfo(q.id, q.kind, list(q.options), penalty, json.dumps(right), json.dumps(wrong)))
    return by_kind


def _right_answer(q) -> list:
    return [alts[0] for alts in q.answer] if q.kind.value == "fill" else list(q.answer)


def _wrong_answer(q) -> list:
    kind = q.kind.value
    if kind == "truefalse":
        return [not q.answer[0]]
    if kind == "fill":
        return ["不知道"] * len(q.answer)
    if kind == "single":
        return [(q.answer[0] + 1) % len(q.options)]
    if len(q.answer) > 1:
        return q.answer[:-1]
    return sorted({q.answer[0], (q.answer[0] + 1) % len(q.options)})


def pick_papers(by_kind: dict, count: int, size: int, rng: random.Random) -> list[list[QInfo]]:
    """`count` fixed papers of `size` questions, mixed by kind, no question on two papers while the bank lasts."""
    pools = {k: rng.sample(v, len(v)) for k, v in by_kind.items()}
    quota = {k: round(size * share) for k, share in KIND_SHARE.items()}
    quota["single"] += size - sum(quota.values())
    papers = []
    for _ in range(count):
        paper = []
        for kind, n in quota.items():
            if len(pools[kind]) < n:
                pools[kind] = rng.sample(by_kind[kind], len(by_kind[kind]))
            paper += [pools[kind].pop() for _ in range(n)]
        papers.append(paper)
    return papers


def create_assignments(papers: list[list[QInfo]]) -> tuple[list, object]:
    """The historical assignments (all but the last closed), and the open one the load test takes."""
    from learnhub.extensions import db
    from learnhub.models import Assignment, AssignmentKind, AssignmentQuestion

    def make(title: str, opens: datetime, closes: datetime, paper: list[QInfo], **extra) -> Assignment:
        a = Assignment(title=title, kind=AssignmentKind.EXAM, org_id=1, created_by_id=1, opens_at=_aware(opens),
                       closes_at=_aware(closes), pass_mark=60, created_at=_aware(opens), **extra)
        a.questions = [AssignmentQuestion(question_id=q.id, position=i) for i, q in enumerate(paper)]
        db.session.add(a)
        return a

    history = []
    for n, paper in enumerate(papers[:-1], start=1):
        opens = BASE + timedelta(days=35 * (n - 1))
        closes = FAR if n == len(papers) - 1 else opens + timedelta(days=14)
        limit = None if closes == FAR else 30  # the open one has no time limit: its attempts in progress stay valid
        history.append(make(PAPER_TITLE.format(n=n), opens, closes, paper, time_limit_minutes=limit, max_attempts=2))
    load = make(LOAD_TITLE, BASE, FAR, papers[-1], max_attempts=1)
    db.session.commit()
    windows = [(a.id, a.opens_at.replace(tzinfo=None), a.closes_at.replace(tzinfo=None), a.time_limit_minutes) for a in history]
    return windows, load.id


def _aware(when: datetime) -> datetime:
    from datetime import timezone

    return when.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- attempts and responses


@dataclass
class Taken:
    """A finished attempt, as much as update_result needs."""

    attempt_id: int
    number: int
    score: float
    passed: bool
    finished_at: datetime


class Attempts:
    """Writes attempts and their responses, and remembers what MemberResult needs."""

    def __init__(self, loader: Loader, plan: Plan, papers: list[list[QInfo]], windows: list, rng: random.Random):
        from learnhub.models import Attempt, Response

        self.loader, self.plan, self.papers, self.windows, self.rng = loader, plan, papers, windows, rng
        self.qmap = {q.id: q for paper in papers for q in paper}
        self.next_id = 1
        self.taken: dict[tuple[int, int], list[Taken]] = {}
        loader.table(Attempt.__table__, ["id", "assignment_id", "user_id", "number", "state", "started_at", "deadline",
                                         "finished_at", "paper", "correct_count", "total", "score", "passed"])
        loader.table(Response.__table__, ["attempt_id", "question_id", "answer", "is_correct", "seq", "saved_at"])

    def take(self, h: int, member: int, number: int, answered: int | None = None, boost: float = 0.0) -> None:
        """One attempt at historical assignment `h`; finished unless `answered` (responses so far) is given."""
        from learnhub.services.exam.quizzes import build_paper

        rng, ts, add = self.rng, self.loader.ts, self.loader.add
        assignment_id, opens, closes, limit = self.windows[h]
        span = min((closes - opens).total_seconds(), 20 * 86400) - 3600
        started = opens + timedelta(seconds=rng.randrange(int(span)))
        paper = build_paper(self.papers[h], rng)
        ability = self.plan.skill[member] + boost
        aid, self.next_id = self.next_id, self.next_id + 1
        shown = paper if answered is None else paper[:answered]
        responses = []
        for seq, entry in enumerate(shown, start=1):
            q = self.qmap[entry["q"]]
            ok = rng.random() < ability - q.penalty
            responses.append((aid, q.id, q.right if ok else q.wrong, ok, seq, ts(started + timedelta(seconds=35 * seq))))
        correct = sum(r[3] for r in responses)
        deadline = min(closes, started + timedelta(minutes=limit)) if limit else closes
        finished = None if answered is not None else started + timedelta(seconds=35 * len(paper) + 40)
        score = None if finished is None else round(100.0 * correct / len(paper), 1)
        state = "in_progress" if finished is None else "finished"
        add("attempt", (aid, assignment_id, member + 2, number, state, ts(started), ts(deadline), ts(finished),
                        json.dumps(paper), 0 if finished is None else correct, len(paper), score,
                        None if score is None else score >= 60))
        for row in responses:  # after their attempt, so a batch never holds a response without it
            add("response", row)
        if finished is None:
            return
        self.taken.setdefault((h, member), []).append(Taken(aid, number, score, score >= 60, finished))

    def results(self) -> None:
        """MemberResult rows exactly as quizzes.update_result leaves them (scoring: highest, earliest on a tie)."""
        from learnhub.models import MemberResult

        self.loader.table(MemberResult.__table__, ["assignment_id", "user_id", "attempts", "score", "passed",
                                                   "counted_attempt_id", "finished_at"])
        for (h, member), taken in sorted(self.taken.items()):
            counted = max(taken, key=lambda t: (t.score or 0, -t.number))
            self.loader.add("member_result", (self.windows[h][0], member + 2, len(taken), counted.score, counted.passed,
                                              counted.attempt_id, self.loader.ts(counted.finished_at)))


def plan_attempts(plan: Plan, params: Params, history: int, rng: random.Random) -> tuple[list, list, list, int]:
    """Choose who took what: first attempts (weighted by branch engagement), in-progress attempts on the
    open assignment, exemptions on the first one, as (h, member) pairs; and how many retries."""
    n = len(plan.member_org)
    in_progress_count = n // 200
    answered = 10 * in_progress_count
    total = (params.responses - answered) // params.paper
    retries = round(total * 0.08)
    firsts = total - retries
    if firsts > history * n:
        raise SystemExit("more responses than the members can give: raise --members or lower --responses")
    appetite = [1.0] * (history - 1) + [0.7]
    keys = []
    for h in range(history):
        for m in range(n):
            weight = plan.member_org[m].finish * appetite[h]
            keys.append((rng.random() ** (1.0 / weight), h, m))
    chosen = heapq.nlargest(firsts, keys)
    chosen_set = {(h, m) for _, h, m in chosen}
    open_h = history - 1
    idle = [m for m in range(n) if (open_h, m) not in chosen_set]
    in_progress = [(open_h, m) for m in rng.sample(idle, min(in_progress_count, len(idle)))]
    not_started = [m for m in range(n) if (0, m) not in chosen_set]
    exempt = [(0, m) for m in rng.sample(not_started, min(n // 200, len(not_started)))]
    return sorted((h, m) for _, h, m in chosen), in_progress, exempt, retries


def history_count(params: Params) -> int:
    """Historical assignments needed so that about 90% of members' slots suffice for the responses asked."""
    attempts = params.responses / params.paper
    return max(3, math.ceil(attempts * 0.92 / (0.9 * params.members)))


def load_attempts(loader: Loader, plan: Plan, papers, windows, params: Params, rng: random.Random) -> dict:
    """First attempts, retries by the lowest scorers, in-progress attempts, results, exemptions."""
    from learnhub.models import Exemption

    firsts, in_progress, exempt, retries = plan_attempts(plan, params, len(windows), rng)
    writer = Attempts(loader, plan, papers, windows, rng)
    for h, m in firsts:
        writer.take(h, m, 1)
    ranked = sorted(writer.taken, key=lambda k: writer.taken[k][0].score + 15 * rng.random())
    for h, m in sorted(ranked[:retries]):
        writer.take(h, m, 2, boost=0.08)
    base = 10 * len(in_progress)
    extra = params.responses - params.paper * (len(firsts) + retries) - base
    for i, (h, m) in enumerate(in_progress):
        writer.take(h, m, 1, answered=min(params.paper - 1, 10 + (1 if i < extra else 0)))
    writer.results()
    loader.table(Exemption.__table__, ["assignment_id", "user_id", "reason", "note", "created_by_id", "created_at"])
    reasons = ["leave", "sick", "away", "no_phone", "other"]
    for h, m in exempt:
        branch = plan.member_org[m]
        loader.add("exemption", (windows[h][0], m + 2, rng.choice(reasons), "", plan.secretaries[branch.id] + 2, loader.ts(windows[h][1])))
    return {"attempts": writer.next_id - 1, "retries": retries, "in_progress": len(in_progress), "exempt": len(exempt)}


# ---------------------------------------------------------------- the whole thing


def fresh_database(url: str) -> None:
    """Start from nothing: remove a SQLite file (and its WAL); a PostgreSQL database must be empty."""
    if dialect_of(url) == "sqlite":
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _require_empty(engine) -> None:
    from sqlalchemy import inspect

    tables = inspect(engine).get_table_names()
    if tables:
        raise SystemExit(f"{engine.url.database} is not empty ({len(tables)} tables): use a fresh database")


def fill_tallies() -> None:
    """The rows bypassed the app, so count the first-try tallies it keeps at each submit from scratch."""
    from learnhub.extensions import db
    from learnhub.services.reports import tallies

    tallies.rebuild()
    db.session.commit()
    db.session.remove()


def finish_database(engine) -> None:
    """SQLite: WAL, as `flask bootstrap` leaves it. PostgreSQL: sequences past the explicit ids, ANALYZE."""
    from learnhub.extensions import enable_wal

    if engine.dialect.name == "sqlite":
        enable_wal(engine)
        return
    with engine.begin() as conn:
        for table in ("organisation", "user", "attempt"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def generate(url: str, params: Params) -> dict:
    """Build the whole data set in a fresh database; return counts and timings."""
    import flask_migrate

    from learnhub.extensions import db
    from learnhub.services.auth.accounts import HashSettings, hash_password

    url = normalise_url(url)
    fresh_database(url)
    rng = random.Random(params.seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    app = bench_app(url)
    with app.app_context():
        _require_empty(db.engine)
        flask_migrate.upgrade()
        by_kind = load_questions()
        db.session.remove()  # end the reading transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE)
        timings["schema + bank"] = time.perf_counter() - start
        plan = plan_members(plan_tree(params.branches, rng), params.members, rng)
        password_hash = hash_password(HashSettings.from_config(app.config), PASSWORD)
        step = time.perf_counter()
        loader = Loader(db.engine)
        load_tree(loader, plan, password_hash, rng)
        loader.close()
        counts = dict(loader.count)
        timings["organisations + members"] = time.perf_counter() - step
        step = time.perf_counter()
        papers = pick_papers(by_kind, history_count(params) + 1, params.paper, rng)
        windows, load_id = create_assignments(papers)
        db.session.remove()
        loader = Loader(db.engine)
        counts.update(load_attempts(loader, plan, papers, windows, params, rng))
        loader.close()
        timings["attempts + responses"] = time.perf_counter() - step
        step = time.perf_counter()
        fill_tallies()
        timings["first-try tallies"] = time.perf_counter() - step
        step = time.perf_counter()
        finish_database(db.engine)
        timings["finish (WAL / ANALYZE)"] = time.perf_counter() - step
        counts.update(loader.count)
        db.engine.dispose()
    total = time.perf_counter() - start
    return {"seconds": total, "timings": timings, "counts": counts, "members": len(plan.member_org),
            "branches": sum(1 for o in plan.orgs if o.kind == "branch"), "organisations": len(plan.orgs),
            "assignments": len(windows) + 1, "report_assignment": windows[0][0], "load_assignment": load_id}


def print_summary(result: dict) -> None:
    """What was built and how long it took."""
    c = result["counts"]
    print(f"  {result['organisations']:,} organisations ({result['branches']:,} branches), {result['members']:,} members, "
          f"{result['assignments']} assignments, {c.get('attempt', 0):,} attempts ({c['in_progress']:,} in progress), "
          f"{c.get('response', 0):,} responses, {c.get('member_result', 0):,} results, {c.get('exemption', 0):,} exemptions")
    for label, seconds in result["timings"].items():
        print(f"    {label}: {seconds:.1f} s")
    print(f"  generated in {result['seconds']:.1f} s", flush=True)
