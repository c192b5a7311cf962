"""The operator's queue: youths waiting for a bed that an operator's homes could take tonight,
and the offers of a bed that the youth's caseworker accepts or declines.

The queue holds open referrals (open, held, requested or declined) with consent in force:
the youth's needs reach a home only once the agency has the release of information (or an
approved override), the same gate as a placement request. A home is listed for a youth when
the one eligibility rule (`solver.eligibility`, with the youth's keep-away areas and
keep-apart youths) accepts it and it has room tonight; jurisdiction comes with the rule: the
custody state, or an ICPC-approved state for a home that takes out-of-state youth.

An offer keeps its places for SAFEBED_HOLD_HOURS (expiry is read at read time, like a hold's),
so a bed is never promised twice; the scheduler's `expire_offers` then records the lapse and
tells the caseworker and the home. Accepting one goes through `booking.take_places`, the same
transaction as an operator's accept: every other request, hold and offer of the referral ends
with it and their homes are thanked.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from solver.eligibility import is_eligible, places_needed, room

from .. import audit
from ..access import QUEUE_STATUSES, queue_homes, scope_queue
from ..models import OFFER_DECLINE_REASONS, Home, PlacementOffer, PlacementRequest, Referral, User
from ..timeutil import utcnow
from . import alert_texts, alerts, booking, consent, notifications, protections
from .errors import Conflict, ServiceError
from .homes import HomeStatus, lock_home, status, statuses
from .referrals import most_urgent_first
from .solver_inputs import solver_home, solver_referral


@dataclass
class QueueEntry:
    """One waiting youth as an operator sees it: the needs (never notes or names), the places
    needed, the operator's homes that could take the youth tonight, and what is already under way."""

    referral: Referral
    places: int
    homes: list[HomeStatus] = field(default_factory=list)
    offers: dict[int, PlacementOffer] = field(default_factory=dict)  # home id -> the home's live offer
    requested: set[int] = field(default_factory=set)  # home ids with a request waiting for their answer


def queue(session: Session, operator: User) -> list[QueueEntry]:
    """The youths the operator's homes could take tonight, most urgent and oldest first."""
    homes = queue_homes(session, operator)
    if not homes:
        return []
    candidates = list(session.exec(select(Referral).where(scope_queue(homes)).order_by(Referral.created_at)).all())
    with_consent = consent.with_consent_on_file(session, [r.id for r in candidates])
    candidates = [r for r in candidates if r.id in with_consent]
    if not candidates:
        return []
    home_ids = [home.id for home in homes]
    ids = [r.id for r in candidates]
    now = utcnow()
    offered: dict[int, dict[int, PlacementOffer]] = defaultdict(dict)
    for made in session.exec(select(PlacementOffer).where(
            PlacementOffer.referral_id.in_(ids), PlacementOffer.home_id.in_(home_ids), PlacementOffer.keeps_places(now))):
        offered[made.referral_id][made.home_id] = made
    requested: dict[int, set[int]] = defaultdict(set)
    for referral_id, home_id in session.exec(select(PlacementRequest.referral_id, PlacementRequest.home_id).where(
            PlacementRequest.referral_id.in_(ids), PlacementRequest.home_id.in_(home_ids),
            PlacementRequest.status == "pending")):
        requested[referral_id].add(home_id)
    tonight = [(found, solver_home(found)) for found in statuses(session, homes)]
    rules = protections.solver_fields(session, candidates, homes)
    entries = []
    for referral in candidates:
        wanted = solver_referral(referral, rules[referral.id])
        entry = QueueEntry(referral, places_needed(wanted))
        entry.offers, entry.requested = offered[referral.id], requested[referral.id]
        for found, candidate in tonight:
            under_way = found.home.id in entry.offers or found.home.id in entry.requested
            if is_eligible(candidate, wanted) and (under_way or room(candidate) >= entry.places):
                entry.homes.append(found)
        if entry.homes:
            entries.append(entry)
    entries.sort(key=lambda e: most_urgent_first(e.referral))
    return entries


