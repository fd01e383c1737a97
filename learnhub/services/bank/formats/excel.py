"""Question spreadsheets (.xlsx, .xls, .ods, .csv) as exam systems and secretaries write them, read; the
Chinese Excel template (题型, 题干, 选项A…F, 答案, 解析, 知识点, 难度), written."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import xlsxwriter

from ...sheets import tables
from ..files import BLANK, LETTERS, Bank, BankPoint, BankQuestion, Problem, format_answer
from ..constitution import VERSION
from . import cells as meaning
from .common import finish, generated_key, point_article, refuse

# Rows after the header.
MAX_ROWS = 20_000
# The template's example rows start so; left in a file, they are skipped.
EXAMPLE = "（示例，导入前请删除）"

KIND_LABELS = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}

# Excel runs a cell starting with one of these as a formula (or DDE): such text is stored behind a "'".
FORMULA_START = "=+-@\t\r\0"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(FORMULA_START)}]")
_QUOTED = re.compile(f"'+[{re.escape(FORMULA_START)}]")

COLUMNS = ("题目编号", "题型", "题干", *(f"选项{letter}" for letter in LETTERS), "答案", "解析", "知识点", "条文", "难度", "版本")


def parse_excel(data: bytes, points: Mapping[str, BankPoint], source: str = "题库.xlsx") -> Bank:
    """Read a question spreadsheet (header found by tables.read_table, synonyms accepted) into a validated Bank.

    Rows of a type LearnHub cannot grade (简答, 论述…) are listed in `Bank.skipped`; a row without a point
    takes `points[""]` (the file's point, when the caller's points resolve one).
    """
    try:
        table = tables.read_table(source, data, meaning.COLUMN_NAMES, meaning.REQUIRED, max_rows=MAX_ROWS)
    except tables.TableError as exc:
        return refuse(source, str(exc))
    labelled, skipped = [], []
    for row in table.rows:
        cells = {f: _cell_text(row[f]) for f in meaning.COLUMN_NAMES}
        label = f"第 {row.number} 行"
        if cells["stem"].startswith(EXAMPLE):
            skipped.append(Problem(source, label, f"{label}：模板中的示例，已跳过", label))
            continue
        raw = _excel_row(cells, points)
        if raw == "unsupported":
            skipped.append(Problem(source, cells["id"] or label, f"{label}：「{cells['type']}」题型不支持，已跳过", label))
            continue
        labelled.append((label, cells["id"], raw))
    bank = finish(source, labelled, points) if labelled or not skipped else Bank()
    bank.skipped = skipped
    given = set(table.columns)
    bank.carried = frozenset({"kind", "stem", "options", "answer"} | ({"explanation"} & given)
                             | ({"difficulty"} & given) | ({"version"} & given)
                             | ({"point", "article"} if "point" in given else set()))
    return bank


def _cell_text(value: str) -> str:
    """A cell's text, undoing the "'" our export puts before formula-looking text."""
    return value[1:] if _QUOTED.match(value) else value


def _excel_row(cells: dict[str, str], points: Mapping[str, BankPoint]) -> dict | list[str] | str:
    """Turn one row's cells into the raw question dict, its format errors, or "unsupported"."""
    options = [cells[letter] for letter in LETTERS]
    while options and not options[-1]:
        options.pop()
    kind = meaning.read_kind(cells["type"]) if cells["type"] else meaning.infer_kind(cells["stem"], options, cells["answer"])
    if kind == "unsupported":
        return kind
    point = points.get(cells["point"])
    errors = []
    if kind is None:
        errors.append(f"「题型」：无法识别「{cells['type']}」，应为单选、多选、判断或填空" if cells["type"]
                      else "「题型」：为空，且无法从选项和答案判断题型")
    if point is None:
        errors.append(f"「知识点」：「{cells['point']}」不是已有的知识点" if cells["point"] else "「知识点」：不能为空")
    if cells["extra0"] or cells["extra1"]:
        errors.append(f"：选项超过 {len(LETTERS)} 个（选项 {LETTERS[-1]} 之后的选项无法导入）")
    if errors:
        return errors
    answer: object = cells["answer"]
    stem = cells["stem"]
    if kind in ("single", "multiple", "choice"):
        answer = meaning.choice_letters(cells["answer"], options)
        if kind == "choice":
            kind = "multiple" if len(answer) > 1 and answer.isascii() and answer.isalpha() else "single"
    elif kind == "truefalse":
        options, answer = _truefalse_options(options, cells["answer"])
        answer = meaning.truth(answer)
    else:
        stem = meaning.fill_stem(stem)
        answer = meaning.fill_answers(cells["answer"], len(BLANK.findall(stem)))
    return {
        "id": cells["id"] or generated_key(stem), "type": kind, "stem": stem,
        "article": cells["article"] or point_article(point), "point": point.name,
        "difficulty": meaning.difficulty(cells["difficulty"]), "version": cells["version"] or VERSION,
        "options": options, "answer": answer, "explanation": cells["explanation"],
    }


def _truefalse_options(options: list[str], answer: str) -> tuple[list[str], str]:
    """Some templates list 正确/错误 as options of a 判断 question and answer by letter: use the option's word."""
    if not options or any(meaning.fold(option) not in meaning.TRUTH_WORDS for option in options):
        return options, answer
    letter = meaning.choice_letters(answer, options)
    index = LETTERS.find(letter) if len(letter) == 1 else -1
    return [], options[index] if 0 <= index < len(options) else answer


def export_excel(questions: list[BankQuestion]) -> bytes:
    """Write questions as the Chinese Excel template, formula-looking text made inert."""
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(buffer, options)
    sheet = book.add_worksheet("题库")
    bold = book.add_format({"bold": True})
    for column, title in enumerate(COLUMNS):
        sheet.write_string(0, column, title, bold)
    for row, question in enumerate(questions, start=1):
        for column, value in enumerate(_excel_values(question)):
            if isinstance(value, int):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, _inert(value))
    sheet.freeze_panes(1, 0)
    sheet.set_column(2, 2, 50)
    sheet.set_column(3, 3 + len(LETTERS) - 1, 18)
    sheet.set_column(10, 10, 40)
    book.close()
    return buffer.getvalue()


def _excel_values(q: BankQuestion) -> list[object]:
    """Return one question's cells in COLUMNS order."""
    options = list(q.options) + [""] * (len(LETTERS) - len(q.options))
    return [q.key, KIND_LABELS[q.kind], q.stem, *options, format_answer(q), q.explanation, q.point, q.article,
            q.difficulty, q.version]


def _inert(text: str) -> str:
    """Prefix "'" to text Excel would run as a formula (and to text already starting "'=" so it reads back intact)."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text
