"""deploy/nginx/learnhub.conf as it is, run by Debian's nginx on loopback ports from a temporary folder.

Used by the deployment test (tests/deploy/) and the benchmark (bench/load.py) to put the production
proxy in front of app servers on this machine: the site file's upstream ports, listen ports,
certificate (a throw-away one made here) and static folder are rewritten; everything else, buffering,
keep-alive to the app servers and timeouts included, is the file's own. Nothing here touches the
machine's own nginx: every file nginx writes stays in the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "learnhub.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_config(folder: Path, http_port: int, https_port: int, app_ports: list[int], workers: str = "1") -> str:
    """deploy/'s site file with this run's ports, certificate and paths, inside a minimal nginx.conf
    (Debian's defaults for what the site relies on) that keeps every file nginx writes in `folder`.
    `workers`: nginx's worker_processes (Debian's nginx.conf says auto: one per core)."""
    site = SITE.read_text()
    rewrites = [
        (r"    server 127\.0\.0\.1:8001 (.*)\n    server 127\.0\.0\.1:8002 (.*)\n",
         "".join(f"    server 127.0.0.1:{port} \\1\n" for port in app_ports)),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"\n *listen \[::\]:(80|443)[^;]*;", ""),
        (r"/etc/ssl/learnhub/fullchain\.pem", str(folder / "cert.pem")),
        (r"/etc/ssl/learnhub/privkey\.pem", str(folder / "key.pem")),
        (r"/srv/learnhub/learnhub/static/", f"{ROOT / 'learnhub' / 'static'}/"),
    ]
    for pattern, replacement in rewrites:
        site, count = re.subn(pattern, replacement, site)
        if not count:
            raise AssertionError(f"deploy/nginx/learnhub.conf no longer has {pattern!r}: update deploy/loopback.py")
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in kinds)
    # Started by root (CI), nginx's workers would switch to `nobody`, who cannot read a checkout under
    # /root; started by anyone else they stay that user.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes {workers};\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        # Debian: 768. As the README's deployment says: a benchmark's meetings keep 15,000 phones connected.
        f"worker_rlimit_nofile 65536;\nevents {{ worker_connections 16384; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    sendfile on;\n    access_log {folder / 'access.log'};\n{temp}\n{site}\n}}\n"
    )


class Nginx:
    """nginx with the site in front of `app_ports`, from `folder`; https on `https_port`. Raises
    RuntimeError when it does not start listening within 30 s."""

    def __init__(self, folder: Path, app_ports: list[int], workers: str = "1", access_log: bool = True):
        self.folder = folder
        self.http_port, self.https_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-days", "1",
                        "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        config = nginx_config(folder, self.http_port, self.https_port, app_ports, workers)
        if not access_log:
            config = config.replace(f"access_log {folder / 'access.log'};", "access_log off;", 1)
        (folder / "nginx.conf").write_text(config)
        with open(folder / "stderr.log", "wb") as log:
            command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    detail = (folder / "stderr.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"nginx did not listen on {self.https_port}: {detail}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
