"""Meeting quizzes (会议测验): a live quiz in a branch meeting, run from the projector, answered on phones.

- setup: the questions offered (the branch's weakest points first), starting a meeting, guests, joining;
- running: opening and closing questions on the server's clock, saving answers, ending;
- wall: what the projector and the phones poll (never a key before its question closes), the results;
- records: attendance and the workbook for the branch's records.
"""

from __future__ import annotations

from .. import ServiceError


class MeetingError(ServiceError):
    """A rule of meetings was broken; the message is safe to show (in Chinese)."""


class QuestionClosed(MeetingError):
    """The question no longer takes answers."""


from .answering import quick_answer  # noqa: E402
from .codes import CODE_LENGTH, normalise_code  # noqa: E402
from .running import GRACE_SECONDS, Phase, close_current, end_meeting, open_next, phase_of, record_answer  # noqa: E402
from .setup import (  # noqa: E402
    MAX_QUESTIONS, MIN_QUESTIONS, add_guest, candidates, create_meeting, find_open, join, may_join, weakest_points,
)

__all__ = [
    "CODE_LENGTH", "GRACE_SECONDS", "MAX_QUESTIONS", "MIN_QUESTIONS", "MeetingError", "Phase", "QuestionClosed",
    "add_guest", "candidates", "close_current", "create_meeting", "end_meeting", "find_open", "join", "may_join",
    "normalise_code", "open_next", "phase_of", "quick_answer", "record_answer", "weakest_points",
]
