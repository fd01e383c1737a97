"""Moodle GIFT, read and written.

Reading follows Moodle's own importer (qformat_gift): questions are separated by blank lines, `//`
lines are comments, `$CATEGORY:` sets the category of the questions after it, `::title::` names a
question, and the braces hold the answers (gift_answers.py). Every problem names the line where its
question starts, its number in the file and its title: `第 33 行（第 12 题 ::名称::）：…`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..files import BLANK, KEY, Bank, BankPoint, BankQuestion, Problem
from ..constitution import VERSION
from .common import (
    MAX_QUESTIONS,
    Row,
    finish,
    generated_key,
    parse_difficulty,
    point_article,
    refuse,
    too_long,
    too_many_questions,
)
from .gift_answers import Answers, Unsupported, read_answers
from .gift_markup import Unreadable, looks_like_html, mask, split_format, to_text, unescape
from .textfile import clean_text

# Answer markers (= ~ #) outside comments, in the whole file: each costs a few µs to read, and a question
# of four options and an explanation has eight.
MAX_MARKERS = 10 * MAX_QUESTIONS
# Category segments that name no subject: Moodle's context roots and its top category.
_CONTEXTS = re.compile(r"^(\$[a-z]+\$|top)$", re.IGNORECASE)
_TITLE_SHOWN = 30


@dataclass
class GiftBlock:
    """One question of a GIFT file: its raw text (comments and category lines taken out) and where it is."""

    line: int  # where its text starts in the file, from 1
    number: int  # its place among the file's questions, from 1
    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    category: str = ""  # the point name its $CATEGORY gives: the path's last segment
    title: str = ""

    @property
    def label(self) -> str:
        """How messages name it: 第 33 行（第 12 题 ::名称::）."""
        title = self.title if len(self.title) <= _TITLE_SHOWN else self.title[:_TITLE_SHOWN] + "…"
        return f"第 {self.line} 行（第 {self.number} 题" + (f" ::{title}::" if title else "") + "）"


@dataclass
class GiftFile:
    """What a GIFT file holds: the questions LearnHub can take (raw rows) and those it skips."""

    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # 第 9 行（第 3 题）：论述题，LearnHub 没有这种题型，已跳过
    refused: str = ""  # a reason to refuse the whole file


def parse_gift(text: str, points: dict[str, BankPoint], source: str = "题库.gift", point: str | None = None) -> Bank:
    """Read Moodle GIFT into a validated Bank (choice, true/false and fill-in questions).

    A question's point is its `// learnhub: point=` comment, else the last segment of its $CATEGORY,
    else `point` (chosen for the whole file). Question types LearnHub lacks are listed in `skipped`.
    """
    text, unreadable = clean_text(text)
    if unreadable:
        return refuse(source, unreadable)
    if refused := too_long(source, text):
        return refused
    gift = read_gift(text, points, point)
    if gift.refused:
        return refuse(source, gift.refused)
    if gift.rows or not gift.skipped:
        bank = finish(source, gift.rows, points)
    else:
        bank = refuse(source, f"文件中没有 LearnHub 能导入的题目：{len(gift.skipped)} 道题的题型不支持，已跳过")
    bank.skipped = [Problem(source, "", message) for message in gift.skipped]
    return bank


def read_gift(text: str, points: dict[str, BankPoint], point: str | None = None) -> GiftFile:
    """Read every question into a raw row (or its errors), or a skip; a file over the limits is refused unread."""
    gift, markers, blocks = GiftFile(), 0, []
    for block in gift_blocks(text):
        markers += sum(mask(block.body).count(marker) for marker in "=~#")
        if markers > MAX_MARKERS:
            gift.refused = f"文件中的答案标记（= ~ #）超过 {MAX_MARKERS} 个，请拆分成几个文件再导入"
            return gift
        if block.number > MAX_QUESTIONS:
            gift.refused = too_many_questions("").problems[0].message
            return gift
        blocks.append(block)
    for block in blocks:
        row = gift_row(block, points, point)
        if isinstance(row, Unsupported):
            gift.skipped.append(f"{block.label}：{row.reason}")
        else:
            gift.rows.append((block.label, "", row))
    return gift


def gift_blocks(text: str):
    """Yield the file's questions: runs of non-blank lines, without comments and $CATEGORY lines."""
    category, number, start, lines, meta = "", 0, 0, [], {}
    for n, line in enumerate([*text.split("\n"), ""], start=1):
        stripped = line.strip()
        if not stripped:
            if lines:
                number += 1
                yield _block(start, number, "\n".join(lines), meta, category)
            lines, meta = [], {}
        elif stripped.startswith("//"):
            found = re.match(r"//\s*learnhub\s*:(.*)", stripped)
            if found:
                pairs = (part.partition("=") for part in found[1].split(";"))
                meta = {k.strip(): v.strip() for k, _, v in pairs if k.strip()}
        elif stripped.startswith("$CATEGORY:"):
            category = category_point(stripped[len("$CATEGORY:"):])
        else:
            start = start if lines else n
            lines.append(line)


def _block(line: int, number: int, body: str, meta: dict[str, str], category: str) -> GiftBlock:
    block = GiftBlock(line=line, number=number, body=body, meta=meta, category=category)
    found = re.match(r"\s*::(.*?)::", mask(body), re.DOTALL)
    if found:
        block.title = " ".join(unescape(body[found.start(1):found.end(1)]).split())
    return block


