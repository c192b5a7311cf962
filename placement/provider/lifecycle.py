"""Operator pages for the youths placed at their homes: ending a placement,
reporting a youth missing, the report clock, releasing a kept bed, and what the
home's declines and disruptions say about its published criteria."""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from .. import audit
from ..access import get_episode, get_intake_document, get_placement, roles_required
from ..database import get_session
from ..forms.arrival import ArrivedForm
from ..forms.lifecycle import EndPlacementForm, MissingForm
from ..models import DECLINE_REASONS, INTAKE_DOCUMENT_KINDS, Home, Placement, Referral
from ..services import documents, handoff, lifecycle, outcomes
from ..web import lifecycle_actions
from ..web.actions import CORRECT_FIELDS, perform, submit
from ..web.documents import document_response
from .blueprint import bp


@bp.get("/placements")
@roles_required("operator")
def placements():
    session = get_session()
    rows = lifecycle.placements_at_homes(session, current_user)
    missing = lifecycle.episodes(session, Home.provider_id == current_user.organisation_id, open_only=True)
    # The list shows each placed youth's case reference: a read of those referrals.
    audit.record(session, "referral_listed", "placement", None, f"{len(rows)} placements", actor=current_user)
    session.commit()
    return render_template("provider/placements.html", rows=rows, missing=missing)


@bp.get("/placements/<int:placement_id>")
@roles_required("operator")
def placement(placement_id: int):
    return _placement_page(get_placement(get_session(), current_user, placement_id))


def _placement_page(item, status_code: int = 200, end_form=None, missing_form=None, arrived_form=None):
    session = get_session()
    episode = lifecycle.episode_for_placement(session, item)
    audit.record(session, "referral_viewed", "referral", item.referral_id, f"via placement {item.id}", actor=current_user)
    session.commit()
    return render_template(
        "provider/placement.html", placement=item, home=session.get(Home, item.home_id),
        referral=session.get(Referral, item.referral_id),
        episode=lifecycle.view(session, episode) if episode else None,
        end_form=end_form or EndPlacementForm(formdata=None), missing_form=missing_form or MissingForm(formdata=None),
        arrived_form=arrived_form or ArrivedForm(formdata=None),
        handoff_view=handoff.view(session, item, current_app.config["ARRIVAL_GRACE_MINUTES"]),
        grace=current_app.config["ARRIVAL_GRACE_MINUTES"],
        packet=documents.released_to_operator(session, current_user, session.get(Referral, item.referral_id)),
        document_kinds=INTAKE_DOCUMENT_KINDS, expired=documents.expired,
    ), status_code


@bp.post("/placements/<int:placement_id>/end")
@roles_required("operator")
def end_placement(placement_id: int):
    item = get_placement(get_session(), current_user, placement_id)
    form = EndPlacementForm()
    outcome = lifecycle_actions.end_placement(item, form)
    if not outcome.done:
        return _placement_page(item, outcome.status, end_form=form)
    return redirect(url_for("provider.placement", placement_id=item.id))


@bp.post("/placements/<int:placement_id>/missing")
@roles_required("operator")
def report_missing(placement_id: int):
    item = get_placement(get_session(), current_user, placement_id)
    form = MissingForm()
    outcome = lifecycle_actions.report_missing(item, form)
    if not outcome.done:
        return _placement_page(item, outcome.status, missing_form=form)
    return redirect(url_for("provider.placement", placement_id=item.id))


@bp.post("/missing/<int:episode_id>/release-bed")
@roles_required("operator")
def release_kept_bed(episode_id: int):
    session = get_session()
    episode = get_episode(session, current_user, episode_id)
    outcome = perform(lambda: lifecycle.release_kept_bed(session, current_user, episode),
                      "The kept bed is open to other referrals again.")
    if not outcome.done:
        return _placement_page(session.get(Placement, episode.placement_id), outcome.error.status)
    return redirect(url_for("provider.placement", placement_id=episode.placement_id))


@bp.get("/feedback")
@roles_required("operator")
def feedback_page():
    session = get_session()
    return render_template("provider/feedback.html", homes=outcomes.for_operator(session, current_user), reason_labels=DECLINE_REASONS)


@bp.post("/placements/<int:placement_id>/arrived")
@roles_required("operator")
def confirm_arrival(placement_id: int):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    form = ArrivedForm()
    outcome = submit(form, lambda: handoff.confirm_arrival(session, current_user, item, lifecycle_actions.local_time(form.arrived_at)),
                     "Arrival confirmed. The caseworker has been told.", invalid_message=CORRECT_FIELDS)
    if not outcome.done:
        session.refresh(item)
        return _placement_page(item, outcome.status if outcome.error else 422, arrived_form=form)
    return redirect(url_for("provider.placement", placement_id=item.id))


@bp.post("/placements/<int:placement_id>/missed-arrival")
@roles_required("operator")
def missed_arrival(placement_id: int):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    outcome = lifecycle_actions.report_missed_arrival(item)
    if not outcome.done:
        session.refresh(item)
        return _placement_page(item, outcome.status if outcome.error else 422)
    return redirect(url_for("provider.placement", placement_id=item.id))


@bp.get("/documents/<int:document_id>")
@roles_required("operator")
def download_document(document_id: int):
    """The intake packet of a youth the operator's home accepted (else 404, audited)."""
    session = get_session()
    return document_response(session, get_intake_document(session, current_user, document_id))
