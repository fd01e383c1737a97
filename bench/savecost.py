"""The cost of one answer save inside the app: the WSGI app called directly, no server, no HTTP.

  python -m bench savecost [--database-url URL] [--saves N] [--callgrind]

On an already generated database, one member of the load-test assignment signs in through the
production configuration (CSRF and the limiter on), starts the quiz and reads the page as a phone
would. Then the app is called with the page's answer saves (JSON, X-CSRFToken and the paper's X-Attempt-Token, the session cookie),
after 300 to warm up. Printed: process CPU time per save, best and median of 5 rounds of N.

With --callgrind, instructions per save as valgrind counts them: two runs of different lengths,
their difference divided by the extra saves, so start-up cancels out. The count is the same for the
same code whatever else the machine is doing, so it can tell apart changes of a few per cent that
timings on a shared 2-core machine cannot. It leaves out the database server's own work.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import statistics
import subprocess
import sys
import time

from . import ROOT
from .common import BENCH_SECRET, PLAIN_HTTP, normalise_url

WARM_UP = 300
ROUNDS = 5


def _app(url: str):
    from config import ProductionConfig
    from learnhub import create_app

    overrides = {"SQLALCHEMY_DATABASE_URI": normalise_url(url), "SECRET_KEY": BENCH_SECRET,
                 "LOGIN_RATE_LIMIT": "100000 per minute", **PLAIN_HTTP}
    return create_app(type("SaveCostConfig", (ProductionConfig,), overrides))


def _member_saving(url: str, with_app: bool = False):
    """A function that makes one save (seq given), as a member's phone sends it (and the app)."""
    from werkzeug.test import EnvironBuilder

    from .generate import PASSWORD
    from .load import Member, app_urls, csrf_of, parse_page, spread_logins

    app = _app(url)
    urls, members = app_urls(url)
    client = app.test_client()
    login = spread_logins(members, 1, 7)[0]
    token = csrf_of(client.get(urls.login).data)
    reply = client.post(urls.login, data={"csrf_token": token, "identifier": login, "password": PASSWORD})
    if reply.status_code != 302:
        raise SystemExit(f"login as {login} failed: HTTP {reply.status_code}")
    started = client.post(urls.start, data={"csrf_token": csrf_of(client.get(urls.detail).data)})
    member = Member(login, client=None)  # the test client below stands in for the HTTP one
    parse_page(member, client.get(started.headers["Location"]).data)
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    headers = {"X-CSRFToken": member.csrf, "X-Attempt-Token": member.token, "Content-Type": "application/json",
               "Cookie": cookie}
    environ = EnvironBuilder(path=member.save_url, method="POST", headers=headers).get_environ()
    answers = {"single": "{n}", "multiple": "[0,1]", "truefalse": '"true"', "fill": '["为人民服务"]'}

    def save(n: int) -> None:
        index = n % len(member.kinds)
        answer = answers[member.kinds[index]].format(n=n % 2)
        body = (f'{{"position":{index + 1},"q":{member.questions[index]},"answer":{answer},'
                f'"seq":{member.last_seq + n}}}').encode()
        request = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        status = []
        reply = app(request, lambda s, h, e=None: status.append(s))
        b"".join(reply)
        getattr(reply, "close", lambda: None)()
        if not status[0].startswith("200"):
            raise SystemExit(f"a save answered {status[0]}")

    return (save, app) if with_app else save


def measure(url: str, saves: int, rounds: int = ROUNDS) -> list[float]:
    """CPU milliseconds per save, one figure per round."""
    save = _member_saving(url)
    for n in range(1, WARM_UP + 1):
        save(n)
    n, out = WARM_UP, []
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(saves):
            n += 1
            save(n)
        out.append(1000 * (time.process_time() - began) / saves)
    return out


