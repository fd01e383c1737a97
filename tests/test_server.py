"""The production server (`python -m learnhub.server`, what `make run` starts) serves the app."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from learnhub.server import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_settings_come_from_the_environment():
    assert settings({"WEB_CONCURRENCY": "3", "WEB_THREADS": "6", "WEB_CONNECTIONS": "900"}) == {
        "workers": 3, "threads": 6, "connections": 900}
    assert settings({}) == {"workers": os.cpu_count() or 1, "threads": 4, "connections": 16_384}
    for wrong in ({"WEB_THREADS": "0"}, {"WEB_CONCURRENCY": "2", "WEB_CONNECTIONS": "1"}):
        with pytest.raises(SystemExit):
            settings(wrong)


@contextlib.contextmanager
def _started_server(tmp_path: Path):
    """`python -m learnhub.server` in production configuration on a free port, one process of two threads,
    on a scratch SQLite database: (port, process, log); killed at the end if it is still running."""
    port = free_port()
    env = {**os.environ, "LEARNHUB_CONFIG": "production", "SECRET_KEY": "s" * 40,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite'}", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "learnhub.server", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield port, proc, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serves_pages_on_kept_alive_connections_and_stops_on_sigterm(tmp_path):
    with _started_server(tmp_path) as (port, proc, log):
        conn = _connect(port, proc, log)
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        assert (health.status, health.read()) == (200, b'{"database":true,"status":"ok"}\n')
        kept = conn.sock
        assert kept is not None and not health.will_close
        conn.request("GET", "/auth/login")  # the same connection: kept alive for the next request
        page = conn.getresponse()
        body = page.read().decode()
        assert page.status == 200 and "登录" in body
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert conn.sock is kept
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _connect(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30) -> http.client.HTTPConnection:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
            return conn
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not listen within 30 s")


def test_a_room_full_of_phones_each_keeping_its_connection_is_answered(tmp_path):
    """Every phone in a meeting keeps a connection open; granian's default answered the first 1,024 of a
    server's and left the next one hanging. 1,100 phones, each with a kept-alive connection, all answered,
    then each asks again on the connection it kept."""
    import resource

    phones = 1_100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < phones * 2 + 200:
        pytest.skip(f"needs {phones * 2 + 200} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, phones * 2 + 200), hard))
    with _started_server(tmp_path) as (port, proc, log), contextlib.ExitStack() as sockets:
        _connect(port, proc, log).close()
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        phones_connected = [sockets.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
                            for _ in range(phones)]
        for rounds in range(2):
            for s in phones_connected:
                s.sendall(request)
            answered = sum(_status_of(s) == 200 for s in phones_connected)
            assert answered == phones, f"round {rounds + 1}: {answered} of {phones} connections answered"
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _status_of(s: socket.socket) -> int | None:
    """Read one HTTP response (Content-Length body) from a kept-alive socket; its status, None on a timeout."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += s.recv(4096)
        return int(head.split(b" ", 2)[1])
    except (TimeoutError, OSError):
        return None
