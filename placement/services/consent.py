"""Consent for a referral: the youth's assent and the release of information (who may
receive what, signed when, expiring when), or an override with its reason and approver.

A placement request cannot be sent without consent in force. The home's operators learn
only that consent is on file, never its content. Every release and override is audited.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from .. import audit
from ..models import ReferralConsent, Referral, User
from ..timeutil import utcnow
from .errors import ServiceError

NEEDED = ("Record the youth's assent and release of information, or an approved override, "
          "before sending a placement request.")


def in_force(session: Session, referral: Referral, now: datetime | None = None) -> ReferralConsent | None:
    """The latest consent in force: an override, or a release not yet expired."""
    return in_force_among(history(session, referral), now)


def in_force_among(rows: list[ReferralConsent], now: datetime | None = None) -> ReferralConsent | None:
    """The first consent in force among `rows`, newest first (as `history` gives them)."""
    now = now or utcnow()
    return next((row for row in rows if row.kind == "override" or (row.expires_at is not None and row.expires_at > now)),
                None)


def on_file(session: Session, referral: Referral) -> bool:
    """Whether the referral has consent in force (what an operator may know of it)."""
    return referral.id in with_consent_on_file(session, [referral.id])


def with_consent_on_file(session: Session, referral_ids: list[int]) -> set[int]:
    """The ids among `referral_ids` with consent in force (as `in_force`), in one query for a list."""
    if not referral_ids:
        return set()
    in_force_now = (ReferralConsent.kind == "override") | (ReferralConsent.expires_at > utcnow())
    return set(session.exec(select(ReferralConsent.referral_id).distinct().where(
        ReferralConsent.referral_id.in_(referral_ids), in_force_now)).all())


def history(session: Session, referral: Referral) -> list[ReferralConsent]:
    return list(session.exec(
        select(ReferralConsent).where(ReferralConsent.referral_id == referral.id)
        .order_by(ReferralConsent.recorded_at.desc(), ReferralConsent.id.desc())
    ).all())


class ConsentRequired(ServiceError):
    status = 409
    code = "consent_required"


def require_on_file(session: Session, referral: Referral) -> None:
    if in_force(session, referral) is None:
        raise ConsentRequired(NEEDED, {"consent": "no consent or override on file"})


def record_release(session: Session, user: User, referral: Referral, youth_assented: bool, recipients: str,
                   information: str, signed_at: datetime | None, expires_at: datetime | None) -> ReferralConsent:
    """Record a signed release; refused (nothing stored) without assent, recipients, content or valid dates."""
    now = utcnow()
    errors = {}
    if not youth_assented:
        errors["youth_assented"] = "Without the youth's assent, record an override with its reason and approver instead."
    if not recipients.strip():
        errors["recipients"] = "Say who may receive the information."
    if not information.strip():
        errors["information"] = "Say what information may be released."
    if signed_at is None:
        errors["signed_at"] = "Enter when the release was signed."
    elif signed_at > now:
        errors["signed_at"] = "The signing time cannot be in the future."
    if expires_at is None:
        errors["expires_at"] = "Enter when the release expires."
    elif expires_at <= now:
        errors["expires_at"] = "This release has already expired."
    elif signed_at is not None and expires_at <= signed_at:
        errors["expires_at"] = "The release must expire after it was signed."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    row = ReferralConsent(
        referral_id=referral.id, kind="release", youth_assented=True, recipients=recipients.strip()[:300],
        information=information.strip()[:300], signed_at=signed_at, expires_at=expires_at, recorded_by_id=user.id,
    )
    session.add(row)
    session.flush()
    audit.record(session, "consent_release_recorded", "referral", referral.id,
                 f"consent {row.id}; expires {expires_at.isoformat(timespec='minutes')}", actor=user)
    session.commit()
    return row


def record_override(session: Session, user: User, referral: Referral, reason: str, approved_by: str) -> ReferralConsent:
    """Record an override of consent; its reason and approver are both required."""
    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why the request must go without consent."
    if not approved_by.strip():
        errors["approved_by"] = "Name the supervisor who approved the override."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    row = ReferralConsent(referral_id=referral.id, kind="override", override_reason=reason.strip()[:500],
                          approved_by=approved_by.strip()[:120], recorded_by_id=user.id)
    session.add(row)
    session.flush()
    audit.record(session, "consent_override_recorded", "referral", referral.id, f"consent {row.id}", actor=user)
    session.commit()
    return row
