"""Holds, placement requests and their answers: the only code that books beds.

Each booking transaction starts with `lock_home()`, so everything that can take
a place at one home runs one at a time (PostgreSQL row lock; SQLite's write
lock), and re-reads availability under that lock before deciding. Two
caseworkers racing for the last bed therefore get one success and one clear
"no longer available".
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlmodel import Session, select

from solver.eligibility import exclusions, places_needed

from .. import audit
from ..models import (
    DECLINE_REASONS, AvailabilityUpdate, Hold, Home, Organisation, Placement, PlacementOffer, PlacementRequest, Referral, User,
)
from ..timeutil import utcnow
from . import alert_texts, alerts, consent, escalations, notifications
from .errors import Conflict, NotFound, ServiceError
from .homes import HomeStatus, lock_home, room_now, status
from . import protections
from .referrals import set_status
from .solver_inputs import solver_home, solver_referral

NO_LONGER_AVAILABLE = "This bed is no longer available: another youth was placed or held there first. Search again."


def lock_referral(session: Session, referral: Referral) -> None:
    """Lock the referral's row (after the home's): actions on one youth at different homes wait here."""
    # Touching the row serialises concurrent actions on the same referral at different homes.
    session.execute(sa.update(Referral).where(Referral.id == referral.id).values(updated_at=utcnow()))
    session.refresh(referral)


def _active_hold(session: Session, referral_id: int) -> Hold | None:
    return session.exec(
        select(Hold).where(Hold.referral_id == referral_id, Hold.keeps_places(utcnow()))
    ).first()


def _pending_request(session: Session, referral_id: int) -> PlacementRequest | None:
    return session.exec(
        select(PlacementRequest).where(PlacementRequest.referral_id == referral_id, PlacementRequest.status == "pending")
    ).first()


def pending_requests(session: Session, referral_id: int) -> list[PlacementRequest]:
    """The referral's requests waiting for an answer, oldest first."""
    return list(session.exec(
        select(PlacementRequest).where(PlacementRequest.referral_id == referral_id, PlacementRequest.status == "pending")
        .order_by(PlacementRequest.id)
    ).all())


DEFAULT_PARALLEL_REQUESTS = 3


def parallel_limit() -> int:
    """How many requests may wait at once for one referral (SAFEBED_PARALLEL_REQUESTS, default 3)."""
    if has_app_context():
        return max(1, int(current_app.config.get("PARALLEL_REQUESTS", DEFAULT_PARALLEL_REQUESTS)))
    return DEFAULT_PARALLEL_REQUESTS


def _settle_status(session: Session, user: User | None, referral: Referral, note: str, nothing_left: str = "open") -> None:
    """After a request ended without a placement: still requested while another waits, held while a hold lives."""
    if _pending_request(session, referral.id) is not None:
        set_status(session, referral, "requested", user, note)
    elif _active_hold(session, referral.id) is not None:
        set_status(session, referral, "held", user, note)
    else:
        set_status(session, referral, nothing_left, user, note)


def room_for_others(home_status: HomeStatus, own_reserved: int) -> int:
    """Room left if the caller's own reservation (already counted) were not there."""
    return room_now(home_status.latest, home_status.reserved_places - own_reserved, home_status.home.is_active)


def require_bookable(session: Session, referral: Referral, home: Home, home_status: HomeStatus | None = None) -> int:
    """Check eligibility under the lock; return the places the referral needs. `home_status`:
    the home's status if the caller read it under the same lock (it cannot change there)."""
    if referral.status in ("placed", "closed"):
        raise Conflict(f"This referral is {referral.status}.")
    if home_status is None:
        home_status = status(session, home)
    # The protective rules too: a keep-away area or a keep-apart youth refuses the booking.
    wanted = solver_referral(referral, protections.solver_fields(session, [referral], [home])[referral.id])
    reasons = exclusions(solver_home(home_status), wanted)
    if reasons:
        raise ServiceError("This home does not accept this youth: " + "; ".join(r.message for r in reasons) + ".")
    return places_needed(wanted)


