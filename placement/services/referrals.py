"""Referrals: a caseworker's request for a placement for one youth."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from solver.instance import URGENCIES

from .. import audit
from ..access import scope_referrals
from ..models import Hold, Placement, PlacementOffer, PlacementRequest, Referral, ReferralEvent, User
from ..timeutil import utcnow
from .errors import Conflict, ServiceError


def most_urgent_first(referral: Referral) -> tuple[int, datetime, int]:
    """Sort key of the lists of youths waiting for a bed: the most urgent first, then the
    longest waiting (then the first made: a stable order between equal times).
    `MOST_URGENT_FIRST` is the same order in SQL."""
    return URGENCIES.index(referral.urgency), referral.created_at, referral.id


# `most_urgent_first` as an ORDER BY, for lists ordered by the database (both read the
# urgency rank from URGENCIES; a test on generated referrals keeps the two orders equal).
MOST_URGENT_FIRST = (
    sa.case({urgency: rank for rank, urgency in enumerate(URGENCIES)}, value=Referral.urgency),
    Referral.created_at,
    Referral.id,
)

REFERRAL_FIELDS = (
    "case_reference", "age", "gender", "urgency", "pregnant", "children_with", "substance_use",
    "medical_level", "mental_health_level", "language", "cultural_need", "custody_state",
    "icpc_approved_states", "programs", "county", "lat", "lon", "max_distance_km", "sibling_group",
    "has_run_before", "case_notes",
)
ACTIVE_STATUSES = ("open", "held", "requested", "declined")


def set_status(session: Session, referral: Referral, status: str, actor: User | None, note: str = "") -> None:
    """Move the referral to `status` and record who did it, in the caller's transaction."""
    referral.status = status
    referral.updated_at = utcnow()
    session.add(referral)
    session.add(ReferralEvent(referral_id=referral.id, status=status, actor_id=actor.id if actor else None, note=note[:200]))


def _check(session: Session, values: dict, agency_id: int, referral_id: int | None) -> None:
    errors = {}
    clash = session.exec(
        select(Referral.id).where(
            Referral.agency_id == agency_id,
            Referral.case_reference == values["case_reference"],
            Referral.id != (referral_id or -1),
        )
    ).first()
    if clash is not None:
        errors["case_reference"] = "Your agency already has a referral with this case reference."
    if values["custody_state"] in values["icpc_approved_states"]:
        errors["icpc_approved_states"] = "The custody state needs no ICPC approval; list only other states."
    if values["children_with"] and values["age"] < 12:
        errors["children_with"] = "A parenting youth under 12 is not plausible; check the age."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)


def create(session: Session, user: User, values: dict) -> Referral:
    _check(session, values, user.organisation_id, None)
    referral = Referral(agency_id=user.organisation_id, created_by_id=user.id, **{k: values[k] for k in REFERRAL_FIELDS})
    session.add(referral)
    session.flush()
    session.add(ReferralEvent(referral_id=referral.id, status="open", actor_id=user.id, note="referral opened"))
    audit.record(session, "referral_created", "referral", referral.id, f"urgency {referral.urgency}", actor=user)
    session.commit()
    return referral


def update(session: Session, user: User, referral: Referral, values: dict) -> Referral:
    if referral.status in ("placed", "closed"):
        raise Conflict(f"This referral is {referral.status}; it can no longer be edited.")
    _check(session, values, referral.agency_id, referral.id)
    changed = sorted(k for k in REFERRAL_FIELDS if getattr(referral, k) != values[k])
    for key in changed:
        setattr(referral, key, values[key])
    referral.updated_at = utcnow()
    session.add(referral)
    # Field names only: values (and case notes) stay out of the audit log.
    audit.record(session, "referral_updated", "referral", referral.id, "changed: " + ", ".join(changed), actor=user)
    session.commit()
    return referral


def close(session: Session, user: User, referral: Referral, reason: str) -> None:
    """Close a referral that no longer needs a bed; releases its holds and withdraws its requests and offers."""
    if referral.status == "closed":
        raise Conflict("This referral is already closed.")
    if referral.status == "placed":
        raise Conflict("This youth is placed; end the placement instead of closing the referral.")
    now = utcnow()
    for hold in session.exec(select(Hold).where(Hold.referral_id == referral.id, Hold.released_at.is_(None))).all():
        hold.released_at, hold.release_reason = now, "referral_closed"
        session.add(hold)
    for request in session.exec(
        select(PlacementRequest).where(PlacementRequest.referral_id == referral.id, PlacementRequest.status == "pending")
    ).all():
        request.status = "withdrawn"
        session.add(request)
    for offer in session.exec(
        select(PlacementOffer).where(PlacementOffer.referral_id == referral.id, PlacementOffer.status == "pending")
    ).all():
        offer.status = "withdrawn"
        session.add(offer)
    set_status(session, referral, "closed", user, reason)
    audit.record(session, "referral_closed", "referral", referral.id, actor=user)
    session.commit()


def read(session: Session, user: User, referral: Referral) -> Referral:
    """Record that `user` viewed the referral (every read is audited)."""
    audit.record(session, "referral_viewed", "referral", referral.id, actor=user)
    session.commit()
    return referral


def history(session: Session, referral: Referral) -> list[ReferralEvent]:
    return list(
        session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id)).all()
    )


def active_placement(session: Session, referral: Referral) -> Placement | None:
    return session.exec(
        select(Placement).where(Placement.referral_id == referral.id, Placement.ended_at.is_(None))
    ).first()
