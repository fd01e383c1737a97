from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    identifier = StringField("党员编号或手机号", validators=[DataRequired("请输入党员编号或手机号"), Length(max=32)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    remember = BooleanField("在这台设备上保持登录")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)])
    # The rule itself (length, common passwords, the member's own numbers) is the service's: passwords.py.
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128, message="密码最多 128 位")])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("new", "两次输入的新密码不一致")])


class LargeTypeForm(FlaskForm):
    """The 大字 switch of every page: the state to switch to."""

    large = StringField(validators=[AnyOf(["0", "1"], "无法识别的字号设置")])