def hold(session: Session, user: User, referral: Referral, home_id: int, hours: float) -> Hold:
    """Reserve places at `home_id` for the referral for `hours`."""
    home = session.get(Home, home_id)
    if home is None or not home.is_active:
        raise NotFound("This home is not taking referrals.")
    lock_home(session, home.id)
    lock_referral(session, referral)
    home_status = status(session, home)  # read once: the lock keeps it
    places = require_bookable(session, referral, home, home_status)
    if _active_hold(session, referral.id) is not None:
        raise Conflict("This referral already holds a bed. Release that hold first.")
    if live_offer(session, referral.id, home.id) is not None:
        raise Conflict(_offered(home))
    if _pending_request(session, referral.id) is not None:
        raise Conflict("This referral has a placement request waiting for an answer.")
    if home_status.room < places:
        raise Conflict(NO_LONGER_AVAILABLE)
    now = utcnow()
    new_hold = Hold(
        referral_id=referral.id, home_id=home.id, created_by_id=user.id, places=places,
        created_at=now, expires_at=now + timedelta(hours=hours),
    )
    session.add(new_hold)
    session.flush()
    set_status(session, referral, "held", user, f"bed held at home {home.id}")
    audit.record(session, "hold_created", "hold", new_hold.id, f"referral {referral.id} home {home.id} places {places}", actor=user)
    session.commit()
    return new_hold


def release_hold(session: Session, user: User, referral: Referral, held: Hold) -> None:
    """Give the held bed back (the caller found `held` under `referral`)."""
    lock_home(session, held.home_id)
    session.refresh(held)
    if not held.is_live(utcnow()):
        raise Conflict("This hold has already ended.")
    if referral.status == "closed":
        # The live hold of a closed referral is a missing youth's kept bed: releasing it
        # must not reopen the referral; the home releases it from the episode.
        raise Conflict("This bed is kept for a missing youth; the home can release it.")
    held.released_at, held.release_reason = utcnow(), "released"
    session.add(held)
    set_status(session, referral, "open", user, "hold released")
    audit.record(session, "hold_released", "hold", held.id, actor=user)
    session.commit()


ICWA_GOOD_CAUSE = ("ICWA applies and a home of a better preference step has room: "
                   "record the good cause for placing here.")


def icwa_step(session: Session, referral: Referral, home: Home, good_cause: str) -> int | None:
    """The ICWA step the home meets for the referral; refuses (naming `good_cause`) a home
    below the first step available tonight unless a good cause is given."""
    if not referral.icwa_applies:
        return None
    from .search import search  # search reads homes and holds; booking is below it only here

    # Staleness only orders the lists; the first step counts every home with room.
    found = search(session, referral, stale_after_hours=24.0)
    if found.needs_good_cause(home.id) and not good_cause.strip():
        raise ServiceError(ICWA_GOOD_CAUSE, {"good_cause": "Say why this placement departs from the ICWA preference order."})
    return next((c.icwa_step for c in found.available + found.full + found.excluded if c.home.id == home.id), None)