def category_point(path: str) -> str:
    """The point a $CATEGORY path names: its last segment that is not Moodle's top or context ('//' is a '/')."""
    segments = [s.replace("\x00", "/").strip() for s in path.replace("//", "\x00").split("/")]
    named = [s for s in segments if s and not _CONTEXTS.match(s) and not s.startswith("Default for ")]
    return named[-1] if named else ""


def gift_row(block: GiftBlock, points: dict[str, BankPoint], point: str | None) -> dict | list[str] | Unsupported:
    """Turn one GIFT question into the raw question dict, its format errors, or a skip."""
    body = block.body
    masked = mask(body)
    start = found.end() if (found := re.match(r"\s*::.*?::", masked, re.DOTALL)) else 0
    opening, closing = masked.find("{", start), masked.find("}", start)
    if opening < 0 and closing < 0:
        return Unsupported("说明文字")
    closing = masked.find("}", opening + 1) if opening >= 0 else -1
    if closing < 0 or masked.find("}", start, opening) >= 0:
        return ["：答案部分的花括号 { } 不成对（文字中的花括号要写成 \\{ \\}）"]
    if "{" in masked[opening + 1:closing] or re.search(r"[{}]", masked[closing + 1:]):
        return ["：一道题只能有一个答案部分 { }（文字中的花括号要写成 \\{ \\}）"]
    fmt, before = split_format(body[start:opening])
    after = body[closing + 1:]
    try:
        answers = read_answers(body[opening + 1:closing], fmt)
        if not isinstance(answers, Answers):
            return answers if isinstance(answers, Unsupported) else [answers]
        stem = to_text(unescape(before + ("____" if after.strip() else "") + after), fmt)
    except Unreadable as exc:
        return [f"：{exc}"]
    if answers.kind == "fill" and not BLANK.search(stem):
        stem += "____"
    return _raw_question(block, answers, stem, points, point)


def _raw_question(block: GiftBlock, answers: Answers, stem: str, points: dict[str, BankPoint],
                  point: str | None) -> dict | list[str]:
    """The dict read_question validates; the point is named, and the pipeline resolves the name."""
    meta = block.meta
    name = meta.get("point") or block.category or (point or "")
    if not name:
        return ["：没有知识点：请用 $CATEGORY 写明题目的分类，或在导入时为整个文件选择一个知识点"]
    article = meta.get("article") or (point_article(points[name]) if name in points else "")
    return {
        "id": block.title if meta and KEY.match(block.title) else generated_key(stem), "title": block.title,
        "type": answers.kind, "stem": stem, "article": article, "point": name,
        "difficulty": parse_difficulty(meta.get("difficulty", "")), "version": meta.get("version") or VERSION,
        "options": answers.options, "answer": answers.answer, "explanation": answers.explanation,
    }


def export_gift(questions: list[BankQuestion]) -> str:
    """Write questions as Moodle GIFT; fill-in questions with several blanks cannot be expressed and are skipped."""
    kept = [q for q in questions if not (q.kind == "fill" and len(q.answer) > 1)]
    chunks = [f"// LearnHub 题库导出（GIFT），{len(kept)} 道题"]
    if len(kept) < len(questions):
        chunks[0] += f"\n// 有 {len(questions) - len(kept)} 道多空填空题无法用 GIFT 表示，已跳过"
    category = None
    for question in kept:
        if question.point != category:
            category = question.point
            chunks.append(f"$CATEGORY: $course$/top/LearnHub/{category.replace('/', '//')}")
        chunks.append(_gift_export_one(question))
    return "\n\n".join(chunks) + "\n"


def _gift_escape(text: str) -> str:
    """Escape GIFT's special characters and newlines; text that opens like a [format] marker is marked [plain]."""
    text = re.sub(r"([\\~=#{}:])", r"\\\1", text)
    marked = "[plain]" if split_format(text)[1] != text.lstrip() else ""
    return marked + text.replace("\r\n", "\n").replace("\n", "\\n")


def _gift_export_one(q: BankQuestion) -> str:
    """Return one question in GIFT, preceded by the learnhub comment carrying what GIFT cannot.

    Text that Moodle's default format would read as HTML is marked [plain], for the question and (by
    Moodle's rule) its answers and feedback, so that it comes back as written.
    """
    meta = f"// learnhub: article={q.article}; point={q.point}; difficulty={q.difficulty}; version={q.version}"
    feedback = f"####{_gift_escape(q.explanation)}" if q.explanation else ""
    if q.kind == "truefalse":
        body = ("TRUE" if q.answer[0] else "FALSE") + feedback
    elif q.kind == "fill":
        body = " ".join(f"={_gift_escape(alt)}" for alt in q.answer[0]) + feedback
    else:
        lines = [_gift_option(q, i) for i in range(len(q.options))] + ([feedback] if feedback else [])
        body = "\n" + "\n".join(lines) + "\n"
    alternatives = (alt for blank in q.answer if isinstance(blank, tuple) for alt in blank)
    texts = [q.stem, q.explanation, *q.options, *alternatives]
    stem = _gift_escape(q.stem)
    if any(looks_like_html(t) for t in texts) and not stem.startswith("[plain]"):
        stem = "[plain]" + stem
    return f"{meta}\n::{q.key}::{stem}{{{body}}}"


def _gift_option(q: BankQuestion, index: int) -> str:
    """Return one option line: =/~ for single choice, weights summing to 100% for multiple choice."""
    text = _gift_escape(q.options[index])
    if q.kind == "single":
        return ("=" if index in q.answer else "~") + text
    share = f"{100 / len(q.answer):.5f}".rstrip("0").rstrip(".")
    return f"~%{share}%{text}" if index in q.answer else f"~%-100%{text}"
