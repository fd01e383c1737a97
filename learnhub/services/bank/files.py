"""Read and validate the built-in question bank: the YAML files under `questions/`.

This module is pure Python (no Flask, no database) so that `questions check`, the
importer and the tests share one definition of what a valid question is.
The format is documented in `questions/README.md`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .constitution import GENERAL_PROGRAM, GENERAL_SECTIONS, VERSION, part_by_title, part_of_article

KINDS = ("single", "multiple", "truefalse", "fill")
LETTERS = "ABCDEF"
TRUE_WORD, FALSE_WORD = "对", "错"
BLANK = re.compile(r"_{3,}")
KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_NOT_ALNUM = re.compile(r"[\W_]+")
OPTION_RANGE = {"single": (3, 6), "multiple": (4, 6)}


@dataclass(frozen=True)
class BankPoint:
    """A knowledge point: the unit the reports measure."""

    name: str
    part: str
    article: str  # '第X条', or a section of the general programme for 总纲
    source: str


@dataclass(frozen=True)
class BankQuestion:
    """One question as written in a bank file.

    `answer` is canonical: option indexes for choice questions, [True] / [False] for
    true/false, and one tuple of accepted spellings per blank for fill-in.
    """

    key: str
    kind: str
    stem: str
    options: tuple[str, ...]
    answer: tuple
    explanation: str
    article: str
    point: str
    difficulty: int
    version: str
    source: str
    label: str = field(default="", compare=False)  # where in an uploaded file: 第 8 行, 第 3 题
    title: str = field(default="", compare=False)  # a GIFT question's ::title::, matched against ids on re-import


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bank file, said in Chinese for the organiser who edits it."""

    source: str
    key: str
    message: str
    label: str = field(default="", compare=False)  # the row or question it is about (第 8 行); "" for the file

    def __str__(self) -> str:
        where = f"{self.source}" + (f" [{self.key}]" if self.key else "")
        return f"{where}: {self.message}"


@dataclass
class Bank:
    """Everything read from a set of bank files, plus what was wrong with them."""

    points: list[BankPoint] = field(default_factory=list)
    questions: list[BankQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Rows or questions of a kind LearnHub does not have (简答, 论述, Moodle essays…): left out, not errors.
    skipped: list[Problem] = field(default_factory=list)
    # The question fields the file gave (a spreadsheet without a 解析 column gives no explanation); None: all.
    carried: frozenset[str] | None = None


def normalise_text(text: str) -> str:
    """Fold width, case, spaces and punctuation, for comparing stems and fill-in answers."""
    # [\W_] is exactly "not str.isalnum()" (re docs, \w); one regex pass instead of a Python loop per character.
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).lower())


def shown_text(text: str) -> str:
    """Text as a reader sees it, for telling options apart: width and runs of white space folded, nothing dropped.

    Options such as +1, -1 and ±1, or ~ = # { }, differ only in punctuation and are still different.
    """
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse_choice_answer(raw: object, n_options: int) -> tuple[int, ...] | None:
    """Turn 'B', 'ACD', 'A,C,D' or ['A','C'] into sorted option indexes, or None if malformed."""
    if isinstance(raw, list):
        raw = "".join(str(x) for x in raw)
    if not isinstance(raw, str):
        return None
    letters = re.sub(r"[\s,，、;；]", "", raw.upper())
    if not letters or any(ch not in LETTERS[:n_options] for ch in letters):
        return None
    if len(set(letters)) != len(letters):
        return None
    return tuple(sorted(LETTERS.index(ch) for ch in letters))


def format_answer(question: BankQuestion) -> str:
    """Return the answer as people write it: 'B', 'ACD', '对', or '十八|18；一年'."""
    if question.kind in ("single", "multiple"):
        return "".join(LETTERS[i] for i in question.answer)
    if question.kind == "truefalse":
        return TRUE_WORD if question.answer[0] else FALSE_WORD
    return "；".join("|".join(alts) for alts in question.answer)


