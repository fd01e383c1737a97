from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from ..services import ServiceError, accounts
from ..services.accounts import HashSettings
from . import bp
from .forms import ChangePasswordForm, LoginForm


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and not urlsplit(target).scheme and target.startswith("/"):
        return target
    return url_for("study.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with a member number or phone number and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("study.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                _settings(), form.identifier.data, form.password.data,
                current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except accounts.LoginError as exc:
            form.password.errors.append(str(exc))
            return render_template("auth/login.html", form=form), 200
        session.permanent = True
        login_user(user, remember=form.remember.data)
        if user.must_change_password:
            flash("首次登录或密码被重置后，请先设置新密码", "info")
            return redirect(url_for("auth.change_password"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out of this device."""
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
def change_password():
    """Set a new password (forced after a first login or a reset)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(_settings(), current_user, form.current.data, form.new.data)
        except ServiceError as exc:
            form.new.errors.append(str(exc))
        else:
            login_user(current_user)  # the session version changed: keep this device logged in
            flash("密码已修改", "success")
            return redirect(url_for("study.index"))
    return render_template("auth/change_password.html", form=form)
