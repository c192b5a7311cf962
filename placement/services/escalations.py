"""Referrals that need a coordinator: the "Needs a bed now" list and the caseworker's
"Ask the coordinator" escalation.

A referral is on the list while it is not placed or closed and any of these holds:
an open escalation (a request unanswered past SAFEBED_ESCALATE_MINUTES, or the
caseworker asked for help), no eligible home at all in the states it may go to, or
still unplaced 4 hours after it was made. The list names case references, urgency,
county and reasons, never case notes or addresses.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from .. import audit
from ..models import ESCALATION_KINDS, WAITING_STATUSES, Escalation, PlacementRequest, Referral, User
from ..timeutil import utcnow
from . import alert_texts, alerts
from .errors import Conflict
from .id_lists import among
from .referrals import MOST_URGENT_FIRST, most_urgent_first
from .search import SearchResult, search, with_eligible_home

UNPLACED_HOURS = 4
WAITING = WAITING_STATUSES


def exclusion_summary(result: SearchResult) -> list[str]:
    """The rules that excluded every home, each with how many homes it excluded."""
    counts = Counter(exclusion.message for candidate in result.excluded for exclusion in candidate.exclusions)
    return [f"{message} ({count} {'home' if count == 1 else 'homes'})" for message, count in counts.most_common()]


def open_escalations(session: Session, referral: Referral) -> list[Escalation]:
    return list(session.exec(
        select(Escalation).where(Escalation.referral_id == referral.id, Escalation.resolved_at.is_(None))
        .order_by(Escalation.id)
    ).all())


def ask_coordinator(session: Session, caseworker: User, referral: Referral, stale_after_hours: float) -> Escalation:
    """The caseworker's search found no eligible home: put the referral before the state's coordinators."""
    if referral.status not in WAITING:
        raise Conflict(f"This referral is {referral.status}; it needs no bed.")
    result = search(session, referral, stale_after_hours)
    if result.available or result.full:
        raise Conflict("Some homes accept this youth: request one of them, or wait for room.")
    if any(escalation.kind == "no_eligible_home" for escalation in open_escalations(session, referral)):
        raise Conflict("The coordinator has already been asked about this referral.")
    escalation = Escalation(referral_id=referral.id, state=referral.custody_state, kind="no_eligible_home",
                            reasons=exclusion_summary(result), created_by_id=caseworker.id)
    session.add(escalation)
    session.flush()
    alerts.alert(session, "request_escalated", alerts.state_coordinators(session, referral.custody_state),
                 alert_texts.escalated_no_home(), "/coordinator/needs-a-bed", urgent=referral.urgency == "emergency",
                 portal_message=f"{referral.case_reference} has no eligible home; the caseworker asks for help.")
    audit.record(session, "escalation_created", "referral", referral.id, f"escalation {escalation.id}: no eligible home",
                 actor=caseworker)
    session.commit()
    return escalation


def resolve(session: Session, coordinator: User, escalation: Escalation, note: str) -> Escalation:
    """A coordinator closes an escalation (of their state: access.get_escalation) with a note the caseworker sees."""
    if escalation.resolved_at is not None:
        raise Conflict("This escalation is already closed.")
    escalation.resolved_at, escalation.resolved_by_id = utcnow(), coordinator.id
    escalation.resolution = note.strip()[:200] or "Handled by the coordinator."
    session.add(escalation)
    audit.record(session, "escalation_resolved", "referral", escalation.referral_id, f"escalation {escalation.id}",
                 actor=coordinator)
    session.commit()
    return escalation


def resolve_for_request(session: Session, request_id: int, how: str) -> None:
    """The home answered (or the request was withdrawn): its unanswered-request escalation closes itself."""
    escalation = session.exec(select(Escalation).where(Escalation.request_id == request_id,
                                                       Escalation.resolved_at.is_(None))).first()
    if escalation is not None:
        escalation.resolved_at, escalation.resolution = utcnow(), how[:200]
        session.add(escalation)


@dataclass(frozen=True)
class NeedsBed:
    referral: Referral
    reasons: list[str]  # plain words: why it is on the list
    escalations: list[Escalation]
    waiting_since: datetime

    @property
    def escalation_labels(self) -> list[str]:
        return [ESCALATION_KINDS[escalation.kind] for escalation in self.escalations]


@dataclass(frozen=True)
class NeedsBedList:
    """The first `len(items)` referrals that need a bed, most urgent first, of `total`."""

    items: list[NeedsBed]
    total: int


def needs_a_bed(session: Session, state: str, stale_after_hours: float, shown: int | None = None) -> NeedsBedList:
    """The state's referrals that need a bed now, most urgent and longest waiting first:
    all of them counted, the first `shown` (every one when None) with their reasons."""
    now = utcnow()
    waiting = (Referral.custody_state == state) & Referral.status.in_(WAITING)
    # An escalated or overdue referral is listed whatever the homes say: the database counts
    # them and returns the first `shown` in order (a large state has hundreds). Only the
    # others, made in the last hours, need the eligibility check to be counted, and the shown
    # cards need it for their reasons. One load of the homes for both.
    escalated = sa.exists().where(Escalation.referral_id == Referral.id, Escalation.resolved_at.is_(None))
    surely = escalated | (Referral.created_at <= now - timedelta(hours=UNPLACED_HOURS))
    surely_total = session.exec(select(func.count()).select_from(Referral).where(waiting, surely)).one()
    listed = select(Referral).where(waiting, surely)  # every one of them ("Show all")
    if shown is not None:  # the first ids from the index (ix_referral_waiting), then only their rows
        listed = select(Referral).where(Referral.id.in_(
            select(Referral.id).where(waiting, surely).order_by(*MOST_URGENT_FIRST).limit(shown)))
    surely_first = session.exec(listed).all()
    undecided = session.exec(select(Referral).where(waiting, ~surely)).all()
    accepted = with_eligible_home(session, [*undecided, *surely_first])
    unaccepted = [referral for referral in undecided if referral.id not in accepted]
    first = sorted([*surely_first, *unaccepted], key=most_urgent_first)[:shown]
    open_by_referral: dict[int, list[Escalation]] = defaultdict(list)
    if first:
        for escalation in session.exec(
            select(Escalation).where(among(Escalation.referral_id, [r.id for r in first]), Escalation.resolved_at.is_(None))
            .order_by(Escalation.id)
        ).all():
            open_by_referral[escalation.referral_id].append(escalation)
    items = []
    for referral in first:
        escalations = open_by_referral[referral.id]
        reasons = [ESCALATION_KINDS[escalation.kind] for escalation in escalations]
        if referral.id not in accepted:
            reasons.append("No eligible home")
        if (hours := (now - referral.created_at).total_seconds() / 3600) >= UNPLACED_HOURS:
            reasons.append(f"Unplaced after {int(hours)} hours")
        items.append(NeedsBed(referral, list(dict.fromkeys(reasons)), escalations, referral.created_at))
    return NeedsBedList(items, surely_total + len(unaccepted))


def next_homes(session: Session, referral: Referral, stale_after_hours: float, limit: int = 5, skip_home_id: int | None = None):
    """After an escalation: the next eligible homes with room tonight, best first, without the silent one."""
    result = search(session, referral, stale_after_hours)
    return [candidate for candidate in result.available if candidate.home.id != skip_home_id][:limit]


@dataclass(frozen=True)
class ReferralEscalations:
    """What the caseworker's referral page shows: every escalation, and the homes to try next."""

    escalations: list[Escalation]
    next_homes: list


def for_referral(session: Session, referral: Referral, stale_after_hours: float) -> ReferralEscalations:
    """The referral's escalations (newest first); while a request is unanswered past the limit,
    the next eligible homes with room."""
    found = list(session.exec(select(Escalation).where(Escalation.referral_id == referral.id)
                              .order_by(Escalation.id.desc())).all())
    silent = next((e for e in found if e.kind == "unanswered" and e.resolved_at is None), None)
    homes = []
    if silent is not None:
        request = session.get(PlacementRequest, silent.request_id)
        homes = next_homes(session, referral, stale_after_hours, skip_home_id=request.home_id)
    return ReferralEscalations(found, homes)