def request_placement(session: Session, user: User, referral: Referral, home_id: int, good_cause: str = "") -> PlacementRequest:
    """Ask the home to accept the youth, from the referral's live hold there or directly.

    For a youth ICWA applies to, a home below the first preference step available needs
    `good_cause`; the step and the cause are recorded on the request (never shown to the home).
    """
    home = session.get(Home, home_id)
    if home is None or not home.is_active:
        raise NotFound("This home is not taking referrals.")
    lock_home(session, home.id)
    lock_referral(session, referral)
    home_status = status(session, home)  # read once: the lock keeps it
    places = require_bookable(session, referral, home, home_status)
    consent.require_on_file(session, referral)
    waiting = pending_requests(session, referral.id)
    if any(pending.home_id == home.id for pending in waiting):
        raise Conflict("A placement request for this referral is already waiting for an answer at this home.")
    if live_offer(session, referral.id, home.id) is not None:
        raise Conflict(_offered(home))
    limit = parallel_limit()
    if len(waiting) >= limit:
        raise Conflict(f"{len(waiting)} requests for this referral are already waiting for an answer "
                       f"(at most {limit} at once). Withdraw one, or wait for an answer.")
    held = _active_hold(session, referral.id)
    if held is not None and held.home_id != home.id:
        held = None  # the hold elsewhere stays; whichever home accepts first, the rest are withdrawn
    own_reserved = held.places if held is not None else 0
    if room_for_others(home_status, own_reserved) < places:
        raise Conflict(NO_LONGER_AVAILABLE)
    step = icwa_step(session, referral, home, good_cause)
    request = PlacementRequest(
        referral_id=referral.id, home_id=home.id, hold_id=held.id if held else None,
        requested_by_id=user.id, places=places, icwa_step=step, icwa_good_cause=good_cause.strip()[:500],
    )
    session.add(request)
    session.flush()
    if held is not None:
        # The request now carries the reservation; the hold cannot expire under it.
        held.released_at, held.release_reason = utcnow(), "requested"
        session.add(held)
    set_status(session, referral, "requested", user, f"placement requested at home {home.id}")
    audit.record(session, "placement_requested", "placement_request", request.id,
                 f"referral {referral.id} home {home.id}" + (", ICWA good cause recorded" if request.icwa_good_cause else ""),
                 actor=user)
    alerts.alert(
        session, "request_new", notifications.organisation_users(session, home.provider_id, "operator"),
        alert_texts.request_new(home.name, referral.urgency), f"/provider/requests/{request.id}",
        urgent=referral.urgency == "emergency", portal_message=f"New placement request for {home.name} ({referral.urgency}).",
        on_call_home=home,
    )
    session.commit()
    return request


def withdraw_request(session: Session, user: User, referral: Referral, request: PlacementRequest) -> None:
    """Withdraw a pending request (the caller found `request` under `referral`)."""
    lock_home(session, request.home_id)
    lock_referral(session, referral)
    session.refresh(request)
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}.")
    request.status = "withdrawn"
    session.add(request)
    _settle_status(session, user, referral, "request withdrawn")
    escalations.resolve_for_request(session, request.id, "The caseworker withdrew the request.")
    audit.record(session, "placement_request_withdrawn", "placement_request", request.id, actor=user)
    session.commit()


def _answerable(session: Session, request: PlacementRequest) -> None:
    """Lock the home, then the referral (answers at other homes for the same youth wait here), then re-read."""
    lock_home(session, request.home_id)
    lock_referral(session, session.get(Referral, request.referral_id))
    session.refresh(request)
    if request.status == "withdrawn" and session.get(Referral, request.referral_id).status == "placed":
        raise Conflict("This youth was placed at another home; the request was withdrawn. Thank you.")
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}; nothing was changed.")


def accept(session: Session, operator: User, request: PlacementRequest) -> Placement:
    """Accept: the request becomes a placement and the home's open beds drop, in one transaction."""
    _answerable(session, request)
    home = session.get(Home, request.home_id)
    referral = session.get(Referral, request.referral_id)
    placement = take_places(session, operator, request, home, f"accepted by home {home.id}", request.places)
    _tell_caseworkers(session, request, home, True, f"{home.name} accepted the placement for {referral.case_reference}.")
    session.commit()
    return placement


def take_places(session: Session, user: User, request: PlacementRequest, home: Home, note: str,
                own_reserved: int) -> Placement:
    """Turn an answered `request` into the placement, under the home's and the referral's locks:
    the home's open beds drop, the referral is placed, and every other request, hold and offer
    of the referral ends in the same transaction. `own_reserved`: the places the home's figures
    already keep for this booking. Nothing is committed here."""
    home_status = status(session, home)
    latest = home_status.latest
    if latest is None or room_for_others(home_status, own_reserved) < request.places or latest.open_beds < request.places:
        raise Conflict("The home's published availability no longer has room for this youth. Update tonight's figures first.")
    session.add(
        AvailabilityUpdate(
            home_id=home.id, open_beds=latest.open_beds - request.places, licensed_beds=home.licensed_beds,
            staff_on_duty=latest.staff_on_duty, youth_per_staff=latest.youth_per_staff,
            current_youth=latest.current_youth + request.places, recorded_by_id=user.id,
            note=f"placement accepted (request {request.id})",
        )
    )
    now = utcnow()
    request.status, request.answered_at = "accepted", now
    request.answered_by_id = request.answered_by_id or user.id
    session.add(request)
    placement = Placement(referral_id=request.referral_id, home_id=home.id, request_id=request.id, places=request.places, started_at=now)
    session.add(placement)
    session.flush()
    referral = session.get(Referral, request.referral_id)
    set_status(session, referral, "placed", user, note)
    audit.record(session, "placement_accepted", "placement", placement.id, f"request {request.id} home {home.id}", actor=user)
    withdraw_the_rest(session, referral, request.id, now)
    return placement


