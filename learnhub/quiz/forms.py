from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ReportQuestionForm(FlaskForm):
    note = TextAreaField(
        "哪里有误？", validators=[DataRequired("请写明哪里有误"), Length(max=500, message="最多 500 字")]
    )
