"""Administration: organisations and accounts (no public sign-up)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from ..access import audit_reader_required, roles_required
from ..database import get_session
from ..forms.admin import AuditFilterForm, ConfirmForm, InviteForm, OrganisationForm
from ..models import Organisation, User
from ..services import accounts
from ..services import audit_log as audit_service
from ..timeutil import utcnow
from ..web.actions import form_status, submit
from ..web.links import absolute_url
from .blueprint import bp


@bp.get("/users")
@roles_required("admin")
def users():
    rows = accounts.users_with_organisations(get_session())
    return render_template("admin/users.html", rows=rows, confirm=ConfirmForm())


@bp.route("/users/invite", methods=["GET", "POST"])
@roles_required("admin")
def invite():
    db = get_session()
    form = InviteForm()
    form.organisation_id.choices = [(o.id, f"{o.name} ({o.state})") for o in accounts.organisations(db)]
    outcome = submit(form, lambda: accounts.invite_user(db, current_user, db.get(Organisation, form.organisation_id.data),
                                                        form.email.data, form.display_name.data, form.role.data), commit=True)
    if outcome.done:
        link = absolute_url("auth.accept_invitation", token=outcome.value)
        return render_template("admin/invited.html", link=link, email=form.email.data)
    return render_template("admin/invite.html", form=form), form_status(form)


def _user_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/<any(unlock, deactivate, activate):action>")
@roles_required("admin")
def user_action(user_id: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    user = _user_or_404(user_id)
    if user.id == current_user.id and action == "deactivate":
        flash("You cannot deactivate your own account.", "error")
        return redirect(url_for("admin.users"))
    if action == "unlock":
        accounts.unlock(db, current_user, user)
    else:
        accounts.set_active(db, current_user, user, action == "activate")
    db.commit()
    flash(f"{user.email}: {action} done.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/organisations", methods=["GET", "POST"])
@roles_required("admin")
def organisations():
    db = get_session()
    form = OrganisationForm()
    if submit(form, lambda: accounts.create_organisation(db, form.name.data, form.kind.data, form.state.data, actor=current_user),
              "Organisation created.", commit=True).done:
        return redirect(url_for("admin.organisations"))
    orgs = accounts.organisations(db, by_kind=True)
    return render_template("admin/organisations.html", form=form, organisations=orgs), form_status(form)


def _audit_filter_form(db) -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.set_choices(*audit_service.choices(db))
    return form


def _audit_filter(form: AuditFilterForm) -> audit_service.AuditFilter:
    return audit_service.make_filter(
        current_user.timezone, form.action.data, form.actor_email.data, form.object_type.data,
        form.object_id.data, form.date_from.data, form.date_to.data,
    )


@bp.get("/audit")
@audit_reader_required
def audit_log():
    db = get_session()
    form = _audit_filter_form(db)
    if not form.validate():
        return render_template("admin/audit.html", form=form, result=None, query={}), 422
    result = audit_service.page(db, _audit_filter(form), before=request.args.get("before", type=int),
                                after=request.args.get("after", type=int))
    return render_template("admin/audit.html", form=form, result=result, query=form.query_args())


@bp.get("/audit.csv")
@audit_reader_required
def audit_csv():
    db = get_session()
    form = _audit_filter_form(db)
    if not form.validate():
        return render_template("admin/audit.html", form=form, result=None, query={}), 422
    lines = audit_service.export_csv(db, current_user, _audit_filter(form))
    filename = f"safebed-audit-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
