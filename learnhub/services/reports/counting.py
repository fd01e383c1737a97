"""Who counts: one definition for every report, page and export (the README says it in words).

A person counts in an assignment's figures (completion, scores and pass rate, mastery per knowledge
point, item analysis, trends) when their account is active, their organisation is not disabled, and
they are not exempt (免学) from that assignment; they count under the organisation they belong to now. Staff are members like any other
and count where they belong. Mastery, item analysis and trends read first tries: a member's first
finished attempt they took themselves (not a 代录 paper result), and first tries in practice.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from ...models import Exemption, Organisation, User


def exempt(assignment_id, user_id):
    """SQL: the member (`user_id`, a column or value) holds an active exemption from the assignment."""
    return exists(select(Exemption.id).where(
        Exemption.assignment_id == assignment_id, Exemption.user_id == user_id, Exemption.revoked_at.is_(None)
    ))


def counted_member():
    """SQL over User: the account counts at all (disabled accounts, and the members of disabled
    organisations, leave every figure)."""
    # An alias, correlated to User only: the caller's query may join Organisation on its own terms.
    own = aliased(Organisation)
    org_active = exists(select(own.id).where(own.id == User.org_id, own.active.is_(True))).correlate(User)
    return and_(User.active.is_(True), org_active)


def counted_for(assignment_id):
    """SQL over User: counts in this assignment's figures (active, not exempt). `assignment_id` may be a column."""
    return and_(counted_member(), ~exempt(assignment_id, User.id))
