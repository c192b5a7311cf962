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
