"""Attachments of study materials: images (PNG, JPEG, GIF, WebP), PDF files and audio (MP3, M4A).

A file's type is decided by its first bytes, never by its name: an HTML page or an SVG image named .png is
refused; a PDF named .jpg is a PDF (kept and offered as .pdf). Each type has its size limit. The file goes
to ATTACHMENTS_DIR under a name the app makes (32 random hex digits and the type's extension); the name
the organiser's computer gave it is only shown, after checks (no path, no control characters, not too
long, not a Windows device name), and offered as the download's name. A refused file leaves nothing: no
file on disk, no row.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from sqlalchemy import func, select

from ...extensions import db
from ...models import Material, MaterialAttachment, User, utcnow
from .. import FieldError

NAME_MAX = 100
MAX_PER_MATERIAL = 40
_STORED = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{2,4}")
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_WINDOWS_FORBIDDEN = set('<>:"|?*')


@dataclass(frozen=True)
class FileType:
    kind: str  # image, pdf, audio
    mimetype: str
    extension: str  # the one files of this type are stored and offered with
    extensions: tuple[str, ...]  # names the organiser's file may end with and keep
    label: str


PNG = FileType("image", "image/png", "png", ("png",), "PNG 图片")
JPEG = FileType("image", "image/jpeg", "jpg", ("jpg", "jpeg", "jpe", "jfif"), "JPEG 图片")
GIF = FileType("image", "image/gif", "gif", ("gif",), "GIF 图片")
WEBP = FileType("image", "image/webp", "webp", ("webp",), "WebP 图片")
PDF = FileType("pdf", "application/pdf", "pdf", ("pdf",), "PDF 文件")
MP3 = FileType("audio", "audio/mpeg", "mp3", ("mp3",), "MP3 音频")
M4A = FileType("audio", "audio/mp4", "m4a", ("m4a", "mp4", "aac"), "M4A 音频")
KIND_LABELS = {"image": "图片", "pdf": "PDF 文件", "audio": "音频"}
ACCEPTED = "PNG、JPEG、GIF、WebP 图片，PDF 文件，MP3、M4A 音频"
# ISO base media brands of audio recorders and phones (an .m4a is an MP4 container).
_M4A_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2", b"3gp4", b"3gp5"}


@dataclass(frozen=True)
class Limits:
    """Largest file of each kind, in bytes."""

    image: int
    pdf: int
    audio: int

    @classmethod
    def from_config(cls, config) -> Limits:
        mb = 1024 * 1024
        return cls(image=int(config["ATTACHMENT_IMAGE_MB"] * mb), pdf=int(config["ATTACHMENT_PDF_MB"] * mb),
                   audio=int(config["ATTACHMENT_AUDIO_MB"] * mb))

    def of(self, kind: str) -> int:
        return getattr(self, kind)

    @property
    def largest(self) -> int:
        return max(self.image, self.pdf, self.audio)


def sniff(head: bytes) -> FileType | None:
    """The file's type from its first bytes (magic numbers), or None for anything not accepted."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return MP3  # an ID3 tag, or an MPEG audio frame (sync bits, layer not 'reserved')
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return M4A
    return None


def _looks_like_markup(head: bytes) -> bool:
    text = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<", b"<?xml")) or b"<svg" in text or b"<html" in text or b"<script" in text


def check_name(name: str | None) -> str:
    """The organiser's file name if it may be shown and offered for download, else a FieldError saying why.
    Never used as a path: files are stored under names the app makes."""
    if name is None or not name.strip():
        raise FieldError("file", "请选择要上传的文件")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        raise FieldError("file", "文件名含有控制字符或不可见字符（如 NUL、换行、方向控制符），请改名后再上传")
    if "/" in name or "\\" in name:
        raise FieldError("file", "文件名不能含有路径（/ 或 \\），请只选择文件本身再上传")
    if len(name) > NAME_MAX:
        raise FieldError("file", f"文件名太长（{len(name)} 个字，最多 {NAME_MAX} 个），请改短后再上传")
    if _WINDOWS_FORBIDDEN & set(name):
        raise FieldError("file", '文件名不能含有 < > : " | ? * 这些符号，请改名后再上传')
    if name != name.strip() or name.startswith(".") or name.endswith("."):
        raise FieldError("file", "文件名不能以空格或句点开头、结尾，请改名后再上传")
    if name.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        raise FieldError("file", f"“{name.split('.')[0]}”是 Windows 的设备名，不能用作文件名，请改名后再上传")
    return name


