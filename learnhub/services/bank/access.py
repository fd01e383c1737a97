"""Who may see, use and change which questions: the owner rules of the question bank.

A question belongs to an organisation (`owner_org_id`) or to the installation (NULL: the built-in bank).

- Built-in questions: everyone uses them; only admins edit, retire or correct their keys.
- A question owned by organisation O is used by O's subtree: papers given to O or beneath it, the
  practice of its members. The organisers whose grants cover O edit it and correct its key; organisers
  of organisations beneath O may use it (put it on papers) but not change it.
- For anyone else it does not exist (404): a committee never sees another committee's questions.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import aliased

from ...models import KnowledgePoint, Organisation, Question, Role, Subject
from ..orgs import Scope, ancestor_ids, sort_tree, within


def organiser_roots(scope: Scope) -> list[Organisation]:
    """The organisations of the viewer's organiser grants, nested ones dropped (secretary grants give no bank rights)."""
    if scope.user is None:
        return []
    orgs = sorted({g.org for g in scope.user.grants if g.role is Role.ORGANISER}, key=lambda o: len(o.path))
    roots: list[Organisation] = []
    for org in orgs:
        if not any(org.path.startswith(r.path) for r in roots):
            roots.append(org)
    return roots


def usable_in(org: Organisation, owner_column=Question.owner_org_id):
    """SQL: rows (questions by default; subjects, materials) a paper given to `org` (or a member of `org`)
    may use: built-in, or owned by `org` or an organisation above it."""
    return or_(owner_column.is_(None), owner_column.in_(ancestor_ids(org)))


def seen_from(scope: Scope) -> tuple[set[int], list[Organisation]]:
    """Owners whose questions the viewer uses (above their own organisation or their organiser grants),
    and the organiser grants under which they edit."""
    roots = organiser_roots(scope)
    above = set(ancestor_ids(scope.user.org)) if scope.user is not None else set()
    for root in roots:
        above.update(ancestor_ids(root))
    return above, roots


def owned_within(roots: list[Organisation], owner_column=Question.owner_org_id):
    """SQL: rows (questions by default) owned by an organisation at or beneath one of `roots` (a subquery of
    its own, so it never correlates with an Organisation the enclosing query joins)."""
    if not roots:
        return false()
    owner = aliased(Organisation)
    return owner_column.in_(select(owner.id).where(or_(*(within(owner.path, r.path) for r in roots))))


# The one rule of who sees what the bank holds, for every kind of owned row (questions, knowledge-point
# nodes, subjects, materials): built-in (no owner), owned by an organisation above the viewer's own or
# above their organiser grants, or owned within those grants. Admins see everything.
def owner_visible(scope: Scope, owner_column, anonymous_sees_builtin: bool = True):
    """SQL: the rows whose owner (`owner_column`, an organisation id or NULL) the viewer sees. Nobody
    signed in: the built-in rows (or none, with `anonymous_sees_builtin=False`)."""
    if scope.is_admin:
        return true()
    if scope.user is None:
        return owner_column.is_(None) if anonymous_sees_builtin else false()
    above, roots = seen_from(scope)
    return or_(owner_column.is_(None), owner_column.in_(above), owned_within(roots, owner_column))


def owner_seen(scope: Scope, owner_id: int | None, owner: Organisation | None) -> bool:
    """`owner_visible` for one row owned by `owner_id` (`owner`: that organisation, or None if built-in)."""
    if scope.is_admin or owner_id is None:
        return True
    if scope.user is None:
        return False
    above, roots = seen_from(scope)
    return owner_id in above or any(owner.path.startswith(r.path) for r in roots)


def visible_clause(scope: Scope):
    """SQL: the questions that exist for the viewer (everything, for an admin; nothing without a login)."""
    return owner_visible(scope, Question.owner_org_id, anonymous_sees_builtin=False)


def can_see(scope: Scope, question: Question) -> bool:
    """True if the question exists for the viewer: `visible_clause` for one question."""
    return owner_seen(scope, question.owner_org_id, question.owner)


def can_edit(scope: Scope, question: Question) -> bool:
    """True if the viewer may edit, retire or correct the key of the question: admins anything, organisers
    the questions owned by an organisation their organiser grants cover."""
    if scope.is_admin:
        return True
    if question.owner is None:
        return False
    return any(question.owner.path.startswith(r.path) for r in organiser_roots(scope))


def owner_choices(scope: Scope) -> list[Organisation | None]:
    """Whose bank an import may fill: the viewer's organiser grants in tree order (the first is the
    default); for an admin the built-in bank (None) first, then their own organiser grants."""
    orgs = sort_tree(list({g.org for g in scope.user.grants if g.role is Role.ORGANISER})) if scope.user else []
    return [None, *orgs] if scope.is_admin else orgs


def point_owners(owner: Organisation | None) -> set[int | None]:
    """Whose knowledge points (and parts) a question of `owner`'s bank may hang on: the built-in tree and
    the nodes added by `owner` or an organisation above it, so every member who may get the question sees
    its point. An import never uses or changes the nodes of anyone else."""
    return {None} if owner is None else {None, *ancestor_ids(owner)}


def node_visible(scope: Scope, include_retired: bool = False):
    """SQL: the knowledge-point nodes (parts, articles, points) that exist for the viewer: built-in ones and
    those added by an organisation whose questions the viewer sees (everything, for an admin). Retired
    points and the nodes of retired subjects leave lists and forms unless `include_retired`."""
    live = true() if include_retired else and_(
        KnowledgePoint.retired_at.is_(None),
        KnowledgePoint.subject_id.not_in(select(Subject.id).where(Subject.retired_at.is_not(None))))
    return live if scope.is_admin else and_(live, owner_visible(scope, KnowledgePoint.owner_org_id))


def owner_label(owner: Organisation | None) -> str:
    """How a question's owner is named on pages: the organisation, or 内置题库."""
    return owner.name if owner is not None else "内置题库"
