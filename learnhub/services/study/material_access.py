"""Who may read and who may change which study materials: the owner rules of the question bank
(services/bank/access.py) applied to materials.

- Built-in materials (owner NULL: the notes shipped with LearnHub, and what admins write into the built-in
  subject): everyone reads them; only admins edit or retire them.
- A material owned by organisation O is read by O's subtree (and by the organisers whose grants lie
  above or within O); the organisers whose grants cover O edit and retire it.
- For anyone else it does not exist (404): a committee never sees another committee's materials.

A material is also only listed while its subject exists for the viewer and neither is retired.
"""

from __future__ import annotations

from ...models import Material, Organisation, Subject
from ..bank import subjects
from ..bank.access import organiser_roots, owner_choices, owner_seen, owner_visible, usable_in
from ..orgs import Scope, ancestor_ids


def visible_clause(scope: Scope):
    """SQL: the materials that exist for the viewer (every one, for an admin)."""
    return owner_visible(scope, Material.owner_org_id)


def can_see(scope: Scope, material: Material) -> bool:
    """`visible_clause` for one material."""
    return owner_seen(scope, material.owner_org_id, material.owner)


def can_edit(scope: Scope, material: Material) -> bool:
    """Admins edit any material; organisers those owned by an organisation their organiser grants cover."""
    if scope.is_admin:
        return True
    if material.owner is None:
        return False
    return any(material.owner.path.startswith(r.path) for r in organiser_roots(scope))


def usable_by(org: Organisation):
    """SQL: the materials a member of `org` (or an assignment given to `org`) may use: built-in or owned above."""
    return usable_in(org, Material.owner_org_id)


def is_usable_by(material: Material, org: Organisation) -> bool:
    return material.owner_org_id is None or material.owner_org_id in ancestor_ids(org)


def listed_clause(scope: Scope):
    """SQL (on a query joined to Subject): materials the viewer sees in lists: visible, neither the material
    nor its subject retired, and the subject visible too."""
    return (visible_clause(scope) & Material.retired_at.is_(None) & Subject.retired_at.is_(None)
            & subjects.visible_clause(scope))


def owners_for(scope: Scope, subject: Subject) -> list[Organisation | None]:
    """Who a new material of `subject` written by the viewer may belong to: the built-in materials (admins,
    built-in subject only) or an organisation of the viewer's organiser grants whose subtree sees the
    subject (an admin may also write for the subject's own organisation). The first is the default; empty:
    the viewer may not write materials for this subject."""
    out: list[Organisation | None] = []
    choices = owner_choices(scope)
    if scope.is_admin and subject.owner is not None and subject.owner not in choices:
        choices = [*choices, subject.owner]
    for owner in choices:
        if owner is None:
            if subject.owner_org_id is None:
                out.append(None)
        elif subject.owner_org_id is None or subject.owner_org_id in ancestor_ids(owner):
            out.append(owner)
    return out


def owner_label(owner: Organisation | None) -> str:
    return owner.name if owner is not None else "内置资料"
