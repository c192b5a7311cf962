"""The demo's request-to-arrival world: consent on the open referrals, a youth in transit,
and a youth whose arrival is overdue (the scheduler's `flag_missed_arrivals` raises it).

Uses no random numbers, so the rest of the demo world is the same with or without it.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from ..models import ReferralConsent
from ..timeutil import utcnow

CONSENT_RECIPIENTS = "The accepting home's intake staff and the placing agency"
CONSENT_INFORMATION = "Needs listed on the referral, custody order, medical consent, ICPC approval"


def add_consent(session: Session, referral, caseworker) -> ReferralConsent:
    """A signed release of information for a demo referral, in force for 30 days."""
    now = utcnow()
    row = ReferralConsent(referral_id=referral.id, kind="release", youth_assented=True, recipients=CONSENT_RECIPIENTS,
                          information=CONSENT_INFORMATION, signed_at=now - timedelta(hours=2),
                          expires_at=now + timedelta(days=30), recorded_by_id=caseworker.id)
    session.add(row)
    return row


def add_handoffs(session: Session) -> None:
    """Two MO youths placed through the usual booking code: one on the way to the home, one
    whose arrival is overdue (the scheduler's next `flag_missed_arrivals` tick alerts both
    sides; the referral page then offers the one-tap missing episode). Deterministic."""
    from sqlmodel import select

    from ..models import Handoff, Organisation, Referral, User
    from ..services import booking
    from ..services.search import search

    caseworker_ids = select(User.id).join(Organisation).where(Organisation.state == "MO", User.role == "caseworker")
    candidates = session.exec(
        select(Referral).where(Referral.custody_state == "MO", Referral.status == "open",
                               Referral.created_by_id.in_(caseworker_ids)).order_by(Referral.id)
    ).all()
    trips = [(0.5, -1.0, "Jordan Reyes, agency transport"), (3.0, 1.5, "Casey Morgan, agency caseworker")]
    for referral in candidates:
        if not trips:
            break
        found = search(session, referral, 24)
        if not found.available:
            continue
        home = found.available[0].home
        caseworker = session.get(User, referral.created_by_id)
        operator = session.exec(select(User).where(User.organisation_id == home.provider_id, User.role == "operator")).first()
        request = booking.request_placement(session, caseworker, referral, home.id)
        placement = booking.accept(session, operator, request)
        departed_hours, expected_hours, escort = trips.pop(0)
        now = utcnow()
        placement.started_at = now - timedelta(hours=departed_hours + 1)
        session.add(placement)
        session.add(Handoff(placement_id=placement.id, escort_name=escort, recorded_by_id=caseworker.id,
                            departed_at=now - timedelta(hours=departed_hours),
                            expected_arrival_at=now - timedelta(hours=expected_hours)))
        session.commit()
