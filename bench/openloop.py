"""Open-loop load: requests leave at times fixed in advance, whatever the server does.

  python -m bench.openloop SPEC.json RESULT.json      (bench/load.py writes the spec and reads the result)

A closed loop (wrk: N connections, each sending its next request when the last is answered) slows
down with the server it measures: when the server stalls, no request is sent, and the stall is
recorded once instead of for every member who would have been waiting ("coordinated omission").
Here every request has a scheduled send time, computed before the run (`schedule`), and its latency
is counted from that time to the last byte of its answer: a request that left late because the
generator or a connection was busy is charged the wait. How late requests left is recorded apart
(`late_*`), so a generator that could not keep up is visible rather than blamed on the server.

Two kinds of spec:

- "saves": answers arriving at a constant rate, each the save of one of the logged-in members (its
  cookie, its paper's X-Attempt-Token and X-CSRFToken, its next seq), as quiz.js sends it. A member's
  save goes on a kept-alive connection of that member that is free, or a new one (at most
  MAX_CONNECTIONS per member, like a browser; beyond that it waits for one, and the wait counts).
- "exam_start": members arrive at a constant rate over a window and each, on a connection of its own,
  opens the login page, signs in, opens the exam's page and starts the paper (following redirects,
  fetching each stylesheet and script a page links the first time it is seen). Each of the four
  steps is a "page time": from the moment the member acts (the arrival, for the first) to the last
  byte of the page and its new assets.

Why not wrk2, h2load or vegeta: wrk2 is not packaged by Debian; h2load sends the same headers on every
request (no per-member cookies, tokens or seq) and cannot follow a login flow; vegeta would need a Go
toolchain built from source at install time and cannot script the login either. This generator is
one asyncio process of plain HTTP/1.1 (and TLS for nginx), enough for a few thousand requests a
second on one core; its CPU use is recorded with the results.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import resource
import ssl
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

MAX_CONNECTIONS = 6  # per member, as a browser keeps per host
SAVE_TIMEOUT = 10.0
FLOW_TIMEOUT = 60.0  # a member without a paper a minute after arriving has failed (and the run ends in time)
ANSWERS = {"single": "{n}", "multiple": "[0,1]", "truefalse": '"{tf}"', "fill": '["为人民服务"]'}


# ---------------------------------------------------------------- pure parts (tests/test_bench_openloop.py)


def schedule(rate: float, duration: float) -> list[float]:
    """Send offsets in seconds for a constant rate: 0, 1/rate, 2/rate, ... below `duration`."""
    if rate <= 0 or duration <= 0:
        return []
    count = math.ceil(rate * duration - 1e-9)
    return [i / rate for i in range(count)]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (sorted or not): the smallest value with at least q % of
    them at or below it. NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(latencies_s: list[float]) -> dict:
    """Count and percentiles (ms) of latencies given in seconds."""
    ms = sorted(1000 * x for x in latencies_s)
    return {"count": len(ms), "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "p999_ms": percentile(ms, 99.9), "max_ms": ms[-1] if ms else math.nan}


def save_body(member: dict, seq: int) -> bytes:
    """The JSON quiz.js sends for the member's next answer (the question after `seq`, a valid answer)."""
    kinds, questions = member["kinds"], member["questions"]
    index = seq % len(kinds)
    answer = ANSWERS[kinds[index]].format(n=seq % 2, tf="true" if seq % 2 == 0 else "false")
    return (f'{{"position":{index + 1},"q":{questions[index]},"answer":{answer},"seq":{seq}}}').encode()


