"""Moodle GIFT, read and written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..bank_files import BLANK, KEY, LETTERS, Bank, BankPoint, BankQuestion
from ..constitution import VERSION
from .common import (
    MAX_QUESTIONS, Row, finish, generated_key, parse_difficulty, point_article, refuse, too_long, too_many_questions,
)

# Answer markers (= ~ #) outside comments, in the whole file: each costs a few µs to read, and a question
# of four options and an explanation has eight.
MAX_MARKERS = 10 * MAX_QUESTIONS


@dataclass
class _GiftBlock:
    """One blank-line-separated chunk of a GIFT file, comments and category taken out."""

    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    category: str = ""


def parse_gift(text: str, points: dict[str, BankPoint], source: str = "题库.gift") -> Bank:
    """Read Moodle GIFT into a validated Bank (choice, true/false and one-blank fill-in questions)."""
    if refused := too_long(source, text):
        return refused
    rows: list[Row] = []
    category, markers = "", 0
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        block = _gift_block(chunk, category)
        category = block.category
        markers += sum(_mask(block.body).count(marker) for marker in "=~#")
        if markers > MAX_MARKERS:
            return refuse(source, f"文件中的答案标记（= ~ #）超过 {MAX_MARKERS} 个，请拆分成几个文件再导入")
        if block.body.strip():
            if len(rows) == MAX_QUESTIONS:
                return too_many_questions(source)
            label = f"第 {len(rows) + 1} 题"
            rows.append((label, "", _gift_question(block, points)))
    return finish(source, rows, points)


def _gift_block(chunk: str, category: str) -> _GiftBlock:
    """Split a chunk into question text, `// learnhub:` fields and the current $CATEGORY."""
    block = _GiftBlock(category=category)
    body = []
    for line in chunk.split("\n"):
        stripped = line.strip()
        if stripped.startswith("//"):
            found = re.match(r"//\s*learnhub\s*:(.*)", stripped)
            if found:
                pairs = (part.partition("=") for part in found[1].split(";"))
                block.meta = {k.strip(): v.strip() for k, _, v in pairs if k.strip()}
        elif stripped.startswith("$CATEGORY:"):
            block.category = stripped[len("$CATEGORY:"):].strip().rsplit("/", 1)[-1].strip()
        else:
            body.append(line)
    block.body = "\n".join(body)
    return block


def _mask(text: str) -> str:
    """Blank out escape sequences (same length), so structural characters can be found by position."""
    return re.sub(r"\\.", "\x01\x01", text, flags=re.S)


def _unescape(text: str) -> str:
    """Undo GIFT escapes: \\~ \\= \\# \\{ \\} \\: \\\\ and \\n for a newline."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text, flags=re.S)


def _split_unescaped(text: str, pattern: str) -> list[str]:
    """Split raw GIFT text where `pattern` matches outside an escape."""
    parts, start = [], 0
    for found in re.finditer(pattern, _mask(text)):
        parts.append(text[start:found.start()])
        start = found.end()
    return parts + [text[start:]]


def _gift_question(block: _GiftBlock, points: dict[str, BankPoint]) -> dict | list[str]:
    """Turn one GIFT question into the raw question dict, or its format errors."""
    parts = _gift_parts(block.body)
    if isinstance(parts, str):
        return [parts]
    title, before, inside, after = parts
    answer = _gift_answer(inside)
    if isinstance(answer, str):
        return [answer]
    kind, options, correct, explanation = answer
    point, errors = _gift_point(block, points)
    if errors:
        return errors
    meta = block.meta
    stem = _gift_stem(before, after, kind)
    return {
        "id": title if meta and KEY.match(title) else generated_key(stem), "title": title, "type": kind, "stem": stem,
        "article": meta.get("article") or point_article(point), "point": point.name,
        "difficulty": parse_difficulty(meta.get("difficulty", "")), "version": meta.get("version") or VERSION,
        "options": options, "answer": correct, "explanation": explanation,
    }


def _gift_parts(body: str) -> tuple[str, str, str, str] | str:
    """Split a question into title, text before the answer braces, the braces' content and text after."""
    masked = _mask(body)
    title, start = "", 0
    found = re.match(r"\s*::(.*?)::", masked, re.S)
    if found:
        title, start = _unescape(body[found.start(1):found.end(1)]).strip(), found.end()
    opening = masked.find("{", start)
    closing = masked.find("}", opening + 1) if opening >= 0 else -1
    if closing < 0:
        return "：没有答案部分（缺少成对的 { }），可能是说明文字或格式错误"
    if "{" in masked[closing + 1:] or "{" in masked[opening + 1:closing]:
        return "：一道题只能有一个答案部分 { }"
    before, after = _unescape(body[start:opening]).strip(), _unescape(body[closing + 1:]).strip()
    return title, re.sub(r"^\[(html|moodle|plain|markdown)\]", "", before).strip(), body[opening + 1:closing], after


