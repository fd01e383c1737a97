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


def settings(environ=os.environ) -> dict:
    """Processes and threads per process, from the environment (defaults: one process per core, 4 threads)."""
    workers = int(environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
    threads = int(environ.get("WEB_THREADS") or DEFAULT_THREADS)
    if workers < 1 or threads < 1:
        raise SystemExit("WEB_CONCURRENCY and WEB_THREADS must be at least 1")
    return {"workers": workers, "threads": threads}


def serve(target: str, host: str, port: int, access_log: bool = False, environ=os.environ) -> None:
    """Serve the WSGI app `target` ("module:attribute") as production does; the benchmark's bare
    baselines (bench/baseline.py) are served through here too, with the same settings."""
    from granian.constants import Interfaces
    from granian.server import Server

    chosen = settings(environ)
    Server(
        target, address=host, port=port, interface=Interfaces.WSGI, websockets=False,
        workers=chosen["workers"], blocking_threads=chosen["threads"], log_access=access_log,
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
