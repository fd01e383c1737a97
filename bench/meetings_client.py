"""What every phone and projector of bench/meetings_room.py shares: the rules meeting.js follows (the next
poll's wait, an answer's form, what a page tells its script), the tallies, and a browser tab's
kept-alive connection with its cookies (bench/openloop.py's `Connection`).

Latency is from the time a request was due (its timer fired) to the last byte of its answer; an error
is a status ≥ 500 or no answer (refused, reset, 30 s without one); a 409 to an answer (the question had
closed) is counted apart, any other status nobody expected is listed.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from .openloop import Connection, http_request, percentile

KINDS = ("join pages", "phone poll 304", "phone poll 200", "answer", "screen page", "screen poll", "controls")
JITTER = 0.10
TIMEOUT_S = 30.0
USER_AGENT = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 LearnHubBench"


# ---------------------------------------------------------------- pure parts (tests/test_bench_meetings.py)


def next_wait(headers: dict, default_ms: int, rng: random.Random) -> float:
    """Seconds until the next poll: the server's X-Poll-After (ms) or `default_ms`, ±10 %."""
    try:
        ms = float(headers.get("x-poll-after", [default_ms])[0])
    except ValueError:
        ms = default_ms
    if ms <= 0:
        ms = default_ms
    return ms / 1000 * rng.uniform(1 - JITTER, 1 + JITTER)


def answer_value(question: dict, rng: random.Random, before=None):
    """An answer as meeting.js sends it: an option index (single), "true"/"false" (true/false: the first
    button is 对), a sorted list of indexes (multiple). Different from `before` when it can be."""
    count = len(question["labels"])
    for _ in range(10):
        if question["kind"] == "truefalse":
            value = rng.choice(["true", "false"])
        elif question["kind"] == "multiple":
            value = sorted(rng.sample(range(count), rng.randint(1, count)))
        else:
            value = rng.randrange(count)
        if value != before:
            return value
    return value


def page_fields(html: str) -> dict:
    """What meeting.js reads from a page: the meta csrf-token, and from #phone (or the screen's body) the
    state URL, the answer URL and the token when the page has them."""
    found = {}
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    if meta:
        found["csrf"] = meta.group(1)
    root = re.search(r'<(?:div|section|main)[^>]*\bid="phone"[^>]*>', html) or re.search(r'<body[^>]*>', html)
    for name, key in (("data-state-url", "state"), ("data-answer-url", "answer"), ("data-token", "token")):
        match = root and re.search(rf'\b{name}="([^"]*)"', root.group(0))
        if match:
            found[key] = match.group(1).replace("&amp;", "&")
    return found


def form_token(html: str) -> str | None:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else None


def stats(latencies_s: list[float]) -> dict:
    """Count and nearest-rank p50 / p95 / p99 / max in ms."""
    ms = sorted(1000 * x for x in latencies_s)
    return {"count": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
            "p99_ms": percentile(ms, 99), "max_ms": ms[-1] if ms else float("nan")}


def lags(opened: dict, seen: list) -> tuple[list[float], int]:
    """Seconds from each question's `next` response to each phone seeing it open, for phones whose
    answer page was loaded before that response; and how many sightings were left out (joined later).
    `opened`: {(meeting, position): time}; `seen`: [(meeting, position, seen at, page loaded at)]."""
    out, later = [], 0
    for meeting, position, at, loaded in seen:
        start = opened.get((meeting, position))
        if start is None or loaded > start:
            later += 1
            continue
        out.append(max(0.0, at - start))
    return out, later


# ---------------------------------------------------------------- the tallies


@dataclass
class Tally:
    latency: dict = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: Counter = field(default_factory=Counter)  # kind -> status >= 500, socket errors, timeouts
    closed: Counter = field(default_factory=Counter)  # kind -> 409 (the question had closed)
    unexpected: Counter = field(default_factory=Counter)  # "kind HTTP n" -> count
    late: list = field(default_factory=list)  # seconds the generator's timer fired after a request was due
    waited: list = field(default_factory=list)  # seconds a request then waited for its tab's connection
    poll_after: dict = field(default_factory=lambda: {"phone": Counter(), "screen": Counter()})  # X-Poll-After ms seen
    first_failure: dict = field(default_factory=dict)  # what failed first, and when (s from the start)
    finished: list = field(default_factory=list)  # when each answer arrived (s from the start)
    opened: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    acked: dict = field(default_factory=dict)  # "meeting position user" -> highest seq acknowledged
    answers: Counter = field(default_factory=Counter)
    people: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    connections: Counter = field(default_factory=Counter)


class Client:
    """One browser tab's connection: its cookies, requests in turn, a closed idle connection reopened once."""

    def __init__(self, run: Run, cookie: str):
        self.run, self.conn, self.lock = run, None, asyncio.Lock()
        name, _, value = cookie.partition("=")
        self.cookies = {name: value}

    async def call(self, kind, method: str, path: str, due: float, headers: dict | None = None,
                   body: bytes = b"", form: bool = False, expect=(200,)) -> tuple[int | None, dict, bytes]:
        """Send one request due at `due`; record its latency under `kind` (a name, or a function of the
        status). Returns (status or None on failure, headers, body)."""
        run, tally = self.run, self.run.tally
        all_headers = {"User-Agent": USER_AGENT, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                       **(headers or {})}
        if form:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":
            all_headers.setdefault("Referer", run.origin + path)
        raw = http_request(method, path, run.host, all_headers, body)
        status, head, data = None, {}, b""
        called = time.perf_counter()
        tally.late.append(called - due)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                async with self.lock:
                    tally.waited.append(time.perf_counter() - called)
                    status, head, data = await self._exchange(raw)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            tally.failures[type(exc).__name__] += 1
            tally.first_failure.setdefault(type(exc).__name__, round(time.perf_counter() - run.start, 1))
            self.close()
        now = time.perf_counter()
        name = kind(status) if callable(kind) else kind
        tally.latency[name].append(now - due)
        tally.finished.append(now - run.start)
        if status is None or status >= 500:
            tally.errors[name] += 1
        elif status == 409 and name == "answer":
            tally.closed[name] += 1
        elif status not in expect:
            tally.unexpected[f"{name} HTTP {status}"] += 1
        return status, head, data

    async def _exchange(self, raw: bytes):
        for attempt in (1, 2):
            reused = self.conn is not None
            if not reused:
                self.conn = await Connection.open(self.run.port, self.run.tls)
                self.run.tally.connections["opened"] += 1
            try:
                status, head, data = await self.conn.exchange(raw)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:  # the server had closed it while idle: a browser retries
                    self.run.tally.connections["reopened"] += 1
                    continue
                raise
            for value in head.get("set-cookie", []):
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if head.get("connection", [""])[0].lower() == "close":
                self.close()
            return status, head, data
        raise ConnectionResetError("closed twice")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


