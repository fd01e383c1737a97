"""Static file addresses that change with the file: url_for('static', ...) adds `?v=<content hash>`.

nginx serves /static/ straight from disk with a year's cache (deploy/nginx/learnhub.conf). A phone
then never asks again for a file it has, and after an upgrade the changed CSS or JS has a new address,
so no phone keeps running last release's script against this release's pages. The hash is of the
file's bytes, read once per change of the file (its size and modification time are checked).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask
from werkzeug.security import safe_join


def init_app(app: Flask) -> None:
    known: dict[str, tuple[int, int, str]] = {}

    @app.url_defaults
    def version_static_files(endpoint: str, values: dict) -> None:
        if endpoint != "static" or "v" in values or not app.static_folder:
            return
        filename = values.get("filename") or ""
        path = safe_join(app.static_folder, filename)
        try:
            stat = os.stat(path) if path else None
        except OSError:
            stat = None
        if stat is None:
            return
        seen = known.get(filename)
        if seen is None or seen[:2] != (stat.st_mtime_ns, stat.st_size):
            with open(path, "rb") as fh:
                seen = known[filename] = (stat.st_mtime_ns, stat.st_size, hashlib.sha256(fh.read()).hexdigest()[:12])
        values["v"] = seen[2]
