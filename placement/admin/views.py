"""Administration: organisations and accounts (no public sign-up)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlmodel import select

from ..access import audit_reader_required, roles_required
from ..database import get_session
from ..forms import apply_service_errors
from ..models import Organisation, User
from ..services import accounts
from ..services import audit_log as audit_service
from ..services.errors import ServiceError
from ..timeutil import utcnow
from .forms import AuditFilterForm, ConfirmForm, InviteForm, OrganisationForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    db = get_session()
    rows = db.exec(
        select(User, Organisation).join(Organisation, Organisation.id == User.organisation_id).order_by(Organisation.name, User.email)
    ).all()
    return render_template("admin/users.html", rows=rows, confirm=ConfirmForm())


@bp.route("/users/invite", methods=["GET", "POST"])
@roles_required("admin")
def invite():
    db = get_session()
    form = InviteForm()
    form.organisation_id.choices = [(o.id, f"{o.name} ({o.state})") for o in db.exec(select(Organisation).order_by(Organisation.name)).all()]
    if form.validate_on_submit():
        organisation = db.get(Organisation, form.organisation_id.data)
        try:
            token = accounts.invite_user(db, current_user, organisation, form.email.data, form.display_name.data, form.role.data)
        except ServiceError as error:
            db.rollback()
            apply_service_errors(form, error.fields)
            flash(error.message, "error")
        else:
            db.commit()
            link = url_for("auth.accept_invitation", token=token, _external=True)
            return render_template("admin/invited.html", link=link, email=form.email.data)
    return render_template("admin/invite.html", form=form), 200 if not form.errors else 422


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
    if form.validate_on_submit():
        try:
            accounts.create_organisation(db, form.name.data, form.kind.data, form.state.data, actor=current_user)
        except ServiceError as error:
            db.rollback()
            apply_service_errors(form, error.fields)
            flash(error.message, "error")
        else:
            db.commit()
            flash("Organisation created.", "success")
            return redirect(url_for("admin.organisations"))
    orgs = db.exec(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
    return render_template("admin/organisations.html", form=form, organisations=orgs), 200 if not form.errors else 422


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
    result = audit_service.page(db, _audit_filter(form), request.args.get("page", 1, type=int))
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


# Imported last: the module adds its routes to `bp` above.
from . import outbox as _outbox_routes  # noqa: E402,F401 - registers the Outbox pages on bp
