"""The periodic jobs behind the alerts: each finds what became due and raises it once.

Each job takes a session, commits its own work and returns a short outcome for the
scheduler's run log. Running a job twice raises nothing twice: escalations are rows
with a unique request, other alerts leave an `AlertMark`.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlmodel import Session, func, select

from .. import audit
from ..models import (
    AvailabilityUpdate,
    Escalation,
    Hold,
    Home,
    MissingEpisode,
    Placement,
    PlacementRequest,
    Referral,
    User,
)
from ..timeutil import utcnow
from . import alert_texts, alerts, booking, lifecycle, notifications, offers

HOLD_WARNING = timedelta(minutes=30)
REPORT_WARNING = timedelta(hours=4)


def expire_holds(session: Session) -> str:
    return f"{booking.expire_holds(session)} holds tidied"


def expire_offers(session: Session) -> str:
    return f"{offers.expire_due(session)} offers expired"


def warn_expiring_holds(session: Session) -> str:
    """Tell the caseworker once when their bed hold has 30 minutes left."""
    now = utcnow()
    rows = session.exec(
        select(Hold, Home, Referral).join(Home, Home.id == Hold.home_id).join(Referral, Referral.id == Hold.referral_id)
        .where(Hold.keeps_places(now), Hold.expires_at <= now + HOLD_WARNING,
               Referral.status == "held")  # a missing youth's kept bed (referral closed) is the home's
    ).all()
    warned = 0
    for held, home, referral in rows:
        creator = session.get(User, held.created_by_id)
        if creator.role != "caseworker" or not alerts.raise_once(session, f"hold_expiring:{held.id}"):
            continue
        link = f"/caseworker/referrals/{referral.id}"
        alerts.alert(session, "hold_expiring", [creator], alert_texts.hold_expiring(home.name), link,
                     portal_message=f"Your bed hold at {home.name} for {referral.case_reference} expires in 30 minutes.")
        warned += 1
    session.commit()
    return f"{warned} holds about to expire"


def flag_reports(session: Session) -> str:
    """Report due within 4 hours (once per episode), then overdue (lifecycle.flag_overdue, once)."""
    now = utcnow()
    episodes = session.exec(
        select(MissingEpisode).where(MissingEpisode.closed_at.is_(None), MissingEpisode.reports_due_at > now,
                                     MissingEpisode.reports_due_at <= now + REPORT_WARNING)
    ).all()
    due = 0
    for episode in episodes:
        if not lifecycle.clock_for(session, episode, now).outstanding or not alerts.raise_once(session, f"report_due:{episode.id}"):
            continue
        referral = session.get(Referral, episode.referral_id)
        caseworkers = lifecycle.responsible_caseworkers(session, referral, session.get(Placement, episode.placement_id))
        link = f"/caseworker/missing/{episode.id}"
        hours = max(1, int((episode.reports_due_at - now).total_seconds() // 3600) + 1)
        alerts.alert(session, "report_due", caseworkers, alert_texts.report_due(hours), link,
                     urgent=True, portal_message=f"The reports for missing youth {referral.case_reference} are due within {hours} hours.")
        due += 1
    session.commit()
    return f"{due} reports due soon, {lifecycle.flag_overdue(session)} overdue"


def escalate_unanswered(session: Session) -> str:
    """A request unanswered after ESCALATE_MINUTES goes to the state's coordinators and the caseworker."""
    minutes = current_app.config["ESCALATE_MINUTES"]
    cutoff = utcnow() - timedelta(minutes=minutes)
    escalated = select(Escalation.request_id).where(Escalation.request_id.is_not(None))
    rows = session.exec(
        select(PlacementRequest, Home, Referral).join(Home, Home.id == PlacementRequest.home_id)
        .join(Referral, Referral.id == PlacementRequest.referral_id)
        .where(PlacementRequest.status == "pending", PlacementRequest.created_at <= cutoff,
               PlacementRequest.id.not_in(escalated))
        .order_by(PlacementRequest.id)
    ).all()
    for request, home, referral in rows:
        escalation = Escalation(referral_id=referral.id, request_id=request.id, state=referral.custody_state, kind="unanswered")
        session.add(escalation)
        session.flush()
        waited = int(minutes)
        caseworker_link, coordinator_link = f"/caseworker/referrals/{referral.id}", "/coordinator/needs-a-bed"
        caseworker = session.get(User, request.requested_by_id)
        alerts.alert(session, "request_escalated", [caseworker] if caseworker.is_active else [],
                     alert_texts.request_escalated(home.name, referral.urgency, waited),
                     caseworker_link, urgent=True,
                     portal_message=f"{home.name} has not answered the request for {referral.case_reference} "
                                    f"in {waited} minutes. Other eligible homes with room are listed on the referral.")
        alerts.alert(session, "request_escalated", alerts.state_coordinators(session, referral.custody_state),
                     alert_texts.request_escalated(home.name, referral.urgency, waited),
                     coordinator_link, urgent=True,
                     portal_message=f"Unanswered for {waited} minutes: {referral.case_reference} at {home.name}.")
        audit.record(session, "request_escalated", "placement_request", request.id, f"escalation {escalation.id}")
    session.commit()
    return f"{len(rows)} requests escalated"


