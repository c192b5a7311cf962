"""The operator's queue and a home's offer of a bed, in the JSON API: the same access
policy, forms and services as the pages (`provider/queue.py`, `caseworker/offers.py`)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from .. import audit
from ..access import get_offer_for_operator, get_own_home, get_queue_referral, get_referral, get_referral_part, roles_required
from ..database import get_session
from ..forms.caseworker import OfferAcceptForm, OfferDeclineForm
from ..forms.provider import OfferForm
from ..models import Home, PlacementOffer
from ..services import offers
from . import schemas
from .blueprint import bp
from .bodies import validate
from .openapi import api_route
from .views import CASEWORKER, OPERATOR, _body, reply


def _offer(made: PlacementOffer) -> dict:
    return schemas.offer_json(made, get_session().get(Home, made.home_id), offers.shown_status(made))


@api_route(bp, "/queue", "GET", summary="Youths waiting for a bed that my homes could take tonight", tag="queue",
           roles=OPERATOR, response="Queue")
@roles_required(*OPERATOR)
def queue():
    """Open referrals in my homes' state (or ICPC-approved for it) with consent on file, that the
    eligibility rule accepts at one of my homes with room tonight: needs only, never case notes.
    Listing is audited."""
    session = get_session()
    entries = offers.queue(session, current_user)
    audit.record(session, "referral_listed", "referral", None, f"{len(entries)} youths in the operator's queue via api",
                 actor=current_user)
    session.commit()
    return reply({"youths": [schemas.queue_entry_json(entry) for entry in entries]})


@api_route(bp, "/queue/<int:referral_id>/offers", "POST", summary="Offer a bed at one of my homes to a waiting youth",
           tag="queue", roles=OPERATOR, response="Offer", status=201, body=OfferForm)
@roles_required(*OPERATOR)
def make_offer(referral_id: int):
    """The offer keeps the places for SAFEBED_HOLD_HOURS; the youth's caseworker is alerted."""
    session = get_session()
    referral = get_queue_referral(session, current_user, referral_id)
    home = get_own_home(session, current_user, validate(OfferForm, _body()).home_id.data)
    made = offers.offer(session, current_user, referral, home, current_app.config["HOLD_HOURS"])
    return reply(_offer(made), 201)


@api_route(bp, "/offers/<int:offer_id>/withdraw", "POST", summary="Withdraw my home's offer before the caseworker answers",
           tag="queue", roles=OPERATOR, response="Offer")
@roles_required(*OPERATOR)
def withdraw_offer(offer_id: int):
    """The places go back into availability at once; the caseworker is alerted (offer_withdrawn)."""
    session = get_session()
    made = get_offer_for_operator(session, current_user, offer_id)
    return reply(_offer(offers.withdraw(session, current_user, made)))


@api_route(bp, "/referrals/<int:referral_id>/offers", "GET", summary="Beds homes offered to this youth",
           tag="bookings", roles=CASEWORKER, response="OfferList")
@roles_required(*CASEWORKER)
def referral_offers(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id)
    audit.record(session, "referral_viewed", "referral", item.id, "offers via api", actor=current_user)
    session.commit()
    return reply({"offers": [schemas.offer_json(made, home, offers.shown_status(made))
                             for made, home in offers.for_referral(session, item)]})


def _offer_of(referral_id: int, offer_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    return item, get_referral_part(session, current_user, item, PlacementOffer, offer_id, "placement_offer")


@api_route(bp, "/referrals/<int:referral_id>/offers/<int:offer_id>/accept", "POST",
           summary="Accept a home's offer of a bed: the placement is made", tag="bookings", roles=CASEWORKER,
           response="OfferAccepted", body=OfferAcceptForm, partial=True)
@roles_required(*CASEWORKER)
def accept_offer(referral_id: int, offer_id: int):
    """Like an operator's accept: every other request, hold and offer of the referral ends in the same
    transaction. Needs consent in force (409 consent_required); an ICWA youth may need good_cause."""
    item, made = _offer_of(referral_id, offer_id)
    body = _body()
    form = validate(OfferAcceptForm, {} if body is None else body)  # no body: no ICWA good cause
    placement = offers.accept(get_session(), current_user, item, made, (form.good_cause.data or "").strip())
    return reply({"offer": _offer(made), "placement_id": placement.id})


@api_route(bp, "/referrals/<int:referral_id>/offers/<int:offer_id>/decline", "POST",
           summary="Decline a home's offer of a bed with a reason", tag="bookings", roles=CASEWORKER,
           response="Offer", body=OfferDeclineForm)
@roles_required(*CASEWORKER)
def decline_offer(referral_id: int, offer_id: int):
    item, made = _offer_of(referral_id, offer_id)
    form = validate(OfferDeclineForm, _body())
    return reply(_offer(offers.decline(get_session(), current_user, item, made, form.reason.data)))
