"""Back up LearnHub's database, and restore a backup into an empty one.

    python deploy/backup.py backup [--dir DIR] [--keep N]   (learnhub-backup.timer, nightly)
    python deploy/backup.py restore FILE                     (into DATABASE_URL, which must be empty)

It reads the same environment as the app (/etc/learnhub/learnhub.env): DATABASE_URL, and BACKUP_DIR
and BACKUP_KEEP for where backups go and how many are kept.

- PostgreSQL: `pg_dump --format=custom` (compressed, one consistent snapshot while the app keeps
  serving); restored with `pg_restore` in one transaction that stops at the first error.
- SQLite: the online backup API (what sqlite3's `.backup` uses): a consistent copy taken while
  members keep saving; restored through the same API.

A backup is written under a temporary name and renamed when whole, so an interrupted run never
counts as a backup, nor makes an older one be deleted. Then all but the newest BACKUP_KEEP are deleted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "learnhub-"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite"}


def database_url():
    """The database the app would use, with a relative SQLite path resolved as the app resolves it."""
    sys.path.insert(0, str(ROOT))
    from learnhub import create_app
    from learnhub.extensions import db

    app = create_app()
    with app.app_context():
        url = db.engine.url
        db.engine.dispose()
    return url


def _kind(url) -> str:
    name = url.get_backend_name()
    if name not in SUFFIXES:
        raise SystemExit(f"backup.py: no backup method for a {name} database")
    return name


def _libpq(url) -> str:
    """The SQLAlchemy URL as a connection string pg_dump and pg_restore accept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"backup.py: {name} not found (apt-get install postgresql-client)")
    return path


def backup(directory: Path, keep: int, url=None) -> Path:
    """Write one backup into `directory`, delete all but the newest `keep`, and return its path."""
    if keep < 1:
        raise SystemExit("backup.py: BACKUP_KEEP must be at least 1")
    url = url or database_url()
    kind = _kind(url)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = directory / f"{PREFIX}{stamp}{SUFFIXES[kind]}"
    partial = final.with_name(final.name + ".partial")
    try:
        if kind == "postgresql":
            subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={partial}", _libpq(url)],
                           check=True)
        else:
            _sqlite_copy(url.database, partial)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        partial.rename(final)
    finally:
        partial.unlink(missing_ok=True)
    prune(directory, keep)
    return final


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` finished backups (their names sort by time); return the deleted."""
    backups = sorted(p for p in directory.glob(f"{PREFIX}*") if p.suffix in SUFFIXES.values())
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old


def restore(path: Path, url=None) -> None:
    """Load the backup at `path` into the configured database, which must hold no tables yet."""
    from sqlalchemy import create_engine, inspect

    url = url or database_url()
    kind = _kind(url)
    if path.suffix != SUFFIXES[kind]:
        raise SystemExit(f"backup.py: {path.name} is not a {kind} backup")
    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise SystemExit("backup.py: the target database already has tables; restore into an empty one")
    finally:
        engine.dispose()
    if kind == "postgresql":
        subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                        f"--dbname={_libpq(url)}", str(path)], check=True)
    else:
        _sqlite_copy(str(path), Path(url.database))


def _sqlite_copy(source: str, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python deploy/backup.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write a backup and delete the oldest beyond --keep")
    make.add_argument("--dir", type=Path, default=Path(os.environ.get("BACKUP_DIR", "/var/backups/learnhub")))
    make.add_argument("--keep", type=int, default=int(os.environ.get("BACKUP_KEEP", "14")))
    load = commands.add_parser("restore", help="load a backup into DATABASE_URL, an empty database")
    load.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "backup":
        print(backup(args.dir, args.keep))
    else:
        restore(args.file)
        print(f"restored {args.file}")


if __name__ == "__main__":
    main()
