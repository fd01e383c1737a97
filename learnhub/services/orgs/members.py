"""Importing a list of members from a spreadsheet: previewed, then stored all or nothing, every bad row named.

The file is read by services/sheets/tables.py (.xlsx, .xls, .ods, .csv; the header may sit under a title row and
use common synonyms). A member's 所在支部 is a branch in the viewer's scope, by name or code; an
organiser may also choose an organisation under which branches the file names but the tree lacks are
created (listed in the preview). Everyone imported starts with one first password, which they must
change at first login: one argon2 hash serves them all, so 100,000 members cost one hash, not 100,000.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import MemberCategory, Organisation, OrgKind, User, utcnow
from .. import ServiceError
from ..sheets import tables
from ..auth.accounts import MEMBER_NO, PHONE, HashSettings, check_password_strength, hash_password, normalise_identifier
from ..sheets.import_errors import ImportRejected, RowError
from . import Scope, create_org, orgs_in_scope
from .edit import NAME_MAX, lock_tree
from .kinds import kind_from_name

__all__ = ["COLUMNS", "ImportRejected", "MemberPlan", "RowError", "apply", "plan", "read_file"]

# Canonical column -> the header texts that mean it, the one shown in messages first.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "党员姓名", "名字"),
    "member_no": ("党员编号", "编号", "工号", "党员号", "人员编号"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "联系方式", "移动电话"),
    "org": ("所在支部", "支部", "党支部", "所属支部", "所在党支部", "所属党支部", "所在组织", "所属组织", "支部名称"),
    "category": ("党员类别", "类别", "党员类型", "人员类别", "党员身份"),
}
REQUIRED = ("name", "member_no", "org")
CATEGORIES = {
    "": MemberCategory.FULL, "正式": MemberCategory.FULL, "正式党员": MemberCategory.FULL, "正": MemberCategory.FULL,
    "预备": MemberCategory.PROBATIONARY, "预备党员": MemberCategory.PROBATIONARY, "预": MemberCategory.PROBATIONARY,
}
WEB_MAX_ROWS = 20_000  # an upload
# The command line reads rosters of a whole province's city: 200,000 rows, with size caps raised to match.
CLI_MAX_ROWS, CLI_BUDGET = 200_000, 10
_CHUNK = 5_000  # members per batch of INSERTs: memory stays flat for a 100,000-member roster


def read_file(filename: str, data: bytes, max_rows: int = WEB_MAX_ROWS, budget: int = 1) -> list[tables.Row]:
    """The data rows of a member list, numbered as the spreadsheet shows them.

    :raise tables.TableError: unreadable, too large, or no header with 姓名, 党员编号 and 所在支部.
    """
    return tables.read_table(filename, data, COLUMNS, REQUIRED, max_rows=max_rows, budget=budget).rows


@dataclass(slots=True)
class NewBranch:
    """A branch the file names that does not exist yet: created under the chosen parent."""

    name: str
    kind: OrgKind
    first_row: int
    members: int = 0


@dataclass(slots=True)
class NewMember:
    line: int
    name: str
    member_no: str
    phone: str | None
    org: Organisation | NewBranch
    category: MemberCategory


@dataclass
class MemberPlan:
    members: list[NewMember]
    new_branches: list[NewBranch]
    parent: Organisation | None
    per_org: list[tuple[str, int, bool]] = field(default_factory=list)  # (branch name, members, new?)


class _Branches:
    """Branch names and codes in the viewer's scope, and the branches a file asks to create."""

    def __init__(self, scope: Scope, parent: Organisation | None):
        self.lookup: dict[str, list[Organisation]] = {}
        for org in orgs_in_scope(scope):
            self.lookup.setdefault(org.name, []).append(org)
            if org.code != org.name:
                self.lookup.setdefault(org.code, []).append(org)
        self.parent = parent
        self.new: dict[str, NewBranch] = {}
        self.found: dict[str, Organisation | NewBranch | str] = {}  # cell text -> organisation, or the reason

    def find(self, line: int, text: str) -> Organisation | NewBranch | RowError:
        """The organisation a 所在支部 cell names (or the branch to create), or why none: each distinct
        text is looked up once (a roster names the same few branches thousands of times)."""
        found = self.found.get(text)
        if found is None:
            found = self.found[text] = self._resolve(line, text)
        return RowError(line, "所在支部", found) if isinstance(found, str) else found

    def _resolve(self, line: int, text: str) -> Organisation | NewBranch | str:
        found = self.lookup.get(text) or self.lookup.get(normalise_identifier(text), [])
        candidates = [o for o in found if o.kind.is_branch or o.kind is OrgKind.GROUP] or found
        if len(candidates) > 1:
            return f"「{text}」有多个同名组织，请改填组织编码"
        if candidates:
            org = candidates[0]
            return org if org.active else f"「{text}」已停用，不能再导入党员"
        if self.parent is None:
            return f"「{text}」不是你管理范围内的组织（如需新建，请选择新支部建在哪个组织之下）"
        if len(text) > NAME_MAX:
            return f"「{text[:20]}…」过长，不能作为新支部的名称"
        kind = kind_from_name(text)
        kind = kind if kind is not None and (kind.is_branch or kind is OrgKind.GROUP) else OrgKind.BRANCH
        self.new[text] = NewBranch(text, kind, line)
        return self.new[text]


