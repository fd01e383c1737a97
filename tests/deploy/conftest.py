"""The production shape on this machine: Debian's nginx with deploy/nginx/learnhub.conf in front of two
`python -m learnhub.server` processes on the test's PostgreSQL database, sharing a Redis of their own.

Nothing here touches the machine's own nginx, PostgreSQL cluster or Redis: nginx runs from a temporary
folder on loopback ports with a throw-away certificate, Redis is a private `redis-server` on a free port.
Without PostgreSQL (the SQLite pass of the suite) the deployment test skips: the shape it tests is
PostgreSQL's. A missing nginx, openssl, redis-server or browser skips it too, unless
LEARNHUB_REQUIRE_BROWSER=1 (.ci/run) makes that a failure.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from deploy.loopback import NGINX, Nginx

from ..browser.test_server_crash import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SECRET = "d" * 40
ON_POSTGRESQL_ONLY = "the deployment test runs on the PostgreSQL pass (LEARNHUB_TEST_DATABASE_URL)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, log: Path | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not listen on {port} within {timeout:.0f} s {detail}")


def missing(reason: str) -> None:
    if os.environ.get("LEARNHUB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the deployment test is required here but cannot run: {reason}")
    pytest.skip(f"deployment test skipped: {reason}")


def through_nginx(stack, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One HTTPS request to nginx (its certificate is the test's own): status, headers, body."""
    conn = http.client.HTTPSConnection("127.0.0.1", stack.nginx.https_port, timeout=15,
                                       context=ssl._create_unverified_context())
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


class Redis:
    """A private redis-server on a free port: its counters start empty, and the test may stop it."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        with open(folder / "redis.log", "wb") as log:
            self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--dir", str(folder)],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, "redis-server", folder / "redis.log")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Stack:
    """Redis, two app servers and nginx, started in that order and stopped in reverse."""

    def __init__(self, database_url: str, folder: Path):
        self.folder = folder
        self.redis: Redis | None = None
        self.nginx: Nginx | None = None
        self.servers = [ServerProcess(database_url, folder / f"app{n}.log") for n in (1, 2)]
        try:
            self.redis = Redis(folder)
            for server in self.servers:
                server.env.update({"SECRET_KEY": SECRET, "LEARNHUB_HTTPS": "true", "SESSION_COOKIE_SECURE": "true",
                                   "PROXY_COUNT": "1", "RATELIMIT_STORAGE_URI": self.redis.url})
            with ThreadPoolExecutor(len(self.servers)) as pool:  # both boot at once, as systemd starts them
                list(pool.map(lambda server: server.start(), self.servers))
            self.nginx = Nginx(folder, [server.port for server in self.servers])
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for server in self.servers:
            server.kill()
        if self.redis is not None:
            self.redis.stop()


@pytest.fixture
def stack(world, database_url, tmp_path):
    """The deployment, on the world's database (PostgreSQL: test_deployment.py skips on SQLite)."""
    assert make_url(database_url).get_backend_name() == "postgresql"
    if not Path(NGINX).exists():
        missing("nginx not found (apt-get install nginx-light)")
    for tool in ("openssl", "redis-server"):
        if not shutil.which(tool):
            missing(f"{tool} not found (apt-get install {'openssl' if tool == 'openssl' else 'redis-server'})")
    folder = tmp_path / "stack"
    folder.mkdir()
    running = Stack(database_url, folder)
    yield running
    running.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free loopback port), so it
    can be stopped and started mid-exam without touching the machine's cluster that other suites use.
    Run as the `postgres` user when the test runs as root (initdb refuses root)."""

    def __init__(self):
        initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not initdb:
            missing("PostgreSQL's server binaries not found under /usr/lib/postgresql (apt-get install postgresql)")
        self.bin = initdb[-1].parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="learnhub-pg-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{tool} failed: {done.stdout[-1000:]} {done.stderr[-1000:]}"

    def start(self) -> None:
        # fsync off: the test stops the server, never the machine; commits still go through the WAL.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")

    def crash(self) -> None:
        """Stop at once, as a crash does: no checkpoint; what was committed comes back from the WAL at start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
