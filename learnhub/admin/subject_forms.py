"""Forms of the subject pages: a subject, a part's or point's name, and a question written in the browser.

Names and questions are checked by the services (services/bank/subject_edit.py, question_write.py), which
say what is wrong beside each field; these forms only carry the values and the CSRF token.
"""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField

from ..services.bank.files import LETTERS

DIFFICULTY_CHOICES = [SelectChoice("1", "易"), SelectChoice("2", "中"), SelectChoice("3", "难")]


class SubjectForm(FlaskForm):
    name = StringField("科目名称（如：支部工作条例、二十届三中全会精神）")
    description = TextAreaField("说明（可不填：学什么、为什么学）")


class NewSubjectForm(SubjectForm):
    owner = SelectField("所属组织（科目对该组织及下级可见，只有它的组织员能修改）", validate_choice=False)


class NameForm(FlaskForm):
    """A part's or point's name: renaming it (no prefix), or adding one (prefix "part" / "point")."""

    name = StringField("名称")


class NewQuestionForm(FlaskForm):
    """One form for the four types; the page shows the fields of the chosen type only."""

    OPTION_FIELDS = ("option_a", "option_b", "option_c", "option_d", "option_e", "option_f")

    stem = TextAreaField("题干")
    option_a = StringField("A")
    option_b = StringField("B")
    option_c = StringField("C")
    option_d = StringField("D")
    option_e = StringField("E")
    option_f = StringField("F")
    correct = SelectMultipleField("正确答案", choices=[SelectChoice(x, x) for x in LETTERS], validate_choice=False)
    truth = SelectField("答案", choices=[SelectChoice("对", "对"), SelectChoice("错", "错")], validate_choice=False)
    blanks = TextAreaField("答案（每空一行，按空的顺序；同一空有几种写法都算对时，用 | 隔开，如：十八|18）")
    explanation = TextAreaField("解析（答题后给党员看的说明，写明依据）")
    article = StringField("条文（第X条 或 总纲）")
    difficulty = SelectField("难度", choices=DIFFICULTY_CHOICES, default="1", validate_choice=False)
