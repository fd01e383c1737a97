"""The production server: `python -m learnhub.server [--host H] [--port P] [--access-log]`.

Granian (HTTP in Rust, the app in Python threads) serves the WSGI app `run:app`. On the 2-core
machine it answered about 40 % more answer saves per second than gunicorn's threaded workers with
the same app (`make bench`), because parsing requests and writing responses no longer take the
Python interpreter's time. Connections are kept alive for a phone's next answer.

Processes give the parallelism (one per core: `WEB_CONCURRENCY`); a few threads in each (`WEB_THREADS`)
cover the waits on the database. More threads than that only queue on the interpreter lock.
`make run` and the benchmark both start the server through here, so they serve the same way.
"""

from __future__ import annotations

import argparse
import os

DEFAULT_THREADS = 4
# Connections one server holds open at once, idle kept-alive ones included: every phone in a meeting
# keeps one (bench/README.md, "Meetings"). Granian's default is its listen backlog, 1,024 per server:
# the 1,025th phone was never answered. Each takes a file descriptor (systemd unit: LimitNOFILE=65536).
DEFAULT_CONNECTIONS = 16_384


def settings(environ=os.environ) -> dict:
    """Processes and threads per process, and connections per server, from the environment (defaults:
    one process per core, 4 threads, 16,384 connections)."""
    workers = int(environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
    threads = int(environ.get("WEB_THREADS") or DEFAULT_THREADS)
    connections = int(environ.get("WEB_CONNECTIONS") or DEFAULT_CONNECTIONS)
    if workers < 1 or threads < 1 or connections < workers:
        raise SystemExit("WEB_CONCURRENCY and WEB_THREADS must be at least 1, WEB_CONNECTIONS at least one per process")
    return {"workers": workers, "threads": threads, "connections": connections}


def serve(target: str, host: str, port: int, access_log: bool = False, environ=os.environ) -> None:
    """Serve the WSGI app `target` ("module:attribute") as production does; the benchmark's bare
    baselines (bench/baseline.py) are served through here too, with the same settings."""
    from granian.constants import Interfaces
    from granian.server import Server

    chosen = settings(environ)
    Server(
        target, address=host, port=port, interface=Interfaces.WSGI, websockets=False,
        workers=chosen["workers"], blocking_threads=chosen["threads"], log_access=access_log,
        backlog=min(4096, chosen["connections"]), backpressure=max(1, chosen["connections"] // chosen["workers"]),
        respawn_failed_workers=True, workers_kill_timeout=30,
    ).serve()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m learnhub.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    serve("run:app", args.host, args.port, args.access_log)


if __name__ == "__main__":
    main()