def shown_name(name: str, kind: FileType) -> str:
    """The name to show and offer: the organiser's, with the extension of what the file really is."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in kind.extensions:
        return name
    base = stem if dot and stem else name
    return f"{base[:NAME_MAX - len(kind.extension) - 1]}.{kind.extension}"


def _size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def read_checked(name: str | None, stream: BinaryIO, limits: Limits) -> tuple[str, FileType, bytes]:
    """Read an upload and decide whether to keep it: (the name to show, its type, its bytes). Refusals are
    FieldErrors in Chinese; nothing is written."""
    name = check_name(name)
    data = stream.read(limits.largest + 1)
    if not data:
        raise FieldError("file", "文件是空的，请检查后重新选择")
    kind = sniff(data[:64])
    if kind is None:
        if _looks_like_markup(data):
            raise FieldError("file", "不能上传网页、SVG 或其他含标记的文件（可能带有脚本）。"
                                     f"只能上传：{ACCEPTED}。SVG 图片请先另存为 PNG。")
        raise FieldError("file", f"看不出这是什么文件：无论文件名怎么写，文件内容都必须是 {ACCEPTED}")
    limit = limits.of(kind.kind)
    if len(data) > limit:
        raise FieldError("file", f"文件太大：{KIND_LABELS[kind.kind]}不能超过 {_size_text(limit)}（这个文件超过了），"
                                 "请压缩后再上传")
    return shown_name(name, kind), kind, data


def add(material: Material, name: str | None, stream: BinaryIO, limits: Limits, folder: Path,
        by: User) -> MaterialAttachment:
    """Check an upload and keep it as an attachment of `material`. Commits.

    :raise FieldError: refused (type, size, name, too many files); nothing is stored.
    """
    count = db.session.scalar(select(func.count()).select_from(MaterialAttachment).where(
        MaterialAttachment.material_id == material.id, MaterialAttachment.removed_at.is_(None)))
    if count >= MAX_PER_MATERIAL:
        raise FieldError("file", f"一篇资料最多 {MAX_PER_MATERIAL} 个附件，请先移除用不到的")
    shown, kind, data = read_checked(name, stream, limits)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_hex(16)}.{kind.extension}"
    path = folder / stored
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        item = MaterialAttachment(material_id=material.id, kind=kind.kind, mimetype=kind.mimetype, name=shown,
                                  stored_name=stored, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                  created_at=utcnow(), created_by_id=by.id)
        db.session.add(item)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    return item


def remove(item: MaterialAttachment, folder: Path) -> None:
    """Take an attachment off its material: it is served no more and its file is deleted. Commits."""
    item.removed_at = utcnow()
    db.session.commit()
    path_of(item, folder).unlink(missing_ok=True)


def of_material(material: Material) -> list[MaterialAttachment]:
    """The material's attachments in upload order (removed ones left out)."""
    return list(db.session.scalars(select(MaterialAttachment).where(
        MaterialAttachment.material_id == material.id, MaterialAttachment.removed_at.is_(None))
        .order_by(MaterialAttachment.id)))


def path_of(item: MaterialAttachment, folder: Path) -> Path:
    """Where the file is: always a name the app made, inside `folder`."""
    if not _STORED.fullmatch(item.stored_name):
        raise ValueError(f"attachment {item.id}: unexpected stored name")
    return folder / item.stored_name


def disposition(item: MaterialAttachment) -> str:
    """Content-Disposition: shown in the browser (images, PDF, audio) under the organiser's name, in UTF-8
    (RFC 5987 / 6266 filename*), with a plain ASCII name for old clients."""
    ascii_name = item.name if re.fullmatch(r"[A-Za-z0-9._ -]{1,100}", item.name) else f"attachment-{item.id}.{item.stored_name.rsplit('.', 1)[1]}"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(item.name, safe='')}"
