"""Report and export timings on the generated data, on one core.

- `reports.assignment_report` for the organiser of the whole tree, and the whole report page;
- `reports.member_rows` for the biggest branch, as its secretary, and the whole branch page;
- the rollup Excel download of every member, through the export view, in a child process so its peak
  RSS (VmHWM) is its own.

Pages go through the app in-process (Flask test client, logged in), so they cost whatever the views do
today. Each figure is the best of 3, each run in a fresh session. Every SQL statement is logged with the time until
the next one (running it plus loading its rows), so a missed goal names its slow query; that query's
plan is taken with EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from sqlalchemy import event, func, select

from . import ROOT
from .common import bench_app, normalise_url, pin_to_one_core

GOALS = {"report_s": 1.0, "branch_s": 0.1, "export_s": 15.0, "export_mb": 200.0}


# ---------------------------------------------------------------- which SQL the app runs


@dataclass
class Statement:
    sql: str
    params: object
    count: int = 0


@dataclass
class QueryLog:
    """Each distinct statement the engine runs: how often, and the parameters of its first run."""

    engine: object
    by_sql: dict[str, Statement] = field(default_factory=dict)

    def __enter__(self) -> QueryLog:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.by_sql.setdefault(statement, Statement(statement, parameters)).count += 1


def analyse(engine, log: QueryLog, top: int = 3) -> dict:
    """Re-run each distinct SELECT once on its own; rank by times run × database time; plans for the top ones."""
    ranked = []
    for statement in log.by_sql.values():
        if statement.sql.lstrip().upper().startswith(("SELECT", "WITH")):
            db_seconds, rows = _db_time(engine, statement)
            ranked.append({"sql": statement.sql, "params": repr(statement.params)[:300], "count": statement.count,
                           "db_seconds": db_seconds, "db_total": db_seconds * statement.count, "rows": rows,
                           "statement": statement})
    ranked.sort(key=lambda r: r["db_total"], reverse=True)
    for entry in ranked[:top]:
        entry["plan"] = _plan(engine, entry["statement"])
    for entry in ranked:
        del entry["statement"]
    return {"statements": sum(s.count for s in log.by_sql.values()), "sql_s": sum(r["db_total"] for r in ranked),
            "top": ranked[:top]}


def _db_time(engine, statement: Statement) -> tuple[float, int]:
    """How long the database alone takes to run a statement and hand over its rows; how many rows."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        start = time.perf_counter()
        cur.execute(statement.sql, statement.params)
        rows = len(cur.fetchall())
        seconds = time.perf_counter() - start
        raw.rollback()
    finally:
        raw.close()
    return seconds, rows


def _plan(engine, statement: Statement) -> str:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL) of a logged statement."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.params)
            plan = _sqlite_tree(cur.fetchall())
        else:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
            plan = "\n".join(r[0] for r in cur.fetchall())
        raw.rollback()
    finally:
        raw.close()
    return plan


def _sqlite_tree(rows: list) -> str:
    """EXPLAIN QUERY PLAN rows (id, parent, _, detail) as an indented tree."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)


# ---------------------------------------------------------------- the things measured


@dataclass
class Context:
    """Ids of who and what is measured, found in the generated data."""

    organiser_id: int
    assignment_id: int
    branch_id: int
    branch_members: int
    secretary_id: int


def find_context() -> Context:
    """The organiser of the whole tree, the first assignment, the biggest branch and its secretary."""
    from learnhub.extensions import db
    from learnhub.models import Assignment, Grant, Organisation, OrgKind, Role, User

    from .generate import ORGANISER_NO, PAPER_TITLE

    organiser = db.session.scalar(select(User.id).where(User.member_no == ORGANISER_NO))
    assignment = db.session.scalar(select(Assignment.id).where(Assignment.title == PAPER_TITLE.format(n=1)))
    branch, size = db.session.execute(
        select(User.org_id, func.count()).join(Organisation, Organisation.id == User.org_id)
        .where(Organisation.kind == OrgKind.BRANCH).group_by(User.org_id).order_by(func.count().desc(), User.org_id)
        .limit(1)
    ).one()
    secretary = db.session.scalar(select(Grant.user_id).where(Grant.org_id == branch, Grant.role == Role.SECRETARY))
    db.session.remove()
    return Context(organiser, assignment, branch, size, secretary)


def _fresh(user_id: int, assignment_id: int):
    """A new session, as a request has: the viewer's scope and the assignment."""
    from learnhub.extensions import db
    from learnhub.models import Assignment, User
    from learnhub.services.orgs import scope_for

    db.session.remove()
    user = db.session.get(User, user_id)
    return scope_for(user), db.session.get(Assignment, assignment_id)


