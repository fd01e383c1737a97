"""Whether a response is right: one checker per question kind, behind `is_correct`."""

from __future__ import annotations

from collections.abc import Callable

from ...models import Question, QuestionKind
from ..bank.files import normalise_text


def _choice(question: Question, answer: list) -> bool:
    return sorted(int(a) for a in answer) == sorted(question.answer)


def _truefalse(question: Question, answer: list) -> bool:
    return len(answer) == 1 and bool(answer[0]) is bool(question.answer[0])


def _fill(question: Question, answer: list) -> bool:
    if len(answer) != len(question.answer):
        return False
    return all(
        normalise_text(str(given)) in {normalise_text(alt) for alt in accepted}
        for given, accepted in zip(answer, question.answer, strict=True)
    )


CHECKERS: dict[QuestionKind, Callable[[Question, list], bool]] = {
    QuestionKind.SINGLE: _choice,
    QuestionKind.MULTIPLE: _choice,
    QuestionKind.TRUEFALSE: _truefalse,
    QuestionKind.FILL: _fill,
}


def is_correct(question: Question, answer: list) -> bool:
    """True if `answer` (canonical form) is the right answer to `question`."""
    if not answer:
        return False
    return CHECKERS[question.kind](question, answer)