def _offered(home: Home) -> str:
    return f"{home.name} has offered a bed to this youth: accept or decline the offer on the referral's page."


def live_offer(session: Session, referral_id: int, home_id: int) -> PlacementOffer | None:
    """The home's pending, unexpired offer of a bed to the referral's youth, if any."""
    return session.exec(select(PlacementOffer).where(
        PlacementOffer.referral_id == referral_id, PlacementOffer.home_id == home_id, PlacementOffer.keeps_places(utcnow()))).first()


def withdraw_the_rest(session: Session, referral: Referral, kept_request_id: int | None, now) -> None:
    """A home took the youth: every other waiting request, live hold and pending offer of the referral
    ends in the same transaction, and the other homes' operators are thanked ("placed elsewhere")."""
    for other in pending_requests(session, referral.id):
        if other.id == kept_request_id:
            continue
        other.status = "withdrawn"
        session.add(other)
        other_home = session.get(Home, other.home_id)
        escalations.resolve_for_request(session, other.id, "The youth was placed at another home.")
        audit.record(session, "placement_request_withdrawn", "placement_request", other.id, "placed elsewhere")
        alerts.alert(
            session, "placed_elsewhere", notifications.organisation_users(session, other_home.provider_id, "operator"),
            alert_texts.placed_elsewhere(other_home.name), f"/provider/requests/{other.id}",
            portal_message=f"The youth you were asked to take at {other_home.name} was placed elsewhere; thank you. "
                           "The places are free again.",
        )
    for held in session.exec(
        select(Hold).where(Hold.referral_id == referral.id, Hold.keeps_places(now))
    ).all():
        held.released_at, held.release_reason = now, "placed_elsewhere"
        session.add(held)
        audit.record(session, "hold_released", "hold", held.id, "placed elsewhere")
    for offer in session.exec(
        select(PlacementOffer).where(PlacementOffer.referral_id == referral.id, PlacementOffer.status == "pending")
    ).all():
        offer.status = "withdrawn"
        session.add(offer)
        audit.record(session, "placement_offer_withdrawn", "placement_offer", offer.id, "placed elsewhere")
        if offer.expires_at <= now:
            continue  # an expired offer already gave its places back; nobody waits on it
        offer_home = session.get(Home, offer.home_id)
        alerts.alert(
            session, "placed_elsewhere", notifications.organisation_users(session, offer_home.provider_id, "operator"),
            alert_texts.placed_elsewhere(offer_home.name), "/provider/queue",
            portal_message=f"The youth {offer_home.name} offered a bed to was placed elsewhere; thank you. "
                           "The places are free again.",
        )


def decline(session: Session, operator: User, request: PlacementRequest, reason: str, note: str = "") -> None:
    if reason not in DECLINE_REASONS:
        raise ServiceError("Choose a reason from the list.", {"reason": "unknown reason"})
    _answerable(session, request)
    request.status, request.decline_reason, request.decline_note = "declined", reason, note[:300]
    request.answered_by_id, request.answered_at = operator.id, utcnow()
    session.add(request)
    home = session.get(Home, request.home_id)
    referral = session.get(Referral, request.referral_id)
    _settle_status(session, operator, referral, f"declined by home {home.id}: {reason}", nothing_left="declined")
    audit.record(session, "placement_declined", "placement_request", request.id, f"reason {reason}", actor=operator)
    _tell_caseworkers(session, request, home, False, f"{home.name} declined {referral.case_reference}: {DECLINE_REASONS[reason]}.")
    session.commit()


