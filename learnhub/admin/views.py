from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import SelectChoice

from ..auth.decorators import current_scope, scoped_org_or_404
from ..extensions import db
from ..models import (
    AssignmentKind,
    KnowledgePoint,
    MemberCategory,
    Organisation,
    PointLevel,
    QuestionReport,
    Scoring,
    ShowAnswers,
    Subject,
    User,
)
from ..services import ServiceError
from ..services.auth import accounts
from ..services.exam import assignments
from ..services.bank import access as bank_access, question_reports, subjects
from ..services.bank.places import subject_label
from ..services.study import materials
from ..services.auth.accounts import HashSettings, MemberData
from ..services.exam.assignments import AssignmentData, DrawRule
from ..services.orgs import orgs_in_scope, usable_orgs, within
from . import bp
from .forms import AssignmentForm, MemberForm, NewMemberForm, ResolveReportForm

PAGE_SIZE = 50


def _settings() -> HashSettings:
    return HashSettings.from_config(current_app.config)


def _member_or_404(user_id: int) -> User:
    """A member the viewer may manage: 404 outside their organisation, 403 for someone with more authority."""
    user = db.get_or_404(User, user_id)
    scoped_org_or_404(user.org_id)
    if not current_scope().can_manage(user):
        abort(403)
    return user


def _org_choices(form: MemberForm, user: User | None = None) -> None:
    """Organisations in scope that are not disabled (and the member's own, even if it is)."""
    orgs = [o for o in orgs_in_scope(current_scope()) if o.active or (user is not None and o.id == user.org_id)]
    form.org_id.choices = [SelectChoice(o.id, "　" * max(o.depth, 0) + o.name) for o in orgs]


def _data(form: MemberForm) -> MemberData:
    return MemberData(
        name=form.name.data, member_no=form.member_no.data.strip(), phone=(form.phone.data or "").strip() or None,
        org=scoped_org_or_404(form.org_id.data), category=MemberCategory(form.category.data),
    )


@bp.get("/members")
def members_list():
    """List the members the viewer manages, filtered by organisation or a search term."""
    scope = current_scope()
    stmt = select(User).join(Organisation, Organisation.id == User.org_id).where(scope.org_clause())
    org_id = request.args.get("org", type=int)
    org = scoped_org_or_404(org_id) if org_id is not None else None
    if org is not None:
        stmt = stmt.where(within(Organisation.path, org.path))
    term = request.args.get("q", "").strip()[:50]
    if term:
        stmt = stmt.where(or_(User.name.contains(term), User.member_no.contains(term), User.phone.contains(term)))
    page = db.paginate(stmt.order_by(Organisation.path, User.member_no), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "admin/members_list.html", page=page, orgs=orgs_in_scope(scope), org=org, term=term, form=FlaskForm()
    )


@bp.route("/members/new", methods=["GET", "POST"])
def member_new():
    """Add one member, who must change the first password at first login."""
    form = NewMemberForm()
    _org_choices(form)
    if form.validate_on_submit():
        try:
            user = accounts.create_member(_settings(), _data(form), form.password.data)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已添加党员 {user.name}", "success")
            return redirect(url_for("admin.members_list"))
    return render_template("admin/member_form.html", form=form, title="添加党员")


@bp.route("/members/<int:user_id>/edit", methods=["GET", "POST"])
def member_edit(user_id: int):
    """Edit a member's details."""
    user = _member_or_404(user_id)
    form = MemberForm(obj=user) if request.method == "GET" else MemberForm()
    if request.method == "GET":
        form.category.data = user.category.value  # obj= would give the enum, which matches no choice
    _org_choices(form, user)
    if form.validate_on_submit():
        try:
            accounts.update_member(user, _data(form))
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已保存 {user.name} 的信息", "success")
            return redirect(url_for("admin.members_list"))
    return render_template("admin/member_form.html", form=form, title=f"编辑党员：{user.name}", user=user, action_form=FlaskForm())


@bp.post("/members/<int:user_id>/reset-password")
def member_reset(user_id: int):
    """Give a member a temporary password, shown once, which they must change at next login."""
    user = _member_or_404(user_id)
    if FlaskForm().validate_on_submit():
        temporary = accounts.reset_password(_settings(), user)
        flash(f"{user.name} 的临时密码：{temporary}（仅显示这一次，对方登录后须修改）", "success")
    return redirect(url_for("admin.member_edit", user_id=user.id))


def _organiser_only() -> None:
    if not current_scope().is_organiser:
        abort(403)


