"""Importing a list of members from a spreadsheet: all or nothing, naming every bad row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import MemberCategory, Organisation, OrgKind, User
from . import ServiceError
from .accounts import MEMBER_NO, PHONE, HashSettings, check_password_strength, hash_password
from .orgs import Scope, orgs_in_scope

COLUMNS = {"name": "姓名", "member_no": "党员编号", "phone": "手机号", "org": "所在支部", "category": "党员类别"}
CATEGORIES = {
    "": MemberCategory.FULL, "正式": MemberCategory.FULL, "正式党员": MemberCategory.FULL,
    "预备": MemberCategory.PROBATIONARY, "预备党员": MemberCategory.PROBATIONARY,
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message}" if self.column else f"第 {self.row} 行：{self.message}"


class ImportRejected(ServiceError):
    def __init__(self, errors: list[RowError] | list[str]):
        self.errors = [str(e) for e in errors]
        super().__init__(f"导入未执行：发现 {len(self.errors)} 处问题，请修改后重新上传")


def _header_map(header: list[str]) -> dict[str, int]:
    index = {}
    for key, label in COLUMNS.items():
        matches = [i for i, h in enumerate(header) if h.replace(" ", "") == label]
        if matches:
            index[key] = matches[0]
    missing = [COLUMNS[k] for k in ("name", "member_no", "org") if k not in index]
    if missing:
        raise ImportRejected([f"第 1 行缺少表头：{'、'.join(missing)}（表头应为 {'、'.join(COLUMNS.values())}）"])
    return index


def _org_lookup(scope: Scope) -> dict[str, list[Organisation]]:
    lookup: dict[str, list[Organisation]] = {}
    for org in orgs_in_scope(scope):
        lookup.setdefault(org.name, []).append(org)
        if org.code != org.name:
            lookup.setdefault(org.code, []).append(org)
    return lookup


def _check_row(line: int, values: list[str], orgs, taken: set[str], seen: dict[str, int]):
    """Everything wrong with one row, and the organisation it names (when it names exactly one)."""
    name, number, phone, org_name, category = values
    errors = []
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
    else:
        errors += _identifier_errors(line, "党员编号", number, taken, seen)
    if phone and not PHONE.match(phone):
        errors.append(RowError(line, "手机号", f"「{phone}」不是有效的 11 位手机号"))
    candidates = [o for o in orgs.get(org_name, []) if o.kind in (OrgKind.BRANCH, OrgKind.GROUP)] or orgs.get(org_name, [])
    if not org_name:
        errors.append(RowError(line, "所在支部", "不能为空"))
    elif not candidates:
        errors.append(RowError(line, "所在支部", f"「{org_name}」不是你管理范围内的组织"))
    elif len(candidates) > 1:
        errors.append(RowError(line, "所在支部", f"「{org_name}」有多个同名组织，请改填组织代码"))
    if category not in CATEGORIES:
        errors.append(RowError(line, "党员类别", f"「{category}」应为“正式”或“预备”"))
    return errors, (candidates[0] if len(candidates) == 1 else None)


def _identifier_errors(line: int, column: str, value: str, taken: set[str], seen: dict[str, int]) -> list[RowError]:
    """A member number names one account only: not in the system, not earlier in the file."""
    if value in taken:
        return [RowError(line, column, f"「{value}」已被系统中的党员用作编号")]
    if value in seen:
        return [RowError(line, column, f"「{value}」与第 {seen[value]} 行重复")]
    seen[value] = line
    return []


def import_members(scope: Scope, rows: list[list[str]], password: str, settings: HashSettings) -> list[User]:
    """Create every member in `rows` (header first) inside the viewer's scope, or none. Commits."""
    check_password_strength(password)
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise ImportRejected(["文件是空的"])
    index = _header_map(rows[0])
    if len(rows) == 1:
        raise ImportRejected(["文件只有表头，没有党员数据"])
    orgs = _org_lookup(scope)
    # Member numbers are unique; phones need not be (a phone login tries the accounts that share it).
    taken = set(db.session.scalars(select(User.member_no)))
    errors: list[RowError] = []
    seen: dict[str, int] = {}  # member numbers used so far in the file -> first line
    parsed = []
    for line, row in enumerate(rows[1:], start=2):
        values = [row[index[k]] if k in index and index[k] < len(row) else "" for k in COLUMNS]
        row_errors, org = _check_row(line, values, orgs, taken, seen)
        if row_errors:
            errors.extend(row_errors)
        else:
            name, number, phone, _, category = values
            parsed.append((name, number, phone or None, org, CATEGORIES[category]))
    if errors:
        raise ImportRejected(errors)
    # Everyone starts with the same first password and must change it, so one hash serves them all.
    password_hash = hash_password(settings, password)
    users = [
        User(name=n, member_no=no, phone=ph, org=org, category=cat, password_hash=password_hash, must_change_password=True)
        for n, no, ph, org, cat in parsed
    ]
    db.session.add_all(users)
    db.session.commit()
    return users