def _tell_caseworkers(session: Session, request: PlacementRequest, home: Home, accepted: bool, message: str) -> None:
    """The home answered: alert whoever requested the placement, and close any escalation of the request."""
    requester = session.get(User, request.requested_by_id)
    alerts.alert(session, "request_answered", [requester], alert_texts.request_answered(home.name, accepted),
                 f"/caseworker/referrals/{request.referral_id}", portal_message=message)
    escalations.resolve_for_request(session, request.id, f"{home.name} {'accepted' if accepted else 'declined'} the request.")


def expire_holds(session: Session) -> int:
    """Tidy holds that expired: mark them released and reopen their referrals.

    Correctness never depends on this running: expiry is evaluated at read time.
    """
    now = utcnow()
    expired = session.exec(select(Hold).where(Hold.released_at.is_(None), Hold.expires_at <= now)).all()
    for held in expired:
        held.released_at, held.release_reason = held.expires_at, "expired"
        session.add(held)
        referral = session.get(Referral, held.referral_id)
        if referral.status == "held" and _active_hold(session, referral.id) is None:
            set_status(session, referral, "open", None, "hold expired")
        audit.record(session, "hold_expired", "hold", held.id)
    session.commit()
    return len(expired)


def effective_status(session: Session, referral: Referral) -> str:
    """The referral's status with hold expiry applied at read time."""
    if referral.status == "held" and _active_hold(session, referral.id) is None:
        return "open"
    return referral.status


def effective_statuses(session: Session, referrals: list[Referral]) -> dict[int, str]:
    """`effective_status` of many referrals in one query (at most): id -> status."""
    held = [r.id for r in referrals if r.status == "held"]
    live = set(session.exec(
        select(Hold.referral_id).where(Hold.referral_id.in_(held), Hold.keeps_places(utcnow()))
    ).all()) if held else set()
    return {r.id: "open" if r.status == "held" and r.id not in live else r.status for r in referrals}


def incoming_requests(session: Session, operator: User) -> list[tuple[PlacementRequest, Home, Referral]]:
    """Pending requests to the operator's homes, newest first (the answered ones are a paged
    list: `paged_lists.answered_requests`).

    Scoped and filtered in the query, so no other provider's row is ever loaded.
    """
    query = (
        select(PlacementRequest, Home, Referral)
        .join(Home, Home.id == PlacementRequest.home_id)
        .join(Referral, Referral.id == PlacementRequest.referral_id)
        .where(Home.provider_id == operator.organisation_id, PlacementRequest.status == "pending")
        .order_by(PlacementRequest.created_at.desc(), PlacementRequest.id.desc())
    )
    return list(session.exec(query).all())


def referral_bookings(session: Session, referral: Referral) -> dict:
    """Holds, requests and the placement of one referral, for its page."""
    holds = session.exec(select(Hold, Home).join(Home).where(Hold.referral_id == referral.id).order_by(Hold.id.desc())).all()
    requests = session.exec(
        select(PlacementRequest, Home).join(Home).where(PlacementRequest.referral_id == referral.id).order_by(PlacementRequest.id.desc())
    ).all()
    placement = session.exec(
        select(Placement, Home, Organisation)
        .join(Home, Home.id == Placement.home_id)
        .join(Organisation, Organisation.id == Home.provider_id)
        .where(Placement.referral_id == referral.id)
        .order_by(Placement.id.desc())
    ).first()
    return {"holds": holds, "requests": requests, "placement": placement, "now": utcnow()}


def pending_request_count(session: Session, operator: User) -> int:
    """Requests to the operator's homes waiting for an answer: the navigation's count."""
    return session.exec(
        select(sa.func.count(PlacementRequest.id))
        .join(Home, Home.id == PlacementRequest.home_id)
        .where(Home.provider_id == operator.organisation_id, PlacementRequest.status == "pending")
    ).one()
