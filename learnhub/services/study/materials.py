"""Study materials: rendering Markdown safely, loading the built-in notes, listing, recording reading."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    BUILTIN_SUBJECT_ID, Assignment, KnowledgePoint, Material, MaterialVersion, MemberResult, Organisation,
    PointLevel, Reading, Subject, User, utcnow,
)
from .. import ServiceError
from ..orgs import Scope
from . import material_access

# HTML off in the parser (raw <script> and onerror= become text), then a whitelist sanitiser on top.
_markdown = MarkdownIt("js-default").enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "blockquote", "code", "pre",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ATTACHMENT_REF = re.compile(r"attachment:(\d{1,9})", re.IGNORECASE)


def _resolve(ref: str | None, refs: Mapping[int, tuple[str, bool]], image: bool) -> str | None:
    """The address of `attachment:ID` when ID is one of this material's attachments (an image, for an
    image), else None."""
    match = _ATTACHMENT_REF.fullmatch((ref or "").strip())
    found = refs.get(int(match.group(1))) if match else None
    if found is None or (image and not found[1]):
        return None
    return found[0]


def _resolve_attachments(tokens: list[Token], refs: Mapping[int, tuple[str, bool]]) -> None:
    """Point `![说明](attachment:ID)` and `[文字](attachment:ID)` at the app's address of this material's
    attachment ID. Any other image (another material's attachment, an outside address, a data: URL) is
    shown as its description in brackets: a page never loads an image from anywhere else."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        children = []
        for token in block.children:
            if token.type == "image":
                url = _resolve(token.attrGet("src"), refs, image=True)
                if url is None:
                    alt = _markdown.renderer.renderInlineAsText(token.children or [], _markdown.options, {})
                    children.append(Token("text", "", 0, content=f"[图片：{alt}]" if alt else "[图片]"))
                    continue
                token.attrSet("src", url)
            elif token.type == "link_open" and _ATTACHMENT_REF.match((token.attrGet("href") or "").strip()):
                url = _resolve(token.attrGet("href"), refs, image=False)
                if url is None:
                    token.attrs.pop("href", None)
                else:
                    token.attrSet("href", url)
            children.append(token)
        block.children = children


def render_markdown(text: str, attachments: Mapping[int, tuple[str, bool]] | None = None) -> Markup:
    """Render Markdown to HTML that is safe to put in a page.

    `attachments` maps the ids of this material's files to (their address in the app, whether it is an
    image): the only images a page may show (the sanitiser keeps an <img> src only when it is the address
    of one of these images)."""
    refs = dict(attachments or {})
    env: dict = {}
    tokens = _markdown.parse(text or "", env)
    _resolve_attachments(tokens, refs)
    html = _markdown.renderer.render(tokens, _markdown.options, env)
    return Markup(nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "img": {"alt", "title"}},
        tag_attribute_values={"img": {"src": {url for url, image in refs.values() if image}}},
        set_tag_attribute_values={"img": {"loading": "lazy"}},
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
    """Load (or refresh) the built-in study notes as the built-in subject's materials, by slug: a note whose
    title or text changed gets a new version. Commits; returns how many."""
    files = sorted(path.glob("*.md"))
    points = {
        p.name: p for p in db.session.scalars(select(KnowledgePoint).where(
            KnowledgePoint.level == PointLevel.POINT, KnowledgePoint.subject_id == BUILTIN_SUBJECT_ID))
    }
    notes = [read_note(f) for f in files]
    missing = sorted({name for n in notes for name in n.points if name not in points})
    if missing:
        raise ServiceError("学习资料引用了不存在的知识点：" + "、".join(missing))
    existing = {m.slug: m for m in db.session.scalars(select(Material).where(Material.slug.in_([n.slug for n in notes])))}
    taken = sorted(slug for slug, m in existing.items() if m.owner_org_id is not None)
    if taken:
        raise ServiceError("这些学习资料的标识已被组织的资料占用：" + "、".join(taken))
    for note in notes:
        material = existing.get(note.slug)
        if material is None:
            material = Material(slug=note.slug, subject_id=BUILTIN_SUBJECT_ID, version=0, title=note.title, body_md="")
            db.session.add(material)
        material.part, material.position = note.part, note.order
        material.points = [points[name] for name in note.points]
        add_version(material, note.title, note.body, None)
    db.session.commit()
    return len(notes)


def add_version(material: Material, title: str, body: str, author: User | None) -> MaterialVersion | None:
    """Make `title` and `body` the material's current text: a new version when either changed (or the
    material has none yet). Flushes; returns the new version, or None when nothing changed."""
    if material.id is None:
        db.session.flush()
    has_any = material.version >= 1 and db.session.scalar(
        select(func.count()).select_from(MaterialVersion).where(MaterialVersion.material_id == material.id))
    if has_any and material.title == title and material.body_md == body:
        return None
    number = (db.session.scalar(select(func.max(MaterialVersion.number))
                                .where(MaterialVersion.material_id == material.id)) or 0) + 1
    version = MaterialVersion(material_id=material.id, number=number, title=title, body_md=body,
                              author_id=author.id if author is not None else None, created_at=utcnow())
    material.title, material.body_md, material.version = title, body, number
    db.session.add(version)
    db.session.flush()
    return version


def list_materials(scope: Scope | None = None) -> list[Material]:
    """Materials in reading order: the ones the viewer sees listed (none retired), or every one not retired."""
    stmt = select(Material).join(Subject, Subject.id == Material.subject_id)
    if scope is None:
        stmt = stmt.where(Material.retired_at.is_(None))
    else:
        stmt = stmt.where(material_access.listed_clause(scope))
    return list(db.session.scalars(stmt.order_by(Subject.owner_org_id.is_not(None), Subject.position, Subject.id,
                                                 Material.position, Material.id)))


def by_subject(scope: Scope) -> list[tuple[Subject, list[Material]]]:
    """The materials the viewer sees, grouped by subject (the built-in subject first)."""
    groups: dict[int, tuple[Subject, list[Material]]] = {}
    for material in list_materials(scope):
        groups.setdefault(material.subject_id, (material.subject, []))[1].append(material)
    return list(groups.values())


def readings_of(user: User) -> dict[int, Reading]:
    return {r.material_id: r for r in db.session.scalars(select(Reading).where(Reading.user_id == user.id))}


def record_opened(user: User, material: Material) -> Reading:
    """Note that the member opened the material: the first opening, and the version on the page until they
    have finished it. Commits."""
    reading = db.session.get(Reading, (user.id, material.id))
    if reading is None:
        reading = Reading(user_id=user.id, material_id=material.id, opened_at=utcnow(), version=material.version)
        db.session.add(reading)
        db.session.commit()
    elif reading.completed_at is None and reading.version != material.version:
        reading.version = material.version
        db.session.commit()
    return reading


def mark_completed(user: User, material: Material, assignments: list[Assignment], version: int | None = None) -> None:
    """Record that the member finished reading `version` (the one on their page; the current one if not
    given or unknown); completes study tasks with no quiz whose reading is all done. Commits."""
    if version is None or not 1 <= version <= material.version:
        version = material.version
    reading = db.session.get(Reading, (user.id, material.id))
    now = utcnow()
    if reading is None:
        reading = Reading(user_id=user.id, material_id=material.id, opened_at=now)
        db.session.add(reading)
    if reading.completed_at is None or (reading.version or 0) < version:
        reading.completed_at, reading.version = now, version
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


def materials_for_points(points: list[KnowledgePoint], org: Organisation | None = None) -> list[Material]:
    """Study materials tagged with any of these knowledge points, in reading order, none retired; with
    `org`, only those its members may read."""
    if not points:
        return []
    ids = [p.id for p in points]
    stmt = (select(Material).join(Material.points).where(KnowledgePoint.id.in_(ids), Material.retired_at.is_(None))
            .distinct().order_by(Material.position, Material.id))
    if org is not None:
        stmt = stmt.where(material_access.usable_by(org))
    return list(db.session.scalars(stmt))
