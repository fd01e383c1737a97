from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from ..extensions import limiter
from ..inputs import local_path
from ..security import REMEMBER_COOKIE, device_key, sign_in_device, sign_out_device
from ..services import ServiceError
from ..services.auth import accounts, passwords, sessions
from ..services.auth import login as logins
from ..services.auth.accounts import HashSettings
from . import bp
from .display import device_choice
from .forms import ChangePasswordForm, LoginForm


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("study.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with a member number or phone number and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("study.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            signed_in = logins.sign_in(
                current_app.extensions["learnhub.login_rules"], current_app.extensions["learnhub.counters"],
                form.identifier.data, form.password.data, request.remote_addr or "",
                request.headers.get("User-Agent", ""), remember=form.remember.data, large_type=device_choice(),
            )
        except logins.LoginError as exc:
            form.password.errors.append(str(exc))
            return render_template("auth/login.html", form=form), 429 if isinstance(exc, logins.LoginThrottled) else 200
        sign_in_device(signed_in.user, signed_in.issued)
        if signed_in.user.must_change_password:
            flash("首次登录或密码被重置后，请先设置新密码", "info")
            return redirect(url_for("auth.change_password"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out of this device: its session and its remember-me token stop working on the server too."""
    sessions.end(device_key(), request.cookies.get(REMEMBER_COOKIE))
    sign_out_device()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


# A refusal's field (services.FieldError) -> the field of the form it stands beside.
_CHANGE_FIELDS = {"current": "current", "new": "new", "password": "new"}


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
def change_password():
    """Set a new password (forced after a first login or a reset); every other device is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(_settings(), current_user, form.current.data, form.new.data, device_key())
        except ServiceError as exc:
            getattr(form, _CHANGE_FIELDS.get(getattr(exc, "field", ""), "new")).errors.append(str(exc))
        else:
            login_user(current_user)  # the session version changed; this device's key did not
            flash("密码已修改，其他设备已退出登录", "success")
            return redirect(url_for("study.index"))
    return render_template("auth/change_password.html", form=form, hint=passwords.HINT)


@bp.get("/account")
@login_required
def account():
    """The member's account: the devices signed in, signing one out, or every one."""
    return render_template(
        "auth/account.html", devices=sessions.devices(current_user),
        current_id=sessions.current_device_id(current_user, device_key()),
        session_hours=current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() // 3600,
    )


@bp.post("/devices/<int:device_id>/sign-out")
@login_required
def device_sign_out(device_id: int):
    """Sign one of the member's own devices out (its remember-me token too); anyone else's is 404."""
    try:
        sessions.revoke(current_user, device_id)
    except ServiceError:
        abort(404)
    flash("这台设备已退出登录", "success")
    return redirect(url_for("auth.account"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """Sign out of every device, this one included; every remember-me token stops working."""
    sessions.sign_out_everywhere(current_user)
    sign_out_device()
    flash("已在所有设备上退出登录", "info")
    return redirect(url_for("auth.login"))
