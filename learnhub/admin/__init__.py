from flask import Blueprint, abort
from flask_login import current_user

from ..auth.decorators import current_scope
from ..extensions import login_manager
from ..services.bank.access import owner_label

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_global(owner_label, "owner_label")


@bp.before_request
def staff_only():
    """Every admin page is for secretaries, organisers and admins: anonymous users log in, members get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_scope().is_staff:
        abort(403)
    return None


from . import bank_import_views, bank_views, material_views, member_import_views, org_views, subject_views, views  # noqa: E402,F401
