"""Taking a quiz: papers and attempts (`papers`), saving each answer as it is given (`saving`),
handing in and grading (`handin`). The names callers use are gathered here."""

from .handin import close_if_overdue, close_overdue, submit_attempt, update_result, update_results
from .papers import (
    AttemptClosed,
    NotYourAttempt,
    PaperItem,
    PasswordChangeRequired,
    QuizError,
    SessionEnded,
    answers_visible,
    assignments_for,
    attempts_of,
    build_paper,
    decode_answer,
    draw_by_rules,
    draw_questions,
    is_assigned,
    open_attempt,
    paper_items,
    result_of,
    rule_pool,
    seconds_left,
    start_attempt,
    unread_materials,
)
from .saving import SaveResult, last_seq, record_answer, save_answer
from .standing import Standing, close_if_overdue_for, close_time_up, standing, standings

__all__ = [
    "AttemptClosed", "NotYourAttempt", "PaperItem", "PasswordChangeRequired", "QuizError", "SaveResult",
    "SessionEnded", "Standing", "close_if_overdue_for", "close_time_up", "standing", "standings", "answers_visible", "assignments_for", "attempts_of", "build_paper", "close_if_overdue",
    "close_overdue", "decode_answer", "draw_by_rules", "draw_questions", "is_assigned", "last_seq",
    "open_attempt", "paper_items", "record_answer", "result_of", "rule_pool", "save_answer", "seconds_left",
    "start_attempt", "submit_attempt", "unread_materials", "update_result", "update_results",
]
