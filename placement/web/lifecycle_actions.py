"""Page actions the operator's and the caseworker's lifecycle routes share.

Both sides may end a placement or report a youth missing; these turn the shared
forms into service calls so each blueprint's routes stay two lines.
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from ..database import get_session
from ..forms.arrival import MissedArrivalForm
from ..forms.lifecycle import EndPlacementForm, MissingForm
from ..models import Placement
from ..services import handoff, lifecycle
from ..timeutil import from_local, utcnow
from .actions import CORRECT_FIELDS, Outcome, submit


def local_time(field) -> object:
    """A form's datetime-local value as UTC in the signed-in user's zone."""
    return from_local(field.data, current_user.timezone)


def end_placement(placement: Placement, form: EndPlacementForm) -> Outcome:
    """End `placement` as the form says; its bed is open again at once."""
    def action():
        ended_at = local_time(form.ended_at) or utcnow()
        lifecycle.end_placement(get_session(), current_user, placement, form.reason.data, ended_at,
                                (form.note.data or "").strip(), form.disruption_reason.data or None)
    return submit(form, action, "The placement has ended and the bed is open again.", invalid_message=CORRECT_FIELDS)


def report_missing(placement: Placement, form: MissingForm) -> Outcome:
    """Record the youth missing from `placement`: the report clock starts and the bed is kept."""
    hours = current_app.config["BED_KEEP_HOURS"]

    def action():
        lifecycle.report_missing(get_session(), current_user, placement, local_time(form.last_seen_at), hours)
    return submit(form, action, f"Missing episode recorded. The 24-hour report clock has started; the bed is kept for {hours:g} hours.",
                  invalid_message=CORRECT_FIELDS)


def report_missed_arrival(placement: Placement) -> Outcome:
    """One tap after a missed arrival: a missing episode from the departure time."""
    return submit(MissedArrivalForm(), lambda: handoff.report_missed_arrival(
        get_session(), current_user, placement, current_app.config["BED_KEEP_HOURS"]),
        "Missing episode recorded from the departure time. The 24-hour report clock has started.",
        invalid_message="The form expired; try again.")
