"""Work out answers from an attempt's paper the way a member sees it (shuffled options)."""

from __future__ import annotations

import re

from learnhub.extensions import db
from learnhub.models import Attempt, Question, QuestionKind


def attempt_id_from(location: str) -> int:
    return int(re.search(r"/attempts/(\d+)", location).group(1))


def shown_answer(question: Question, perm: list[int], right: bool = True):
    """The JSON 'answer' a page would send for this question, right or wrong."""
    if question.kind is QuestionKind.TRUEFALSE:
        value = bool(question.answer[0]) if right else not bool(question.answer[0])
        return "true" if value else "false"
    if question.kind is QuestionKind.FILL:
        return [alts[0] if right else "不知道" for alts in question.answer]
    correct = sorted(perm.index(i) for i in question.answer)
    if not right:
        correct = [i for i in range(len(perm)) if i not in correct][:1]
    return correct if question.kind is QuestionKind.MULTIPLE else correct[0]


def paper(app, attempt_id: int) -> list[tuple[int, Question, list[int]]]:
    """(position, question, perm) for every question on the attempt's paper."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        out = []
        for pos, entry in enumerate(attempt.paper, start=1):
            q = db.session.get(Question, entry["q"])
            db.session.expunge(q)
            out.append((pos, q, entry["perm"]))
        return out


def form_fields(answers: dict[int, object]) -> dict:
    """The no-JavaScript form body for a dict of position -> page answer."""
    data = {"shown": ",".join(str(p) for p in answers)}
    for pos, value in answers.items():
        data[f"q{pos}"] = value if isinstance(value, list) else [value]
    data = {k: ([str(x) for x in v] if isinstance(v, list) else v) for k, v in data.items()}
    return data