def instructions(url: str, saves: int) -> int:
    """Instructions per save, from two callgrind runs (1 × and 6 × `saves` after the warm-up)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install -y valgrind")

    def counted(n: int) -> int:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                   "-m", "bench.savecost", "--database-url", url, "--saves", str(n)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return int(re.search(r"Collected : (\d+)", done.stderr).group(1))

    return (counted(6 * saves) - counted(saves)) // (5 * saves)


# ---------------------------------------------------------------- what each step of a save costs


class _Steps:
    """CPU and wall time spent in each wrapped function, exclusive of the wrapped functions it calls."""

    def __init__(self):
        self.totals: dict[str, list[int]] = {}  # label -> [cpu ns, wall ns, calls]
        self.stack: list[list[int]] = []  # per open call: [children cpu, children wall]

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            frame = [0, 0]
            self.stack.append(frame)
            cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                cpu, wall = time.thread_time_ns() - cpu, time.perf_counter_ns() - wall
                self.stack.pop()
                if self.stack:
                    self.stack[-1][0] += cpu
                    self.stack[-1][1] += wall
                total = self.totals.setdefault(label, [0, 0, 0])
                total[0] += cpu - frame[0]
                total[1] += wall - frame[1]
                total[2] += 1

        functools.update_wrapper(timed, original)  # keeps marks such as a view's `accepts_json`
        setattr(owner, name, timed)


def steps(url: str, saves: int) -> list[tuple[str, float, float]]:
    """(step, CPU µs, wall µs) per save, measured over `saves` saves after the warm-up; the steps of
    bench/README.md's table. Wrapping costs a little itself (~1 µs per wrapped call, in "the rest")."""
    import flask.ctx
    from sqlalchemy.engine import Connection

    from learnhub.quiz import access, views
    from learnhub.services.exam import quizzes
    from learnhub.services.exam.quizzes import saving

    save, app = _member_saving(url, with_app=True)
    for n in range(1, WARM_UP + 1):
        save(n)
    meter = _Steps()
    meter.wrap(app, "wsgi_app", "the rest: WSGI environ to Request, response object and its iteration, Flask dispatch")
    meter.wrap(flask.ctx.RequestContext, "match_request", "URL routing")
    meter.wrap(app.session_interface, "open_session", "session cookie: verify and decode")
    meter.wrap(app.session_interface, "save_session", "session cookie: decide not to re-send it")
    meter.wrap(flask.ctx.RequestContext, "pop", "request teardown (context pop, teardown hooks)")
    for hooks, kind in ((app.before_request_funcs[None], "before"), (app.after_request_funcs[None], "after")):
        for i, hook in enumerate(hooks):
            holder = type("Hook", (), {"fn": staticmethod(hook)})
            meter.wrap(holder, "fn", f"{kind}-request hook {getattr(hook, '__qualname__', hook)}")
            hooks[i] = holder.fn
    meter.wrap(access, "claim", "attempt token (X-Attempt-Token): verify and decode")
    meter.wrap(app.request_class, "get_json", "request JSON: parse (bounded)")
    meter.wrap(quizzes, "record_answer", "record_answer: Python around the statement")
    meter.wrap(saving, "_known_write", "the save's checks, decoding and grading the answer (a known attempt)")
    meter.wrap(Connection, "execute", "the guarded upsert: BEGIN IMMEDIATE, the statement (SQLAlchemy Core + SQLite)")
    meter.wrap(Connection, "commit", "COMMIT (the WAL's fsync with synchronous=FULL)")
    meter.wrap(app.extensions["learnhub.autocommit_engine"], "connect", "database connection: pool checkout")
    meter.wrap(Connection, "close", "database connection: return to the pool")
    meter.wrap(views, "jsonify", "JSON response")
    app.view_functions["quiz.save"] = _timed_view(meter, app.view_functions["quiz.save"])
    for n in range(WARM_UP + 1, WARM_UP + saves + 1):
        save(n)
    rows = [(label, cpu / saves / 1000, wall / saves / 1000) for label, (cpu, wall, _) in meter.totals.items()]
    return sorted(rows, key=lambda row: -row[1])


def _timed_view(meter: _Steps, view):
    holder = type("View", (), {"fn": staticmethod(view)})
    meter.wrap(holder, "fn", "the save view: reading the fields, bounds")
    return holder.fn


def run(url: str, saves: int, callgrind: bool, show_steps: bool = False) -> dict:
    times = measure(url, saves)
    result = {"saves_per_round": saves, "cpu_ms_best": min(times), "cpu_ms_median": statistics.median(times)}
    if show_steps:
        result["steps"] = steps(url, saves)
        print("  per save, by step (CPU µs / wall µs):", flush=True)
        for label, cpu, wall in result["steps"]:
            print(f"    {cpu:7.1f} {wall:8.1f}  {label}", flush=True)
    print(f"  CPU per save: best {result['cpu_ms_best']:.3f} ms, median {result['cpu_ms_median']:.3f} ms "
          f"({ROUNDS} rounds of {saves})", flush=True)
    if callgrind:
        result["instructions"] = instructions(url, max(100, saves // 20))
        print(f"  instructions per save (callgrind): {result['instructions']:,}", flush=True)
    return result


def main(argv: list[str]) -> None:
    """One round, for a callgrind run started by instructions() (the lock is the caller's).

    The known-attempt store forgets an attempt after KNOWN_SECONDS of wall time, and the next save then
    takes the full path. Under valgrind a run lasts minutes, however long depending on the machine's
    load, so how often that happened moved the count by up to 2 % between runs of the same code. The
    counted runs keep the store's entries, as the timed rounds (a few seconds) do anyway.
    """
    import argparse

    from learnhub.services.exam.quizzes import saving

    parser = argparse.ArgumentParser(prog="python -m bench.savecost")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--saves", type=int, default=2000)
    args = parser.parse_args(argv)
    saving.KNOWN_SECONDS = float("inf")
    measure(args.database_url, args.saves, rounds=1)


if __name__ == "__main__":
    main(sys.argv[1:])
