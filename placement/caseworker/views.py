"""Caseworker pages: referrals, eligible-bed search, holds and placement requests."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import get_referral, get_referral_part, roles_required
from ..database import get_session
from ..forms.alerts import AskCoordinatorForm
from ..forms.caseworker import CloseForm, HomeChoiceForm, ReferralForm, SearchSteerForm
from ..forms.lists import referral_list_form
from ..forms.places import place_label
from ..models import Hold, PlacementRequest
from ..places import own_state
from ..services import booking, consent, escalations, paged_lists, referrals
from ..services.search import search, word
from ..services.steering import DEFAULT_ORDER_TEXT, SORT_LABELS, steer
from ..web.actions import CORRECT_FIELDS, form_status, perform, submit
from .blueprint import bp
from .pages import referral_page


@bp.get("/referrals")
@roles_required("caseworker")
def referrals_list():
    form = referral_list_form(request.args)
    form.validate()
    page = paged_lists.referrals(get_session(), current_user, form.list_filter(), before=request.args.get("before", type=int),
                                 after=request.args.get("after", type=int))
    return render_template("caseworker/referrals.html", page=page, form=form, query=form.query())


@bp.route("/referrals/new", methods=["GET", "POST"])
@roles_required("caseworker")
def new_referral():
    # The custody state starts as the agency's own state: the state most youths are wards of.
    form = ReferralForm(data={"custody_state": own_state()})
    outcome = submit(form, lambda: referrals.create(get_session(), current_user, form.values()),
                     lambda referral: f"Referral {referral.case_reference} opened. Here are the homes that can take this youth.",
                     invalid_message=CORRECT_FIELDS)
    if outcome.done:
        return redirect(url_for("caseworker.search_beds", referral_id=outcome.value.id))
    return render_template("caseworker/referral_form.html", form=form, referral=None), form_status(form)


@bp.get("/referrals/<int:referral_id>")
@roles_required("caseworker")
def referral(referral_id: int):
    return referral_page(get_referral(get_session(), current_user, referral_id))


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
@roles_required("caseworker")
def edit_referral(referral_id: int):
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id, change=True))
    data = {name: getattr(item, name) for name in referrals.REFERRAL_FIELDS}
    data["icpc_approved_states"] = ", ".join(item.icpc_approved_states)
    data["cultural_need"] = item.cultural_need or ""
    data["place"] = place_label(item.county, item.custody_state, item.lat, item.lon)
    form = ReferralForm(data=data)
    form.kept_place = {"county": item.county, "lat": item.lat, "lon": item.lon}
    if submit(form, lambda: referrals.update(session, current_user, item, form.values()), "Referral saved.",
              invalid_message=CORRECT_FIELDS).done:
        return redirect(url_for("caseworker.referral", referral_id=item.id))
    return render_template("caseworker/referral_form.html", form=form, referral=item), form_status(form)


@bp.post("/referrals/<int:referral_id>/close")
@roles_required("caseworker")
def close_referral(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = CloseForm()
    if not form.validate_on_submit():
        flash("Say why the referral is being closed.", "error")
        return referral_page(item, 422)
    return _run(lambda: referrals.close(session, current_user, item, form.reason.data.strip()), item, "Referral closed.")


# A phone shows the best few; "show all" lifts the cap.
RESULTS_SHOWN = 20


@bp.get("/referrals/<int:referral_id>/search")
@roles_required("caseworker")
def search_beds(referral_id: int):
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id))
    steer_form = SearchSteerForm(request.args)
    steer_form.validate()
    steering = steer_form.steering()
    result = steer(search(session, item, current_app.config["STALE_AFTER_HOURS"]), steering)
    shown = None if request.args.get("all") == "1" else RESULTS_SHOWN
    # The summary words every excluded home's rules: only the page that offers to ask shows it.
    summarised = not result.available and not result.full
    word(result.available[:shown] + result.full[:shown] + (result.excluded if summarised else result.excluded[:shown]))
    order_text = DEFAULT_ORDER_TEXT if steering.sort == "best" else f"{SORT_LABELS[steering.sort]}."
    return render_template(
        "caseworker/search.html", result=result, status=booking.effective_status(session, item), shown=shown,
        action_form=HomeChoiceForm(), hold_hours=current_app.config["HOLD_HOURS"],
        asked=any(e.kind == "no_eligible_home" for e in escalations.open_escalations(session, item)),
        ask_form=AskCoordinatorForm(),
        exclusion_summary=escalations.exclusion_summary(result) if summarised else [],
        steer_form=steer_form, steering=steering, order_text=order_text, parallel_limit=booking.parallel_limit(),
        consent_on_file=consent.on_file(session, item),
    )


def _run(action, item, success: str):
    """Run a booking action; on refusal show why on the referral page, changing nothing."""
    outcome = perform(action, success)
    if not outcome.done:
        get_session().refresh(item)
        return referral_page(item, outcome.error.status)
    return redirect(url_for("caseworker.referral", referral_id=item.id))


def _chosen_home() -> int:
    form = HomeChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    return form.home_id.data


def _good_cause() -> str:
    """The ICWA good cause typed beside "Request placement" (validated with the home)."""
    return (HomeChoiceForm().good_cause.data or "").strip()


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
    held = get_referral_part(session, current_user, item, Hold, hold_id, "hold")
    return _run(lambda: booking.release_hold(session, current_user, item, held), item, "Hold released; the bed is free again.")


@bp.post("/referrals/<int:referral_id>/request")
@roles_required("caseworker")
def request_placement(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    home_id = _chosen_home()
    good_cause = _good_cause()
    return _run(lambda: booking.request_placement(session, current_user, item, home_id, good_cause), item,
                "Placement requested. You will be notified when the home answers.")


@bp.post("/referrals/<int:referral_id>/requests/<int:request_id>/withdraw")
@roles_required("caseworker")
def withdraw_request(referral_id: int, request_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    pending = get_referral_part(session, current_user, item, PlacementRequest, request_id, "placement_request")
    return _run(lambda: booking.withdraw_request(session, current_user, item, pending), item, "Request withdrawn.")