def service_report(app, ctx: Context):
    """The call to time: `reports.assignment_report` for the organiser (setup, call)."""
    from learnhub.services.reports import completion as reports

    def setup():
        return _fresh(ctx.organiser_id, ctx.assignment_id)

    return setup, lambda scope, assignment: f"{len(reports.assignment_report(scope, assignment).units)} branch rows"


def service_branch(app, ctx: Context):
    """The call to time: `reports.member_rows` for the biggest branch, as its secretary (setup, call)."""
    from learnhub.extensions import db
    from learnhub.models import Organisation
    from learnhub.services.reports import completion as reports

    def setup():
        scope, assignment = _fresh(ctx.secretary_id, ctx.assignment_id)
        return scope, assignment, db.session.get(Organisation, ctx.branch_id)

    return setup, lambda scope, assignment, unit: f"{len(reports.member_rows(scope, assignment, unit))} members"


def page(app, user_id: int, endpoint: str, **values):
    """A GET of a whole page through the app (test client, logged in as `user_id`): (setup, call)."""
    from flask import url_for

    from learnhub.extensions import db
    from learnhub.models import User

    with app.test_request_context():
        url = url_for(endpoint, **values)
    from learnhub.security import DEVICE_KEY
    from learnhub.services.auth import sessions

    with app.app_context():  # a device login, as the login form makes one (services/auth/sessions.py)
        user = db.session.get(User, user_id)
        token, issued = user.get_id(), sessions.start(user, "bench", False, app.config["PERMANENT_SESSION_LIFETIME"])
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session[DEVICE_KEY] = token, True, issued.session_key

    def call():
        response = client.get(url)
        size = len(response.get_data())
        response.close()
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
        return f"{size:,} bytes"

    return (lambda: ()), call


def measure_one(app, engine, make, repeat: int, in_context: bool, goal: float | None = None) -> dict:
    """Best of `repeat` runs, the last with the query log on (its cost is a listener call per statement).

    A run already more than twice over `goal` is not repeated: the verdict cannot change, and the
    whole benchmark must stay under 15 minutes.
    """
    try:
        with _maybe_context(app, in_context):
            setup, call = make()
            best, runs = float("inf"), 0
            while runs < repeat:
                args = setup()
                runs += 1
                with QueryLog(engine) as log:
                    start = time.perf_counter()
                    detail = call(*args)
                    best = min(best, time.perf_counter() - start)
                if goal is not None and best > 2 * goal:
                    break
            peak_mb = _status_mb("VmHWM")  # before analyse() re-runs queries
        return {"seconds": best, "runs": runs, "detail": detail, "peak_mb": peak_mb, "queries": analyse(engine, log)}
    except Exception as exc:  # the app is being changed under us: report it, measure the rest
        return {"seconds": None, "runs": 0, "detail": f"failed: {type(exc).__name__}: {exc}"[:300], "queries": None}


def _maybe_context(app, wanted: bool):
    from contextlib import nullcontext

    return app.app_context() if wanted else nullcontext()


# ---------------------------------------------------------------- database on one core


