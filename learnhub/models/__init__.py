"""All models, re-exported for the app and for Alembic."""

from .audit import ExportLog, KeyCorrection
from .auth import DeviceSession, RateCounter
from .content import (
    BUILTIN_SUBJECT_DESCRIPTION,
    BUILTIN_SUBJECT_ID,
    BUILTIN_SUBJECT_NAME,
    KnowledgePoint,
    Material,
    PointLevel,
    Question,
    QuestionKind,
    Subject,
    material_point,
)
from .org import ORG_KIND_LABELS, Grant, MemberCategory, Organisation, OrgKind, Role, User
from .quiz import (
    Assignment,
    AssignmentKind,
    AssignmentQuestion,
    Attempt,
    AttemptState,
    MemberResult,
    PointTally,
    Response,
    Scoring,
    ShowAnswers,
    assignment_material,
)
from .practice import (
    Exemption,
    ExemptionReason,
    MistakeCard,
    PracticeAnswer,
    PracticeMode,
    PracticeServed,
    QuestionReport,
    ReportStatus,
)
from .meeting import (
    MEETING_KIND_LABELS,
    Meeting,
    MeetingAnswer,
    MeetingAttendance,
    MeetingGuest,
    MeetingKind,
    MeetingQuestion,
)
from .study import MaterialAttachment, MaterialVersion, Reading
from .types import utcnow

__all__ = [
    "ORG_KIND_LABELS", "Assignment", "AssignmentKind", "AssignmentQuestion", "Attempt", "AttemptState",
    "Grant", "KnowledgePoint", "Material", "MemberCategory", "MemberResult", "OrgKind", "Organisation",
    "PointLevel", "PointTally", "Question", "QuestionKind", "Reading", "Response", "Role", "Scoring", "ShowAnswers",
    "User", "assignment_material", "material_point", "utcnow", "Exemption", "ExemptionReason", "MistakeCard",
    "PracticeAnswer", "PracticeMode", "PracticeServed", "QuestionReport", "ReportStatus", "ExportLog", "KeyCorrection",
    "DeviceSession", "RateCounter", "MEETING_KIND_LABELS", "Meeting", "MeetingAnswer", "MeetingAttendance",
    "MeetingGuest", "MeetingKind", "MeetingQuestion", "BUILTIN_SUBJECT_ID", "Subject",
    "BUILTIN_SUBJECT_NAME", "BUILTIN_SUBJECT_DESCRIPTION",
    "MaterialAttachment", "MaterialVersion",
]
