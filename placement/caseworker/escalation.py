"""The caseworker's "Ask the coordinator" when no home accepts the youth."""
from __future__ import annotations

from flask import current_app, redirect, url_for
from flask_login import current_user

from ..access import get_referral, roles_required
from ..database import get_session
from ..forms.alerts import AskCoordinatorForm
from ..services import escalations
from ..web.actions import submit
from .blueprint import bp


@bp.post("/referrals/<int:referral_id>/ask-coordinator")
@roles_required("caseworker")
def ask_coordinator(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    outcome = submit(AskCoordinatorForm(),
                     lambda: escalations.ask_coordinator(session, current_user, item, current_app.config["STALE_AFTER_HOURS"]),
                     "The coordinator has been asked; their answer appears on this referral.",
                     invalid_message="The form expired; try again.")
    if outcome.done:
        return redirect(url_for("caseworker.referral", referral_id=item.id))
    return redirect(url_for("caseworker.search_beds", referral_id=item.id))
