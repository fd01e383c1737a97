from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..inputs import db_int
from ..models import MEETING_KIND_LABELS, MeetingKind
from ..services.meetings import MAX_QUESTIONS, MIN_QUESTIONS
from ..services.meetings.setup import MAX_SECONDS, MIN_SECONDS


class MeetingForm(FlaskForm):
    title = StringField("会议名称", validators=[DataRequired("请填写会议名称"), Length(max=200, message="会议名称不能超过 200 个字")])
    kind = SelectField("会议类型", choices=[SelectChoice(k.value, label) for k, label in MEETING_KIND_LABELS.items()],
                       default=MeetingKind.GENERAL.value)
    questions = SelectMultipleField(
        f"题目（{MIN_QUESTIONS}–{MAX_QUESTIONS} 道；默认来自本支部最薄弱的知识点）", coerce=db_int,
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False), validate_choice=False,
    )
    keys = StringField("另加题目编号（可选，用空格或逗号分隔）", validators=[Optional(), Length(max=500)])
    seconds = IntegerField("每题答题时间（秒）", default=60, validators=[
        NumberRange(MIN_SECONDS, MAX_SECONDS, f"每题时间应在 {MIN_SECONDS} 到 {MAX_SECONDS} 秒之间")])


class CodeForm(FlaskForm):
    code = StringField("会议码", validators=[DataRequired("请输入屏幕上的会议码"), Length(max=40)])


class GuestForm(FlaskForm):
    member_no = StringField("受邀人员的党员编号", validators=[DataRequired("请输入党员编号"), Length(max=32)])
