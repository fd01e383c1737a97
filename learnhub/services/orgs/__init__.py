"""The organisation tree and the viewer's scope: the one place that decides who sees what."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, false, or_, select, true

from ...extensions import db
from ...models import Grant, Organisation, OrgKind, Role, User


def within(path_column, path: str):
    """SQL: the path column lies at or under `path`.

    A range on the indexed path instead of LIKE: every path under '/1/7/' sorts in ['/1/7/', '/1/70'),
    since '/' sorts just before '0' (byte order; the column uses the C collation on PostgreSQL).
    """
    return and_(path_column >= path, path_column < path[:-1] + "0")


def create_org(name: str, kind: OrgKind, parent: Organisation | None, code: str, position: int = 0) -> Organisation:
    """Add an organisation under `parent` and give it its materialised path (flushes, does not commit)."""
    org = Organisation(name=name, kind=kind, parent=parent, code=code, position=position)
    db.session.add(org)
    db.session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    return org


def ancestor_ids(org: Organisation) -> list[int]:
    """Ids on the path from the root down to `org`, inclusive."""
    return [int(part) for part in org.path.strip("/").split("/") if part]


def subtree(org: Organisation) -> list[Organisation]:
    """`org` and everything beneath it, in tree order."""
    rows = db.session.scalars(select(Organisation).where(within(Organisation.path, org.path)))
    return sort_tree(list(rows))


def sort_tree(orgs: list[Organisation]) -> list[Organisation]:
    """Order organisations depth-first, siblings by position then name."""
    by_id = {o.id: o for o in orgs}

    def key(o: Organisation) -> list:
        return [(by_id[i].position, by_id[i].name, i) if i in by_id else (0, "", i) for i in ancestor_ids(o)]

    return sorted(orgs, key=key)


def unit_of(org: Organisation, orgs_by_id: dict[int, Organisation]) -> Organisation:
    """The reporting unit an organisation counts under: its nearest 党支部 at or above it, else itself."""
    for oid in reversed(ancestor_ids(org)):
        candidate = orgs_by_id.get(oid)
        if candidate is not None and candidate.kind.is_branch:
            return candidate
    return org


@dataclass
class Scope:
    """The organisations a viewer has authority over: the subtrees of their grants (all, for an admin)."""

    user: User | None
    roots: list[Organisation] = field(default_factory=list)
    is_admin: bool = False
    # A command-line run on an organisation's subtree acts with an organiser's powers there.
    acts_as_organiser: bool = False

    @property
    def is_staff(self) -> bool:
        return self.is_admin or bool(self.roots)

    @property
    def is_organiser(self) -> bool:
        if self.is_admin or self.acts_as_organiser:
            return True
        return self.user is not None and any(g.role is Role.ORGANISER for g in self.user.grants)

    def covers(self, org: Organisation) -> bool:
        """True if the viewer may see `org` and what is in it."""
        return self.is_admin or any(org.path.startswith(r.path) for r in self.roots)

    def can_manage(self, member: User) -> bool:
        """True if the viewer may edit the member or reset their password: nobody with more authority.

        A member who is an admin, or holds a grant outside the viewer's subtrees, is out of reach:
        resetting their password would hand the viewer that authority.
        """
        if self.is_admin:
            return True
        if member.is_admin or not self.covers(member.org):
            return False
        return all(self.covers(g.org) for g in member.grants)

    def org_clause(self, path_column=Organisation.path):
        """A SQL condition keeping rows whose organisation path lies inside the scope."""
        if self.is_admin:
            return true()
        if not self.roots:
            return false()
        return or_(*(within(path_column, r.path) for r in self.roots))

    def visible_part_of(self, org: Organisation) -> list[Organisation]:
        """The top organisations the viewer may see within `org`'s subtree (itself, or the grants below it)."""
        if self.covers(org):
            return [org]
        return [r for r in self.roots if r.path.startswith(org.path)]


def scope_for(user: User) -> Scope:
    """Build the viewer's scope from their grants, dropping grants nested inside other grants."""
    if user.is_admin:
        roots = list(db.session.scalars(select(Organisation).where(Organisation.parent_id.is_(None))))
        return Scope(user=user, roots=roots, is_admin=True)
    grants = db.session.scalars(select(Grant).where(Grant.user_id == user.id)).all()
    orgs = sorted({g.org for g in grants}, key=lambda o: len(o.path))
    roots: list[Organisation] = []
    for org in orgs:
        if not any(org.path.startswith(r.path) for r in roots):
            roots.append(org)
    return Scope(user=user, roots=roots)


def orgs_in_scope(scope: Scope) -> list[Organisation]:
    """Every organisation the viewer may see, in tree order (disabled ones too)."""
    return sort_tree(list(db.session.scalars(select(Organisation).where(scope.org_clause()))))


def usable_orgs(scope: Scope) -> list[Organisation]:
    """The organisations the viewer may put members or tasks in: those in scope that are not disabled."""
    return [o for o in orgs_in_scope(scope) if o.active]


def grant(user: User, org: Organisation, role: Role) -> Grant:
    """Give a user a role over an organisation's subtree (does not commit)."""
    row = Grant(user=user, org=org, role=role)
    db.session.add(row)
    return row
