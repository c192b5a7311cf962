"""The caseworker's "Ask the coordinator" when no home accepts the youth."""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_login import current_user

from ..access import get_referral, roles_required
from ..alert_forms import AskCoordinatorForm
from ..database import get_session
from ..services import escalations
from ..services.errors import ServiceError
from .views import bp


@bp.post("/referrals/<int:referral_id>/ask-coordinator")
@roles_required("caseworker")
def ask_coordinator(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    if not AskCoordinatorForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("caseworker.search_beds", referral_id=item.id))
    try:
        escalations.ask_coordinator(session, current_user, item, current_app.config["STALE_AFTER_HOURS"])
    except ServiceError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for("caseworker.search_beds", referral_id=item.id))
    flash("The coordinator has been asked; their answer appears on this referral.", "success")
    return redirect(url_for("caseworker.referral", referral_id=item.id))
