"""Study materials: loading the built-in notes, rendering Markdown safely, recording reading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nh3
import yaml
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select

from ...extensions import db
from ...models import Assignment, KnowledgePoint, Material, MemberResult, PointLevel, Reading, User, utcnow
from .. import ServiceError

# HTML off in the parser (raw <script> and onerror= become text), then a whitelist sanitiser on top.
_markdown = MarkdownIt("js-default").enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "blockquote", "code", "pre",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}


def render_markdown(text: str) -> Markup:
    """Render Markdown to HTML that is safe to put in a page."""
    html = _markdown.render(text or "")
    return Markup(nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ))


@dataclass
class Note:
    slug: str
    title: str
    part: str
    order: int
    points: list[str]
    body: str


def read_note(path: Path) -> Note:
    """Parse a note file: YAML front matter between '---' lines, then Markdown."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ServiceError(f"{path.name}: 缺少开头的 --- 元数据")
    _, meta_text, body = text.split("---", 2)
    meta = yaml.safe_load(meta_text) or {}
    return Note(
        slug=str(meta["slug"]), title=str(meta["title"]), part=str(meta.get("part", "")),
        order=int(meta.get("order", 0)), points=[str(p) for p in meta.get("points") or []], body=body.strip(),
    )


def import_notes(path: Path) -> int:
    """Load (or refresh) the built-in study notes as materials, by slug. Commits; returns how many."""
    files = sorted(path.glob("*.md"))
    points = {
        p.name: p for p in db.session.scalars(select(KnowledgePoint).where(KnowledgePoint.level == PointLevel.POINT))
    }
    notes = [read_note(f) for f in files]
    missing = sorted({name for n in notes for name in n.points if name not in points})
    if missing:
        raise ServiceError("学习资料引用了不存在的知识点：" + "、".join(missing))
    existing = {m.slug: m for m in db.session.scalars(select(Material))}
    for note in notes:
        material = existing.get(note.slug) or Material(slug=note.slug)
        material.title, material.part, material.body_md, material.position = note.title, note.part, note.body, note.order
        material.points = [points[name] for name in note.points]
        db.session.add(material)
    db.session.commit()
    return len(notes)


def list_materials() -> list[Material]:
    return list(db.session.scalars(select(Material).order_by(Material.position, Material.id)))


def readings_of(user: User) -> dict[int, Reading]:
    return {r.material_id: r for r in db.session.scalars(select(Reading).where(Reading.user_id == user.id))}


def record_opened(user: User, material: Material) -> Reading:
    """Note that the member opened the material (first time only). Commits."""
    reading = db.session.get(Reading, (user.id, material.id))
    if reading is None:
        reading = Reading(user_id=user.id, material_id=material.id, opened_at=utcnow())
        db.session.add(reading)
        db.session.commit()
    return reading


def mark_completed(user: User, material: Material, assignments: list[Assignment]) -> None:
    """Record that the member finished reading; completes study tasks with no quiz whose reading is all done. Commits."""
    reading = db.session.get(Reading, (user.id, material.id))
    now = utcnow()
    if reading is None:
        reading = Reading(user_id=user.id, material_id=material.id, opened_at=now)
        db.session.add(reading)
    if reading.completed_at is None:
        reading.completed_at = now
    db.session.flush()
    for assignment in assignments:
        if not assignment.has_quiz and material in assignment.materials:
            _complete_reading_task(user, assignment, now)
    db.session.commit()


def _complete_reading_task(user: User, assignment: Assignment, now) -> None:
    ids = [m.id for m in assignment.materials]
    done = db.session.scalar(
        select(func.count()).select_from(Reading).where(
            Reading.user_id == user.id, Reading.material_id.in_(ids), Reading.completed_at.is_not(None)
        )
    )
    if done < len(ids) or db.session.get(MemberResult, (assignment.id, user.id)) is not None:
        return
    db.session.add(MemberResult(assignment_id=assignment.id, user_id=user.id, passed=True, finished_at=now))


def materials_for_points(points: list[KnowledgePoint]) -> list[Material]:
    """Study materials tagged with any of these knowledge points, in reading order."""
    if not points:
        return []
    ids = [p.id for p in points]
    return list(db.session.scalars(
        select(Material).join(Material.points).where(KnowledgePoint.id.in_(ids)).distinct().order_by(Material.position)
    ))
