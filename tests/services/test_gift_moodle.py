"""GIFT and Aiken read as Moodle reads them, with problems named by line (pure functions, no app)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnhub.services.bank.files import BankPoint, load_bank, normalise_text
from learnhub.services.bank.formats import export_aiken, export_gift, parse_aiken, parse_file, parse_gift
from learnhub.services.bank.formats.gift import read_gift
from learnhub.services.bank.formats.textfile import decode_text

ROOT = Path(__file__).parent.parent.parent
IMPORTS = ROOT / "tests" / "data" / "imports"
POINTS = {
    p.name: p
    for p in (
        BankPoint("入党条件", "第一章 党员", "第一条", "test"),
        BankPoint("预备期", "第一章 党员", "第七条", "test"),
        BankPoint("党的性质", "总纲", "一、党的性质、理想和指导思想", "test"),
    )
}


def gift(name: str) -> str:
    return (IMPORTS / name).read_text(encoding="utf-8")


def messages(bank) -> list[str]:
    return [p.message for p in bank.problems]


def only_problem(text: str, point: str | None = "入党条件") -> str:
    bank = parse_gift(text, POINTS, point=point)
    assert bank.questions == [] and len(bank.problems) == 1, messages(bank)
    return bank.problems[0].message


def one(text: str):
    """The one question in `text`; questions without a category go to 入党条件."""
    bank = parse_gift(text, POINTS, point="入党条件")
    assert bank.problems == [] and len(bank.questions) == 1, messages(bank)
    return bank.questions[0]


@pytest.fixture(scope="module")
def shipped():
    bank = load_bank(ROOT / "questions")
    assert not bank.problems
    return bank, {p.name: p for p in bank.points}


# ---- Moodle's documentation examples ---------------------------------------------------------------


def test_moodle_documentation_examples_read_as_moodle_reads_them():
    bank = parse_gift(gift("moodle-examples.gift"), POINTS, "moodle-examples.gift")
    assert bank.problems == [], messages(bank)
    by_line = {int(re.match(r"第 (\d+) 行", q.label)[1]): q for q in bank.questions}
    assert sorted(by_line) == [6, 9, 12, 19, 22, 24, 27, 35, 38, 44, 55, 58]
    age = by_line[6]
    assert (age.kind, age.title, age.options, age.answer) == ("single", "年龄", ("十六岁", "十八岁", "二十岁"), (1,))
    assert age.label == "第 6 行（第 1 题 ::年龄::）" and age.point == "入党条件"
    assert by_line[9].stem == "申请入党的人须年满 ____ 才能提出申请。"  # missing word keeps the spaces around it
    assert by_line[12].answer == (0,) and by_line[12].explanation == ""  # per-answer feedback is not an explanation
    assert (by_line[19].kind, by_line[19].stem, by_line[19].answer) == ("fill", "申请入党的最低年龄是____。", (("十八岁", "18岁"),))
    assert (by_line[22].answer, by_line[22].explanation) == ((True,), "党章第一条。")  # T#wrong#right####general
    assert by_line[24].answer == (False,)
    assert (by_line[27].kind, by_line[27].answer) == ("multiple", (0, 1))
    assert by_line[35].stem == "申请入党的人须**年满十八岁**吗？"  # [markdown] marker gone, Markdown kept
    assert by_line[38].title == "符号: 等号" and by_line[38].options == ("= 2 + 2", "= 2 + 3", "= 2 + 4")
    control = by_line[44]
    assert (control.options, control.answer) == (("~", "=", "#", "{", "}", "\\"), (5,))
    assert (by_line[55].options, by_line[55].answer) == (("+1", "-1", "±1"), (2,))
    assert (by_line[58].point, by_line[58].article, by_line[58].explanation) == ("预备期", "第七条", "党章第七条。")


def test_types_learnhub_lacks_are_skipped_with_their_lines_not_refused():
    bank = parse_gift(gift("moodle-examples.gift"), POINTS)
    assert [p.message for p in bank.skipped] == [
        "第 61 行（第 13 题 ::论述::）：论述题，LearnHub 没有这种题型，已跳过",
        "第 63 行（第 14 题 ::数值::）：数值题，LearnHub 没有这种题型，已跳过",
        "第 65 行（第 15 题 ::匹配::）：匹配题，LearnHub 没有这种题型，已跳过",
        "第 70 行（第 16 题）：说明文字（没有 { } 答案部分），不是题目，已跳过",
    ]
    assert len(bank.questions) == 12


def test_a_file_of_nothing_but_skipped_types_says_so():
    bank = parse_gift("谈谈你的认识。{}\n\n预备期几个月？{#12}\n", POINTS)
    assert messages(bank) == ["文件中没有 LearnHub 能导入的题目：2 道题的题型不支持，已跳过"]
    assert len(bank.skipped) == 2


# ---- weights: what is right --------------------------------------------------------------------------


def test_partial_credit_wrong_answers_leave_a_single_choice_keyed_on_the_equals_answer():
    bank = parse_gift(gift("partial-credit.gift"), POINTS)
    single = bank.questions[0]
    assert (single.kind, single.options, single.answer) == ("single", ("十六岁", "十七岁", "二十岁", "十八岁"), (3,))


def test_partial_credit_short_answer_is_refused_with_the_reason_never_taken_as_right():
    bank = parse_gift(gift("partial-credit.gift"), POINTS)
    assert len(bank.questions) == 1
    assert messages(bank) == [(
        "第 8 行（第 2 题 ::部分得分填空::）：答案「十七岁」（25%）只得部分分，LearnHub 的填空题只判对错，不能给部分分；"
        "请删去这些答案，或把它们改成满分答案（去掉 %…%）")]


@pytest.mark.parametrize(("answers", "accepted"), [
    ("{=十八岁 =%100%18岁}", ("十八岁", "18岁")),  # Moodle's export writes =%100%…#
    ("{=%100%十八岁# =%100%18岁#}", ("十八岁", "18岁")),
    ("{=十八岁 =%0%十七岁 =%-50%十六岁}", ("十八岁",)),  # no credit: simply not a right answer
])
def test_short_answer_weights(answers, accepted):
    assert one(f"申请入党须年满多少岁？{answers}").answer == (accepted,)


def test_short_answer_without_a_full_credit_answer_is_refused():
    assert "没有满分答案" in only_problem("申请入党须年满多少岁？{=%0%十七岁}")


@pytest.mark.parametrize(("answers", "expected"), [
    ("{~%50%甲 ~%30%乙 ~丙 ~丁}", "分值之和应为 100%，现为 80%"),
    ("{~甲 ~乙 ~丙}", "没有正确答案"),
    ("{=%50%甲 ~乙 ~丙}", "= 表示满分答案"),
    ("{=甲 =乙 ~丙}", "单选题只能有一个答案"),
])
def test_choice_weights_moodle_would_refuse_are_refused(answers, expected):
    assert expected in only_problem(f"哪一项？{answers}")


def test_multiple_choice_weights_written_as_thirds_add_up():
    question = one("哪几项？{~%33.33333%甲 ~%33.33333%乙 ~%33.33333%丙 ~%-100%丁}")
    assert (question.kind, question.answer) == ("multiple", (0, 1, 2))


# ---- text formats ------------------------------------------------------------------------------------


def test_moodle_html_export_becomes_plain_text():
    bank = parse_gift(gift("moodle-html-export.gift"), POINTS)
    assert bank.problems == [], messages(bank)
    age, many, right, probation, two = bank.questions
    assert (age.stem, age.options, age.explanation) == (
        "申请入党的人最低要年满多少岁？", ("十八岁", "十六岁", "二十岁"), "党章第一条：年满十八岁。")
    assert age.point == "入党条件"  # $course$/top/Default for 党课/入党条件
    assert many.stem == "申请入党须做到哪些？\n（多选）" and many.options[2] == "拥有大学学历"
    assert right.stem == "党员有权在党的会议上 参加讨论。" and right.explanation == "见党章第四条 & 第五条。"
    assert (probation.stem, probation.answer) == ("预备党员的预备期为____", (("一年", "12个月"),))
    assert two.stem.split("\n") == ["党的性质：", "中国共产党是中国工人阶级的先锋队，同时是中国人民和中华民族的先锋队。",
                                    "<判断> '对'还是\"错\"？"]
    for q in bank.questions:
        assert not re.search(r"</?p|&nbsp;|\\", q.stem + q.explanation + "".join(q.options)), q.label


@pytest.mark.parametrize(("text", "stem"), [
    ("[plain]<b>党员</b>须履行义务吗？{T}", "<b>党员</b>须履行义务吗？"),  # plain: kept as written
    ("[html]<b>党员</b>须履行&nbsp;义务吗？{T}", "党员须履行 义务吗？"),
    ("<p>党员须履行义务吗？</p>{T}", "党员须履行义务吗？"),  # Moodle's default format allows HTML
    ("若 x<y 且 y<z，则 x<z 吗？{T}", "若 x<y 且 y<z，则 x<z 吗？"),  # ...but text that is not HTML stays
    ("[moodle]党员须履行义务吗？{T}", "党员须履行义务吗？"),
    ("[markdown]党员*须*履行义务吗？{T}", "党员*须*履行义务吗？"),
    ("[html]<p>党员<script>alert(1)</script>须履行义务吗？</p>{T}", "党员须履行义务吗？"),
    ("[unknown]党员须履行义务吗？{T}", "[unknown]党员须履行义务吗？"),  # not a Moodle format: text
])
def test_format_markers(text, stem):
    assert one(text).stem == stem


def test_the_question_format_carries_to_its_answers_and_feedback():
    question = one("[html]<p>哪一项？</p>{=<p>甲&amp;乙</p> ~<b>丙</b> ~丁####<p>因为&nbsp;甲</p>}")
    assert (question.options, question.explanation) == (("甲&乙", "丙", "丁"), "因为 甲")
    plain = one("[plain]哪一项？{=<b>甲</b> ~乙 ~丙}")
    assert plain.options[0] == "<b>甲</b>"


def test_html_with_an_image_is_refused_naming_the_question():
    message = only_problem('::图::[html]<p>下图是什么？<img src="@@PLUGINFILE@@/a.png"></p>{=党徽 ~党旗 ~国徽}')
    assert message.startswith("第 1 行（第 1 题 ::图::）：含有图片")


def test_moodle_escapes_only_and_other_backslashes_stay():
    question = one(r"::a\:b::路径 C:\temp\data 里\{有\}花括号\~\=\#吗？\n第二行{T}")
    assert question.title == "a:b"
    assert question.stem == "路径 C:\\temp\\data 里{有}花括号~=#吗？\n第二行"


def test_options_that_differ_only_in_punctuation_are_different_but_true_duplicates_are_refused():
    assert one("哪一个？{=+1 ~-1 ~±1}").options == ("+1", "-1", "±1")
    assert one("哪一个？{=甲。 ~甲 ~乙}").options == ("甲。", "甲", "乙")
    for answers in ("{=甲 ~甲 ~乙}", "{=甲  乙 ~甲 乙 ~丙}", "{=Ａ ~A ~B}"):
        assert "选项不能为空或重复" in only_problem(f"哪一个？{answers}"), answers


# ---- points, titles, lines ---------------------------------------------------------------------------


def test_category_names_the_point_by_its_last_segment():
    rows = read_gift("$CATEGORY: $course$/top/党课/新的知识点\n\n预备期多长？{=一年}\n\n"
                     "$CATEGORY: $course$/top/a//b\n\n预备期多长？{=一年}\n", POINTS).rows
    assert [row["point"] for _, _, row in rows] == ["新的知识点", "a/b"]


def test_a_category_of_moodle_roots_only_leaves_the_point_chosen_for_the_file():
    text = "$CATEGORY: $course$/top\n\n预备期多长？{=一年}\n"
    assert parse_gift(text, POINTS, point="预备期").questions[0].point == "预备期"
    default = text.replace("top", "top/Default for 党课")  # Moodle's default category names no subject either
    assert parse_gift(default, POINTS, point="预备期").questions[0].point == "预备期"
    assert "没有知识点" in only_problem(text, point=None)


def test_learnhub_comment_wins_over_category_and_file_point():
    text = "$CATEGORY: $course$/top/入党条件\n\n// learnhub: point=党的性质\n::zg-1::党是先锋队吗？{T}\n"
    question = parse_gift(text, POINTS, point="预备期").questions[0]
    assert (question.point, question.article, question.key) == ("党的性质", "总纲", "zg-1")


def test_the_title_is_carried_but_not_trusted_as_the_id():
    question = one("$CATEGORY: 入党条件\n\n::t01-001::党员须履行义务吗？{T}")
    assert question.title == "t01-001" and question.key.startswith("x-")


def test_errors_name_the_line_the_number_and_the_title():
    text = ("// 开头的注释\n$CATEGORY: 入党条件\n\n::好题::党员须履行义务吗？{T}\n\n\n"
            "// 一道坏题\n::坏题::哪一项？{=甲 ~乙\n\n"
            "哪一项？{~甲 ~乙}\n\n" + "::" + "很长的标题" * 10 + "::哪一项？{}\n\n谁？{=甲}{=乙}\n")
    bank = parse_gift(text, POINTS)
    assert messages(bank) == [
        "第 8 行（第 2 题 ::坏题::）：答案部分的花括号 { } 不成对（文字中的花括号要写成 \\{ \\}）",
        "第 10 行（第 3 题）：没有正确答案（单选题用 = 标出正确答案；多选题用 ~%50% 这样的分值标出各个正确答案）",
        "第 14 行（第 5 题）：一道题只能有一个答案部分 { }（文字中的花括号要写成 \\{ \\}）",
    ]
    assert bank.skipped[0].message.startswith("第 12 行（第 4 题 ::" + "很长的标题" * 6 + "…::）")


def test_duplicates_within_the_file_name_both_lines():
    bank = parse_gift("$CATEGORY: 入党条件\n\n党员须履行义务吗？{T}\n\n::又一次::党员须履行义务吗？{T}\n", POINTS)
    assert "第 5 行（第 2 题 ::又一次::）：题干与第 3 行（第 1 题）重复" in messages(bank)


# ---- re-import after a trip through Moodle -----------------------------------------------------------


def strip_learnhub_comments(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("// learnhub:"))


def test_gift_export_without_our_comments_reads_back_the_same_questions(shipped):
    bank, points = shipped
    carried = [q for q in bank.questions if not (q.kind == "fill" and len(q.answer) > 1)]
    text = strip_learnhub_comments(export_gift(bank.questions))
    assert "// learnhub:" not in text
    back = parse_gift(text, points)
    assert back.problems == [], messages(back)[:5]
    assert len(back.questions) == len(carried)
    for original, read in zip(carried, back.questions, strict=True):
        assert (read.kind, read.stem, read.options, read.answer, read.explanation, read.point, read.article) == (
            original.kind, original.stem, original.options, original.answer, original.explanation, original.point,
            original.article), original.key
        assert read.title == original.key  # what a re-import matches on when the id is gone


def test_gift_export_of_awkward_text_reads_back_unchanged():
    from learnhub.services.bank.files import BankQuestion

    awkward = [
        BankQuestion(key="t-html", kind="single", stem="<p>是 HTML 吗？</p> &nbsp;", options=("<b>甲</b>", "乙", "丙"),
                     answer=(0,), explanation="a<b", article="第一条", point="入党条件", difficulty=1, version="2022",
                     source="x"),
        BankQuestion(key="t-slash", kind="truefalse", stem="[html]开头像标记，C:\\temp 有反斜杠", options=(), answer=(True,),
                     explanation="[markdown]也像", article="第七条", point="预备/期", difficulty=1, version="2022",
                     source="x"),
        BankQuestion(key="t-fill", kind="fill", stem="填____。", options=(), answer=(("[plain]甲", "<b>乙</b>"),),
                     explanation="", article="第一条", point="入党条件", difficulty=1, version="2022", source="x"),
    ]
    points = {**POINTS, "预备/期": BankPoint("预备/期", "第一章 党员", "第七条", "test")}
    back = parse_gift(strip_learnhub_comments(export_gift(awkward)), points)
    assert back.problems == [], messages(back)
    assert [(q.stem, q.options, q.answer, q.explanation, q.point, q.title) for q in back.questions] == [
        (q.stem, q.options, q.answer, q.explanation, q.point, q.key) for q in awkward]


def test_aiken_export_reads_back_the_same_questions(shipped):
    bank, points = shipped
    text, _ = export_aiken(bank.questions)
    singles = [q for q in bank.questions if q.kind == "single"]
    back = parse_aiken(text, points, bank.points[0].name)
    assert back.problems == []
    assert [(normalise_text(q.stem), q.options, q.answer) for q in back.questions] == [
        (normalise_text(q.stem), q.options, q.answer) for q in singles]


# ---- Aiken -------------------------------------------------------------------------------------------


def test_aiken_as_moodle_reads_it_with_chinese_tolerance():
    bank = parse_aiken((IMPORTS / "moodle-aiken.txt").read_text(encoding="utf-8"), POINTS, "入党条件")
    assert bank.problems == [], messages(bank)
    assert [q.answer for q in bank.questions] == [(1,), (1,), (0,), (0,)]
    assert bank.questions[2].options == ("认真学习", "不交党费", "不参加组织生活")  # Ａ．… full width
    assert bank.questions[3].options[0] == "镰刀和锤头"  # A、…
    assert [q.label for q in bank.questions] == ["第 1 行（第 1 题）", "第 8 行（第 2 题）", "第 14 行（第 3 题）",
                                                 "第 20 行（第 4 题）"]


def test_aiken_problems_name_lines():
    text = "题一？\nA. 甲\nB. 乙\nC. 丙\nANSWER: D\n\n\n题二？\nA. 甲\nB. 乙\nC. 丙\n题三？\nA) 甲\nB) 乙\nC) 丙\nANSWER: A\n"
    bank = parse_aiken(text, POINTS, "入党条件")
    assert messages(bank) == ["第 1 行（第 1 题）：答案「D」不在选项 ABC 之中",
                              "第 8 行（第 2 题）：选项之后缺少「ANSWER: 字母」行（第 12 行已是下一题）"]


# ---- text hygiene ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["utf16le-bom.gift", "utf16be-bom.gift", "utf8-bom.gift", "gb18030.gift"])
def test_encodings_notepad_and_excel_write(name):
    bank = parse_file(name, (IMPORTS / name).read_bytes(), POINTS)
    assert bank.problems == [], messages(bank)
    question = bank.questions[0]
    assert (question.title, question.stem, question.answer, question.explanation, question.point) == (
        "编码", "预备党员的预备期从何时算起？", (1,), "党章第七条。", "预备期")


def test_utf16_is_told_by_its_bom_only():
    text = "题？{T}"
    assert decode_text(b"\xff\xfe" + text.encode("utf-16-le")) == text
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be")) == text
    assert decode_text(b"\xff\xfe\x00") is None  # half a character


def test_a_nul_byte_is_refused_naming_its_lines():
    bank = parse_file("nul-byte.gift", (IMPORTS / "nul-byte.gift").read_bytes(), POINTS)
    assert bank.questions == []
    assert messages(bank) == [("第 3、7 行有空字符（NUL），这不是纯文本文件（或是缺少 BOM 的 UTF-16 文件），"
                               "请用记事本另存为 UTF-8 编码的文本文件再导入")]
    assert "第 2 行有空字符" in messages(parse_aiken("题？\n\x00A. 甲\n", POINTS, "入党条件"))[0]


def test_other_control_characters_are_dropped():
    bank = parse_file("control-chars.gift", (IMPORTS / "control-chars.gift").read_bytes(), POINTS)
    assert bank.problems == [], messages(bank)
    first, second = bank.questions
    assert (first.stem, first.options) == ("党员缴纳党费的依据是什么？", ("个人意愿", "党章规定", "支部决定"))
    assert (second.stem, second.explanation) == ("党员可以不交党费。", "党章第三条。")
    for q in bank.questions:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]", q.stem + q.explanation + "".join(q.options))


PIECES = [*"{}=~#%:\\/$->[] \n\tTF甲乙_0123\x00\x0b", "//", "::", "####", "$CATEGORY: a/b", "[html]", "[plain]",
          "<p>", "</p>", "<img>", "&nbsp;", "%50%", "%-100%", "%25%", "\\n", "\\\\", "\n\n", "// learnhub: point=预备期"]


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_gift_never_raises_and_speaks_chinese(text):
    bank = parse_gift(text, POINTS, point="入党条件")
    assert bank.questions or bank.problems or bank.skipped
    assert all(re.search(r"[\u4e00-\u9fff]", p.message) for p in bank.problems + bank.skipped)
    for q in bank.questions:
        assert "\x00" not in q.stem + q.explanation + "".join(q.options)


def test_a_skipped_type_is_skipped_whatever_its_feedback_holds():
    bank = parse_gift('谈谈你的认识。{####[html]<p>参考：<img src="a.png"></p>}\n\n党员须履行义务吗？{T}', POINTS, point="入党条件")
    assert bank.problems == [] and len(bank.questions) == 1
    assert bank.skipped[0].message == "第 1 行（第 1 题）：论述题，LearnHub 没有这种题型，已跳过"
