"""The operator's queue: waiting youths their homes could take tonight, and offering a bed."""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from .. import audit
from ..access import get_offer_for_operator, get_own_home, get_queue_referral, roles_required
from ..database import get_session
from ..forms.provider import OfferForm
from ..services import offers
from ..web.actions import perform
from ..web.shortlist import SHOWN, shown_count
from .blueprint import bp


def queue_page(status_code: int = 200):
    """The queue, and the organisation's latest offers; listing the youths is an audited read."""
    session = get_session()
    entries = offers.queue(session, current_user)
    mine = offers.own_offers(session, current_user)
    audit.record(session, "referral_listed", "referral", None, f"{len(entries)} youths in the operator's queue",
                 actor=current_user)
    session.commit()
    return render_template("provider/queue.html", entries=entries, shown=shown_count(SHOWN), mine=mine, offer_form=OfferForm(),
                           hold_hours=f"{current_app.config['HOLD_HOURS']:g}", shown_status=offers.shown_status), status_code


@bp.get("/queue")
@roles_required("operator")
def queue():
    return queue_page()


@bp.post("/queue/<int:referral_id>/offer")
@roles_required("operator")
def make_offer(referral_id: int):
    session = get_session()
    referral = get_queue_referral(session, current_user, referral_id)
    form = OfferForm()
    if not form.validate_on_submit():
        return queue_page(400)
    home = get_own_home(session, current_user, form.home_id.data)
    hours = current_app.config["HOLD_HOURS"]
    outcome = perform(lambda: offers.offer(session, current_user, referral, home, hours),
                      f"Bed offered at {home.name}. It is kept for {hours:g} hours while the caseworker decides.")
    if not outcome.done:
        return queue_page(outcome.status)
    return redirect(url_for("provider.queue"))


@bp.post("/offers/<int:offer_id>/withdraw")
@roles_required("operator")
def withdraw_offer(offer_id: int):
    session = get_session()
    made = get_offer_for_operator(session, current_user, offer_id)
    outcome = perform(lambda: offers.withdraw(session, current_user, made),
                      "Offer withdrawn: the bed is back in your availability and the caseworker has been told.")
    if not outcome.done:
        return queue_page(outcome.status)
    return redirect(url_for("provider.queue"))
