"""Import and export the question bank as Excel (the Chinese exam-system template), Moodle GIFT and Aiken.

Pure Python, no Flask and no database. Every parser builds the dict shape the YAML files use and lets
`bank_files.read_question` validate it, so there is one definition of a valid question. The importer
rejects a file with any problem, so the parsers report every bad row, each named in Chinese.

What each format carries:
- Spreadsheets (.xlsx, .xls, .ods, .csv): everything. 题目编号, 条文 and 版本 are our own optional columns for a
  lossless round trip; other systems' column and type names are read too (cells.py).
- GIFT: everything except fill-in questions with more than one blank, which export skips (and counts in a
  leading comment). Article, point, difficulty and version ride in a `// learnhub:` comment; the point also
  in $CATEGORY and the id in the ::title::, so a file that went through Moodle still says where each
  question belongs. Essay, numerical, matching and description questions are skipped (`Bank.skipped`).
- Aiken: single choice only, stem, options and answer; the importer picks one point for the whole file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from ..files import Bank, BankPoint
from .aiken import export_aiken, parse_aiken
from .common import decode_text, refuse
from .excel import export_excel, parse_excel
from .gift import export_gift, parse_gift
from .textfile import clean_text

TABLE_SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")

__all__ = ["export_aiken", "export_excel", "export_gift", "parse_aiken", "parse_excel", "parse_file", "parse_gift"]


def parse_file(filename: str, data: bytes, points: Mapping[str, BankPoint], aiken_point: str | None = None) -> Bank:
    """Parse an uploaded bank file by its extension: a spreadsheet (.xlsx .xls .ods .csv), .gift or .txt (Aiken)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return parse_excel(data, points, name)
    if suffix not in (".gift", ".txt"):
        shown = suffix or "无扩展名"
        return refuse(name, f"不支持的文件类型（{shown}）：请上传表格（.xlsx、.xls、.ods、.csv）、"
                            ".gift（Moodle GIFT）或 .txt（Aiken）文件")
    text = decode_text(data)
    if text is None:
        return refuse(name, "无法识别文件编码，请另存为 UTF-8（或带 BOM 的 UTF-16）编码的文本文件")
    text, unreadable = clean_text(text)  # NUL refused (PostgreSQL cannot store it), other controls dropped
    if unreadable:
        return refuse(name, unreadable)
    if suffix == ".gift":
        return parse_gift(text, points, name, aiken_point)
    if not aiken_point:
        return refuse(name, "导入 Aiken（.txt）文件时须为整个文件选择一个知识点")
    return parse_aiken(text, points, aiken_point, name)
