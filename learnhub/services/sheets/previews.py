"""Import previews: an uploaded bank file kept on disk between its preview and the organiser's confirmation.

Each file is named by a random token that only the uploader's session holds, and lives for a limited
time (IMPORT_PREVIEW_MINUTES): every new upload sweeps older files away, `flask uploads sweep` (from
cron) and `flask bootstrap` do too, and a confirmation that comes later is asked for the file again.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

from .. import ServiceError

_TOKEN = re.compile(r"[0-9a-f]{32}")


class PreviewExpired(ServiceError):
    """The previewed file is gone (expired, swept, or already imported)."""


def folder_in(instance_path: str) -> Path:
    """The folder previews wait in: `uploads/` in the instance folder, created if missing."""
    folder = Path(instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(folder: Path, data: bytes) -> str:
    """Store an uploaded file for its confirmation; return its token."""
    token = secrets.token_hex(16)
    (folder / token).write_bytes(data)
    return token


def take(folder: Path, token: str, ttl: timedelta) -> bytes:
    """Return the file stored under `token` and delete it; refuse one that has expired (and delete it too).

    :raise PreviewExpired: with a message asking to upload the file again.
    """
    path = folder / token if _TOKEN.fullmatch(str(token)) else None
    try:
        if path is None or _age(path) > ttl.total_seconds():
            raise FileNotFoundError
        data = path.read_bytes()
    except FileNotFoundError:
        raise PreviewExpired(_expired_message(ttl)) from None
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    return data


def peek(folder: Path, token: str, ttl: timedelta) -> bytes:
    """Return the file stored under `token`, keeping it (the organiser may change choices and preview again);
    an expired one is deleted.

    :raise PreviewExpired: it has expired or is gone.
    """
    path = folder / token if _TOKEN.fullmatch(str(token)) else None
    try:
        if path is None:
            raise FileNotFoundError
        if _age(path) > ttl.total_seconds():
            path.unlink(missing_ok=True)
            raise FileNotFoundError
        return path.read_bytes()
    except FileNotFoundError:
        raise PreviewExpired(_expired_message(ttl)) from None


def sweep(folder: Path, ttl: timedelta) -> int:
    """Delete the stored files older than `ttl`; return how many were deleted."""
    if not folder.is_dir():
        return 0
    deleted = 0
    for path in folder.iterdir():
        try:
            if _TOKEN.fullmatch(path.name) and _age(path) > ttl.total_seconds():
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another worker swept it first
            continue
    return deleted


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def _expired_message(ttl: timedelta) -> str:
    minutes = int(ttl.total_seconds() // 60)
    return f"预览的文件已过期（上传后 {minutes} 分钟内未确认导入）或已导入过，请重新上传"