def remind_stale_figures(session: Session) -> str:
    """Remind a home's operators (and on-call contact) once per set of figures older than STALE_REMIND_HOURS."""
    cutoff = utcnow() - timedelta(hours=current_app.config["STALE_REMIND_HOURS"])
    latest = select(func.max(AvailabilityUpdate.id)).group_by(AvailabilityUpdate.home_id)
    rows = session.exec(
        select(Home, AvailabilityUpdate).join(AvailabilityUpdate, AvailabilityUpdate.home_id == Home.id)
        .where(Home.is_active.is_(True), AvailabilityUpdate.id.in_(latest), AvailabilityUpdate.recorded_at < cutoff)
        .order_by(Home.id)
    ).all()
    reminded = 0
    for home, figures in rows:
        if not alerts.raise_once(session, f"figures_stale:{home.id}:{figures.id}"):
            continue
        hours = int((utcnow() - figures.recorded_at).total_seconds() // 3600)
        link = f"/provider/homes/{home.id}/availability"
        alerts.alert(session, "figures_stale", notifications.organisation_users(session, home.provider_id, "operator"),
                     alert_texts.figures_stale(home.name, hours), link, on_call_home=home)
        reminded += 1
    session.commit()
    return f"{reminded} homes reminded"


def flag_missed_arrivals(session: Session) -> str:
    """A youth in transit not confirmed as arrived ARRIVAL_GRACE_MINUTES after the expected time:
    alert the caseworkers and the home's operators once (urgent)."""
    from . import handoff

    grace = current_app.config["ARRIVAL_GRACE_MINUTES"]
    now = utcnow()
    flagged = 0
    for row, placement in handoff.overdue_handoffs(session, grace, now):
        if not alerts.raise_once(session, f"arrival_overdue:{row.id}"):
            continue
        row.overdue_at = now
        session.add(row)
        home = session.get(Home, placement.home_id)
        referral = session.get(Referral, placement.referral_id)
        text = alert_texts.arrival_overdue(home.name, int(grace))
        alerts.alert(session, "arrival_overdue", lifecycle.responsible_caseworkers(session, referral, placement), text,
                     f"/caseworker/referrals/{referral.id}", urgent=True,
                     portal_message=f"NOT ARRIVED: {referral.case_reference} was expected at {home.name} and is not confirmed. "
                                    "Confirm the arrival or record the youth missing.")
        alerts.alert(session, "arrival_overdue", notifications.organisation_users(session, home.provider_id, "operator"), text,
                     f"/provider/placements/{placement.id}", urgent=True, on_call_home=home,
                     portal_message=f"NOT ARRIVED: {referral.case_reference} was expected at {home.name}. "
                                    "Confirm the arrival if the youth is with you.")
        audit.record(session, "arrival_overdue", "placement", placement.id, f"handoff {row.id}")
        flagged += 1
    session.commit()
    return f"{flagged} arrivals overdue"
