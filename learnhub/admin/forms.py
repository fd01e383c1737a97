from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..inputs import db_int
from ..models import MemberCategory, OrgKind, Role

CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in MemberCategory]


class MemberForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=50)])
    member_no = StringField(
        "党员编号",
        validators=[DataRequired("请填写党员编号"), Regexp(r"^[A-Za-z0-9_-]{2,32}$", message="党员编号应为 2–32 位字母、数字或连字符")],
    )
    phone = StringField(
        "手机号", validators=[Optional(), Regexp(r"^1[3-9]\d{9}$", message="请填写 11 位手机号")]
    )
    org_id = SelectField("所在支部", coerce=db_int)
    category = SelectField("党员类别", choices=CATEGORY_CHOICES)


class NewMemberForm(MemberForm):
    password = PasswordField(
        "初始密码", validators=[DataRequired("请设置初始密码"), Length(min=8, max=128, message="密码长度应为 8–128 位")]
    )


class ImportForm(FlaskForm):
    file = FileField("党员名单（.xlsx、.xls、.ods 或 .csv）", validators=[FileRequired("请选择文件")])
    parent = SelectField("名单中的新支部建在（组织员可选；不选则只导入到已有支部）", coerce=str, default="")


class ImportConfirmForm(FlaskForm):
    password = PasswordField(
        "初始密码（导入的党员首次登录时须修改）",
        validators=[DataRequired("请设置初始密码"), Length(min=8, max=128, message="密码长度应为 8–128 位")],
    )


class ResolveReportForm(FlaskForm):
    resolution = StringField("处理结果", validators=[Length(max=200)])


class RuleForm(Form):
    """One draw rule: N questions from a part, an article or a knowledge point (optionally one difficulty)."""

    class Meta:
        locales = ["zh"]  # a plain Form, so WTForms' own Chinese messages rather than Flask-WTF's

    node = SelectField("范围", coerce=db_int, validate_choice=False)
    count = IntegerField("题数", validators=[Optional(), NumberRange(1, 100, "每条规则 1–100 题")])
    difficulty = SelectField(
        "难度", validate_choice=False, choices=[SelectChoice("", "不限"), SelectChoice("1", "易"), SelectChoice("2", "中"), SelectChoice("3", "难")]
    )


class AssignmentForm(FlaskForm):
    title = StringField("任务名称", validators=[DataRequired("请填写任务名称"), Length(max=200)])
    kind = SelectField("类型", choices=[SelectChoice("exam", "考试"), SelectChoice("study", "学习任务")])
    org_id = SelectField("布置给", coerce=db_int)
    opens_at = DateTimeLocalField("开始时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请填写开始时间")])
    closes_at = DateTimeLocalField("截止时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请填写截止时间")])
    materials = SelectMultipleField("必学资料", coerce=db_int, validate_choice=False)
    per_member = SelectField(
        "试卷", choices=[SelectChoice("1", "每人单独抽题（防止相互抄）"), SelectChoice("0", "所有人同一套题（顺序打乱）")]
    )
    rules = FieldList(FormField(RuleForm), min_entries=5, max_entries=5)
    pass_mark = IntegerField("合格分", default=60, validators=[NumberRange(0, 100, "合格分应在 0–100 之间")])
    time_limit_minutes = IntegerField("限时（分钟，空为不限时）", validators=[Optional(), NumberRange(1, 600)])
    max_attempts = IntegerField("可作答次数（0 为不限）", default=1, validators=[NumberRange(0, 20)])
    scoring = SelectField("计分", choices=[SelectChoice("highest", "取最高分"), SelectChoice("latest", "取最后一次")])
    show_answers = SelectField(
        "公布答案",
        choices=[
            SelectChoice("after_submit", "交卷后公布"), SelectChoice("after_close", "任务截止后公布"),
            SelectChoice("immediate", "每题确定后立即显示（适合学习任务）"),
        ],
    )


KIND_CHOICES = [
    SelectChoice("single", "单选题"), SelectChoice("multiple", "多选题"),
    SelectChoice("truefalse", "判断题"), SelectChoice("fill", "填空题"),
]


class QuestionForm(FlaskForm):
    kind = SelectField("题型", choices=KIND_CHOICES)
    stem = TextAreaField("题干（填空题用 ____ 表示空）", validators=[DataRequired("请填写题干"), Length(max=1000)])
    option_a = StringField("选项 A", validators=[Length(max=300)])
    option_b = StringField("选项 B", validators=[Length(max=300)])
    option_c = StringField("选项 C", validators=[Length(max=300)])
    option_d = StringField("选项 D", validators=[Length(max=300)])
    option_e = StringField("选项 E", validators=[Length(max=300)])
    option_f = StringField("选项 F", validators=[Length(max=300)])
    answer = StringField(
        "答案（单选 B；多选 ACD；判断 对/错；填空每空用；分隔，同一空的不同写法用 | 分隔）",
        validators=[DataRequired("请填写答案"), Length(max=300)],
    )
    explanation = TextAreaField("解析", validators=[DataRequired("请填写解析"), Length(max=1000)])
    # Required for the 党章's questions (the bank rules say so); a question of an organisation's subject cites none.
    article = StringField("条文（第X条 或 总纲）", validators=[Optional(), Length(max=20)])
    point = SelectField("知识点", validate_choice=False)
    difficulty = SelectField("难度", choices=[SelectChoice("1", "易"), SelectChoice("2", "中"), SelectChoice("3", "难")])

    OPTION_FIELDS = ("option_a", "option_b", "option_c", "option_d", "option_e", "option_f")


class BankImportForm(FlaskForm):
    file = FileField("题库文件（表格 .xlsx/.xls/.ods/.csv、GIFT 或 Aiken .txt）", validators=[FileRequired("请选择文件")])
    subject = SelectField("导入到哪个科目（新的章节和知识点建在这个科目中；题目归科目所属的组织）", validate_choice=False)
    owner = SelectField("导入到哪个题库（题目归该组织所有，只有它的组织员能修改）", validate_choice=False)
    point = SelectField("文件中没有写知识点的题目（如 Aiken 文件）归入", validate_choice=False)


KIND_LABEL_CHOICES = [SelectChoice(k.value, k.label) for k in OrgKind]
ROLE_CHOICES = [SelectChoice(Role.SECRETARY.value, "支部书记 / 组织委员"), SelectChoice(Role.ORGANISER.value, "党委组织员")]


class OrgEditForm(FlaskForm):
    name = StringField("组织名称", validators=[DataRequired("请填写组织名称"), Length(max=100)])
    code = StringField("组织编码", validators=[DataRequired("请填写组织编码"), Length(max=40)])
    kind = SelectField("组织类型", choices=KIND_LABEL_CHOICES)


class OrgMoveForm(FlaskForm):
    parent_id = SelectField("移到哪个组织之下", coerce=db_int, validators=[InputRequired("请选择上级组织")])


class OrgActiveForm(FlaskForm):
    active = SelectField("状态", choices=[SelectChoice("0", "停用"), SelectChoice("1", "启用")],
                         validators=[DataRequired()])


class GrantForm(FlaskForm):
    member_no = StringField("党员编号", validators=[DataRequired("请填写党员编号"), Length(max=40)])
    role = SelectField("角色", choices=ROLE_CHOICES)


class OrgImportForm(FlaskForm):
    file = FileField("组织名单（.xlsx、.xls、.ods 或 .csv）", validators=[FileRequired("请选择文件")])