def offer(session: Session, operator: User, referral: Referral, home: Home, hours: float) -> PlacementOffer:
    """Offer a bed at the operator's `home` to the waiting youth; the places are kept for `hours`.

    Refused (nothing stored) when the youth no longer waits, the rule excludes the home,
    consent is not in force, the home was already asked or already offered, or the room is gone.
    """
    lock_home(session, home.id)
    booking.lock_referral(session, referral)
    if referral.status not in QUEUE_STATUSES:
        raise Conflict("This youth no longer needs a bed.")
    places = booking.require_bookable(session, referral, home)
    consent.require_on_file(session, referral)
    if any(r.home_id == home.id for r in booking.pending_requests(session, referral.id)):
        raise Conflict(f"The caseworker already asked {home.name} to take this youth: answer the request under Requests.")
    if booking.live_offer(session, referral.id, home.id) is not None:
        raise Conflict(f"{home.name} has already offered a bed to this youth.")
    if status(session, home).room < places:
        raise Conflict(booking.NO_LONGER_AVAILABLE)
    now = utcnow()
    made = PlacementOffer(referral_id=referral.id, home_id=home.id, offered_by_id=operator.id, places=places,
                          created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(made)
    session.flush()
    audit.record(session, "placement_offered", "placement_offer", made.id,
                 f"referral {referral.id} home {home.id} places {places}", actor=operator)
    alerts.alert(
        session, "offer_new", _caseworkers(session, referral), alert_texts.offer_new(home.name, hours),
        f"/caseworker/referrals/{referral.id}", urgent=referral.urgency == "emergency",
        portal_message=f"{home.name} offered a bed to {referral.case_reference}.",
    )
    session.commit()
    return made


def _caseworkers(session: Session, referral: Referral) -> list[User]:
    """Who answers an offer: the referral's author, or, if that account is closed, the agency's caseworkers."""
    author = session.get(User, referral.created_by_id)
    if author is not None and author.is_active:
        return [author]
    return notifications.organisation_users(session, referral.agency_id, "caseworker")


def _answerable(session: Session, referral: Referral, made: PlacementOffer) -> Home:
    """Lock the home, the referral, then the offer (so `expire_due` passes it by), and re-read
    the offer: it must still be pending and live."""
    lock_home(session, made.home_id)
    booking.lock_referral(session, referral)
    session.refresh(made, with_for_update=True)
    if made.status == "withdrawn" and referral.status == "placed":
        raise Conflict("This youth was already placed; the offer was withdrawn.")
    if made.status not in ("pending", "expired"):
        raise Conflict(f"This offer was already {made.status}; nothing was changed.")
    if made.status == "expired" or made.expires_at <= utcnow():
        raise Conflict("This offer has expired and its bed went back into availability. Search again.")
    return session.get(Home, made.home_id)


def accept(session: Session, caseworker: User, referral: Referral, made: PlacementOffer, good_cause: str = ""):
    """Accept the offer: it becomes the placement in one transaction (`booking.take_places`).

    Consent must still be in force and the rule must still accept the home (a keep-away area
    or keep-apart youth added since refuses it); an ICWA youth offered a bed below the first
    preference step with room needs `good_cause`, as a request would.
    """
    home = _answerable(session, referral, made)
    places = booking.require_bookable(session, referral, home)
    consent.require_on_file(session, referral)
    step = booking.icwa_step(session, referral, home, good_cause)
    # An answered request carries the places into the placement and the offer stops reserving
    # them, so the room check in take_places counts neither (own_reserved=0).
    request = PlacementRequest(
        referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=places, status="accepted",
        answered_by_id=made.offered_by_id, icwa_step=step, icwa_good_cause=good_cause.strip()[:500],
    )
    session.add(request)
    session.flush()
    made.status, made.answered_by_id, made.answered_at, made.request_id = "accepted", caseworker.id, utcnow(), request.id
    session.add(made)
    session.flush()
    placement = booking.take_places(session, caseworker, request, home, f"offer from home {home.id} accepted", 0)
    audit.record(session, "placement_offer_accepted", "placement_offer", made.id, f"placement {placement.id}", actor=caseworker)
    _tell_operators(session, home, True)
    session.commit()
    return placement


def decline(session: Session, caseworker: User, referral: Referral, made: PlacementOffer, reason: str) -> PlacementOffer:
    """Decline the offer with a reason from the list; its places go back into availability."""
    if reason not in OFFER_DECLINE_REASONS:
        raise ServiceError("Choose a reason from the list.", {"reason": "unknown reason"})
    home = _answerable(session, referral, made)
    made.status, made.decline_reason = "declined", reason
    made.answered_by_id, made.answered_at = caseworker.id, utcnow()
    session.add(made)
    audit.record(session, "placement_offer_declined", "placement_offer", made.id, f"reason {reason}", actor=caseworker)
    _tell_operators(session, home, False)
    session.commit()
    return made


def withdraw(session: Session, operator: User, made: PlacementOffer) -> PlacementOffer:
    """The home takes back its offer before the caseworker answers (the bed is needed
    elsewhere, staff went home): its places go back into availability at once and the
    caseworker is alerted (`offer_withdrawn`), as for a new offer."""
    referral = session.get(Referral, made.referral_id)
    home = _answerable(session, referral, made)
    made.status, made.answered_at = "withdrawn", utcnow()
    session.add(made)
    audit.record(session, "placement_offer_withdrawn", "placement_offer", made.id,
                 f"withdrawn by the home: referral {referral.id} home {home.id}", actor=operator)
    alerts.alert(session, "offer_withdrawn", _caseworkers(session, referral), alert_texts.offer_withdrawn(home.name),
                 f"/caseworker/referrals/{referral.id}", urgent=referral.urgency == "emergency",
                 portal_message=f"{home.name} withdrew its offer of a bed to {referral.case_reference}; "
                                "the bed is no longer kept.")
    session.commit()
    return made


def expire_due(session: Session) -> int:
    """Record every pending offer past its time as "expired" and tell both sides: the
    youth's caseworker (the bed is no longer kept) and the home's operators (its places
    are free again). The places came back at the moment of expiry, read at read time;
    this only makes the lapse a record and an alert, once each."""
    now = utcnow()
    lapsed = session.exec(
        select(PlacementOffer, Home, Referral).join(Home, Home.id == PlacementOffer.home_id)
        .join(Referral, Referral.id == PlacementOffer.referral_id)
        .where(PlacementOffer.status == "pending", PlacementOffer.expires_at <= now)
        .order_by(PlacementOffer.id).with_for_update(of=PlacementOffer, skip_locked=True)
    ).all()
    for made, home, referral in lapsed:
        made.status = "expired"
        session.add(made)
        audit.record(session, "placement_offer_expired", "placement_offer", made.id,
                     f"unanswered: referral {referral.id} home {home.id}")
        if referral.status in QUEUE_STATUSES:  # a youth placed or closed since needs no search
            alerts.alert(session, "offer_expired", _caseworkers(session, referral),
                         alert_texts.offer_expired_for_caseworker(home.name), f"/caseworker/referrals/{referral.id}",
                         urgent=referral.urgency == "emergency",
                         portal_message=f"The offer of a bed at {home.name} to {referral.case_reference} expired "
                                        "before it was answered; the bed is no longer kept.")
        alerts.alert(session, "offer_expired", notifications.organisation_users(session, home.provider_id, "operator"),
                     alert_texts.offer_expired_for_home(home.name), "/provider/queue",
                     portal_message=f"The bed {home.name} offered to {referral.case_reference} was not answered in "
                                    "time; the offer expired and the places are free again.")
    session.commit()
    return len(lapsed)


def _tell_operators(session: Session, home: Home, accepted: bool) -> None:
    verb = "accepted" if accepted else "declined"
    alerts.alert(session, "offer_answered", notifications.organisation_users(session, home.provider_id, "operator"),
                 alert_texts.offer_answered(home.name, accepted), "/provider/placements" if accepted else "/provider/queue",
                 portal_message=f"The caseworker {verb} the bed {home.name} offered.")


def for_referral(session: Session, referral: Referral) -> list[tuple[PlacementOffer, Home]]:
    """The referral's offers with their homes, newest first (for its page)."""
    return list(session.exec(
        select(PlacementOffer, Home).join(Home, Home.id == PlacementOffer.home_id)
        .where(PlacementOffer.referral_id == referral.id).order_by(PlacementOffer.id.desc())
    ).all())


def own_offers(session: Session, operator: User, limit: int = 20) -> list[tuple[PlacementOffer, Home, Referral]]:
    """The operator's organisation's latest offers, newest first."""
    return list(session.exec(
        select(PlacementOffer, Home, Referral).join(Home, Home.id == PlacementOffer.home_id)
        .join(Referral, Referral.id == PlacementOffer.referral_id)
        .where(Home.provider_id == operator.organisation_id).order_by(PlacementOffer.id.desc()).limit(limit)
    ).all())


def shown_status(made: PlacementOffer, now=None) -> str:
    """The offer's status with expiry applied: a pending offer past its time reads "expired"."""
    if made.status == "pending" and made.expires_at <= (now or utcnow()):
        return "expired"
    return made.status
