"""Access checks for views: staff only, and loading organisations inside the viewer's scope."""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from ..errors import Refusal
from ..extensions import db
from ..models import Assignment, Organisation, Question
from ..services.bank import access as bank_access
from ..services.exam import secrecy
from ..services.orgs import Scope, scope_for


def current_scope() -> Scope:
    """The logged-in viewer's scope, built once per request."""
    if "scope" not in g:
        g.scope = scope_for(current_user)
    return g.scope


def staff_required(view):
    """Allow secretaries, organisers and admins; members get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_scope().is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def organiser_required(view):
    """Allow organisers (a grant on a 党委) and admins."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_scope().is_organiser:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def scoped_org_or_404(org_id: int) -> Organisation:
    """Load an organisation the viewer may see; anything else is 404, never 403 (it does not exist for them)."""
    org = db.get_or_404(Organisation, org_id)
    if not current_scope().covers(org):
        abort(404)
    return org


def sealed_keys(viewer=None) -> frozenset[str]:
    """Keys of the questions whose key, explanation and option order the viewer (default: the signed-in
    user) may not see yet (they sit a paper that carries them), built once per request."""
    if "sealed" not in g:
        g.sealed = secrecy.sealed_keys(viewer if viewer is not None else current_user)
    return g.sealed


def not_sitting(assignment: Assignment) -> Assignment:
    """The assignment, unless the viewer sits its exam and may not see its keys yet: then 403 saying why."""
    reason = secrecy.sitting(current_user, assignment)
    if reason is not None:
        raise Refusal(403, reason)
    return assignment


def unsealed(*keys: str, message: str = secrecy.WITHHELD) -> None:
    """403 saying why, if any of these questions is on a paper the viewer sits: its key is neither shown
    to them nor changed by them until their answers are out."""
    if sealed_keys().intersection(keys):
        raise Refusal(403, message)


def question_or_404(question_id: int) -> Question:
    """Load a question that exists for the viewer (built-in, their organisations', or above them); else 404."""
    question = db.get_or_404(Question, question_id)
    if not bank_access.can_see(current_scope(), question):
        abort(404)
    return question


def editable_question_or_403(question_id: int) -> Question:
    """Load a question the viewer may change: 404 if it does not exist for them; 403 saying why if it is
    on a paper they sit (they may neither see nor change its key yet); 403 if it is not theirs."""
    question = question_or_404(question_id)
    unsealed(question.key)
    if not bank_access.can_edit(current_scope(), question):
        abort(403)
    return question