@bp.get("/question-reports")
def question_reports_list():
    """The queue of questions members marked as faulty: to resolve for the questions the viewer owns."""
    _organiser_only()
    return render_template(
        "admin/question_reports.html", queue=question_reports.open_reports(current_scope()), form=ResolveReportForm()
    )


@bp.post("/question-reports/<int:report_id>/resolve")
def question_report_resolve(report_id: int):
    """Close a report with what was done about it (the question's owners only)."""
    _organiser_only()
    report, scope = db.get_or_404(QuestionReport, report_id), current_scope()
    if not question_reports.sees(scope, report):
        abort(404)
    if not bank_access.can_edit(scope, report.question):
        abort(403)  # seen by the viewer (their member filed it), but the question's owner decides
    form = ResolveReportForm()
    if form.validate_on_submit():
        try:
            question_reports.resolve(scope, report, current_user, form.resolution.data or "")
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("已标记为处理完毕", "success")
    return redirect(url_for("admin.question_reports_list"))


def _tree_choices() -> list[SelectChoice]:
    """For draw rules: each subject the viewer sees (the whole of it), then its parts, articles and
    knowledge points indented as a tree. A subject's value is "s<id>", a node's its id."""
    scope = current_scope()
    nodes = list(db.session.scalars(select(KnowledgePoint).where(bank_access.node_visible(scope))
                                    .order_by(KnowledgePoint.position, KnowledgePoint.id)))
    children: dict[tuple[int, int | None], list[KnowledgePoint]] = {}
    for node in nodes:
        children.setdefault((node.subject_id, node.parent_id), []).append(node)
    out = [SelectChoice("0", "（不使用这一行）")]

    def walk(subject_id, parent_id, depth):
        for node in children.get((subject_id, parent_id), []):
            suffix = "（全部）" if node.level is not PointLevel.POINT else ""
            out.append(SelectChoice(str(node.id), "　" * depth + node.name + suffix))
            walk(subject_id, node.id, depth + 1)

    for subject in subjects.visible_subjects(scope):
        out.append(SelectChoice(f"s{subject.id}", f"【{subject_label(subject)}】整个科目"))
        walk(subject.id, None, 1)
    return out


def _assignment_form() -> AssignmentForm:
    form = AssignmentForm()
    form.org_id.choices = [SelectChoice(o.id, "　" * max(o.depth, 0) + o.name) for o in usable_orgs(current_scope())]
    form.materials.choices = [SelectChoice(m.id, m.title) for m in materials.list_materials(current_scope())]
    tree = _tree_choices()
    for rule in form.rules:
        rule.node.choices = tree
    return form


def _draw_rule(target: str, count: int, difficulty: str) -> DrawRule:
    """A draw rule from the form: "s<id>" is a whole subject, a number a node (404 if there is none)."""
    level = int(difficulty) if difficulty in ("1", "2", "3") else None
    if target.startswith("s"):
        return DrawRule(None, count, level, subject=db.get_or_404(Subject, int(target[1:])))
    return DrawRule(db.get_or_404(KnowledgePoint, int(target)), count, level)


def _local(value: datetime) -> datetime:
    return value.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).astimezone(timezone.utc)


def _assignment_data(form: AssignmentForm) -> AssignmentData:
    rules = [_draw_rule(r.node.data, r.count.data, r.difficulty.data)
             for r in form.rules if r.node.data and r.node.data != "0" and r.count.data]
    chosen = set(form.materials.data or [])
    return AssignmentData(
        title=form.title.data, kind=AssignmentKind(form.kind.data), org=scoped_org_or_404(form.org_id.data),
        opens_at=_local(form.opens_at.data), closes_at=_local(form.closes_at.data), pass_mark=form.pass_mark.data,
        time_limit_minutes=form.time_limit_minutes.data, max_attempts=form.max_attempts.data,
        scoring=Scoring(form.scoring.data), show_answers=ShowAnswers(form.show_answers.data),
        materials=[m for m in materials.list_materials(current_scope()) if m.id in chosen], rules=rules,
        per_member=form.per_member.data == "1", read_first=form.read_first.data == "1",
    )


@bp.route("/assignments/new", methods=["GET", "POST"])
def assignment_new():
    """Give a study task or an exam to an organisation and everything beneath it."""
    form = _assignment_form()
    if form.validate_on_submit():
        try:
            item = assignments.create_assignment(current_scope(), _assignment_data(form), current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"已布置「{item.title}」", "success")
            return redirect(url_for("reports.assignment", assignment_id=item.id))
    elif request.method == "GET":
        now = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).replace(second=0, microsecond=0, tzinfo=None)
        form.opens_at.data, form.closes_at.data = now, now + timedelta(days=14)
    return render_template("admin/assignment_form.html", form=form)
