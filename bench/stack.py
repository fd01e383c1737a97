"""The servers a load scenario runs against, each on free loopback ports and stopped in a `finally`:

- `server`: the production server as `make run` starts it (`python -m learnhub.server`: granian, one
  process per core, WEB_THREADS threads each), the app in its production configuration;
- `proxied`: deploy/nginx/learnhub.conf (nginx ends TLS, keeps connections to the app servers alive,
  buffers) in front of two such app servers of one process each: the same processes and threads in
  all as `server`, in the deployment's shape (README, "Deploying");
- `baseline`: one of bench/baseline.py's bare apps, served by the same code with the same settings.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import OUT, ROOT
from .common import normalise_url
from .measure import HOST

# Members share a carrier's IP in real life; here every request comes from 127.0.0.1, so the per-IP
# login rate limit (30/min/worker by default) would measure the limiter, not the login.
# Direct, the load speaks plain HTTP on loopback (in production nginx ends TLS): cookies are not Secure there.
SERVER_ENV = {"LEARNHUB_CONFIG": "production", "LOGIN_RATE_LIMIT": "100000 per minute", "LEARNHUB_HTTPS": "false"}
# Behind nginx, as deploy/learnhub.env.example has it: HTTPS, and one proxy's X-Forwarded-* believed.
PROXIED_ENV = {**SERVER_ENV, "LEARNHUB_HTTPS": "true", "SESSION_COOKIE_SECURE": "true", "PROXY_COUNT": "1"}


@dataclass
class Running:
    """What a scenario needs to reach the servers and count their CPU."""

    base_url: str  # http://127.0.0.1:PORT or https://127.0.0.1:PORT (nginx)
    port: int
    tls: bool
    app_pids: list[int]
    proxy_pids: list[int]

    @property
    def pids(self) -> dict:
        return {"app": self.app_pids, "proxy": self.proxy_pids}

    @property
    def host(self) -> str:
        return f"{HOST}:{self.port}"


def free_port() -> int:
    from deploy.loopback import free_port as free

    return free()


@contextmanager
def process(command: list[str], env: dict, log_path: Path, ready_path: str = "/healthz"):
    """A server process on a free port (`command` gets `--port P` appended) until the block ends; yields (port, pid)."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*command, "--host", HOST, "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(port, proc, ready_path)
            yield port, proc.pid
        finally:
            _stop(proc)


@contextmanager
def server(url: str, log_path: Path, secret: str):
    """The production server on `url`'s database; yields a Running."""
    env = {**os.environ, **SERVER_ENV, "SECRET_KEY": secret, "DATABASE_URL": normalise_url(url)}
    with process([sys.executable, "-m", "learnhub.server"], env, log_path) as (port, pid):
        yield Running(f"http://{HOST}:{port}", port, False, [pid], [])


def nginx_available() -> str | None:
    """Why the proxied scenarios cannot run here, or None."""
    from deploy.loopback import NGINX

    if not Path(NGINX).exists():
        return "nginx is not installed (apt-get install -y nginx-light)"
    if not shutil.which("openssl"):
        return "openssl is not installed"
    return None


@contextmanager
def proxied(url: str, secret: str, folder: Path):
    """nginx with deploy/'s site in front of two one-process app servers on `url`'s database; yields a Running."""
    from deploy.loopback import Nginx

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    threads = os.environ.get("WEB_THREADS", "")
    env = {**os.environ, **PROXIED_ENV, "SECRET_KEY": secret, "DATABASE_URL": normalise_url(url),
           "WEB_CONCURRENCY": "1", **({"WEB_THREADS": threads} if threads else {})}
    with ExitStack() as stack:
        apps = [stack.enter_context(process([sys.executable, "-m", "learnhub.server"], env, folder / f"app{n}.log"))
                for n in (1, 2)]
        # One nginx worker per core, as Debian's nginx.conf (worker_processes auto).
        nginx = Nginx(folder, [port for port, _ in apps], workers="auto")
        stack.callback(nginx.stop)
        yield Running(f"https://{HOST}:{nginx.https_port}", nginx.https_port, True, [pid for _, pid in apps],
                      [nginx.proc.pid])


@contextmanager
def baseline(app: str, log_path: Path):
    """bench/baseline.py's `app` ("echo" or "upsert") on the production server's settings; yields a Running."""
    command = [sys.executable, "-m", "bench.baseline", app]
    if app == "upsert":
        command += ["--database", str(OUT / "baseline-upsert.sqlite")]
    with process(command, dict(os.environ), log_path, ready_path=None) as (port, pid):
        yield Running(f"http://{HOST}:{port}", port, False, [pid], [])


def _wait_ready(port: int, proc: subprocess.Popen, path: str | None, timeout: float = 60) -> None:
    import http.client
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: see its log")
        try:
            if path is None:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server we started (graceful), SIGKILL its process group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
