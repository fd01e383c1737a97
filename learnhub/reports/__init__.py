from flask import Blueprint

from ..services.bank.places import place_of, question_source, subject_label
from ..services.reports.mastery import assignment_subjects

bp = Blueprint("reports", __name__, url_prefix="/reports")
# Where a point sits (subject, part, article) and a question's source, for every page that names one.
bp.add_app_template_global(place_of, "point_place")
bp.add_app_template_global(question_source, "question_source")
bp.add_app_template_global(subject_label, "subject_label")
bp.add_app_template_global(assignment_subjects, "assignment_subjects")

from . import key_views, member_views, recheck_views, views  # noqa: E402,F401
