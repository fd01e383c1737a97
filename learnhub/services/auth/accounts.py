"""Passwords, and keeping members' accounts (logging in: services/auth/login.py)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ...extensions import db
from ...models import MemberCategory, Organisation, User
from .. import FieldError, ServiceError
from . import sessions
from ..reports import tallies
from .passwords import check_new_password

PHONE = re.compile(r"^1[3-9]\d{9}$")
MEMBER_NO = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


@dataclass(frozen=True)
class HashSettings:
    time_cost: int
    memory_cost: int
    parallelism: int

    @classmethod
    def from_config(cls, config) -> HashSettings:
        return cls(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_cost, parallelism=self.parallelism)


def normalise_identifier(value: str) -> str:
    """A member number or phone number as typed into a spreadsheet: full-width digits and letters made
    ASCII (NFKC), spaces dropped; a phone number loses its dashes and +86 (`＋86 １３８-００００-００００` -> 13800000000)."""
    value = value or ""
    if value.isascii() and value.isalnum():  # the common case, at 100,000 rows a file
        return value
    text = "".join(unicodedata.normalize("NFKC", value).split())
    digits = text.replace("-", "")
    digits = digits.removeprefix("+86")
    return digits if PHONE.match(digits) else text


def hash_password(settings: HashSettings, password: str) -> str:
    """Hash a password with argon2id."""
    return settings.hasher().hash(password)


def check_password_strength(password: str, member_no: str | None = None, phone: str | None = None) -> None:
    """Raise ServiceError (passwords.WeakPassword) if the password may not be set for this member
    (passwords.py: length and a blocklist, NIST SP 800-63B)."""
    check_new_password(password, member_no, phone)


def identifier_taken(value: str, existing: User | None = None) -> bool:
    """True if another account already has `value` as its member number, in any case (a login finds
    d4002 as D4002)."""
    others = db.session.scalars(select(User).where(func.upper(User.member_no) == value.upper()))
    return any(other is not existing for other in others)


def verify_password(settings: HashSettings, password_hash: str, password: str) -> bool:
    """True if the password matches the hash (one argon2 verify, whatever the outcome)."""
    try:
        return settings.hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(settings: HashSettings, user: User, current: str, new: str, session_key: str | None = None) -> None:
    """Change the user's own password; every other device is signed out (remember-me tokens too). Commits.

    `session_key`: the device the change is made on, which stays signed in.
    """
    checked = user.password_hash
    if not verify_password(settings, checked, current):
        raise FieldError("current", "当前密码不正确")
    if new == current:
        raise FieldError("new", "新密码不能与当前密码相同")
    check_password_strength(new, user.member_no, user.phone)
    new_hash = hash_password(settings, new)  # the slow part, before any lock
    # A reset by the secretary may have landed since the check: then the current password typed here
    # is no longer the current one, as if the reset had come first.
    if _locked(user).password_hash != checked:
        db.session.rollback()
        raise FieldError("current", "密码刚刚被重置，请用新的临时密码重新登录")
    user.password_hash = new_hash
    user.must_change_password = False
    sessions.end_all(user, keep_key=session_key)
    db.session.commit()


def _locked(user: User) -> User:
    """Re-read the user's row with a lock, so password changes and resets of one account run one at a time."""
    return db.session.scalars(
        select(User).where(User.id == user.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def reset_password(settings: HashSettings, user: User) -> str:
    """Give the user a temporary password they must change at next login; return it. Signs them out
    of every device (remember-me tokens too). Commits."""
    temporary = temporary_password()
    new_hash = hash_password(settings, temporary)
    _locked(user)
    user.password_hash = new_hash
    user.must_change_password = True
    sessions.end_all(user)
    db.session.commit()
    return temporary


def temporary_password() -> str:
    """Return a random password that is easy to read out: no 0/O or 1/l."""
    letters = "abcdefghjkmnpqrstuvwxyz"
    digits = "23456789"
    body = [secrets.choice(letters + digits) for _ in range(8)]
    body[secrets.randbelow(8)] = secrets.choice(digits)
    body[secrets.randbelow(8)] = secrets.choice(letters)
    return "".join(body)


@dataclass
class MemberData:
    """What a secretary enters for a member."""

    name: str
    member_no: str
    phone: str | None
    org: Organisation
    category: MemberCategory


def validate_member(data: MemberData, existing: User | None = None) -> list[str]:
    """Return what is wrong with a member's details, in Chinese (empty when fine)."""
    problems = []
    if not data.name.strip():
        problems.append("姓名不能为空")
    elif len(data.name) > 50:
        problems.append("姓名过长")
    if not MEMBER_NO.match(data.member_no or ""):
        problems.append("党员编号应为 2–32 位字母、数字或连字符")
    elif PHONE.match(data.member_no):
        problems.append("党员编号不能是手机号（手机号请填在“手机号”一栏）")
    elif identifier_taken(data.member_no, existing):
        problems.append(f"党员编号 {data.member_no} 已被使用")
    # A phone may be shared (a family's one phone): any well-formed number is accepted, so the answer
    # never tells whether a number is registered somewhere else.
    if data.phone and not PHONE.match(data.phone):
        problems.append(f"手机号 {data.phone} 格式不正确")
    if not data.org.active and (existing is None or existing.org_id != data.org.id):
        problems.append(f"「{data.org.name}」已停用，不能把党员加入或转入")
    return problems


def create_member(settings: HashSettings, data: MemberData, password: str, commit: bool = True) -> User:
    """Add a member who must change the given first password at first login."""
    problems = validate_member(data)
    if problems:
        raise ServiceError("；".join(problems))
    check_password_strength(password, data.member_no, data.phone)
    user = User(
        name=data.name.strip(), member_no=data.member_no, phone=data.phone or None, org=data.org,
        category=data.category, password_hash=hash_password(settings, password), must_change_password=True,
    )
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def update_member(user: User, data: MemberData) -> None:
    """Change a member's details. Commits."""
    problems = validate_member(data, existing=user)
    if problems:
        raise ServiceError("；".join(problems))
    user.name, user.member_no, user.phone = data.name.strip(), data.member_no, data.phone or None
    user.category = data.category
    if data.org.id != user.org_id:
        with tallies.member_recounted(user):  # their first tries now count for the new branch
            user.org = data.org
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Enable or disable an account; disabling signs it out everywhere. Commits."""
    if active != user.active:
        with tallies.member_recounted(user):  # a disabled member's answers leave the report
            user.active = active
    sessions.end_all(user)
    db.session.commit()


def set_large_type(user: User, on: bool) -> None:
    """Keep the member's choice of 大字模式 (large type) on their account, for every device. Commits."""
    user.large_type = on
    db.session.commit()
