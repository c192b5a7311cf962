"""One referral as its page and its API answer show it, read in one place.

The caseworker's referral page and the API's referral detail both call `detail()`:
the read is audited, the bookings are gathered, the accepting home's street address
is disclosed (and audited) only once that home accepted, and the consent, the homes'
offers of a bed, the handoff and intake packet come with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ..access import disclosed_placement_address
from ..models import Referral, ReferralConsent, User
from . import booking, consent, offers, referrals


@dataclass
class ReferralDetail:
    referral: Referral
    status: str  # with hold expiry applied at read time
    history: list
    bookings: dict
    address: str | None  # the accepting home's street address, once it accepted
    consent: ReferralConsent | None  # the consent in force
    consent_history: list
    extra: dict[str, Any]
    offers: list  # (offer, home): beds homes offered from their queue, newest first


def detail(session: Session, user: User, referral: Referral, via: str = "") -> ReferralDetail:
    """Read the referral (audited) with its bookings; the address while the accepted placement
    lasts (audited; `access.placement_is_live`)."""
    referrals.read(session, user, referral)
    bookings = booking.referral_bookings(session, referral)
    address = None
    if bookings["placement"] is not None:
        placed, home, _ = bookings["placement"]
        address = disclosed_placement_address(session, user, placed, home, f"referral {referral.id}{' ' + via if via else ''}")
    consent_history = consent.history(session, referral)
    return ReferralDetail(
        referral=referral, status=booking.effective_status(session, referral),
        history=referrals.history(session, referral), bookings=bookings, address=address,
        consent=consent.in_force_among(consent_history), consent_history=consent_history, extra={},
        offers=offers.for_referral(session, referral),
    )
