"""Caseworker pages for placements that end and youths who go missing: the
24-hour report clock, the two reports, the return and the screening that closes
an episode."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from .. import audit
from ..access import get_episode, get_placement, roles_required
from ..database import get_session
from ..forms.lifecycle import EndPlacementForm, LocatedForm, MissingForm, ReportForm, ScreeningForm
from ..models import MissingEpisode, Referral
from ..services import lifecycle
from ..web import lifecycle_actions
from ..web.actions import CORRECT_FIELDS, submit
from .blueprint import bp
from .pages import referral_page


@bp.get("/missing")
@roles_required("caseworker")
def missing_list():
    session = get_session()
    # Overdue reports are flagged when someone looks, so no scheduler is needed (idempotent).
    lifecycle.flag_overdue(session)
    scope = Referral.agency_id == current_user.organisation_id
    views = lifecycle.episodes(session, scope)
    audit.record(session, "referral_listed", "missing_episode", None, f"{len(views)} episodes", actor=current_user)
    session.commit()
    # Overdue reports first, then the least time left.
    open_episodes = sorted((v for v in views if not v.episode.closed_at), key=lambda v: (not v.clock.overdue, v.clock.due_at))
    return render_template("caseworker/missing_list.html", open_episodes=open_episodes,
                           closed=[v for v in views if v.episode.closed_at][:30])


@bp.post("/placements/<int:placement_id>/end")
@roles_required("caseworker")
def end_placement(placement_id: int):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    form = EndPlacementForm()
    outcome = lifecycle_actions.end_placement(item, form)
    referral = session.get(Referral, item.referral_id)
    if not outcome.done:
        return referral_page(referral, outcome.status, end_form=form)
    return redirect(url_for("caseworker.referral", referral_id=referral.id))


@bp.post("/placements/<int:placement_id>/missing")
@roles_required("caseworker")
def report_missing(placement_id: int):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    form = MissingForm()
    outcome = lifecycle_actions.report_missing(item, form)
    if not outcome.done:
        return referral_page(session.get(Referral, item.referral_id), outcome.status, missing_form=form)
    return redirect(url_for("caseworker.episode", episode_id=lifecycle.episode_for_placement(session, item).id))


@bp.get("/missing/<int:episode_id>")
@roles_required("caseworker")
def episode(episode_id: int):
    return _episode_page(get_episode(get_session(), current_user, episode_id))


def _episode_page(item: MissingEpisode, status_code: int = 200, **forms):
    session = get_session()
    audit.record(session, "referral_viewed", "referral", item.referral_id, f"via missing episode {item.id}", actor=current_user)
    session.commit()
    defaults = {"report_form": ReportForm(formdata=None, made_by=current_user.display_name),
                "located_form": LocatedForm(formdata=None), "screening_form": ScreeningForm(formdata=None)}
    defaults.update(forms)
    return render_template("caseworker/episode.html", view=lifecycle.view(session, item), **defaults), status_code


def _episode_action(episode_id: int, form, action, success: str, form_name: str):
    session = get_session()
    item = get_episode(session, current_user, episode_id)
    outcome = submit(form, lambda: action(session, item), success, invalid_message=CORRECT_FIELDS)
    if not outcome.done:
        session.refresh(item)
        return _episode_page(item, outcome.status, **{form_name: form})
    return redirect(url_for("caseworker.episode", episode_id=item.id))


@bp.post("/missing/<int:episode_id>/reports")
@roles_required("caseworker")
def record_report(episode_id: int):
    form = ReportForm()
    return _episode_action(episode_id, form, lambda session, item: lifecycle.record_report(
        session, current_user, item, form.kind.data, lifecycle_actions.local_time(form.made_at),
        form.report_number.data or "", form.made_by.data or ""), "Report recorded.", "report_form")


@bp.post("/missing/<int:episode_id>/located")
@roles_required("caseworker")
def record_located(episode_id: int):
    form = LocatedForm()
    return _episode_action(episode_id, form, lambda session, item: lifecycle.record_located(
        session, current_user, item, lifecycle_actions.local_time(form.located_at), form.located_county.data or "",
        form.located_by.data), "Return recorded. Complete the screening to close the episode.", "located_form")


@bp.post("/missing/<int:episode_id>/screening")
@roles_required("caseworker")
def record_screening(episode_id: int):
    form = ScreeningForm()
    return _episode_action(episode_id, form, lambda session, item: lifecycle.record_screening(
        session, current_user, item, form.exploited.data or None, form.health.data or None, form.services.data or [],
        form.reopen.data), "Screening recorded; the episode is closed.", "screening_form")
