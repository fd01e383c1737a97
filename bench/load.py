"""Load test: the production server (`python -m learnhub.server`, production config) on a free loopback port, driven by wrk.

Members log in for real (CSRF token from the login form, production argon2 parameters), start the
load-test assignment through the start form, and read their quiz page for the X-CSRFToken value
(the page's <meta name="csrf-token">), their save URL, last seq, question ids and kinds. Then, each
scenario for a fixed time (15 s by default): answer saves by 50 and by 200 members at once, the quiz
page by 50, and logins by 50. Finally the page weight of the quiz page with its CSS and JS.

Only 127.0.0.1 is used. Every run stops by itself: wrk has a fixed duration, the server is stopped
(SIGTERM, then SIGKILL) in a `finally`.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import OUT, ROOT
from .common import dialect_of, normalise_url
from .generate import LOAD_TITLE, ORGANISER_NO, PAPER_TITLE, PASSWORD, member_no

HOST = "127.0.0.1"
WRK_THREADS = 2
PACE_MS = 400  # mean pause between one member's saves in the paced scenario (~500 saves/s offered by 200)
SCRIPT = Path(__file__).parent / "lua" / "scenario.lua"
GOALS = {"saves_per_s": 2000, "save_p99_ms": 50, "logins_per_s": 90, "quiz_page_kb": 30}
# Members share a carrier's IP in real life; here every request comes from 127.0.0.1, so the per-IP
# login rate limit (30/min/worker by default) would measure the limiter, not the login.
# The load speaks plain HTTP on loopback (in production nginx ends TLS): cookies are not Secure here.
SERVER_ENV = {"LEARNHUB_CONFIG": "production", "LOGIN_RATE_LIMIT": "100000 per minute", "LEARNHUB_HTTPS": "false"}


# ---------------------------------------------------------------- a tiny HTTP client with cookies


class Client:
    """One browser: a cookie jar over http.client, no redirects followed."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """Send one request; return (status, headers, body) and keep any cookies set."""
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


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def server(url: str, log_path: Path):
    """Run the server on a free loopback port until the block ends; yield (port, main process pid)."""
    port = free_port()
    env = {**os.environ, **SERVER_ENV, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": normalise_url(url)}
    # Processes and threads come from learnhub/server.py: the bench measures what `make run` serves.
    command = [sys.executable, "-m", "learnhub.server", "--host", HOST, "--port", str(port)]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(port, proc)
            yield port, proc.pid
        finally:
            _stop(proc)


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: see its log")
        try:
            if Client(port).get("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server we started (graceful), SIGKILL its process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------- wrk


def _lua(value) -> str:
    """A Python value as a Lua literal (strings, ints, lists, dicts)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return "{" + ", ".join(f"{k} = {_lua(v)}" for k, v in value.items()) + "}"


def write_data(name: str, entries: list[dict]) -> Path:
    path = OUT / f"wrk-{name}.lua"
    path.write_text("return {\n" + ",\n".join(_lua(e) for e in entries) + "\n}\n", encoding="utf-8")
    return path


