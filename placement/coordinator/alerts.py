"""Coordinator pages for alerts: Needs a bed now (with escalations) and response times."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from solver.model import US_STATES

from ..access import get_escalation, roles_required
from ..alert_forms import ResolveEscalationForm
from ..database import get_session
from ..models import ESCALATION_KINDS
from ..services import escalations, response_times as response_service
from ..services.errors import ServiceError
from .views import COORDINATOR_ROLES, _state, _state_args, _viewed, bp


@bp.get("/needs-a-bed")
@roles_required(*COORDINATOR_ROLES)
def needs_bed():
    state = _state()
    items = escalations.needs_a_bed(get_session(), state, current_app.config["STALE_AFTER_HOURS"])
    _viewed("needs_bed_viewed", state, f", {len(items)} referrals")
    return render_template("coordinator/needs_bed.html", items=items, state=state, states=US_STATES,
                           state_args=_state_args(state), kinds=ESCALATION_KINDS, form=ResolveEscalationForm(formdata=None),
                           escalate_minutes=int(current_app.config["ESCALATE_MINUTES"]))


@bp.post("/escalations/<int:escalation_id>/resolve")
@roles_required(*COORDINATOR_ROLES)
def resolve_escalation(escalation_id: int):
    session = get_session()
    escalation = get_escalation(session, current_user, escalation_id)
    form = ResolveEscalationForm()
    if form.validate_on_submit():
        try:
            escalations.resolve(session, current_user, escalation, form.note.data or "")
        except ServiceError as error:
            session.rollback()
            flash(error.message, "error")
        else:
            flash("Marked handled; the caseworker sees your note on the referral.", "success")
    else:
        flash("The note is too long (200 characters at most).", "error")
    return redirect(url_for("coordinator.needs_bed", **_state_args(escalation.state)))


@bp.get("/response-times")
@roles_required(*COORDINATOR_ROLES)
def response_times():
    state = _state()
    figures = response_service.response_times(get_session(), state=state)
    _viewed("response_times_viewed", state)
    return render_template("coordinator/response_times.html", figures=figures, state=state, states=US_STATES,
                           state_args=_state_args(state))
