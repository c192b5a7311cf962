"""The handoff: from a home's acceptance to the youth's arrival.

The caseworker records the escort (an agency staff member's name, never the youth's),
the departure and the expected arrival; the home's operator confirms the arrival. An
arrival not confirmed within SAFEBED_ARRIVAL_GRACE_MINUTES of the expected time is
flagged to both sides (`alert_jobs.flag_missed_arrivals`), and either side can record,
in one tap, a missing-from-care episode that starts at the departure time: the same
episode, 24-hour report clock and kept bed as `lifecycle.report_missing`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from .. import audit
from ..models import Handoff, Home, MissingEpisode, Placement, Referral, User
from ..timeutil import utcnow
from . import lifecycle, notifications
from .errors import Conflict, ServiceError
from .homes import lock_home


@dataclass(frozen=True)
class HandoffView:
    handoff: Handoff | None
    placement: Placement
    overdue: bool  # not confirmed within the grace period after the expected arrival
    episode: MissingEpisode | None

    @property
    def state(self) -> str:
        """waiting (no departure yet) / in_transit / overdue / arrived / missing / ended."""
        if self.episode is not None:
            return "missing"
        if self.handoff is None:
            return "ended" if self.placement.ended_at else "waiting"
        if self.handoff.arrived_at is not None:
            return "arrived"
        if self.placement.ended_at:
            return "ended"
        return "overdue" if self.overdue else "in_transit"


def for_placement(session: Session, placement: Placement) -> Handoff | None:
    return session.exec(select(Handoff).where(Handoff.placement_id == placement.id)).first()


def view(session: Session, placement: Placement, grace_minutes: float, now: datetime | None = None) -> HandoffView:
    found = for_placement(session, placement)
    now = now or utcnow()
    overdue = bool(found and found.arrived_at is None and now > found.expected_arrival_at + timedelta(minutes=grace_minutes))
    return HandoffView(found, placement, overdue, lifecycle.episode_for_placement(session, placement))


def record_departure(session: Session, user: User, placement: Placement, escort_name: str,
                     departed_at: datetime | None, expected_arrival_at: datetime | None) -> Handoff:
    """The caseworker records who escorts the youth, when they left and when they should arrive."""
    escort = " ".join(escort_name.split())
    lock_home(session, placement.home_id)
    session.refresh(placement)
    if placement.ended_at is not None:
        raise Conflict("This placement has already ended; nothing was changed.")
    if for_placement(session, placement) is not None:
        raise Conflict("The departure is already recorded for this placement.")
    referral = session.get(Referral, placement.referral_id)
    errors = {}
    if not escort:
        errors["escort_name"] = "Name the staff member escorting the youth."
    elif escort.casefold() == referral.case_reference.casefold():
        errors["escort_name"] = "Name the agency staff member escorting the youth, not the youth."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    departed = lifecycle._check_time(departed_at, "departed_at", "the departure time", placement.started_at,
                                     "the home accepted")
    if expected_arrival_at is None:
        raise ServiceError("Enter the expected arrival.", {"expected_arrival_at": "required"})
    if expected_arrival_at <= departed:
        raise ServiceError("The expected arrival must come after the departure.",
                           {"expected_arrival_at": "not after the departure"})
    if expected_arrival_at > departed + timedelta(hours=48):
        raise ServiceError("The expected arrival must be within 48 hours of the departure.",
                           {"expected_arrival_at": "more than 48 hours after the departure"})
    row = Handoff(placement_id=placement.id, escort_name=escort[:120], departed_at=departed,
                  expected_arrival_at=expected_arrival_at, recorded_by_id=user.id)
    session.add(row)
    session.flush()
    home = session.get(Home, placement.home_id)
    audit.record(session, "handoff_departed", "placement", placement.id, f"handoff {row.id}", actor=user)
    notifications.notify(session, notifications.organisation_users(session, home.provider_id, "operator"),
                         f"{referral.case_reference} is on the way to {home.name} with {row.escort_name}. "
                         "Confirm the arrival when the youth is with you.", f"/provider/placements/{placement.id}")
    session.commit()
    return row


def confirm_arrival(session: Session, user: User, placement: Placement, arrived_at: datetime | None) -> Handoff:
    """The home's operator confirms the youth arrived (now, or at the time given)."""
    lock_home(session, placement.home_id)
    session.refresh(placement)
    row = for_placement(session, placement)
    if row is None:
        raise Conflict("The caseworker has not recorded the departure yet; nothing was changed.")
    if row.arrived_at is not None:
        raise Conflict("The arrival is already confirmed.")
    if placement.ended_at is not None:
        raise Conflict("This placement has already ended; nothing was changed.")
    arrived = lifecycle._check_time(arrived_at or utcnow(), "arrived_at", "the arrival time", row.departed_at, "the departure")
    row.arrived_at, row.arrival_confirmed_by_id = arrived, user.id
    session.add(row)
    home = session.get(Home, placement.home_id)
    referral = session.get(Referral, placement.referral_id)
    audit.record(session, "handoff_arrived", "placement", placement.id, f"handoff {row.id}", actor=user)
    notifications.notify(session, lifecycle.responsible_caseworkers(session, referral, placement),
                         f"{referral.case_reference} arrived at {home.name}.", f"/caseworker/referrals/{referral.id}")
    session.commit()
    return row


def report_missed_arrival(session: Session, user: User, placement: Placement, keep_hours: float) -> MissingEpisode:
    """One tap: the youth never arrived; a missing-from-care episode starts at the departure time."""
    row = for_placement(session, placement)
    if row is None:
        raise Conflict("No departure is recorded for this placement; report the youth missing with the time last seen.")
    session.refresh(row)
    if row.arrived_at is not None:
        raise Conflict("The home confirmed this youth's arrival; report a missing youth with the time last seen instead.")
    episode = lifecycle.report_missing(session, user, placement, row.departed_at, keep_hours)
    audit.record(session, "handoff_missed", "placement", placement.id, f"handoff {row.id}; episode {episode.id}", actor=user)
    session.commit()
    return episode


def overdue_handoffs(session: Session, grace_minutes: float, now: datetime | None = None) -> list[tuple[Handoff, Placement]]:
    """Handoffs not confirmed within the grace period whose placement is still open and not yet flagged."""
    now = now or utcnow()
    return list(session.exec(
        select(Handoff, Placement).join(Placement, Placement.id == Handoff.placement_id)
        .where(Handoff.arrived_at.is_(None), Handoff.overdue_at.is_(None), Placement.ended_at.is_(None),
               Handoff.expected_arrival_at <= now - timedelta(minutes=grace_minutes))
        .order_by(Handoff.id)
    ).all())
