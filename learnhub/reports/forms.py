from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..inputs import FiniteDecimalField

from ..models import ExemptionReason


class ExemptForm(FlaskForm):
    reason = SelectField("免学原因", choices=[SelectChoice(r.value, r.label) for r in ExemptionReason])
    note = StringField("说明", validators=[Length(max=200)])


class ProxyForm(FlaskForm):
    # InputRequired, not DataRequired: a score of 0 is a score.
    score = FiniteDecimalField(
        "纸质试卷得分", places=1,
        validators=[InputRequired("请填写分数"), NumberRange(0, 100, "分数应在 0 到 100 之间")],
    )
    note = StringField("代录依据", validators=[DataRequired("请注明代录依据"), Length(max=200)])
