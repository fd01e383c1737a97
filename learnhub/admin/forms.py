from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..models import MemberCategory

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
    org_id = SelectField("所在支部", coerce=int)
    category = SelectField("党员类别", choices=CATEGORY_CHOICES)


class NewMemberForm(MemberForm):
    password = PasswordField(
        "初始密码", validators=[DataRequired("请设置初始密码"), Length(min=8, max=128, message="密码长度应为 8–128 位")]
    )


class ImportForm(FlaskForm):
    file = FileField("党员名单（.xlsx 或 .csv）", validators=[FileRequired("请选择文件")])
    password = PasswordField(
        "初始密码（导入的党员首次登录时须修改）",
        validators=[DataRequired("请设置初始密码"), Length(min=8, max=128, message="密码长度应为 8–128 位")],
    )


class ResolveReportForm(FlaskForm):
    resolution = StringField("处理结果", validators=[Length(max=200)])
