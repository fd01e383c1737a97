"""Load test: the production server (`python -m learnhub.server`, production config) on free loopback
ports, direct and behind deploy/'s nginx, driven by wrk (closed loops) and bench/openloop.py (open loops).

Members log in for real (CSRF token from the login form, production argon2 parameters), start the
load-test assignment through the start form, and read their quiz page for the X-CSRFToken value
(the page's <meta name="csrf-token">), their save URL, last seq, question ids and kinds. Then, each
scenario for a fixed time (15 s by default): the save capacity (a closed loop of 50 members), answers
arriving at a constant rate (1,500/s and 80 % of that capacity), saves during the rollup export, the
quiz page and logins; the start of an exam (2,000 members signing in and opening the paper within
60 s); then the saves and the start of an exam again through nginx. Finally the page weight.
`baselines` serves bench/baseline.py's bare apps the same way and measures them as the app's saves.

Only 127.0.0.1 is used. Every run stops by itself: wrk and the generator have a fixed duration, the
servers are stopped (SIGTERM, then SIGKILL) in a `finally`.
"""

from __future__ import annotations

import http.client
import re
import secrets
import shutil
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import OUT, ROOT
from .common import dialect_of, normalise_url
from .generate import LOAD_TITLE, ORGANISER_NO, PAPER_TITLE, PASSWORD, member_no
from .measure import HOST, open_loop, wrk
from .stack import Running, baseline, nginx_available, proxied, server
from .weight import page_weight

GOALS = {"saves_per_s": 2000, "save_p99_ms": 50, "logins_per_s": 90, "quiz_page_kb": 30,
         "open_rate": 1500, "open_share": 0.8, "exam_members": 2000, "exam_window_s": 60, "exam_page_p99_ms": 1000,
         "ceiling_share": 0.5}
CAPACITY_CONNECTIONS = 50  # the closed loop that measures how many saves a second the server can do
OPEN_LOOP_MEMBERS = 200


# ---------------------------------------------------------------- a tiny HTTP client with cookies