def _gift_stem(before: str, after: str, kind: str) -> str:
    """Return the stem: braces mid-sentence leave a blank, and a fill-in question always has one."""
    if after:
        return f"{before}____{after}"
    if kind == "fill" and not BLANK.search(before):
        return f"{before}____"
    return before


def _gift_point(block: _GiftBlock, points: dict[str, BankPoint]) -> tuple[BankPoint | None, list[str]]:
    """Find the question's point: the learnhub comment, else the last segment of $CATEGORY."""
    name = block.meta.get("point") or block.category
    point = points.get(name)  # an import's points resolve any name, and "" to the file's point
    if point is None:
        return None, [f"：「{name}」不是已有的知识点" if name else "：缺少知识点（需要 $CATEGORY 或 // learnhub: point=… 注释）"]
    return point, []


def _gift_answer(inside: str) -> tuple[str, list[str], object, str] | str:
    """Read the braces: (kind, options, answer in YAML shape, explanation), or an error."""
    core, *feedback = _split_unescaped(inside, "####")
    explanation = _unescape("####".join(feedback)).strip()
    masked = _mask(core).strip()
    if not masked:
        return "：答案部分为空（论述题不能导入）"
    if masked.startswith("#"):
        return "：不支持数值题"
    if "->" in masked:
        return "：不支持匹配题"
    truth = _unescape(_split_unescaped(core, "#")[0]).strip().upper()
    if truth in ("T", "TRUE", "F", "FALSE"):
        return "truefalse", [], "对" if truth.startswith("T") else "错", explanation
    answers = _gift_answers(core)
    if isinstance(answers, str):
        return answers
    if all(marker == "=" for marker, _, _ in answers):
        accepted = [text for _, weight, text in answers if weight is None or weight > 0]
        return "fill", [], ["|".join(accepted)], explanation
    return _gift_choice(answers) + (explanation,)


def _gift_answers(core: str) -> list[tuple[str, float | None, str]] | str:
    """Split `=a ~%50%b#feedback` into (marker, weight or None, text), dropping per-answer feedback."""
    marks = list(re.finditer(r"[=~]", _mask(core)))
    if not marks or core[:marks[0].start()].strip():
        return "：答案部分无法识别（每个答案应以 = 或 ~ 开头）"
    answers = []
    for mark, following in zip(marks, marks[1:] + [None]):
        piece = core[mark.end():following.start() if following else len(core)]
        piece = _split_unescaped(piece, "#")[0].strip()
        weight = re.match(r"%(-?\d+(?:\.\d+)?)%", piece)
        text = _unescape(piece[weight.end():] if weight else piece).strip()
        answers.append((mark[0], float(weight[1]) if weight else None, text))
    return answers


def _gift_choice(answers: list[tuple[str, float | None, str]]) -> tuple[str, list[str], list[str]]:
    """Return (kind, options, answer letters): weighted answers make a multiple-choice question."""
    options = [text for _, _, text in answers]
    if any(weight is not None for _, weight, _ in answers):
        right = [i for i, (m, w, _) in enumerate(answers) if (w if w is not None else (100 if m == "=" else 0)) > 0]
        kind = "multiple"
    else:
        right = [i for i, (m, _, _) in enumerate(answers) if m == "="]
        kind = "single"
    # Letters beyond F cannot exist; read_question reports the option count instead.
    return kind, options, [LETTERS[i] for i in right if i < len(LETTERS)]


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
            chunks.append(f"$CATEGORY: $course$/top/LearnHub/{category.replace('/', '／')}")
        chunks.append(_gift_export_one(question))
    return "\n\n".join(chunks) + "\n"


def _gift_escape(text: str) -> str:
    """Escape GIFT's special characters and newlines."""
    text = re.sub(r"([\\~=#{}:])", r"\\\1", text)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _gift_export_one(q: BankQuestion) -> str:
    """Return one question in GIFT, preceded by the learnhub comment carrying what GIFT cannot."""
    meta = f"// learnhub: article={q.article}; point={q.point}; difficulty={q.difficulty}; version={q.version}"
    feedback = f"####{_gift_escape(q.explanation)}" if q.explanation else ""
    if q.kind == "truefalse":
        body = ("TRUE" if q.answer[0] else "FALSE") + feedback
    elif q.kind == "fill":
        body = " ".join(f"={_gift_escape(alt)}" for alt in q.answer[0]) + feedback
    else:
        lines = [_gift_option(q, i) for i in range(len(q.options))] + ([feedback] if feedback else [])
        body = "\n" + "\n".join(lines) + "\n"
    return f"{meta}\n::{q.key}::{_gift_escape(q.stem)}{{{body}}}"


def _gift_option(q: BankQuestion, index: int) -> str:
    """Return one option line: =/~ for single choice, weights summing to 100% for multiple choice."""
    text = _gift_escape(q.options[index])
    if q.kind == "single":
        return ("=" if index in q.answer else "~") + text
    share = f"{100 / len(q.answer):.5f}".rstrip("0").rstrip(".")
    return f"~%{share}%{text}" if index in q.answer else f"~%-100%{text}"
