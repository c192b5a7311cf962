"""The demo's operator queue: Harbor Light's operator (the first demo account printed) finds
youths waiting under "Waiting youths".

Its homes' random figures may leave no staffed room tonight; then one more staff member comes
on shift at the home that could take a waiting youth, through the usual availability update.
Added once, after the protective rules (they decide which homes may take whom); no random
numbers, so the rest of the demo world is the same with or without it.
"""
from __future__ import annotations

from sqlmodel import Session, select

from solver.eligibility import is_eligible, places_needed

from ..access import queue_homes, scope_queue
from ..models import Referral, User
from ..services import consent, homes, offers, protections
from ..services.solver_inputs import solver_home, solver_referral

QUEUE_OPERATOR = "operator.harbor-light-youth-homes@safebed.example"


def staff_for_queue(session: Session) -> None:
    """Make Harbor Light's queue non-empty when a waiting youth fits one of its homes but for staffing."""
    operator = session.exec(select(User).where(User.email == QUEUE_OPERATOR)).first()
    if operator is None or offers.queue(session, operator):  # not the demo world, or already shows youths
        return
    own = queue_homes(session, operator)
    waiting = [r for r in session.exec(select(Referral).where(scope_queue(own)).order_by(Referral.id)).all()
               if consent.on_file(session, r)] if own else []
    rules = protections.solver_fields(session, waiting, own)
    for referral in waiting:
        wanted = solver_referral(referral, rules[referral.id])
        for found in homes.statuses(session, own):
            latest = found.latest
            if latest is None or found.open_beds < places_needed(wanted) or not is_eligible(solver_home(found), wanted):
                continue
            extra = -(-(latest.current_youth + places_needed(wanted)) // latest.youth_per_staff) - latest.staff_on_duty
            homes.record_availability(session, operator, found.home, latest.open_beds, latest.staff_on_duty + max(extra, 0),
                                      latest.youth_per_staff, latest.current_youth, note="another staff member on shift")
            return
