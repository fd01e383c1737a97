"""The Chinese Excel template (题型, 题干, 选项A…F, 答案, 解析, 知识点, 难度), read and written."""

from __future__ import annotations

import io
import re

import xlsxwriter

from .. import tables
from ..bank_files import LETTERS, Bank, BankPoint, BankQuestion, format_answer
from ..constitution import VERSION
from .common import finish, generated_key, parse_difficulty, point_article, refuse

# Rows after the header.
MAX_ROWS = 20_000

KINDS_BY_NAME = {
    **dict.fromkeys(("单选", "单选题", "单项选择题"), "single"),
    **dict.fromkeys(("多选", "多选题", "多项选择题"), "multiple"),
    **dict.fromkeys(("判断", "判断题"), "truefalse"),
    **dict.fromkeys(("填空", "填空题"), "fill"),
}
KIND_LABELS = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}
TRUTH_WORDS = {
    **dict.fromkeys(("对", "√", "✓", "✔", "正确", "t", "true"), "对"),
    **dict.fromkeys(("错", "×", "✗", "✘", "错误", "f", "false"), "错"),
}

# Excel runs a cell starting with one of these as a formula (or DDE): such text is stored behind a "'".
FORMULA_START = "=+-@\t\r\0"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(FORMULA_START)}]")
_QUOTED = re.compile(f"'+[{re.escape(FORMULA_START)}]")

COLUMNS = ("题目编号", "题型", "题干", *(f"选项{letter}" for letter in LETTERS), "答案", "解析", "知识点", "条文", "难度", "版本")
FIELDS_BY_HEADER = {
    "题目编号": "id", "题型": "type", "题干": "stem", "答案": "answer", "解析": "explanation",
    "知识点": "point", "章节": "chapter", "条文": "article", "难度": "difficulty", "版本": "version",
    **{f"选项{letter}": letter for letter in LETTERS},
}
REQUIRED_HEADERS = {"type": "题型", "stem": "题干", "answer": "答案", "point": "知识点"}




def parse_excel(data: bytes, points: dict[str, BankPoint], source: str = "题库.xlsx") -> Bank:
    """Read the Chinese Excel template (header found by tables.read_table) into a validated Bank."""
    columns = {field_: [header] for header, field_ in FIELDS_BY_HEADER.items() if field_ != "chapter"}
    columns["point"] = ["知识点", "章节"]
    try:
        table = tables.read_table(source, data, columns, list(REQUIRED_HEADERS), max_rows=MAX_ROWS)
    except tables.TableError as exc:
        return refuse(source, str(exc))
    labelled = []
    for row in table.rows:
        cells = {f: _cell_text(row[f]) for f in columns}
        labelled.append((f"第 {row.number} 行", cells["id"], _excel_row(cells, points)))
    return finish(source, labelled, points)


def _cell_text(value: object) -> str:
    """Return a cell's value as text, undoing the "'" our export puts before formula-looking text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if _QUOTED.match(text):
        text = text[1:]
    return text.strip()


def _excel_row(cells: dict[str, str], points: dict[str, BankPoint]) -> dict | list[str]:
    """Turn one row's cells into the raw question dict, or the row's format errors."""
    kind = KINDS_BY_NAME.get(cells["type"])
    point = points.get(cells["point"])
    errors = []
    if kind is None:
        errors.append(f"「题型」：无法识别「{cells['type']}」，应为单选、多选、判断或填空")
    if point is None:
        errors.append(f"「知识点」：「{cells['point']}」不是已有的知识点" if cells["point"] else "「知识点」：不能为空")
    if errors:
        return errors
    options = [cells[letter] for letter in LETTERS]
    while options and not options[-1]:
        options.pop()
    answer = cells["answer"]
    if kind == "truefalse":
        options, answer = _truefalse_options(options, answer)
    return {
        "id": cells["id"] or generated_key(cells["stem"]), "type": kind, "stem": cells["stem"],
        "article": cells["article"] or point_article(point), "point": point.name,
        "difficulty": parse_difficulty(cells["difficulty"]), "version": cells["version"] or VERSION,
        "options": options, "answer": _excel_answer(kind, answer), "explanation": cells["explanation"],
    }


def _truefalse_options(options: list[str], answer: str) -> tuple[list[str], str]:
    """Some templates list 正确/错误 as options of a 判断 question and answer by letter: use the option's word."""
    if not options or any(option.lower() not in TRUTH_WORDS for option in options):
        return options, answer
    index = LETTERS.find(answer.upper()) if len(answer) == 1 else -1
    return [], options[index] if 0 <= index < len(options) else answer


def _excel_answer(kind: str, text: str) -> object:
    """Bring an answer cell to the YAML shape; read_question reports what is still wrong."""
    if kind == "truefalse":
        return TRUTH_WORDS.get(text.lower(), text)
    if kind == "fill":
        return re.split(r"[;；]", text)
    return text  # parse_choice_answer takes A, AB, A,B, A、B, A B and lower case


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
