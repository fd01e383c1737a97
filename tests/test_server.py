"""The production server (`python -m learnhub.server`, what `make run` starts) serves the app."""

from __future__ import annotations

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
    assert settings({"WEB_CONCURRENCY": "3", "WEB_THREADS": "6"}) == {"workers": 3, "threads": 6}
    assert settings({}) == {"workers": os.cpu_count() or 1, "threads": 4}
    with pytest.raises(SystemExit):
        settings({"WEB_THREADS": "0"})


def test_serves_pages_on_kept_alive_connections_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "LEARNHUB_CONFIG": "production", "SECRET_KEY": "s" * 40,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite'}", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "learnhub.server", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
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
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