def wrk(port: int, server_pid: int, mode: str, entries: list[dict], connections: int, duration: int,
        pause_ms: int = 0) -> dict:
    """Run one wrk scenario; return throughput, latency percentiles (ms), error counts and CPU use."""
    data = write_data(f"{mode}-{connections}", entries)
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(SCRIPT), f"http://{HOST}:{port}/", "--", mode, str(data), str(WRK_THREADS), str(pause_ms)]
    before, wrk_before = cpu_snapshot(server_pid), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    after, wrk_cpu = cpu_snapshot(server_pid), _children_cpu() - wrk_before
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(line[6:])
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    app_cpu = after["app"] - before["app"]
    busy = (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"])
    return {"connections": connections, "requests": raw["requests"], "per_s": raw["requests"] / seconds,
            "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000, "errors": raw["bad"] + socket_errors, "bad_status": raw["bad"],
            "socket_errors": socket_errors, "stale": raw["stale"], "seconds": seconds,
            "app_cpu_ms_per_request": 1000 * app_cpu / max(1, raw["requests"]), "app_cores": app_cpu / seconds,
            "wrk_cores": wrk_cpu / seconds, "machine_busy": busy}


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_snapshot(server_pid: int) -> dict:
    """CPU seconds used so far by the server (main process and workers), and the machine's busy and total jiffies."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [server_pid] + _children(server_pid)
    app = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            app += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]
    return {"app": app, "busy": sum(cpu[:8]) - idle, "total": sum(cpu[:8])}


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the server's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


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


# ---------------------------------------------------------------- page weight


def page_weight(member: Member) -> dict:
    """Bytes of the quiz page and the CSS and JS it links: as sent over the wire to a browser that
    accepts gzip and deflate (what Chromium offers over plain HTTP), and uncompressed."""
    offer = {"Accept-Encoding": "gzip, deflate"}
    _, headers, html = member.client.request("GET", member.page, headers=offer)
    page = _decoded(headers, html).decode()
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', page)
    parts = {"quiz page (HTML)": (headers, html)}
    for href in assets:
        status, asset_headers, body = member.client.request("GET", href, headers=offer)
        parts[urllib.parse.urlsplit(href).path] = (asset_headers, body)
    sizes = {name: (len(_decoded(h, body)), len(body)) for name, (h, body) in parts.items()}
    sizes["total"] = (sum(r for r, _ in sizes.values()), sum(w for _, w in sizes.values()))
    encodings = sorted({h.get("Content-Encoding") or "none" for h, _ in parts.values()})
    return {"parts": sizes, "served_encoding": ", ".join(encodings), "questions": len(member.kinds)}


def _decoded(headers, body: bytes) -> bytes:
    encoding = headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


# ---------------------------------------------------------------- all of it


def run(url: str, duration: int = 15) -> dict:
    """Every scenario against one database; returns the figures (and prints them as they come)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    url = normalise_url(url)
    urls, members = app_urls(url)
    OUT.mkdir(parents=True, exist_ok=True)
    log_path = OUT / f"server-{dialect_of(url)}.log"
    results: dict = {}
    with server(url, log_path) as (port, pid):
        start = time.perf_counter()
        quiz_takers = parallel(lambda login: take_quiz(port, urls, login), spread_logins(members, 200, 0))
        results["prepare_s"] = time.perf_counter() - start
        for count in (50, 200):
            parallel(read_page, quiz_takers)
            entries = save_entries(quiz_takers[:count])
            results[f"saves_{count}"] = _scenario("answer saves", port, pid, "save", entries, count, duration)
        # Members do not save in a tight loop: 200 of them, each pausing 0-800 ms (400 ms on average)
        # between answers, offer about 500 saves/s, half of what the server can do: the latency a
        # member sees at a load the server sustains.
        parallel(read_page, quiz_takers)
        results["saves_200_paced"] = _scenario("answer saves, paced", port, pid, "save", save_entries(quiz_takers),
                                               200, duration, pause_ms=PACE_MS)
        if urls.export:
            results["saves_200_export"] = _during_export(port, pid, urls, quiz_takers, duration)
        results["page_50"] = _scenario("quiz page GET", port, pid, "page", page_entries(quiz_takers[:50]), 50, duration)
        entries = login_entries(port, urls, spread_logins(members, 200, 1))
        results["logins_50"] = _scenario("logins", port, pid, "login", entries, 50, duration)
        results["weight"] = page_weight(quiz_takers[0])
    results["server_errors"] = _server_errors(log_path)
    return results


def _scenario(label: str, port: int, pid: int, mode: str, entries: list[dict], connections: int, duration: int,
              pause_ms: int = 0) -> dict:
    result = wrk(port, pid, mode, entries, connections, duration, pause_ms)
    print(f"  {label}, {connections} at once: {result['per_s']:,.0f}/s, p50 {result['p50_ms']:.1f} ms, "
          f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}"
          + (f", stale saves {result['stale']}" if mode == "save" else "")
          + f"; app CPU {result['app_cpu_ms_per_request']:.1f} ms/request ({result['app_cores']:.2f} cores), "
          f"wrk {result['wrk_cores']:.2f} cores, machine {result['machine_busy']:.0%} busy", flush=True)
    return result


def _during_export(port: int, pid: int, urls: Urls, members: list[Member], duration: int) -> dict:
    """200 members saving while the organiser downloads the rollup export (started 2 s in; waited for, 3 min at most)."""
    organiser = sign_in(port, urls, ORGANISER_NO, timeout=170)
    parallel(read_page, members)
    download = Download(organiser, urls.export, delay=2)
    download.start()
    result = _scenario("answer saves during the rollup export", port, pid, "save", save_entries(members), len(members), duration)
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