def _check(line: int, row: tables.Row, branches: _Branches, taken: set[str], seen: dict[str, int]):
    """Everything wrong with one row, or the member it describes."""
    name = " ".join(row["name"].split())
    number, phone = normalise_identifier(row["member_no"]), normalise_identifier(row["phone"])
    org_text, category = " ".join(row["org"].split()), "".join(row["category"].split())
    errors: list[RowError] = []
    if not name:
        errors.append(RowError(line, "姓名", "不能为空"))
    elif len(name) > 50:
        errors.append(RowError(line, "姓名", "过长（最多 50 字）"))
    if not number:
        errors.append(RowError(line, "党员编号", "不能为空"))
    elif not MEMBER_NO.match(number):
        errors.append(RowError(line, "党员编号", f"「{number}」应为 2–32 位字母、数字或连字符"))
    elif PHONE.match(number):
        errors.append(RowError(line, "党员编号", f"「{number}」是手机号，请填在“手机号”一栏"))
    elif number.upper() in taken:
        errors.append(RowError(line, "党员编号", f"「{number}」已被系统中的党员用作编号（不分大小写）"))
    elif number.upper() in seen:
        errors.append(RowError(line, "党员编号", f"「{number}」与第 {seen[number.upper()]} 行重复（不分大小写）"))
    else:
        seen[number.upper()] = line
    if phone and not PHONE.match(phone):
        errors.append(RowError(line, "手机号", f"「{phone}」不是有效的 11 位手机号"))
    org: Organisation | NewBranch | RowError | None = None
    if not org_text:
        errors.append(RowError(line, "所在支部", "不能为空"))
    else:
        org = branches.find(line, org_text)
        if isinstance(org, RowError):
            errors.append(org)
    if category not in CATEGORIES:
        errors.append(RowError(line, "党员类别", f"「{category}」应为“正式”或“预备”"))
    if errors:
        return errors
    return NewMember(line, name, number, phone or None, org, CATEGORIES[category])


