"""Caseworker pages: referrals, eligible-bed search, holds and placement requests."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import get_referral, get_referral_part, may_see_address, roles_required
from ..database import get_session
from ..forms import apply_service_errors
from ..alert_forms import AskCoordinatorForm
from ..lifecycle_forms import EndPlacementForm, MissingForm
from ..models import ESCALATION_KINDS, Hold, MissingEpisode, PlacementRequest
from ..services import booking, escalations, lifecycle, referrals
from ..services.errors import ServiceError
from ..services.search import search
from .forms import CloseForm, HomeChoiceForm, ReferralForm

bp = Blueprint("caseworker", __name__, url_prefix="/caseworker")


def _form_status(form) -> int:
    return 422 if form.errors else 200


@bp.get("/referrals")
@roles_required("caseworker")
def referrals_list():
    session = get_session()
    rows = referrals.listing(session, current_user, include_finished=True)
    return render_template("caseworker/referrals.html", rows=[(r, booking.effective_status(session, r)) for r in rows])


@bp.route("/referrals/new", methods=["GET", "POST"])
@roles_required("caseworker")
def new_referral():
    form = ReferralForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            referral = referrals.create(session, current_user, form.values())
        except ServiceError as error:
            session.rollback()
            apply_service_errors(form, error.fields)
            flash(error.message, "error")
        else:
            flash(f"Referral {referral.case_reference} opened. Here are the homes that can take this youth.", "success")
            return redirect(url_for("caseworker.search_beds", referral_id=referral.id))
    elif form.is_submitted():
        flash("Please correct the highlighted fields.", "error")
    return render_template("caseworker/referral_form.html", form=form, referral=None), _form_status(form)


@bp.get("/referrals/<int:referral_id>")
@roles_required("caseworker")
def referral(referral_id: int):
    session = get_session()
    return _referral_page(get_referral(session, current_user, referral_id))


def _referral_page(item, status_code: int = 200):
    """The referral with its history and bookings; the address once a home accepted."""
    session = get_session()
    referrals.read(session, current_user, item)
    bookings = booking.referral_bookings(session, item)
    address = None
    if bookings["placement"] is not None:
        _, home, _ = bookings["placement"]
        if may_see_address(session, current_user, home):
            address = home.street_address
            audit.record(session, "address_disclosed", "home", home.id, f"referral {item.id}", actor=current_user)
            session.commit()
    return render_template(
        "caseworker/referral.html", referral=item, status=booking.effective_status(session, item),
        history=referrals.history(session, item), bookings=bookings, address=address,
        close_form=CloseForm(), action_form=HomeChoiceForm(),
        episodes=lifecycle.episodes(session, MissingEpisode.referral_id == item.id),
        end_form=EndPlacementForm(formdata=None), missing_form=MissingForm(formdata=None),
        escalated=escalations.for_referral(session, item, current_app.config["STALE_AFTER_HOURS"]), kinds=ESCALATION_KINDS,
    ), status_code


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
@roles_required("caseworker")
def edit_referral(referral_id: int):
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id, change=True))
    data = {name: getattr(item, name) for name in referrals.REFERRAL_FIELDS}
    data["icpc_approved_states"] = ", ".join(item.icpc_approved_states)
    data["cultural_need"] = item.cultural_need or ""
    form = ReferralForm(data=data)
    if form.validate_on_submit():
        try:
            referrals.update(session, current_user, item, form.values())
        except ServiceError as error:
            session.rollback()
            apply_service_errors(form, error.fields)
            flash(error.message, "error")
        else:
            flash("Referral saved.", "success")
            return redirect(url_for("caseworker.referral", referral_id=item.id))
    elif form.is_submitted():
        flash("Please correct the highlighted fields.", "error")
    return render_template("caseworker/referral_form.html", form=form, referral=item), _form_status(form)


@bp.post("/referrals/<int:referral_id>/close")
@roles_required("caseworker")
def close_referral(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = CloseForm()
    if not form.validate_on_submit():
        flash("Say why the referral is being closed.", "error")
        return _referral_page(item, 422)
    return _run(lambda: referrals.close(session, current_user, item, form.reason.data.strip()), item, "Referral closed.")


# A phone shows the best few; "show all" lifts the cap.
RESULTS_SHOWN = 20


@bp.get("/referrals/<int:referral_id>/search")
@roles_required("caseworker")
def search_beds(referral_id: int):
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id))
    result = search(session, item, current_app.config["STALE_AFTER_HOURS"])
    shown = None if request.args.get("all") == "1" else RESULTS_SHOWN
    return render_template(
        "caseworker/search.html", result=result, status=booking.effective_status(session, item), shown=shown,
        action_form=HomeChoiceForm(), hold_hours=current_app.config["HOLD_HOURS"],
        asked=any(e.kind == "no_eligible_home" for e in escalations.open_escalations(session, item)),
        ask_form=AskCoordinatorForm(), exclusion_summary=escalations.exclusion_summary(result),
    )


def _run(action, item, success: str):
    """Run a booking action; on refusal show why on the referral page, changing nothing."""
    session = get_session()
    try:
        action()
    except ServiceError as error:
        session.rollback()
        session.refresh(item)
        flash(error.message, "error")
        return _referral_page(item, error.status)
    flash(success, "success")
    return redirect(url_for("caseworker.referral", referral_id=item.id))


def _chosen_home() -> int:
    form = HomeChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    return form.home_id.data


@bp.post("/referrals/<int:referral_id>/hold")
@roles_required("caseworker")
def hold(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    home_id = _chosen_home()
    hours = current_app.config["HOLD_HOURS"]
    return _run(lambda: booking.hold(session, current_user, item, home_id, hours), item,
                f"Bed held for {hours:g} hours. Request the placement when transport is arranged.")


@bp.post("/referrals/<int:referral_id>/holds/<int:hold_id>/release")
@roles_required("caseworker")
def release_hold(referral_id: int, hold_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    get_referral_part(session, current_user, item, Hold, hold_id, "hold")
    return _run(lambda: booking.release_hold(session, current_user, item, hold_id), item, "Hold released; the bed is free again.")


@bp.post("/referrals/<int:referral_id>/request")
@roles_required("caseworker")
def request_placement(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    home_id = _chosen_home()
    return _run(lambda: booking.request_placement(session, current_user, item, home_id), item,
                "Placement requested. You will be notified when the home answers.")


@bp.post("/referrals/<int:referral_id>/requests/<int:request_id>/withdraw")
@roles_required("caseworker")
def withdraw_request(referral_id: int, request_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    get_referral_part(session, current_user, item, PlacementRequest, request_id, "placement_request")
    return _run(lambda: booking.withdraw_request(session, current_user, item, request_id), item, "Request withdrawn.")


# Imported last: the module adds its routes to `bp` above.
from . import lifecycle as _lifecycle_routes  # noqa: E402,F401 - registers the placement-lifecycle routes on bp
from . import escalation as _escalation_routes  # noqa: E402,F401 - registers Ask the coordinator on bp
