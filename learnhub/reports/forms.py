from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..inputs import db_int
from ..models import ExemptionReason


class ExemptForm(FlaskForm):
    reason = SelectField("免学原因", choices=[SelectChoice(r.value, r.label) for r in ExemptionReason])
    # Both forms of the member page have a note: each its own id, so labels and errors find the right one.
    note = StringField("说明（原因选“其他”时必填）", id="exempt-note", validators=[Length(max=200)])


class ProxyForm(FlaskForm):
    # Text, checked by the service (exemptions.paper_score): 0 is a score, and "59.96" is refused, not rounded.
    score = StringField("纸质试卷得分", validators=[InputRequired("请填写分数")],
                        render_kw={"inputmode": "decimal", "step": "0.1", "min": "0", "max": "100"})
    note = StringField("代录依据", id="proxy-note", validators=[DataRequired("请注明代录依据"), Length(max=200)])


class RecheckForm(FlaskForm):
    # Choices are the source assignment's points, set by the view; the service checks them again.
    points = SelectMultipleField("复测的知识点", coerce=db_int, validate_choice=False,
                                 validators=[DataRequired("请至少选择一个知识点")])
    count = IntegerField("题数", validators=[InputRequired("请填写题数"), NumberRange(1, 50, "题数应在 1 到 50 之间")],
                         render_kw={"inputmode": "numeric", "min": "1", "max": "50"})
    closes_at = DateTimeLocalField("截止时间", format="%Y-%m-%dT%H:%M", validators=[InputRequired("请填写截止时间")])
    time_limit_minutes = IntegerField("限时（分钟，不填为不限时）", validators=[Optional(), NumberRange(1, 600, "限时应在 1 到 600 分钟之间")],
                                      render_kw={"inputmode": "numeric", "min": "1", "max": "600"})
    title = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=200, message="名称最多 200 字")])

    def validate_closes_at(self, field) -> None:
        # Year 1 or 9999 would overflow when turned into UTC.
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError("请填写 2000 到 2100 年之间的截止时间")
