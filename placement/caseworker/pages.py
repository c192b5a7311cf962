"""The referral page, shown by the referral routes and again, with a status, when an action on it is refused."""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from ..access import disclosed_placement_address
from ..database import get_session
from ..forms.caseworker import CloseForm, HomeChoiceForm
from ..forms.lifecycle import EndPlacementForm, MissingForm
from ..models import ESCALATION_KINDS, MissingEpisode, Referral
from ..services import booking, escalations, lifecycle, referrals


def referral_page(item: Referral, status_code: int = 200, **forms):
    """The referral with its history and bookings; the address once a home accepted.

    `forms` replaces the page's blank forms: a refused form comes back as typed, with its errors.
    """
    session = get_session()
    referrals.read(session, current_user, item)
    bookings = booking.referral_bookings(session, item)
    address = None
    if bookings["placement"] is not None:
        placed, home, _ = bookings["placement"]
        address = disclosed_placement_address(session, current_user, placed, home, f"referral {item.id}")
    episodes = lifecycle.episodes(session, MissingEpisode.referral_id == item.id)
    missing_now = any(view.episode.closed_at is None for view in episodes)
    blank = {"close_form": CloseForm(), "end_form": EndPlacementForm(formdata=None), "missing_form": MissingForm(formdata=None)}
    return render_template(
        "caseworker/referral.html", referral=item, status="missing" if missing_now else booking.effective_status(session, item),
        history=referrals.history(session, item), bookings=bookings, address=address, action_form=HomeChoiceForm(),
        episodes=episodes,
        escalated=escalations.for_referral(session, item, current_app.config["STALE_AFTER_HOURS"]), kinds=ESCALATION_KINDS,
        **{**blank, **forms},
    ), status_code