def single_core_database(engine, cpu: int) -> None:
    """PostgreSQL: no parallel workers, and our backend on our CPU, so the query runs on one core too."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _pin(dbapi_connection, _record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.autocommit = autocommit
        try:
            os.sched_setaffinity(dbapi_connection.info.backend_pid, {cpu})
        except PermissionError:
            pass  # not root: the server may use another core, but still one at a time

    engine.dispose()


def _prepare(url: str):
    """Pin to one core; the app, its engine (database pinned too) and the ids to measure."""
    from learnhub.extensions import db

    cpu = pin_to_one_core()
    app = bench_app(url)
    with app.app_context():
        engine = db.engine
        single_core_database(engine, cpu)
        ctx = find_context()
    return cpu, app, engine, ctx


# ---------------------------------------------------------------- the child that exports


def export_child(url: str, repeat: int) -> dict:
    """In a fresh process on one core: the rollup export download, best of `repeat`; peak RSS of the downloads."""
    _, app, engine, ctx = _prepare(url)
    baseline_mb = _status_mb("VmRSS")
    result = measure_one(app, engine, lambda: page(app, ctx.organiser_id, "reports.assignment_export",
                                                   assignment_id=ctx.assignment_id), repeat, False, GOALS["export_s"])
    result["baseline_mb"] = baseline_mb
    return result


def _status_mb(field_name: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB.

    Not ru_maxrss: Linux carries it over fork + exec, so a child started by a big parent reports the
    parent's size (the orchestrator is ~1 GB after generating), not its own.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_export_child(url: str, repeat: int) -> dict:
    """Run export_child in a subprocess (bounded: 15 minutes) and read its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.reports", normalise_url(url), str(repeat)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    if done.returncode != 0:
        return {"seconds": None, "detail": f"export child failed: {done.stderr[-300:]}", "queries": None, "peak_mb": None}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- all of it


def measure(url: str, repeat: int = 3) -> dict:
    """Service calls and whole pages on one core, the export in a child; plans of their slowest statements."""
    cpus = os.sched_getaffinity(0)
    try:
        result = _measure_in_process(url, repeat)
    finally:
        os.sched_setaffinity(0, cpus)  # the load test that follows needs every core
    result["export"] = run_export_child(url, repeat)
    export = result["export"]
    print(f"  rollup export: {_ms(export['seconds'])} ({export['detail']}, {export.get('runs', 0)} run(s)), "
          f"peak RSS {export.get('peak_mb') or 0:.0f} MB", flush=True)
    return result


def _measure_in_process(url: str, repeat: int) -> dict:
    cpu, app, engine, ctx = _prepare(url)
    org, sec, aid = ctx.organiser_id, ctx.secretary_id, ctx.assignment_id
    result: dict = {"cpu": cpu, "branch_members": ctx.branch_members}
    result["report_service"] = measure_one(app, engine, lambda: service_report(app, ctx), repeat, True)
    result["branch_service"] = measure_one(app, engine, lambda: service_branch(app, ctx), repeat, True)
    result["report_page"] = measure_one(app, engine, lambda: page(app, org, "reports.assignment", assignment_id=aid),
                                        repeat, False)
    result["branch_page"] = measure_one(app, engine, lambda: page(app, sec, "reports.unit", assignment_id=aid,
                                                                  org_id=ctx.branch_id), repeat, False)
    engine.dispose()
    for key in ("report_service", "branch_service", "report_page", "branch_page"):
        print(f"  {key.replace('_', ' ')}: {_ms(result[key]['seconds'])} ({result[key]['detail']})", flush=True)
    return result


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:,.1f} ms"


def missed_goals(result: dict) -> list[tuple[str, dict]]:
    """(what missed its goal and by how much, the measurement) for every missed goal."""
    checks = [("whole-tree report: assignment_report()", "report_service", "seconds", GOALS["report_s"], "s"),
              ("whole-tree report page (GET)", "report_page", "seconds", GOALS["report_s"], "s"),
              ("branch page: member_rows()", "branch_service", "seconds", GOALS["branch_s"], "s"),
              ("branch page (GET)", "branch_page", "seconds", GOALS["branch_s"], "s"),
              ("rollup export of every member", "export", "seconds", GOALS["export_s"], "s"),
              ("rollup export peak memory", "export", "peak_mb", GOALS["export_mb"], "MB")]
    missed = []
    for name, key, field_name, goal, unit in checks:
        value = result[key].get(field_name)
        if value is not None and value >= goal:
            shown = f"{value:,.0f}" if unit == "MB" else f"{value:.3g}"
            missed.append((f"{name}: {shown} {unit}, goal < {goal:g} {unit} ({value / goal:.1f}× the goal)", result[key]))
    return missed


if __name__ == "__main__":
    print(json.dumps(export_child(sys.argv[1], int(sys.argv[2]))))