def http_request(method: str, path: str, host: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request on a kept-alive connection."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def parse_head(head: bytes) -> tuple[int, dict[str, list[str]]]:
    """Status and headers (lower-case names, every value) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers


def assets_of(html: str) -> list[str]:
    """The stylesheets and scripts a page links, in order."""
    found = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    return found + re.findall(r'<script[^>]+src="([^"]+)"', html)


# ---------------------------------------------------------------- HTTP over asyncio


class Connection:
    """One kept-alive HTTP/1.1 connection (TLS when `tls`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, tls: ssl.SSLContext | None) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls, limit=1 << 20,
                                                       server_hostname="127.0.0.1" if tls else None)
        return cls(reader, writer)

    async def exchange(self, raw: bytes) -> tuple[int, dict, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, headers = parse_head(head[:-4])
        if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", ["0"])[0]))
        return status, headers, body

    def close(self) -> None:
        self.writer.close()


def _tls_context(spec: dict) -> ssl.SSLContext | None:
    if not spec.get("tls"):
        return None
    context = ssl._create_unverified_context()  # the benchmark's own throw-away certificate on loopback
    context.set_alpn_protocols(["http/1.1"])
    return context


# ---------------------------------------------------------------- answers at a constant rate


@dataclass
class _Member:
    data: dict
    seq: int
    idle: list = field(default_factory=list)
    open: int = 0
    freed: asyncio.Event = field(default_factory=asyncio.Event)


async def run_saves(spec: dict) -> dict:
    """Send saves at spec["rate"] per second for spec["duration"] seconds; latency from the scheduled time."""
    tls, port, host = _tls_context(spec), spec["port"], spec["host"]
    members = [_Member(m, m["seq"]) for m in spec["members"]]
    times = schedule(spec["rate"], spec["duration"])
    latencies, late, outcome = [], [], {"ok": 0, "stale": 0, "bad_status": 0, "socket_errors": 0, "timeouts": 0}
    connections = {"opened": 0}

    async def take(member: _Member) -> Connection:
        while True:
            if member.idle:
                return member.idle.pop()
            if member.open < MAX_CONNECTIONS:
                member.open += 1
                connections["opened"] += 1
                try:
                    return await Connection.open(port, tls)
                except BaseException:
                    member.open -= 1
                    raise
            member.freed.clear()
            await member.freed.wait()

    async def fire(member: _Member, seq: int, due: float) -> None:
        conn = None
        try:
            async with asyncio.timeout(SAVE_TIMEOUT):
                conn = await take(member)
                headers = {"Cookie": member.data["cookie"], "X-CSRFToken": member.data["csrf"],
                           "X-Attempt-Token": member.data["token"], "Content-Type": "application/json"}
                raw = http_request("POST", member.data["path"], host, headers, save_body(member.data, seq))
                late.append(time.perf_counter() - due)
                status, _, body = await conn.exchange(raw)
            latencies.append(time.perf_counter() - due)
            if status != 200:
                outcome["bad_status"] += 1
            elif b'"saved":false' in body:
                outcome["stale"] += 1
            else:
                outcome["ok"] += 1
            member.idle.append(conn)
        except TimeoutError:
            outcome["timeouts"] += 1
            latencies.append(time.perf_counter() - due)
            _drop(member, conn)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            outcome["socket_errors"] += 1
            latencies.append(time.perf_counter() - due)
            _drop(member, conn)
        member.freed.set()

    def _drop(member: _Member, conn: Connection | None) -> None:
        if conn is not None:
            conn.close()
            member.open -= 1

    tasks = []
    start = time.perf_counter() + 0.05
    i = 0
    while i < len(times):
        now = time.perf_counter()
        while i < len(times) and start + times[i] <= now:
            member = members[i % len(members)]
            member.seq += 1
            tasks.append(asyncio.create_task(fire(member, member.seq, start + times[i])))
            i += 1
        if i < len(times):
            await asyncio.sleep(max(0.0, start + times[i] - time.perf_counter()))
    sent = time.perf_counter()
    await asyncio.gather(*tasks)
    finished = time.perf_counter()
    for member in members:
        for conn in member.idle:
            conn.close()
    errors = outcome["bad_status"] + outcome["socket_errors"] + outcome["timeouts"]
    return {"kind": "saves", "rate": spec["rate"], "scheduled": len(times), "seconds": sent - start,
            "drain_s": finished - sent, "per_s": len(latencies) / max(1e-9, finished - start),
            **summary(latencies), **{f"late_{k}": v for k, v in summary(late).items() if k != "count"},
            **outcome, "errors": errors, "connections_opened": connections["opened"]}


# ---------------------------------------------------------------- the start of an exam


async def run_exam_start(spec: dict) -> dict:
    """spec["logins"] members arrive evenly over spec["window"] seconds; each signs in and opens the paper."""
    tls, port, host = _tls_context(spec), spec["port"], spec["host"]
    origin = f"{'https' if tls else 'http'}://{host}"
    logins = spec["logins"]
    times = schedule(len(logins) / spec["window"], spec["window"])[:len(logins)]
    steps: dict[str, list[float]] = {"login page": [], "sign in": [], "exam page": [], "start the paper": []}
    flows, failures, requests = [], [], {"pages": 0, "assets": 0}

    async def member(login: str, due: float) -> None:
        cookies: dict[str, str] = {}
        seen: set[str] = set()
        conn: Connection | None = None
        step = "login page"

        async def fetch(method: str, path: str, body: bytes = b"", form: bool = False, referer: str = ""):
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Accept": "text/html"}
            if form:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            if referer:
                headers["Referer"] = origin + referer
            status, head, data = await conn.exchange(http_request(method, path, host, headers, body))
            requests["pages"] += 1
            for value in head.get("set-cookie", []):
                name, _, rest = value.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
            if head.get("connection", [""])[0].lower() == "close":
                raise OSError("the server closed the connection")
            return status, head, data

        async def page(method: str, path: str, fields: dict | None = None, referer: str = "") -> tuple[str, str]:
            """A page (following redirects within the site) and its assets not yet seen; its path and HTML."""
            body = urllib.parse.urlencode(fields).encode() if fields is not None else b""
            status, head, data = await fetch(method, path, body, form=fields is not None, referer=referer)
            for _ in range(3):
                if status not in (301, 302, 303):
                    break
                path = urllib.parse.urlsplit(head["location"][0]).path
                status, head, data = await fetch("GET", path)
            if status != 200:
                raise RuntimeError(f"HTTP {status} for {path}")
            html = data.decode("utf-8", "replace")
            for href in assets_of(html):
                if href not in seen:
                    seen.add(href)
                    asset_status, _, _ = await conn.exchange(http_request("GET", href, host, {"Accept": "*/*"}))
                    requests["assets"] += 1
                    if asset_status != 200:
                        raise RuntimeError(f"HTTP {asset_status} for {href}")
            return path, html

        def timed(name: str, began: float) -> None:
            steps[name].append(time.perf_counter() - began)

        try:
            async with asyncio.timeout(FLOW_TIMEOUT):
                conn = await Connection.open(port, tls)
                path, html = await page("GET", spec["login"])
                timed(step, due)
                step, began = "sign in", time.perf_counter()
                path, html = await page("POST", spec["login"], {"csrf_token": _csrf(html), "identifier": login,
                                                                "password": spec["password"]}, referer=spec["login"])
                if path == spec["login"]:
                    raise RuntimeError("the login was refused")
                timed(step, began)
                step, began = "exam page", time.perf_counter()
                path, html = await page("GET", spec["detail"])
                timed(step, began)
                step, began = "start the paper", time.perf_counter()
                path, html = await page("POST", spec["start"], {"csrf_token": _csrf(html)}, referer=spec["detail"])
                if "data-save-url=" not in html:
                    raise RuntimeError(f"no paper at {path}")
                timed(step, began)
                flows.append(time.perf_counter() - due)
        except Exception as exc:  # one member's failure is a result, not the end of the run
            failures.append(f"{step}: {type(exc).__name__}: {exc}"[:200])
        finally:
            if conn is not None:
                conn.close()

    tasks = []
    start = time.perf_counter() + 0.05
    for login, offset in zip(logins, times):
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        tasks.append(asyncio.create_task(member(login, start + offset)))
    await asyncio.gather(*tasks)
    pages = [x for values in steps.values() for x in values]
    return {"kind": "exam_start", "members": len(logins), "window_s": spec["window"],
            "seconds": time.perf_counter() - start, "succeeded": len(flows), "failed": len(failures),
            "failures": sorted(set(failures))[:10], "pages": summary(pages),
            "steps": {name: summary(values) for name, values in steps.items()}, "flow": summary(flows),
            "requests": requests}


def _csrf(html: str) -> str:
    match = (re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
             or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html))
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def run_child(argv: list[str], runner) -> None:
    """A generator process's body: read the spec (argv[0]), run `runner(spec)` (a coroutine giving a dict),
    add the process's own CPU time and write the result (argv[1]) as JSON."""
    spec = json.loads(open(argv[0], encoding="utf-8").read())
    result = asyncio.run(runner(spec))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["generator_cpu_s"] = usage.ru_utime + usage.ru_stime
    with open(argv[1], "w", encoding="utf-8") as out:
        json.dump(result, out)


def main(argv: list[str]) -> None:
    run_child(argv, lambda spec: (run_saves if spec["kind"] == "saves" else run_exam_start)(spec))


if __name__ == "__main__":
    main(sys.argv[1:])
