"""The organisation tree as the admin pages show it: nested nodes with member counts and grants."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ...extensions import db
from ...models import Grant, Organisation, User
from . import Scope, ancestor_ids, orgs_in_scope, sort_tree, within


@dataclass
class Node:
    org: Organisation
    members: int = 0  # directly in this organisation
    total: int = 0  # in it and everything beneath it
    staff: list[str] = field(default_factory=list)  # "书记：张三"
    children: list[Node] = field(default_factory=list)


def build_tree(scope: Scope) -> list[Node]:
    """The viewer's organisations as nested nodes (their scope's roots at the top), in tree order."""
    orgs = orgs_in_scope(scope)
    if not orgs:
        return []
    counts = dict(db.session.execute(
        select(User.org_id, func.count(User.id)).join(Organisation, Organisation.id == User.org_id)
        .where(scope.org_clause()).group_by(User.org_id)
    ).all())
    nodes = {o.id: Node(o, counts.get(o.id, 0)) for o in orgs}
    rows = db.session.execute(
        select(Grant.org_id, Grant.role, User.name).join(User, User.id == Grant.user_id)
        .join(Organisation, Organisation.id == Grant.org_id).where(scope.org_clause()).order_by(Grant.role, User.name)
    )
    for org_id, role, name in rows:
        nodes[org_id].staff.append(f"{role.label}：{name}")
    roots: list[Node] = []
    for org in orgs:  # tree order: a parent before its children
        node = nodes[org.id]
        parent = nodes.get(org.parent_id) if org.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    for org in reversed(orgs):  # children before parents: add each subtree's total into its parent
        node = nodes[org.id]
        node.total += node.members
        if org.parent_id in nodes:
            nodes[org.parent_id].total += node.total
    return roots


def breadcrumb(scope: Scope, org: Organisation) -> list[Organisation]:
    """The organisations above `org` that the viewer may see, top first."""
    ids = ancestor_ids(org)[:-1]
    above = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))} if ids else {}
    return [above[i] for i in ids if i in above and scope.covers(above[i])]


def move_targets(scope: Scope, org: Organisation) -> list[Organisation]:
    """Where the viewer may move `org`: active organisations in scope outside its own subtree."""
    return [o for o in orgs_in_scope(scope) if o.active and not o.is_within(org)]


def children_of(org: Organisation) -> list[Organisation]:
    return sort_tree(list(db.session.scalars(select(Organisation).where(Organisation.parent_id == org.id))))


def subtree_size(org: Organisation) -> tuple[int, int]:
    """(organisations beneath `org`, members in its subtree)."""
    orgs = db.session.scalar(select(func.count(Organisation.id)).where(within(Organisation.path, org.path))) or 0
    members = db.session.scalar(
        select(func.count(User.id)).join(Organisation, Organisation.id == User.org_id).where(within(Organisation.path, org.path))
    ) or 0
    return orgs - 1, members
