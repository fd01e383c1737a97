"""Shared by the bank format readers: limits, labels, and turning rows into validated questions."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from ..bank_files import Bank, BankPoint, BankQuestion, Problem, normalise_text, read_question
from ..constitution import GENERAL_PROGRAM

DIFFICULTIES = {"1": 1, "2": 2, "3": 3, "易": 1, "中": 2, "难": 3, "简单": 1, "中等": 2, "困难": 3}



# A row or question is either the dict read_question validates, or the format-level errors found in it.
Row = tuple[str, str, dict | list[str]]


class Refused(Exception):
    """A file refused before any row is read; the message is shown to the user."""


# ---- shared ----------------------------------------------------------------------------------


def generated_key(stem: str) -> str:
    """Return the stable id of a question that comes without one."""
    return "x-" + hashlib.sha1(normalise_text(stem).encode("utf-8")).hexdigest()[:10]


def point_article(point: BankPoint) -> str:
    """Return the article a question on this point cites: its article, or 总纲."""
    return GENERAL_PROGRAM if point.part == GENERAL_PROGRAM else point.article


def parse_difficulty(text: str) -> object:
    """Map 1/2/3, 易/中/难 or 简单/中等/困难 to 1-3; blank is 1; anything else is left for read_question."""
    return DIFFICULTIES.get(text, text) if text else 1


def refuse(source: str, message: str) -> Bank:
    """Return a Bank that carries one file-level problem."""
    return Bank(problems=[Problem(source, "", message)])


def finish(source: str, rows: list[Row], points: dict[str, BankPoint]) -> Bank:
    """Validate the rows in order, then check that ids and stems are unique within the file."""
    bank = Bank()
    if not rows:
        bank.problems.append(Problem(source, "", "文件中没有找到任何题目"))
    seen: dict[tuple[str, str], str] = {}
    for label, key, row in rows:
        if isinstance(row, list):
            bank.problems.extend(Problem(source, key or label, f"{label}{e}") for e in row)
            continue
        question = validate_row(bank, source, label, row, points)
        if question is None:
            continue
        for what, value in (("题目编号", question.key), ("题干", normalise_text(question.stem))):
            if (what, value) in seen:
                bank.problems.append(Problem(source, question.key, f"{label}：{what}与{seen[what, value]}重复"))
            seen.setdefault((what, value), label)
        bank.questions.append(question)
    return bank


def validate_row(bank: Bank, source: str, label: str, raw: dict, points: dict[str, BankPoint]) -> BankQuestion | None:
    """Run read_question on one raw question and name the row in each problem it finds."""
    scratch = Bank()
    question = read_question(raw, points, source, scratch, part=None, require_explanation=False)
    bank.problems.extend(Problem(source, p.key or label, f"{label}：{p.message}") for p in scratch.problems)
    return None if question is None else replace(question, label=label)


def decode_text(data: bytes) -> str | None:
    """Decode an uploaded text file: UTF-8 (with or without BOM), else GB18030 as Windows Notepad saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
