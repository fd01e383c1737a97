from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

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
