"""Provider portal: an operator's own homes, their profiles and tonight's availability."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask import request as http_request
from flask_login import current_user

from .. import audit, gazetteer
from ..access import get_own_home, get_request_for_operator, roles_required
from ..database import get_session
from ..forms.lists import request_list_form
from ..forms.provider import DeclineForm, HomeForm, TonightForm
from ..models import Hold, Organisation, Referral, User
from ..places import own_state
from ..services import alerts, booking, consent, paged_lists, protections
from ..services import homes as home_service
from ..web.actions import CORRECT_FIELDS, form_status, perform, submit
from .blueprint import bp


@bp.get("/homes")
@roles_required("operator")
def homes():
    session = get_session()
    statuses = home_service.statuses(session, home_service.operator_homes(session, current_user))
    # Requests waiting for an answer come first: they are what the operator must act on.
    pending = booking.incoming_requests(session, current_user)
    if pending:
        audit.record(session, "referral_listed", "referral", None, f"{len(pending)} requests", actor=current_user)
        session.commit()
    return render_template("provider/homes.html", statuses=statuses, pending=pending,
                           stale_after=current_app.config["STALE_AFTER_HOURS"])


@bp.route("/homes/new", methods=["GET", "POST"])
@roles_required("operator")
def new_home():
    form = HomeForm(data={"state": own_state()}).set_tribes(protections.tribe_names(get_session()))
    outcome = submit(form, lambda: home_service.create_home(get_session(), current_user, form.values()),
                     lambda home: f"{home.name} was created. Now publish tonight's availability.", invalid_message=CORRECT_FIELDS)
    if outcome.done:
        return redirect(url_for("provider.availability", home_id=outcome.value.id))
    return render_template("provider/home_form.html", form=form, home=None), form_status(form)


@bp.get("/homes/<int:home_id>")
@roles_required("operator")
def home(home_id: int):
    session = get_session()
    home = get_own_home(session, current_user, home_id)
    return render_template(
        "provider/home.html",
        status=home_service.status(session, home),
        history=home_service.history(session, home),
        stale_after=current_app.config["STALE_AFTER_HOURS"],
    )


@bp.route("/homes/<int:home_id>/edit", methods=["GET", "POST"])
@roles_required("operator")
def edit_home(home_id: int):
    session = get_session()
    home = get_own_home(session, current_user, home_id)
    form = HomeForm(obj=home, place=gazetteer.Place(home.state, home.county, home.lat, home.lon, city=home.city).label)
    form.set_tribes(protections.tribe_names(session))
    form.kept_place = {"county": home.county, "city": home.city, "state": home.state, "lat": home.lat, "lon": home.lon}
    if submit(form, lambda: home_service.update_home(session, current_user, home, form.values()), "Home profile saved.",
              invalid_message=CORRECT_FIELDS).done:
        return redirect(url_for("provider.home", home_id=home.id))
    return render_template("provider/home_form.html", form=form, home=home), form_status(form)


@bp.route("/homes/<int:home_id>/availability", methods=["GET", "POST"])
@roles_required("operator")
def availability(home_id: int):
    session = get_session()
    home = get_own_home(session, current_user, home_id)
    status = home_service.status(session, home)
    on_call = alerts.on_call(session, home)
    # The form speaks of beds free for new youths, as My homes shows them: places held for
    # caseworkers (holds, requests waiting for an answer) are kept aside and added back here.
    held = status.reserved_places
    form = TonightForm(obj=status.latest, open_beds=status.open_beds) if status.latest else TonightForm()

    def publish():
        contact = (form.on_call_name.data.strip(), form.on_call_email.data.strip()) if form.on_call_name.data else None
        home_service.record_availability(
            session, current_user, home, form.open_beds.data + held, form.staff_on_duty.data,
            form.youth_per_staff.data, form.current_youth.data, (form.note.data or "").strip(), on_call=contact,
        )

    def published(_) -> str:
        now = home_service.status(session, home)
        aside = f" ({now.reserved_places} more held for caseworkers)" if now.reserved_places else ""
        return f"Tonight's availability for {home.name} is published: {now.open_beds} open beds{aside}; it can take {now.room} more."

    if submit(form, publish, published, invalid_message=CORRECT_FIELDS).done:
        return redirect(url_for("provider.homes"))
    return render_template(
        "provider/availability.html", form=form, status=status, stale_after=current_app.config["STALE_AFTER_HOURS"],
        on_call=on_call,
    ), form_status(form)


@bp.get("/requests")
@roles_required("operator")
def requests():
    session = get_session()
    form = request_list_form(http_request.args, home_service.operator_homes(session, current_user))
    form.validate()
    pending = booking.incoming_requests(session, current_user)
    answered = paged_lists.answered_requests(session, current_user, form.list_filter(),
                                             before=http_request.args.get("before", type=int),
                                             after=http_request.args.get("after", type=int))
    # The list shows each youth's case reference, age and gender: a read of those referrals.
    audit.record(session, "referral_listed", "referral", None, f"{len(pending) + len(answered.rows)} requests", actor=current_user)
    session.commit()
    return render_template("provider/requests.html", pending=pending, answered=answered, form=form, query=form.query())


@bp.get("/requests/<int:request_id>")
@roles_required("operator")
def request_detail(request_id: int):
    session = get_session()
    request, home = get_request_for_operator(session, current_user, request_id)
    referral = session.get(Referral, request.referral_id)
    audit.record(session, "referral_viewed", "referral", referral.id, f"via request {request.id}", actor=current_user)
    session.commit()
    # Who to call: the caseworker who asked and their agency; and how long the bed is held.
    return render_template(
        "provider/request.html", request=request, home=home, referral=referral,
        status=home_service.status(session, home), decline_form=DeclineForm(),
        requester=session.get(User, request.requested_by_id), agency=session.get(Organisation, referral.agency_id),
        hold=session.get(Hold, request.hold_id) if request.hold_id else None,
        consent_on_file=consent.on_file(session, referral),
    )


@bp.post("/requests/<int:request_id>/accept")
@roles_required("operator")
def accept_request(request_id: int):
    session = get_session()
    request, home = get_request_for_operator(session, current_user, request_id)
    return _answer(lambda: booking.accept(session, current_user, request), request,
                   f"Accepted. The caseworker can now see {home.name}'s address and contact.")


@bp.post("/requests/<int:request_id>/decline")
@roles_required("operator")
def decline_request(request_id: int):
    session = get_session()
    request, _ = get_request_for_operator(session, current_user, request_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        flash("Choose a reason from the list.", "error")
        return redirect(url_for("provider.request_detail", request_id=request.id))
    return _answer(lambda: booking.decline(session, current_user, request, form.reason.data, (form.note.data or "").strip()),
                   request, "Declined. The caseworker has been told the reason.")


def _answer(action, request, success: str):
    if not perform(action, success).done:
        return redirect(url_for("provider.request_detail", request_id=request.id)), 303
    return redirect(url_for("provider.requests"))
