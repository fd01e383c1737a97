"""Changing the organisation tree: rename, move (with the whole subtree), disable or enable, and grants.

Every change is the viewer's to make only inside their scope (an organiser's subtree; admins anywhere).
Changes to the tree's shape (moves, disabling, imports) are serialised by locking the top-level
organisations first (`lock_tree`): two moves at once can then never make a cycle between them, and
each re-reads the tree after the lock.
"""

from __future__ import annotations

from sqlalchemy import func, literal, select, update

from ...extensions import db
from ...models import Attempt, Grant, Organisation, OrgKind, Role, User
from .. import ServiceError
from ..reports import tallies
from ..auth.accounts import normalise_identifier
from . import Scope, within

MAX_PATH = 255  # Organisation.path's length
NAME_MAX, CODE_MAX = 100, 40


class OrgError(ServiceError):
    """A change to the tree was refused; the message says why, in Chinese."""


def lock_tree() -> None:
    """Start the write transaction by locking the top-level organisations (every tree change does the
    same, so they run one at a time), then forget what the session read before: it may be stale."""
    db.session.execute(select(Organisation.id).where(Organisation.parent_id.is_(None)).with_for_update())
    db.session.expire_all()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise OrgError("组织名称不能为空")
    if len(name) > NAME_MAX:
        raise OrgError(f"组织名称过长（最多 {NAME_MAX} 字）")
    return name


def code_taken(code: str, existing: Organisation | None = None) -> bool:
    other = db.session.scalar(select(Organisation).where(Organisation.code == code))
    return other is not None and other is not existing


def edit_org(scope: Scope, org: Organisation, name: str, code: str, kind: OrgKind) -> None:
    """Rename an organisation, change its code or kind. Commits."""
    org_id = org.id
    lock_tree()  # codes are checked and taken one change at a time, imports included
    org = db.session.get(Organisation, org_id)
    _require(scope, org)
    name, code = check_name(name), (code or "").strip()
    if not code or len(code) > CODE_MAX:
        raise OrgError(f"组织编码不能为空，最多 {CODE_MAX} 个字符")
    if code_taken(code, org):
        raise OrgError(f"组织编码「{code}」已被其他组织使用")
    org.name, org.code, org.kind = name, code, kind
    db.session.commit()


def move_org(scope: Scope, org: Organisation, parent: Organisation | None) -> None:
    """Put an organisation (with everything beneath it, members included) under another parent. Commits.

    Members keep their organisation and their history; the subtree's paths change in one statement,
    so every report sees them under the new parent at once.
    """
    org_id, parent_id = org.id, parent.id if parent is not None else None
    lock_tree()
    org = db.session.get(Organisation, org_id)
    parent = db.session.get(Organisation, parent_id) if parent_id is not None else None
    _require(scope, org)
    if parent is None:
        if not scope.is_admin:
            raise OrgError("只有系统管理员可以把组织设为顶层组织")
    else:
        _require(scope, parent)
        if parent.is_within(org):
            where = "它自己" if parent.id == org.id else f"它的下级组织「{parent.name}」"
            raise OrgError(f"不能把「{org.name}」移到{where}之下：上下级会形成循环")
        if not parent.active and org.active:
            raise OrgError(f"「{parent.name}」已停用，不能把组织移到它下面")
    if org.parent_id == parent_id:
        db.session.rollback()
        return
    move_subtree(org, parent)
    db.session.commit()


def move_subtree(org: Organisation, parent: Organisation | None) -> None:
    """Re-parent `org` and rewrite the paths of its whole subtree (flushes, does not commit; the
    caller has checked for cycles and holds `lock_tree`)."""
    old, new = org.path, f"{parent.path if parent else '/'}{org.id}/"
    longest = db.session.scalar(select(func.max(func.length(Organisation.path))).where(within(Organisation.path, old)))
    if (longest or 0) - len(old) + len(new) > MAX_PATH:
        raise OrgError(f"「{org.name}」移过去后层级太深，无法保存")
    org.parent_id = parent.id if parent else None
    db.session.flush()
    db.session.execute(
        update(Organisation).where(within(Organisation.path, old))
        .values(path=literal(new) + func.substr(Organisation.path, len(old) + 1))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def subtree_ids(org: Organisation):
    """SQL: the ids of `org` and everything beneath it."""
    return select(Organisation.id).where(within(Organisation.path, org.path))


def set_active(scope: Scope, org: Organisation, active: bool) -> int:
    """Disable an organisation with everything beneath it, or enable it again; return how many
    organisations changed. Their members stop (or start again) counting in every figure. Commits."""
    org_id = org.id
    lock_tree()
    org = db.session.get(Organisation, org_id)
    _require(scope, org)
    if active and org.parent is not None and not org.parent.active:
        raise OrgError(f"上级组织「{org.parent.name}」已停用，请先启用上级组织")
    members = User.org_id.in_(subtree_ids(org))
    # Their answers leave (or rejoin) the weak-branch tallies with them: lock their attempts first, as a
    # member's own move does, so a hand-in in flight is counted before the change or after it.
    db.session.execute(
        select(Attempt.id).join(User, User.id == Attempt.user_id).where(members).with_for_update(of=Attempt)
    )
    with tallies.recounted(members):
        changed = db.session.execute(
            update(Organisation).where(within(Organisation.path, org.path), Organisation.active.is_(not active))
            .values(active=active).execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    return changed


def add_grant(scope: Scope, org: Organisation, member_no: str, role: Role) -> Grant:
    """Make a member (found by number, inside the viewer's scope) secretary or organiser of `org`. Commits."""
    org_id = org.id
    lock_tree()  # one grant at a time, imports included: the check below holds until the commit
    org = db.session.get(Organisation, org_id)
    _require(scope, org)
    member_no = normalise_identifier(member_no)
    user = db.session.scalar(select(User).where(func.upper(User.member_no) == member_no.upper())) if member_no else None
    if user is None or not scope.covers(user.org):
        raise OrgError(f"找不到党员编号为「{member_no}」的党员（或不在你的管理范围内）")
    existing = db.session.scalar(select(Grant).filter_by(user_id=user.id, org_id=org.id, role=role))
    if existing is not None:
        raise OrgError(f"{user.name} 已经是「{org.name}」的{role.label}")
    row = Grant(user=user, org=org, role=role)
    db.session.add(row)
    db.session.commit()
    return row


def revoke_grant(scope: Scope, grant: Grant) -> None:
    """Take a role away. Nobody revokes their own grants (they would lock themselves out). Commits."""
    _require(scope, grant.org)
    if scope.user is not None and grant.user_id == scope.user.id:
        raise OrgError("不能撤销自己的授权，请让上级组织员或系统管理员操作")
    db.session.delete(grant)
    db.session.commit()


def grants_of(org: Organisation) -> list[Grant]:
    return list(db.session.scalars(
        select(Grant).join(User, User.id == Grant.user_id).where(Grant.org_id == org.id).order_by(Grant.role, User.member_no)
    ))


def _require(scope: Scope, org: Organisation) -> None:
    if not scope.covers(org):
        raise OrgError("这个组织不在你的管理范围内")
