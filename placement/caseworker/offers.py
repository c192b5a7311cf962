"""A home's offer of a bed, answered on the referral page: accept (the placement is made) or decline."""
from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user

from ..access import get_referral, get_referral_part, roles_required
from ..database import get_session
from ..forms.caseworker import OfferAcceptForm, OfferDeclineForm
from ..models import PlacementOffer
from ..services import offers
from ..web.actions import submit
from .blueprint import bp
from .pages import referral_page


def _offer_of(referral_id: int, offer_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    return item, get_referral_part(session, current_user, item, PlacementOffer, offer_id, "placement_offer")


def _answered(item, form, action, success: str, name: str):
    """Run the answer; on refusal show the referral page again with the form's messages."""
    outcome = submit(form, action, success)
    if outcome.done:
        return redirect(url_for("caseworker.referral", referral_id=item.id))
    get_session().refresh(item)
    return referral_page(item, outcome.status, **{name: form})


@bp.post("/referrals/<int:referral_id>/offers/<int:offer_id>/accept")
@roles_required("caseworker")
def accept_offer(referral_id: int, offer_id: int):
    item, made = _offer_of(referral_id, offer_id)
    form = OfferAcceptForm()
    return _answered(item, form,
                     lambda: offers.accept(get_session(), current_user, item, made, (form.good_cause.data or "").strip()),
                     "Offer accepted: the youth is placed. The home's address and intake phone are below.", "offer_accept_form")


@bp.post("/referrals/<int:referral_id>/offers/<int:offer_id>/decline")
@roles_required("caseworker")
def decline_offer(referral_id: int, offer_id: int):
    item, made = _offer_of(referral_id, offer_id)
    form = OfferDeclineForm()
    return _answered(item, form, lambda: offers.decline(get_session(), current_user, item, made, form.reason.data),
                     "Offer declined; the home has been told.", "offer_decline_form")
