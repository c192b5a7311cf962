"""The referral's protective rules, for its own agency's caseworkers: keep-away areas,
keep-apart youths (of the agency, by case reference) and ICWA (tribe, membership, notice).

Every read is audited (`services.protections.view`); a cross-agency link a coordinator
made shows as a count, never the other case.
"""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from .. import gazetteer
from ..access import get_referral, get_referral_part, roles_required
from ..database import get_session
from ..forms.protections import IcwaForm, KeepApartForm, KeepAwayForm
from ..models import AREA_KINDS, NOTICE_METHODS, TRIBAL_STATUSES, KeepApartLink, KeepAwayArea
from ..services import protections
from ..web.actions import CORRECT_FIELDS, perform, submit
from .blueprint import bp


def _page(item, status: int = 200, **forms):
    session = get_session()
    icwa = IcwaForm(formdata=None, data={"icwa_applies": item.icwa_applies, "tribe": protections.tribe_name(session, item) or "",
                                         "tribal_status": item.tribal_status, "tribe_notice_on": item.tribe_notice_on,
                                         "tribe_notice_method": item.tribe_notice_method})
    blank = {"away_form": KeepAwayForm(formdata=None, data={"state": item.custody_state}),
             "apart_form": KeepApartForm(formdata=None), "icwa_form": icwa}
    return render_template(
        "caseworker/protections.html", referral=item, rules=protections.view(session, current_user, item),
        tribes=protections.tribe_names(session), place_labels=gazetteer.labels(item.custody_state), kinds=AREA_KINDS, statuses=TRIBAL_STATUSES, methods=NOTICE_METHODS,
        **{**blank, **forms},
    ), status


def _back(item):
    return redirect(url_for("caseworker.protections_page", referral_id=item.id))


@bp.get("/referrals/<int:referral_id>/protections")
@roles_required("caseworker")
def protections_page(referral_id: int):
    return _page(get_referral(get_session(), current_user, referral_id))


@bp.post("/referrals/<int:referral_id>/protections/areas")
@roles_required("caseworker")
def add_keep_away(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = KeepAwayForm()
    outcome = submit(form, lambda: protections.add_area(session, current_user, item, form.values()),
                     "Keep-away area added. Homes inside it are excluded from search and the matcher.",
                     invalid_message=CORRECT_FIELDS)
    return _back(item) if outcome.done else _page(item, outcome.status, away_form=form)


@bp.post("/referrals/<int:referral_id>/protections/areas/<int:area_id>/remove")
@roles_required("caseworker")
def remove_keep_away(referral_id: int, area_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    area = get_referral_part(session, current_user, item, KeepAwayArea, area_id, "keep_away_area")
    outcome = perform(lambda: protections.remove_area(session, current_user, item, area), "Keep-away area removed.")
    return _back(item) if outcome.done else _page(item, outcome.status)


@bp.post("/referrals/<int:referral_id>/protections/links")
@roles_required("caseworker")
def add_keep_apart(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = KeepApartForm()
    outcome = submit(form, lambda: protections.add_link(
        session, current_user, item, protections.own_case(session, current_user, form.case_reference.data)),
        "The two youths will be kept apart: never proposed to, or searched into, the same home.",
        invalid_message=CORRECT_FIELDS)
    return _back(item) if outcome.done else _page(item, outcome.status, apart_form=form)


@bp.post("/referrals/<int:referral_id>/protections/links/<int:link_id>/remove")
@roles_required("caseworker")
def remove_keep_apart(referral_id: int, link_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    link = get_referral_part(session, current_user, item, KeepApartLink, link_id, "keep_apart_link",
                             belongs=protections.involves(item))
    outcome = perform(lambda: protections.remove_link(session, current_user, item, link), "Keep-apart link removed.")
    return _back(item) if outcome.done else _page(item, outcome.status)


@bp.post("/referrals/<int:referral_id>/protections/icwa")
@roles_required("caseworker")
def save_icwa(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = IcwaForm()
    outcome = submit(form, lambda: protections.set_icwa(session, current_user, item, form.values()), "ICWA details saved.",
                     invalid_message=CORRECT_FIELDS)
    return _back(item) if outcome.done else _page(item, outcome.status, icwa_form=form)
