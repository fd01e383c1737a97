"""bench/openloop.py, the open-loop load generator of `make bench`: its schedule, its percentiles, the requests
it sends, and a short run against a small local server. Counts and contents only, never speed."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import loadtable, openloop

MEMBER = {"kinds": ["single", "multiple", "truefalse", "fill"], "questions": [11, 12, 13, 14]}


def test_a_constant_rate_is_evenly_spaced_and_ends_before_the_duration():
    times = openloop.schedule(1500, 2)
    assert len(times) == 3000 and times[0] == 0 and times[-1] < 2
    gaps = {round(b - a, 9) for a, b in zip(times, times[1:])}
    assert gaps == {round(1 / 1500, 9)}
    assert len(openloop.schedule(761, 15)) == 11415
    assert openloop.schedule(0, 10) == [] and openloop.schedule(100, 0) == []


def test_percentiles_are_nearest_rank():
    values = list(range(100, 0, -1))  # 1..100, unsorted
    assert openloop.percentile(values, 50) == 50
    assert openloop.percentile(values, 99) == 99
    assert openloop.percentile(values, 99.9) == 100
    assert openloop.percentile(values, 100) == 100
    assert openloop.percentile([1, 2, 3, 4], 50) == 2
    assert openloop.percentile([7], 99) == 7
    assert math.isnan(openloop.percentile([], 50))


def test_one_stalled_request_in_a_hundred_shows_at_the_99th_percentile_not_below():
    latencies = [0.002] * 98 + [5.0, 5.0]  # what a closed loop would under-count: the stall, waited for
    summary = openloop.summary(latencies)
    assert summary["count"] == 100 and summary["p50_ms"] == 2.0 and summary["p99_ms"] == 5000.0


@pytest.mark.parametrize("seq", range(8))
def test_each_save_is_what_the_quiz_page_sends_for_the_next_question(seq):
    body = json.loads(openloop.save_body(MEMBER, seq))
    position = seq % 4 + 1
    assert body["position"] == position and body["q"] == MEMBER["questions"][position - 1] and body["seq"] == seq
    answer = body["answer"]
    kind = MEMBER["kinds"][position - 1]
    assert {"single": lambda a: a in (0, 1), "multiple": lambda a: a == [0, 1],
            "truefalse": lambda a: a in ("true", "false"), "fill": lambda a: a == ["为人民服务"]}[kind](answer)


def test_requests_and_response_heads_are_plain_http_1_1():
    raw = openloop.http_request("POST", "/quiz/attempts/5/answers", "127.0.0.1:8000", {"Cookie": "session=abc"}, b'{"a":1}')
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /quiz/attempts/5/answers HTTP/1.1"
    assert b"Host: 127.0.0.1:8000" in head and b"Content-Length: 7" in head and body == b'{"a":1}'
    assert b"Content-Length" not in openloop.http_request("GET", "/", "h")
    status, headers = openloop.parse_head(b"HTTP/1.1 302 FOUND\r\nLocation: /\r\nSet-Cookie: a=1; Path=/\r\n"
                                          b"set-cookie: b=2\r\nContent-Length: 0")
    assert status == 302 and headers["location"] == ["/"] and headers["set-cookie"] == ["a=1; Path=/", "b=2"]


def test_a_pages_assets_are_its_stylesheets_then_its_scripts():
    html = ('<link rel="stylesheet" href="/static/css/app.css?v=1"><script src="/static/js/quiz.js?v=2" defer></script>'
            '<link rel="icon" href="/favicon.ico">')
    assert openloop.assets_of(html) == ["/static/css/app.css?v=1", "/static/js/quiz.js?v=2"]


class _Saves(BaseHTTPRequestHandler):
    """Answers saves as the app does; every third is stale, and /broken/ answers 500."""

    protocol_version = "HTTP/1.1"
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers["X-Attempt-Token"], body["seq"]))
        status = 500 if self.path.startswith("/broken/") else 200
        reply = json.dumps({"ok": True, "saved": body["seq"] % 3 != 0}, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def saves_server():
    _Saves.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Saves)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_run_sends_every_scheduled_save_once_with_each_members_own_token_and_next_seq(saves_server):
    port = saves_server.server_address[1]
    members = [{**MEMBER, "cookie": f"session=s{n}", "csrf": "c", "token": f"t{n}", "path": f"/{kind}/{n}", "seq": 100}
               for n, kind in enumerate(["ok", "ok", "broken"])]
    spec = {"kind": "saves", "port": port, "tls": False, "host": f"127.0.0.1:{port}", "rate": 60, "duration": 0.5,
            "members": members}
    result = _in_a_thread_of_its_own(openloop.run_saves(spec))
    assert result["scheduled"] == 30 and result["count"] == 30 and len(_Saves.seen) == 30
    for n in range(3):
        mine = [(token, seq) for path, token, seq in _Saves.seen if path == members[n]["path"]]
        assert sorted(seq for _, seq in mine) == list(range(101, 111))  # one more per save, none repeated
        assert {token for token, _ in mine} == {f"t{n}"}
    assert result["bad_status"] == 10 and result["errors"] == 10  # the member whose saves answered 500
    assert result["stale"] + result["ok"] == 20 and result["stale"] == 6  # seq 102, 105, 108 of both: saved false
    assert result["socket_errors"] == result["timeouts"] == 0


def _in_a_thread_of_its_own(coroutine):
    """Run the generator's coroutine as its own process does, in a loop of its own (the browser tests'
    Playwright keeps an event loop running in this thread)."""
    out = {}
    thread = threading.Thread(target=lambda: out.update(result=asyncio.run(coroutine)))
    thread.start()
    thread.join(timeout=60)
    return out["result"]


def test_the_results_table_marks_an_open_loop_run_against_its_goal():
    good = {"rate": 761, "per_s": 760, "p50_ms": 2, "p90_ms": 8, "p99_ms": 26, "max_ms": 47, "errors": 0, "stale": 0,
            "late_p99_ms": 2.4}
    assert loadtable.opened(good).count("✓") == 1
    assert "✗" in loadtable.opened({**good, "p99_ms": 51}) and "✗" in loadtable.opened({**good, "errors": 1})
    assert loadtable.missed("sqlite", {"open_fixed": {**good, "p99_ms": 120}}, None)[0].startswith(
        "sqlite: answers arriving at 761/s direct: p99 120 ms")
