"""gunicorn settings, read automatically when gunicorn starts in this folder (`make run`, the bench).

Threaded workers keep HTTP connections alive: a phone taking a quiz sends one small request per
answer, and with sync workers every one of them paid a new TCP connection (on the 2-core machine a
bare Flask route served about 2,800 req/s that way, 5,500 req/s with keep-alive). Processes, not
threads, give the parallelism (the GIL): one per core plus one. Every value can be overridden on
the command line or with GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
keepalive = 15  # seconds an idle connection is kept for the next answer
timeout = 60
graceful_timeout = 30
