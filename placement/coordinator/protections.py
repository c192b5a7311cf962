"""Coordinator pages for the protective rules: the tribe list, a referral's rules (read,
audited) and keep-apart links across agencies (the caseworkers see that a link exists,
never the other case)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..access import coordinator_state, get_referral, get_referral_part, roles_required
from ..database import get_session
from ..forms.protections import CoordinatorLinkForm, TribeForm
from ..models import AREA_KINDS, NOTICE_METHODS, TRIBAL_STATUSES, KeepApartLink
from ..services import protections
from ..web.actions import CORRECT_FIELDS, perform, submit
from .blueprint import bp


@bp.route("/tribes", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def tribes():
    """The list of tribes referrals and homes name (platform-wide)."""
    session = get_session()
    form = TribeForm()
    outcome = submit(form, lambda: protections.add_tribe(session, current_user, form.name.data), "Tribe added to the list.",
                     invalid_message=CORRECT_FIELDS)
    if outcome.done:
        return redirect(url_for("coordinator.tribes"))
    return render_template("coordinator/tribes.html", tribes=protections.tribes(session), form=form), outcome.status


def _link_form(state: str, formdata=None) -> CoordinatorLinkForm:
    form = CoordinatorLinkForm(formdata=formdata) if formdata is not None else CoordinatorLinkForm()
    form.agency_id.choices = [(a.id, a.name) for a in protections.agencies(get_session(), state)]
    return form


def _page(item, status: int = 200, form=None):
    session = get_session()
    return render_template(
        "coordinator/protections.html", referral=item, rules=protections.view(session, current_user, item),
        form=form or _link_form(item.custody_state, formdata={}), kinds=AREA_KINDS, statuses=TRIBAL_STATUSES,
        methods=NOTICE_METHODS,
    ), status


@bp.get("/protected")
@roles_required("coordinator")
def protected_referrals():
    """The state's referrals carrying a protective rule, with counts only."""
    session = get_session()
    state = coordinator_state(session, current_user)
    return render_template("coordinator/protected.html", state=state,
                           rows=protections.state_referrals_with_rules(session, current_user, state))


@bp.get("/referrals/<int:referral_id>/protections")
@roles_required("coordinator")
def referral_protections(referral_id: int):
    return _page(get_referral(get_session(), current_user, referral_id))


@bp.post("/referrals/<int:referral_id>/keep-apart")
@roles_required("coordinator")
def link_youths(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id)
    form = _link_form(item.custody_state)
    outcome = submit(form, lambda: protections.add_link(session, current_user, item, protections.state_case(
        session, item.custody_state, form.agency_id.data, form.case_reference.data)),
        "The two youths will be kept apart.", invalid_message=CORRECT_FIELDS)
    if outcome.done:
        return redirect(url_for("coordinator.referral_protections", referral_id=item.id))
    return _page(item, outcome.status, form)


@bp.post("/referrals/<int:referral_id>/keep-apart/<int:link_id>/remove")
@roles_required("coordinator")
def unlink_youths(referral_id: int, link_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id)
    link = get_referral_part(session, current_user, item, KeepApartLink, link_id, "keep_apart_link",
                             belongs=protections.involves(item))
    outcome = perform(lambda: protections.remove_link(session, current_user, item, link), "Keep-apart link removed.")
    if outcome.done:
        return redirect(url_for("coordinator.referral_protections", referral_id=item.id))
    return _page(item, outcome.status)