def load_bank(path: Path) -> Bank:
    """Read every `*.yaml` file under `path` (or the one file `path`) and validate it all."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    bank = Bank()
    for file in files:
        _load_file(file, bank)
    if not files:
        bank.problems.append(Problem(str(path), "", "没有找到题库文件（*.yaml）"))
    _check_across_files(bank)
    return bank


def _load_file(file: Path, bank: Bank) -> None:
    source = file.name
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        bank.problems.append(Problem(source, "", f"文件无法解析：{exc}"))
        return
    if not isinstance(data, dict):
        bank.problems.append(Problem(source, "", "文件顶层应为包含 part、points、questions 的映射"))
        return
    part = part_by_title(str(data.get("part", "")))
    if part is None:
        bank.problems.append(Problem(source, "", f"part「{data.get('part')}」不是总纲或某一章的标题"))
        return
    file_points: dict[str, BankPoint] = {}
    for raw in data.get("points") or []:
        point = _read_point(raw, part.title, source, bank)
        if point is not None:
            file_points[point.name] = point
            bank.points.append(point)
    known = {p.name: p for p in bank.points}
    for raw in data.get("questions") or []:
        question = read_question(raw, known, source, bank, part=part.title)
        if question is not None:
            bank.questions.append(question)


def _read_point(raw: object, part: str, source: str, bank: Bank) -> BankPoint | None:
    if not isinstance(raw, dict) or not str(raw.get("name", "")).strip():
        bank.problems.append(Problem(source, "", f"知识点缺少名称：{raw!r}"))
        return None
    name, article = str(raw["name"]).strip(), str(raw.get("article", "")).strip()
    if part == GENERAL_PROGRAM:
        if article not in GENERAL_SECTIONS:
            bank.problems.append(Problem(source, "", f"总纲知识点「{name}」的 article 应为总纲的一个部分：{article}"))
            return None
    elif part_of_article(article) is None or part_of_article(article).title != part:
        bank.problems.append(Problem(source, "", f"知识点「{name}」的条文「{article}」不属于{part}"))
        return None
    return BankPoint(name=name, part=part, article=article, source=source)


def read_question(
    raw: object,
    points: dict[str, BankPoint],
    source: str,
    bank: Bank,
    part: str | None = None,
    require_explanation: bool = True,
) -> BankQuestion | None:
    """Validate one question given as a dict (the YAML shape); record problems in `bank`.

    `points` are the knowledge points it may hang on. `part`, when given, is the part the question
    must belong to (a bank file's part). Imports from other systems may lack explanations.
    """
    if not isinstance(raw, dict):
        bank.problems.append(Problem(source, "", f"题目应为映射：{raw!r}"))
        return None
    key = str(raw.get("id", "")).strip()
    errors: list[str] = []
    say = errors.append
    if not KEY.match(key):
        say("id 应由小写字母、数字和连字符组成")
    kind = raw.get("type")
    if kind not in KINDS:
        say(f"type 应为 {'/'.join(KINDS)} 之一，而不是「{kind}」")
    stem = str(raw.get("stem") or "").strip()
    if not stem:
        say("题干为空")
    explanation = str(raw.get("explanation") or "").strip()
    if not explanation and require_explanation:
        say("解析为空")
    article = str(raw.get("article") or "").strip()
    point = points.get(str(raw.get("point") or "").strip())
    owner = part_of_article(article)
    # A point an organisation added (not tied to an article) takes questions citing any article, or none.
    loose = point is not None and not point.article and point.part != GENERAL_PROGRAM
    if owner is None and not (loose and not article):
        say(f"条文「{article}」不存在（应为“第X条”或“总纲”）")
    elif owner is not None and part is not None and owner.title != part:
        say(f"条文「{article}」不属于本文件的{part}")
    if point is None:
        say(f"知识点「{raw.get('point')}」未定义")
    elif not loose and ((point.part == GENERAL_PROGRAM) != (article == GENERAL_PROGRAM) or (
        point.part != GENERAL_PROGRAM and point.article != article
    )):
        where = GENERAL_PROGRAM if point.part == GENERAL_PROGRAM else point.article
        say(f"知识点「{point.name}」属于{where}，与题目的条文{article}不一致")
    difficulty = raw.get("difficulty")
    if difficulty not in (1, 2, 3):
        say("难度应为 1、2 或 3")
    version = str(raw.get("version", ""))
    if version != VERSION:
        say(f"version 应为 {VERSION}（核对所依据的党章版本）")
    options = tuple(str(o).strip() for o in raw.get("options") or [])
    answer = _read_answer(kind, stem, options, raw.get("answer"), say) if kind in KINDS else None
    if errors:
        bank.problems.extend(Problem(source, key, e) for e in errors)
        return None
    return BankQuestion(
        key=key, kind=kind, stem=stem, options=options, answer=answer, explanation=explanation,
        article=article, point=point.name, difficulty=difficulty, version=version, source=source,
        title=str(raw.get("title") or "").strip(),
    )


def _read_answer(kind: str, stem: str, options: tuple[str, ...], raw: object, say) -> tuple | None:
    if kind in OPTION_RANGE:
        low, high = OPTION_RANGE[kind]
        if not low <= len(options) <= high:
            say(f"{'单选' if kind == 'single' else '多选'}题应有 {low} 到 {high} 个选项")
            return None
        if any(not o for o in options) or len({shown_text(o) for o in options}) != len(options):
            say("选项不能为空或重复")
        answer = parse_choice_answer(raw, len(options))
        if answer is None:
            say(f"答案「{raw}」不在选项 {LETTERS[:len(options)]} 之中")
        elif kind == "single" and len(answer) != 1:
            say("单选题只能有一个答案")
        elif kind == "multiple" and len(answer) < 2:
            say("多选题至少应有两个正确选项")
        return answer
    if options:
        say("判断题和填空题不应有选项")
    if kind == "truefalse":
        if raw not in (TRUE_WORD, FALSE_WORD):
            say(f"判断题答案应为「{TRUE_WORD}」或「{FALSE_WORD}」")
            return None
        return (raw == TRUE_WORD,)
    blanks = raw if isinstance(raw, list) else [raw]
    accepted = tuple(
        tuple(a.strip() for a in str(b or "").split("|") if a.strip()) for b in blanks
    )
    if not accepted or any(not alts for alts in accepted):
        say("填空题每个空都要有答案")
        return None
    if len(BLANK.findall(stem)) != len(accepted):
        say(f"题干中有 {len(BLANK.findall(stem))} 个空（____），答案却有 {len(accepted)} 个")
    return accepted


def _check_across_files(bank: Bank) -> None:
    seen_points: dict[str, str] = {}
    for point in bank.points:
        if point.name in seen_points:
            bank.problems.append(
                Problem(point.source, "", f"知识点「{point.name}」已在 {seen_points[point.name]} 中定义")
            )
        seen_points.setdefault(point.name, point.source)
    seen_keys: dict[str, str] = {}
    seen_stems: dict[str, str] = {}
    for q in bank.questions:
        if q.key in seen_keys:
            bank.problems.append(Problem(q.source, q.key, f"id 与 {seen_keys[q.key]} 中的题目重复"))
        seen_keys.setdefault(q.key, q.source)
        stem = normalise_text(q.stem)
        if stem in seen_stems:
            bank.problems.append(Problem(q.source, q.key, f"题干与 {seen_stems[stem]} 重复"))
        seen_stems.setdefault(stem, q.key)


def bank_stats(bank: Bank) -> dict:
    """Count the bank's questions by type, article, difficulty and knowledge point."""
    from collections import Counter

    def count(attr: str) -> dict:
        return dict(sorted(Counter(getattr(q, attr) for q in bank.questions).items(), key=lambda kv: str(kv[0])))

    return {
        "total": len(bank.questions),
        "points": len(bank.points),
        "by_type": count("kind"),
        "by_article": count("article"),
        "by_difficulty": count("difficulty"),
        "by_point": count("point"),
    }
