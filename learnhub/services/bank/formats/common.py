"""Shared by the bank format readers: limits, labels, and turning rows into validated questions."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from ..files import Bank, BankPoint, BankQuestion, Problem, normalise_text, read_question
from ..constitution import GENERAL_PROGRAM
from .textfile import decode_text  # noqa: F401  (re-exported: readers import it from here)

DIFFICULTIES = {"1": 1, "2": 2, "3": 3, "易": 1, "中": 2, "难": 3, "简单": 1, "中等": 2, "困难": 3}
# What a text bank file (GIFT, Aiken) may hold, so its cost is bounded whatever it contains: as many
# questions as an Excel file has rows, and ten lines for each.
MAX_QUESTIONS = 20_000
MAX_LINES = 10 * MAX_QUESTIONS


# A row or question is either the dict read_question validates, or the format-level errors found in it.
Row = tuple[str, str, dict | list[str]]


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


def too_long(source: str, text: str) -> Bank | None:
    """Refuse a text file with more lines than any real bank file has (CR, LF or CRLF line ends)."""
    lines = max(text.count("\n"), text.count("\r"))
    if lines > MAX_LINES:
        return refuse(source, f"文件有 {lines} 行，超过上限 {MAX_LINES} 行，请拆分成几个文件再导入")
    return None


def too_many_questions(source: str) -> Bank:
    return refuse(source, f"文件中的题目超过 {MAX_QUESTIONS} 道，请拆分成几个文件再导入")


def finish(source: str, rows: list[Row], points: dict[str, BankPoint]) -> Bank:
    """Validate the rows in order, then check that ids and stems are unique within the file."""
    bank = Bank()
    if not rows:
        bank.problems.append(Problem(source, "", "文件中没有找到任何题目"))
    seen: dict[tuple[str, str], str] = {}
    for label, key, row in rows:
        if isinstance(row, list):
            bank.problems.extend(Problem(source, key or label, f"{label}{e}", label) for e in row)
            continue
        question = validate_row(bank, source, label, row, points)
        if question is None:
            continue
        for what, value in (("题目编号", question.key), ("题干", normalise_text(question.stem))):
            if (what, value) in seen:
                bank.problems.append(Problem(source, question.key, f"{label}：{what}与{seen[what, value]}重复", label))
            seen.setdefault((what, value), label)
        bank.questions.append(question)
    return bank


def validate_row(bank: Bank, source: str, label: str, raw: dict, points: dict[str, BankPoint]) -> BankQuestion | None:
    """Run read_question on one raw question and name the row in each problem it finds."""
    scratch = Bank()
    question = read_question(raw, points, source, scratch, part=None, require_explanation=False)
    bank.problems.extend(Problem(source, p.key or label, f"{label}：{p.message}", label) for p in scratch.problems)
    return None if question is None else replace(question, label=label)
