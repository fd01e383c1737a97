"""The organisation tree from a spreadsheet: one row per organisation, checked whole, then stored whole.

Each row names an organisation (组织名称), optionally its code (组织编码), its kind (组织类型, or read
from how its name ends), its parent (上级组织: a code or a name, of a row in the file or of an
organisation already in the viewer's scope) and members to make its secretary (书记) or organiser
(组织员). Rows may come in any order.

A row is the organisation already stored with its code; else the one with its name under its parent;
else a new one. Importing the same file twice changes nothing the second time; a changed name,
kind or parent updates the organisation (a new parent moves its whole subtree, members included).
Every problem is named by row and nothing is stored unless there is none (`plan` here checks;
storing.apply checks again under the tree lock and stores).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...extensions import db
from ...models import Grant, Organisation, OrgKind, Role, User
from ..sheets import tables
from ..auth.accounts import normalise_identifier
from ..sheets.import_errors import ImportRejected, RowError
from . import Scope
from .edit import CODE_MAX, NAME_MAX
from .kinds import accepted_kinds, kind_from_name, parse_kind

# Canonical column -> (label, synonyms), in the order of the template.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("组织名称", "名称", "党组织名称", "组织全称", "党组织全称"),
    "code": ("组织编码", "编码", "代码", "组织代码", "党组织编码", "党组织代码"),
    "kind": ("组织类型", "类型", "党组织类型", "组织类别"),
    "parent": ("上级组织", "上级", "上级党组织", "上级组织名称", "上级组织编码", "所属上级"),
    "secretary": ("书记", "支部书记", "书记党员编号"),
    "organiser": ("组织员", "组织委员", "组织员党员编号"),
}
REQUIRED = ("name",)
_SPLIT = re.compile(r"[、,，;；/\s]+")
ROLE_COLUMNS = {"secretary": Role.SECRETARY, "organiser": Role.ORGANISER}


@dataclass
class Row:
    """One organisation as the file gives it, and what the plan makes of it."""

    line: int
    name: str
    code: str
    kind: OrgKind | None
    parent_ref: str
    people: dict[Role, list[str]]
    parent: Row | Organisation | None = None  # resolved: a row of the file or a stored organisation
    existing: Organisation | None = None  # the stored organisation this row is
    broken: bool = False  # its 上级组织 could not be resolved (already reported)
    kind_text: str = ""  # 组织类型 as written
    depth: int = 0
    changes: list[str] = field(default_factory=list)
    grants: list[tuple[User, Role]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "new" if self.existing is None else ("changed" if self.changes else "unchanged")

    @property
    def parent_name(self) -> str:
        return self.parent.name if self.parent is not None else ""


@dataclass
class OrgPlan:
    rows: list[Row]  # in tree order

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def grant_count(self) -> int:
        return sum(len(r.grants) for r in self.rows)


@dataclass
class _Stored:
    """The stored organisations the import may touch, indexed the ways rows refer to them."""

    scope: Scope
    by_code: dict[str, Organisation]  # every organisation (a code outside the scope is still taken)
    in_scope: dict[int, Organisation]
    by_name: dict[str, list[Organisation]]  # in scope

    @classmethod
    def load(cls, scope: Scope) -> _Stored:
        every = list(db.session.scalars(select(Organisation)))
        in_scope = {o.id: o for o in every if scope.covers(o)}
        by_name: dict[str, list[Organisation]] = {}
        for org in in_scope.values():
            by_name.setdefault(org.name, []).append(org)
        return cls(scope, {o.code: o for o in every}, in_scope, by_name)

    def child_named(self, parent: Organisation | None, name: str) -> Organisation | None:
        """The stored organisation of that name directly under `parent` (None: at the top, or one of
        an organiser's own roots), inside the scope."""
        for org in self.by_name.get(name, []):
            if parent is not None and org.parent_id == parent.id:
                return org
            if parent is None and (org.parent_id is None or org in self.scope.roots):
                return org
        return None


def read_file(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows of an organisation list (.xlsx, .xls, .ods, .csv), by row number as the file shows it.

    :raise tables.TableError: unreadable, too large, or no header with 组织名称.
    """
    table = tables.read_table(filename, data, COLUMNS, REQUIRED)
    return [(row.number, row.cells) for row in table.rows]


def _cell(record: dict[str, str], key: str) -> str:
    return " ".join((record.get(key) or "").split())


def _rows(records: list[tuple[int, dict[str, str]]], errors: list[RowError]) -> list[Row]:
    rows = []
    for line, record in records:
        name, code, parent_ref = _cell(record, "name"), normalise_identifier(_cell(record, "code")), _cell(record, "parent")
        kind_text = _cell(record, "kind")
        kind = parse_kind(kind_text) if kind_text else kind_from_name(name)
        if not name:
            errors.append(RowError(line, "组织名称", "不能为空"))
        elif len(name) > NAME_MAX:
            errors.append(RowError(line, "组织名称", f"过长（最多 {NAME_MAX} 字）"))
        if len(code) > CODE_MAX:
            errors.append(RowError(line, "组织编码", f"「{code}」过长（最多 {CODE_MAX} 个字符）"))
        if kind is None and kind_text:
            errors.append(RowError(line, "组织类型", f"「{kind_text}」不是可识别的组织类型（可填：{accepted_kinds()}）"))
        people = {role: [normalise_identifier(p) for p in _SPLIT.split(_cell(record, key)) if p]
                  for key, role in ROLE_COLUMNS.items()}
        rows.append(Row(line, name, code, kind, parent_ref, people, kind_text=kind_text))
    return rows


def plan(scope: Scope, records: list[tuple[int, dict[str, str]]]) -> OrgPlan:
    """Check the file's rows against the tree and say what importing them would do.

    `records`: (line number, {column: text}) per data row, columns named as in COLUMNS.
    :raise ImportRejected: naming every bad row; nothing has changed.
    """
    errors: list[RowError] = []
    rows = _rows(records, errors)
    if not rows:
        raise ImportRejected(["文件中没有组织数据"])
    stored = _Stored.load(scope)
    _match_codes(rows, stored, errors)
    _resolve(rows, stored, errors)
    _check_tree(rows, stored, errors)
    _people(rows, stored, errors)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    for row in rows:
        _describe(row)
    return OrgPlan(_tree_order(rows))


def _match_codes(rows: list[Row], stored: _Stored, errors: list[RowError]) -> None:
    """Rows with a code that is stored are that organisation; a code twice in the file is an error."""
    seen: dict[str, Row] = {}
    for row in rows:
        if not row.code:
            continue
        if row.code in seen:
            errors.append(RowError(row.line, "组织编码", f"「{row.code}」与第 {seen[row.code].line} 行重复"))
            continue
        seen[row.code] = row
        org = stored.by_code.get(row.code)
        if org is not None and org.id not in stored.in_scope:
            errors.append(RowError(row.line, "组织编码", f"「{row.code}」已被你管理范围以外的组织使用"))
        elif org is not None:
            row.existing = org


def _resolve(rows: list[Row], stored: _Stored, errors: list[RowError]) -> None:
    """Give every row its parent (a row or a stored organisation), parents before children, and match
    rows without a stored code by name under that parent."""
    by_code = {r.code: r for r in rows if r.code}
    by_name: dict[str, list[Row]] = {}
    for r in rows:
        by_name.setdefault(r.name, []).append(r)
    refs: dict[int, Row | Organisation | None] = {}
    for row in rows:
        try:
            refs[row.line] = _parent_of(row, by_code, by_name, stored)
        except LookupError as exc:
            row.broken = True
            errors.append(RowError(row.line, "上级组织", str(exc)))
    claimed: dict[int, Row] = {r.existing.id: r for r in rows if r.existing is not None}
    state: dict[int, str] = {}

    def visit(row: Row, trail: list[Row]) -> None:
        if state.get(row.line) == "done":
            return
        if state.get(row.line) == "open":
            row.broken = True
            loop = trail[trail.index(row):] + [row]
            errors.append(RowError(row.line, "上级组织", "上下级关系形成循环：" + " → ".join(f"第 {r.line} 行「{r.name}」" for r in loop)))
            return
        state[row.line] = "open"
        parent = refs.get(row.line)
        if isinstance(parent, Row):
            visit(parent, [*trail, row])
        elif isinstance(parent, Organisation) and parent.id in claimed:
            parent = claimed[parent.id]  # a stored organisation the file also lists: the row stands for it
        row.parent = parent
        state[row.line] = "done"
        if row.existing is None and row.line in refs:
            base = parent.existing if isinstance(parent, Row) else parent
            if base is not None or parent is None:
                match = stored.child_named(base, row.name)
                if match is not None and match.id in claimed:
                    errors.append(RowError(row.line, "组织名称", f"「{row.name}」与第 {claimed[match.id].line} 行是同一个组织"))
                elif match is not None:
                    row.existing, claimed[match.id] = match, row

    for row in rows:
        visit(row, [])


def _parent_of(row: Row, by_code, by_name, stored: _Stored) -> Row | Organisation | None:
    """What a row's 上级组织 cell names: a code first (in the file, then stored), then a name."""
    ref = row.parent_ref
    if not ref:
        return None
    code = normalise_identifier(ref)
    if code in by_code:
        return by_code[code]
    org = stored.by_code.get(code)
    if org is not None and org.id in stored.in_scope:
        return org
    named = [r for r in by_name.get(ref, []) if r is not row]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        lines = "、".join(str(r.line) for r in named)
        raise LookupError(f"「{ref}」在文件中有多个同名组织（第 {lines} 行），请改填上级的组织编码")
    found = stored.by_name.get(ref, [])
    if len(found) == 1:
        return found[0]
    if found:
        raise LookupError(f"「{ref}」有 {len(found)} 个同名组织，请改填上级的组织编码")
    raise LookupError(f"找不到「{ref}」：它既不在文件中，也不是你管理范围内已有的组织")


def _check_tree(rows: list[Row], stored: _Stored, errors: list[RowError]) -> None:
    """The tree after the import: no cycle through stored organisations, no new top-level organisation
    but by an admin, nothing new under a disabled organisation, no two siblings of one name."""
    final: dict[object, object] = {o.id: o.parent_id for o in stored.in_scope.values()}
    for row in rows:
        key = row.existing.id if row.existing is not None else ("row", row.line)
        if row.parent is None and row.existing is not None:
            continue  # 上级组织 left empty: a stored organisation stays where it is
        final[key] = _key(row.parent)
    siblings: dict[tuple, Row] = {}
    for row in rows:
        if row.kind is None and not row.kind_text and row.existing is None and row.name:
            errors.append(RowError(row.line, "组织类型", f"不能为空（名称也看不出类型；可填：{accepted_kinds()}）"))
        if row.broken or any(r.broken for r in _chain(row)):
            continue
        key = row.existing.id if row.existing is not None else ("row", row.line)
        node, steps = final.get(key), 0
        while node is not None and steps <= len(final):
            if node == key:
                errors.append(RowError(row.line, "上级组织", f"「{row.parent_ref}」在「{row.name}」的下级之中：上下级会形成循环"))
                break
            node, steps = final.get(node), steps + 1
        if row.parent is None and row.existing is None and not stored.scope.is_admin:
            errors.append(RowError(row.line, "上级组织", "不能为空：只有系统管理员可以新建顶层组织"))
        target = row.parent.existing if isinstance(row.parent, Row) else row.parent
        if target is not None and not target.active and (row.existing is None or row.existing.active):
            errors.append(RowError(row.line, "上级组织", f"「{target.name}」已停用，不能在它下面新建或移入组织"))
        if row.parent is not None or row.existing is None:
            sibling = (final.get(key), row.name)
            if sibling in siblings:
                errors.append(RowError(row.line, "组织名称", f"「{row.name}」与第 {siblings[sibling].line} 行同名且上级相同"))
            siblings[sibling] = row


def _chain(row: Row) -> list[Row]:
    """The rows above `row` in the file, nearest first (stopping at a loop)."""
    out: list[Row] = []
    parent = row.parent
    while isinstance(parent, Row) and parent not in out and parent is not row:
        out.append(parent)
        parent = parent.parent
    return out


def _key(parent: Row | Organisation | None):
    if parent is None:
        return None
    if isinstance(parent, Organisation):
        return parent.id
    return parent.existing.id if parent.existing is not None else ("row", parent.line)


def _people(rows: list[Row], stored: _Stored, errors: list[RowError]) -> None:
    """Find the members each row makes secretary or organiser; keep the grants they do not hold yet."""
    numbers = {n.upper() for r in rows for people in r.people.values() for n in people}
    # Found whatever their case, as a login finds them (d4002 is D4002).
    users = {u.member_no.upper(): u for u in db.session.scalars(
        select(User).where(func.upper(User.member_no).in_(numbers))
    )} if numbers else {}
    held = set()
    if users:
        held = {(g.user_id, g.org_id, g.role) for g in db.session.scalars(
            select(Grant).where(Grant.user_id.in_([u.id for u in users.values()]))
        )}
    for row in rows:
        for role, people in row.people.items():
            column = "书记" if role is Role.SECRETARY else "组织员"
            for number in dict.fromkeys(people):
                user = users.get(number.upper())
                if user is None or not stored.scope.covers(user.org):
                    errors.append(RowError(row.line, column, f"找不到党员编号「{number}」（或该党员不在你的管理范围内）"))
                elif row.existing is None or (user.id, row.existing.id, role) not in held:
                    row.grants.append((user, role))


def _describe(row: Row) -> None:
    """What will change in a stored organisation, in words for the preview."""
    org = row.existing
    if org is None:
        return
    if org.name != row.name:
        row.changes.append(f"名称：{org.name} → {row.name}")
    if row.code and org.code != row.code:
        row.changes.append(f"编码：{org.code} → {row.code}")
    if row.kind is not None and org.kind is not row.kind:
        row.changes.append(f"类型：{org.kind.label} → {row.kind.label}")
    if row.parent is not None and org.parent_id != _key(row.parent):
        old = org.parent.name if org.parent is not None else "（顶层）"
        row.changes.append(f"上级：{old} → {row.parent_name}")
    if row.grants:
        row.changes.append("授权：" + "、".join(f"{u.name}（{role.label}）" for u, role in row.grants))


def _tree_order(rows: list[Row]) -> list[Row]:
    """Rows depth-first as the tree will be, each with its depth below the file's top rows."""
    children: dict[int | None, list[Row]] = {}
    for row in rows:
        parent_line = row.parent.line if isinstance(row.parent, Row) else None
        children.setdefault(parent_line, []).append(row)
    out: list[Row] = []

    def walk(line: int | None, depth: int) -> None:
        for row in children.get(line, []):
            row.depth = depth
            out.append(row)
            walk(row.line, depth + 1)

    walk(None, 0)
    return out
