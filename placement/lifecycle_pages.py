"""View plumbing the operator's and the caseworker's lifecycle routes share.

Both sides may end a placement or report a youth missing; these helpers turn
the shared forms into service calls so each blueprint's routes stay two lines.
"""
from __future__ import annotations

from typing import Callable

from flask import current_app, flash
from flask_login import current_user

from .database import get_session
from .forms import apply_service_errors
from .lifecycle_forms import EndPlacementForm, MissingForm
from .models import Placement
from .services import lifecycle
from .services.errors import ServiceError
from .timeutil import from_local, utcnow


def attempt(form, action: Callable[[], object], success: str) -> int | None:
    """Validate `form`, run `action`; None on success (flashed), else the status to re-render with.

    A refused action changes nothing: the session is rolled back and the form
    shows the service's field messages.
    """
    if not form.validate_on_submit():
        flash("Please correct the highlighted fields.", "error")
        return 422
    session = get_session()
    try:
        action()
    except ServiceError as error:
        session.rollback()
        apply_service_errors(form, error.fields)
        flash(error.message, "error")
        return 422 if error.status == 400 else error.status
    flash(success, "success")
    return None


def local_time(field) -> object:
    """A form's datetime-local value as UTC in the signed-in user's zone."""
    return from_local(field.data, current_user.timezone)


def end_placement(placement: Placement, form: EndPlacementForm) -> int | None:
    def action():
        ended_at = local_time(form.ended_at) or utcnow()
        lifecycle.end_placement(get_session(), current_user, placement, form.reason.data, ended_at,
                                (form.note.data or "").strip(), form.disruption_reason.data or None)
    return attempt(form, action, "The placement has ended and the bed is open again.")


def report_missing(placement: Placement, form: MissingForm) -> int | None:
    hours = current_app.config["BED_KEEP_HOURS"]

    def action():
        lifecycle.report_missing(get_session(), current_user, placement, local_time(form.last_seen_at), hours)
    return attempt(form, action, f"Missing episode recorded. The 24-hour report clock has started; the bed is kept for {hours:g} hours.")