class Client:
    """One browser: a cookie jar over http.client, no redirects followed."""

    def __init__(self, port: int, timeout: float = 30, tls: bool = False):
        self.port, self.timeout, self.tls = port, timeout, tls
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """Send one request; return (status, headers, body) and keep any cookies set."""
        if self.tls:  # nginx with the benchmark's own throw-away certificate
            conn = http.client.HTTPSConnection(HOST, self.port, timeout=self.timeout,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            all_headers = {"Cookie": self.cookie_header(), **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.headers, data
        finally:
            conn.close()

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict):
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def _find(pattern: str, html: bytes, what: str) -> str:
    match = re.search(pattern, html.decode("utf-8", "replace"))
    if not match:
        raise RuntimeError(f"no {what} in the page (did the template change?)")
    return match.group(1)


def csrf_of(html: bytes) -> str:
    """The CSRF token a page carries, from its meta tag (falling back to a form field)."""
    try:
        return _find(r'<meta name="csrf-token" content="([^"]+)"', html, "csrf-token meta tag")
    except RuntimeError:
        return _find(r'name="csrf_token"[^>]*value="([^"]+)"', html, "csrf_token field")


# ---------------------------------------------------------------- members


@dataclass
class Member:
    login: str
    client: Client
    page: str = ""
    save_url: str = ""
    csrf: str = ""
    token: str = ""  # the paper's own token (X-Attempt-Token), as quiz.js sends it with every save
    last_seq: int = 0
    kinds: list[str] = field(default_factory=list)
    questions: list[int] = field(default_factory=list)  # question ids by position, sent with saves as the page does


@dataclass
class Urls:
    login: str
    detail: str
    start: str
    export: str | None  # the organiser's rollup export of the first assignment


def app_urls(url: str) -> tuple[Urls, int]:
    """The app's own URLs for logging in and for the load-test assignment; how many members there are."""
    from flask import url_for
    from sqlalchemy import func, select

    from learnhub.extensions import db
    from learnhub.models import Assignment, User

    from .common import bench_app

    app = bench_app(url)
    with app.app_context():
        assignment_id = db.session.scalar(select(Assignment.id).where(Assignment.title == LOAD_TITLE))
        reported_id = db.session.scalar(select(Assignment.id).where(Assignment.title == PAPER_TITLE.format(n=1)))
        members = db.session.scalar(select(func.count()).select_from(User).where(User.member_no.like("P%")))
        db.session.remove()
        db.engine.dispose()
    if assignment_id is None:
        raise RuntimeError("no load-test assignment: generate the data first (python -m bench generate)")
    with app.test_request_context():
        try:
            export = url_for("reports.assignment_export", assignment_id=reported_id)
        except Exception:  # the view was renamed: the export scenario is skipped
            export = None
        urls = Urls(url_for("auth.login"), url_for("quiz.detail", assignment_id=assignment_id),
                    url_for("quiz.start", assignment_id=assignment_id), export)
    return urls, members


def sign_in(port: int, urls: Urls, login: str, timeout: float = 30) -> Client:
    """Log in through the login form; the client keeps the session cookie."""
    client = Client(port, timeout)
    status, _, html = client.get(urls.login)
    status, headers, _ = client.post_form(urls.login, {"csrf_token": csrf_of(html), "identifier": login, "password": PASSWORD})
    if status != 302 or urls.login in headers.get("Location", ""):
        raise RuntimeError(f"login as {login} failed: HTTP {status}")
    return client


def take_quiz(port: int, urls: Urls, login: str) -> Member:
    """Log in, start (or resume) the load-test attempt, read the quiz page."""
    member = Member(login, sign_in(port, urls, login))
    status, _, html = member.client.get(urls.detail)
    status, headers, _ = member.client.post_form(urls.start, {"csrf_token": csrf_of(html)})
    location = urllib.parse.urlsplit(headers.get("Location", "")).path
    if status != 302 or "/attempts/" not in location:
        raise RuntimeError(f"{login} could not start the quiz: HTTP {status} → {location}")
    member.page = location
    read_page(member)
    return member


def read_page(member: Member) -> int:
    """GET the member's quiz page and read what the saves need from it (parse_page). Returns its size."""
    status, _, html = member.client.get(member.page)
    if status != 200:
        raise RuntimeError(f"quiz page of {member.login}: HTTP {status}")
    parse_page(member, html)
    return len(html)


def parse_page(member: Member, html: bytes) -> None:
    """The quiz page's CSRF token, save URL, last seq, and question ids and kinds by position."""
    member.csrf = csrf_of(html)
    member.save_url = _find(r'data-save-url="([^"]+)"', html, "data-save-url")
    member.token = _find(r'data-token="([^"]+)"', html, "data-token")
    member.last_seq = int(_find(r'data-last-seq="(\d+)"', html, "data-last-seq"))
    text = html.decode()
    found = sorted((int(p), int(q), k) for p, q, k in re.findall(r'data-position="(\d+)" data-q="(\d+)" data-kind="(\w+)"', text))
    member.kinds = [k for _, _, k in found]
    member.questions = [q for _, q, _ in found]
    if not member.kinds:
        raise RuntimeError("no questions found on the quiz page")


def parallel(fn, items: list, workers: int = 8) -> list:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def spread_logins(members: int, count: int, offset: int) -> list[str]:
    """`count` member logins spread evenly over the whole tree."""
    step = max(1, members // count)
    return [member_no((i * step + offset) % members) for i in range(count)]


class Download(threading.Thread):
    """The organiser's rollup export, fetched once, `delay` seconds after start, while a scenario runs."""

    def __init__(self, client: Client, path: str, delay: float):
        super().__init__(daemon=True)
        self.client, self.path, self.delay = client, path, delay
        self.outcome: dict = {}

    def run(self) -> None:
        time.sleep(self.delay)
        start = time.perf_counter()
        try:
            status, _, body = self.client.get(self.path)
            self.outcome = {"status": status, "bytes": len(body)}
        except OSError as exc:  # the worker was killed, or the client gave up
            self.outcome = {"status": None, "error": f"{type(exc).__name__}: {exc}"}
        self.outcome["seconds"] = time.perf_counter() - start


# ---------------------------------------------------------------- entries for wrk


def save_entries(members: list[Member]) -> list[dict]:
    return [{"cookie": m.client.cookie_header(), "csrf": m.csrf, "token": m.token, "path": m.save_url, "seq": m.last_seq,
             "kinds": m.kinds, "questions": m.questions} for m in members]


def page_entries(members: list[Member]) -> list[dict]:
    return [{"cookie": m.client.cookie_header(), "path": m.page} for m in members]


def login_entries(port: int, urls: Urls, logins: list[str]) -> list[dict]:
    """One anonymous session per login (cookie + the login form's CSRF token), reused for every try."""

    def entry(login: str) -> dict:
        client = Client(port)
        _, _, html = client.get(urls.login)
        return {"cookie": client.cookie_header(), "csrf": csrf_of(html), "path": urls.login, "login": login,
                "password": PASSWORD}

    return parallel(entry, logins)


# ---------------------------------------------------------------- all of it


def run(url: str, duration: int = 15, proxy: bool = True) -> dict:
    """Every scenario against one database, direct then through nginx; returns the figures (and prints them)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    url = normalise_url(url)
    urls, members = app_urls(url)
    OUT.mkdir(parents=True, exist_ok=True)
    dialect = dialect_of(url)
    log_path = OUT / f"server-{dialect}.log"
    secret = secrets.token_hex(32)  # one key for both shapes: the members' sessions stay valid behind nginx
    exam_members = min(GOALS["exam_members"], members // 5)
    results: dict = {}
    with server(url, log_path, secret) as direct:
        start = time.perf_counter()
        takers = parallel(lambda login: take_quiz(direct.port, urls, login), spread_logins(members, OPEN_LOOP_MEMBERS, 0))
        results["prepare_s"] = time.perf_counter() - start
        results["saves_50"] = _capacity("direct", direct, takers, duration)
        rates, window = open_rates(results["saves_50"]["per_s"]), open_window(duration)
        for key, rate in rates:
            results[key] = _open_saves(f"direct, {rate:,.0f}/s", direct, takers, rate, window, f"{dialect}-{key}")
        if urls.export:
            results["saves_200_export"] = _during_export(direct, urls, takers, duration)
        results["page_50"] = _scenario("quiz page GET", direct, "page", page_entries(takers[:50]), 50, duration)
        entries = login_entries(direct.port, urls, spread_logins(members, 200, 1))
        results["logins_50"] = _scenario("logins", direct, "login", entries, 50, duration)
        results["exam_start"] = _exam_start("direct", direct, urls, spread_logins(members, exam_members, 2),
                                            f"{dialect}-exam")
        results["weight"] = page_weight(takers[0])
    results["server_errors"] = _server_errors(log_path)
    why_not = nginx_available() if proxy else "not asked for (--no-proxy)"
    if why_not:
        print(f"  through nginx: skipped, {why_not}", flush=True)
        results["nginx_skipped"] = why_not
        return results
    folder = OUT / f"nginx-{dialect}"
    with proxied(url, secret, folder) as stack:
        for member in takers:
            member.client.port, member.client.tls = stack.port, True
        results["nginx_saves_50"] = _capacity("through nginx", stack, takers, window)
        for key, rate in rates:
            results[f"nginx_{key}"] = _open_saves(f"through nginx, {rate:,.0f}/s", stack, takers, rate, window,
                                                  f"{dialect}-nginx-{key}")
        results["nginx_exam_start"] = _exam_start("through nginx", stack, urls,
                                                  spread_logins(members, exam_members, 3), f"{dialect}-nginx-exam")
    results["nginx_server_errors"] = {f"app{n}": _server_errors(folder / f"app{n}.log") for n in (1, 2)}
    return results


def open_rates(capacity: float) -> list[tuple[str, float]]:
    """The open-loop rates: the goal's fixed rate, and a share of the capacity measured in the same run."""
    return [("open_fixed", float(GOALS["open_rate"])), ("open_share", round(GOALS["open_share"] * capacity))]


def open_window(duration: int) -> int:
    """Seconds of each open-loop run and of the capacity through nginx: two thirds of `duration` (10 s by
    default: 11,000 and more requests at the rates measured, enough for a p99; it keeps `make bench`
    within ~15 minutes)."""
    return max(5, duration * 2 // 3)


def _capacity(where: str, running: Running, members: list[Member], duration: int = 15) -> dict:
    """How many saves a second the server sustains: a closed loop of 50 members (wrk), 15 s."""
    parallel(read_page, members)
    return _scenario(f"answer saves {where} (closed loop: capacity)", running, "save",
                     save_entries(members[:CAPACITY_CONNECTIONS]), CAPACITY_CONNECTIONS, duration)


def _scenario(label: str, running: Running, mode: str, entries: list[dict], connections: int, duration: int,
              name: str = "") -> dict:
    result = wrk(running.base_url, running.pids, mode, entries, connections, duration, name)
    print(f"  {label}, {connections} at once: {result['per_s']:,.0f}/s, p50 {result['p50_ms']:.1f} ms, "
          f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}"
          + (f", stale saves {result['stale']}" if mode == "save" else "") + "; " + _cost_text(result), flush=True)
    return result


def _cost_text(result: dict) -> str:
    proxy = (f", nginx {result['proxy_cpu_ms_per_request']:.2f} ms/request ({result['proxy_cores']:.2f} cores)"
             if result.get("proxy_cores") else "")
    return (f"app CPU {result['app_cpu_ms_per_request']:.2f} ms/request ({result['app_cores']:.2f} cores){proxy}, "
            f"load generator {result['generator_cores']:.2f} cores, machine {result['machine_busy']:.0%} busy")


def _open_saves(label: str, running: Running, members: list[Member], rate: float, duration: int, name: str) -> dict:
    """Answers arriving at `rate` a second from the members, whatever the server does (bench/openloop.py)."""
    parallel(read_page, members)
    spec = {"kind": "saves", "port": running.port, "tls": running.tls, "host": running.host, "rate": rate,
            "duration": duration, "members": save_entries(members)}
    result = open_loop(spec, running.pids, name)
    print(f"  answer saves {label} (open loop, {len(members)} members): {result['per_s']:,.0f}/s answered, "
          f"p50 {result['p50_ms']:.1f} / p99 {result['p99_ms']:.1f} / max {result['max_ms']:.0f} ms from the "
          f"scheduled time (sent late by {result['late_p99_ms']:.1f} ms at p99), errors {result['errors']}, "
          f"stale {result['stale']}; " + _cost_text(result), flush=True)
    return result


def _exam_start(label: str, running: Running, urls: Urls, logins: list[str], name: str) -> dict:
    """Members arriving evenly over 60 s, each signing in and opening the paper (bench/openloop.py)."""
    spec = {"kind": "exam_start", "port": running.port, "tls": running.tls, "host": running.host,
            "window": GOALS["exam_window_s"], "logins": logins, "password": PASSWORD, "login": urls.login,
            "detail": urls.detail, "start": urls.start}
    result = open_loop(spec, running.pids, name)
    pages = result["pages"]
    print(f"  the start of an exam, {label}: {result['succeeded']:,} of {result['members']:,} members in "
          f"{result['window_s']} s opened their paper; page time p50 {pages['p50_ms']:.0f} / p99 {pages['p99_ms']:.0f} / "
          f"max {pages['max_ms']:.0f} ms" + (f"; failures: {result['failures'][:3]}" if result["failed"] else "")
          + "; " + _cost_text(result), flush=True)
    return result


def _during_export(running: Running, urls: Urls, members: list[Member], duration: int) -> dict:
    """200 members saving while the organiser downloads the rollup export (started 2 s in; waited for, 3 min at most)."""
    organiser = sign_in(running.port, urls, ORGANISER_NO, timeout=170)
    parallel(read_page, members)
    download = Download(organiser, urls.export, delay=2)
    download.start()
    result = _scenario("answer saves during the rollup export", running, "save", save_entries(members), len(members),
                       duration, "save-export")
    download.join(timeout=180)
    result["export"] = download.outcome or {"status": None, "error": "still running after 3 minutes"}
    shown = result["export"]
    print(f"    the export: HTTP {shown.get('status')} after {shown.get('seconds', 0):.1f} s"
          + (f" ({shown['error']})" if "error" in shown else ""), flush=True)
    return result


def _server_errors(log_path: Path) -> dict:
    """Tracebacks, 'database is locked' and workers that died, in the server's log."""
    text = log_path.read_text(errors="replace")
    return {"tracebacks": text.count("Traceback (most recent call last)"), "locked": text.count("database is locked"),
            "worker_exits": text.count("Unexpected exit from worker"), "log": str(log_path.relative_to(ROOT))}


# ---------------------------------------------------------------- the bare baselines


def baselines(duration: int = 15) -> dict:
    """bench/baseline.py's echo and SQLite upsert, served as the app is, under the capacity scenario's
    closed loop (50 at once, the app's own save requests)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    kinds = ["single", "multiple", "truefalse", "fill"] * 5
    out = {}
    for app in ("echo", "upsert"):
        with baseline(app, OUT / f"baseline-{app}.log") as running:
            entries = [{"cookie": "", "csrf": "", "token": "", "path": f"/{app}/{n}", "seq": 0, "kinds": kinds,
                        "questions": list(range(1, 21))} for n in range(1, CAPACITY_CONNECTIONS + 1)]
            out[app] = _scenario(f"bare baseline: {app}", running, "save", entries, CAPACITY_CONNECTIONS, duration,
                                 f"baseline-{app}")
    return out
