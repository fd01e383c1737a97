"""Aiken plain text (single choice only), read and written.

Read as Moodle reads it (qformat_aiken): the question text, then one option a line (`A.` or `A)`, then
the text), then `ANSWER: B`; blank lines between questions are ignored. Tolerated beyond Moodle: a
stem over several lines, a lower-case answer letter, full-width letters and punctuation (`Ａ．`, `B）`,
`ANSWER：Ｃ`), `A、` and `答案：`. Every problem names the line where its question starts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..files import LETTERS, Bank, BankPoint, BankQuestion, format_answer
from ..constitution import VERSION
from .common import MAX_QUESTIONS, finish, generated_key, point_article, refuse, too_long, too_many_questions
from .textfile import clean_text

_AIKEN_OPTION = re.compile(r"\s*([A-ZＡ-Ｚ])\s*[.)．）、]\s*(.*)")
_AIKEN_ANSWER = re.compile(r"\s*(?:ANSWER|答案)\s*:\s*(.*)", re.IGNORECASE)  # matched on the NFKC form: ： is :


@dataclass
class _AikenDraft:
    """One Aiken question as it is being read."""

    line: int  # where it starts, from 1
    stem: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    answer: str | None = None
    errors: list[str] = field(default_factory=list)


def parse_aiken(text: str, points: dict[str, BankPoint], point: str, source: str = "题库.txt") -> Bank:
    """Read Aiken (single choice only) into a validated Bank, every question on the one given point."""
    if point not in points:
        return refuse(source, f"知识点「{point}」不存在，请选择一个已有的知识点")
    text, unreadable = clean_text(text)
    if unreadable:
        return refuse(source, unreadable)
    if refused := too_long(source, text):
        return refused
    drafts = _aiken_drafts(text)
    if len(drafts) > MAX_QUESTIONS:
        return too_many_questions(source)
    rows = [(f"第 {d.line} 行（第 {n} 题）", "", _aiken_row(d, points[point])) for n, d in enumerate(drafts, start=1)]
    return finish(source, rows, points)


def _aiken_drafts(text: str) -> list[_AikenDraft]:
    """Group lines into questions: stem lines, lettered options, then the ANSWER line."""
    drafts: list[_AikenDraft] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if not drafts or drafts[-1].answer is not None:
            drafts.append(_AikenDraft(line=number))
        draft = drafts[-1]
        answer, option = _AIKEN_ANSWER.fullmatch(unicodedata.normalize("NFKC", line)), _AIKEN_OPTION.fullmatch(line)
        letter = unicodedata.normalize("NFKC", option[1]) if option else ""
        if answer:
            draft.answer = re.sub(r"[\s.。]+$", "", answer[1]).upper()
        elif option and draft.stem and (draft.options or letter == "A"):
            draft.letters.append(letter)
            draft.options.append(option[2].strip())
        elif draft.options:
            draft.errors.append(f"：选项之后缺少「ANSWER: 字母」行（第 {number} 行已是下一题）")
            drafts.append(_AikenDraft(line=number, stem=[line.strip()]))
        else:
            draft.stem.append(line.strip())
    return drafts


def _aiken_row(draft: _AikenDraft, point: BankPoint) -> dict | list[str]:
    """Turn one draft into the raw question dict, or its format errors."""
    errors = list(draft.errors)
    if not draft.stem:
        errors.append("：缺少题干")
    if not draft.options:
        errors.append("：缺少选项（A. …）")
    elif draft.letters != list(LETTERS[:len(draft.letters)]) and len(draft.letters) <= len(LETTERS):
        errors.append(f"：选项字母应依次为 {LETTERS[:len(draft.letters)]}，而不是 {''.join(draft.letters)}")
    if draft.answer is None and not draft.errors:
        errors.append("：缺少「ANSWER: 字母」行")
    if errors:
        return errors
    stem = "\n".join(draft.stem)
    return {
        "id": generated_key(stem), "type": "single", "stem": stem, "article": point_article(point),
        "point": point.name, "difficulty": 1, "version": VERSION, "options": draft.options,
        "answer": draft.answer, "explanation": "",
    }


def export_aiken(questions: list[BankQuestion]) -> tuple[str, int]:
    """Write the single-choice questions as Aiken; return the text and how many others were skipped."""
    singles = [q for q in questions if q.kind == "single"]
    chunks = []
    for q in singles:
        lines = [_one_line(q.stem)] + [f"{LETTERS[i]}. {_one_line(o)}" for i, o in enumerate(q.options)]
        chunks.append("\n".join(lines + [f"ANSWER: {format_answer(q)}"]))
    text = "\n\n".join(chunks)
    return (text + "\n" if text else ""), len(questions) - len(singles)


def _one_line(text: str) -> str:
    """Aiken has no escapes: fold line breaks into spaces."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text)