def plan(scope: Scope, rows: list[tables.Row], parent: Organisation | None = None) -> MemberPlan:
    """Check every row and say who would be added where, and which branches would be created under
    `parent` (an organiser's choice; None: only existing branches).

    :raise ImportRejected: naming every bad row; nothing has changed.
    """
    if parent is not None and not (scope.is_organiser and scope.covers(parent)):
        raise ServiceError("只有组织员可以在导入时新建支部，且只能建在自己管理范围内的组织之下")
    if parent is not None and not parent.active:
        raise ServiceError(f"「{parent.name}」已停用，不能在它下面新建支部")
    if not rows:
        raise ImportRejected(["文件只有表头，没有党员数据"])
    branches = _Branches(scope, parent)
    # Member numbers are unique whatever their case, as a login finds them (d4002 is D4002); phones
    # need not be (a phone login tries the accounts that share it).
    taken = set(db.session.scalars(select(func.upper(User.member_no))))
    errors: list[RowError] = []
    members: list[NewMember] = []
    seen: dict[str, int] = {}
    for row in rows:
        checked = _check(row.number, row, branches, taken, seen)
        if isinstance(checked, NewMember):
            members.append(checked)
        else:
            errors.extend(checked)
    if errors:
        raise ImportRejected(errors)
    counts = Counter(id(m.org) for m in members)
    orgs = {id(m.org): m.org for m in members}
    for branch in branches.new.values():
        branch.members = counts[id(branch)]
    per_org = sorted(((o.name, counts[k], isinstance(o, NewBranch)) for k, o in orgs.items()), key=lambda r: (not r[2], r[0]))
    return MemberPlan(members, list(branches.new.values()), parent, per_org)


@dataclass
class ImportResult:
    members: int
    branches: int


def apply(scope: Scope, rows: list[tables.Row], password: str, settings: HashSettings,
          parent: Organisation | None = None) -> ImportResult:
    """Create the planned branches and every member, or nothing. Commits.

    Checked again inside the write transaction (a member number may have been taken since the preview).
    """
    check_password_strength(password)
    password_hash = hash_password(settings, password)  # the slow part, before any lock
    parent_id = parent.id if parent is not None else None
    lock_tree()  # the write transaction starts here: branches and member numbers are read afresh
    parent = db.session.get(Organisation, parent_id) if parent_id is not None else None
    result = plan(scope, rows, parent)
    created: dict[int, Organisation] = {}
    for branch in result.new_branches:
        org = create_org(branch.name, branch.kind, parent, f"new-{uuid.uuid4().hex}")
        org.code = _free_code(f"org{org.id}")
        created[id(branch)] = org
    db.session.flush()
    org_ids = {id(m.org): (created[id(m.org)] if isinstance(m.org, NewBranch) else m.org).id for m in result.members}
    now = utcnow()
    try:
        _insert_members([
            (m.name, m.member_no, m.phone, m.category.value, password_hash, True, now, org_ids[id(m.org)])
            for m in result.members
        ])
        db.session.commit()
    except IntegrityError:  # a member added one at a time took a number of the file after it was checked
        db.session.rollback()
        raise ServiceError("导入时有党员编号刚被别人添加的党员占用，没有导入任何人；请重新上传预览") from None
    return ImportResult(len(result.members), len(created))


_MEMBER_COLUMNS = ("name", "member_no", "phone", "category", "password_hash", "must_change_password", "created_at",
                   "org_id")


def _insert_members(rows: list[tuple]) -> None:
    """Insert plain member rows in the session's transaction, fast: PostgreSQL's COPY (executemany sends
    it one statement per row: 4 s for 100,000 where COPY takes 1 s), elsewhere Core executemany in
    batches (the ORM's bulk path cost more per row than the database did)."""
    connection, table = db.session.connection(), User.__table__
    if connection.dialect.name == "postgresql":
        # COPY knows nothing of the model's Python-side defaults (is_admin, active, ...): send them too.
        defaults = {c.name: c.default.arg for c in table.columns
                    if c.name not in _MEMBER_COLUMNS and c.default is not None and c.default.is_scalar}
        columns, extra = [*_MEMBER_COLUMNS, *defaults], tuple(defaults.values())
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f'COPY "user" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row + extra)
        return
    for start in range(0, len(rows), _CHUNK):
        connection.execute(insert(table), [dict(zip(_MEMBER_COLUMNS, row, strict=True)) for row in rows[start:start + _CHUNK]])


def _free_code(code: str) -> str:
    candidate, n = code, 1
    while db.session.scalar(select(Organisation.id).where(Organisation.code == candidate)) is not None:
        candidate, n = f"{code}-{n}", n + 1
    return candidate
