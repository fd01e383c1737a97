"""Builders for the material tests: a committee's subject with points, materials with attachments, files."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from learnhub.extensions import db
from learnhub.models import KnowledgePoint, Material, MaterialAttachment, Organisation, PointLevel, Subject, User
from learnhub.services.study import attachments, material_editor

ALL_LIMITS = attachments.Limits(image=5 * 2**20, pdf=20 * 2**20, audio=30 * 2**20)


@dataclass
class OrgMaterial:
    subject: int
    points: list[int]
    material: int
    slug: str
    image: int
    pdf: int


def make_subject(owner: Organisation | None, name: str, points: tuple[str, ...] = ("支部会议", "党费收缴")) -> Subject:
    """A subject of `owner` with one part holding `points`. Flushes."""
    subject = Subject(name=name, owner_org_id=owner.id if owner else None)
    db.session.add(subject)
    db.session.flush()
    part = KnowledgePoint(subject=subject, level=PointLevel.PART, name=f"{name}总则", owner_org_id=subject.owner_org_id)
    db.session.add(part)
    for i, point in enumerate(points):
        db.session.add(KnowledgePoint(parent=part, level=PointLevel.POINT, name=point, position=i,
                                      owner_org_id=subject.owner_org_id))
    db.session.flush()
    return subject


def points_of(subject: Subject) -> list[KnowledgePoint]:
    return list(db.session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.subject_id == subject.id, KnowledgePoint.level == PointLevel.POINT).order_by(KnowledgePoint.id)))


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def pdf(text: str = "Hello PDF") -> bytes:
    """A one-page PDF that shows `text` (ASCII)."""
    content = f"BT /F1 36 Tf 50 700 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00" \
      b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00" + b"\x00" * 64
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def make_material(subject: Subject, owner: Organisation | None, author: User, title: str = "支部工作要点",
                  body: str = "## 要点\n\n按时召开**支部党员大会**。") -> Material:
    """A material written through the editor's service, tied to the subject's first point. Commits."""
    draft = material_editor.Draft(title=title, body=body, point_ids=[points_of(subject)[0].id])
    return material_editor.create(subject, owner, draft, author)


def attach(material: Material, name: str, data: bytes, folder: Path, by: User) -> MaterialAttachment:
    return attachments.add(material, name, io.BytesIO(data), ALL_LIMITS, folder, by)


def org_material(owner: Organisation, author: User, folder: Path, name: str) -> OrgMaterial:
    """A committee's subject with a material carrying an image (placed in its text) and a PDF. Commits."""
    subject = make_subject(owner, name)
    material = make_material(subject, owner, author, title=f"{name}学习资料")
    image = attach(material, "示意图.png", png(), folder, author)
    doc = attach(material, "全文.pdf", pdf(), folder, author)
    material_editor.save(material, material_editor.Draft(
        title=material.title, body=material.body_md + f"\n\n![示意图](attachment:{image.id})",
        point_ids=[p.id for p in material.points]), author)
    return OrgMaterial(subject=subject.id, points=[p.id for p in points_of(subject)], material=material.id,
                       slug=material.slug, image=image.id, pdf=doc.id)


def stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def upload(client, material_id: int, name: str, data: bytes):
    """Post a file to the material's attachments. The test client keeps a large body in a temporary file,
    which nothing closes when the app refuses the request unread (413): closed here."""
    builder = EnvironBuilder(path=f"/admin/materials/{material_id}/attachments", method="POST",
                             data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    request = builder.get_request()
    try:
        response = client.open(request)
        response.get_data()
        response.close()
    finally:
        request.environ["wsgi.input"].close()  # a temporary file when the body is large, unread on a 413
        builder.close()
    return response
