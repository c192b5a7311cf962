"""The referral page, shown by the referral routes and again, with a status, when an action on it is refused."""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from ..database import get_session
from ..forms.arrival import ConsentOverrideForm, ConsentReleaseForm, DepartureForm, DocumentForm
from ..forms.caseworker import CloseForm, HomeChoiceForm, OfferAcceptForm, OfferDeclineForm
from ..forms.lifecycle import EndPlacementForm, MissingForm
from ..models import CONSENT_KINDS, ESCALATION_KINDS, INTAKE_DOCUMENT_KINDS, MissingEpisode, Referral
from ..services import documents, escalations, handoff, lifecycle, offers, referral_view


def referral_page(item: Referral, status_code: int = 200, **forms):
    """The referral with its history and bookings; the address once a home accepted.

    `forms` replaces the page's blank forms: a refused form comes back as typed, with its errors.
    """
    session = get_session()
    found = referral_view.detail(session, current_user, item)
    episodes = lifecycle.episodes(session, MissingEpisode.referral_id == item.id)
    missing_now = any(view.episode.closed_at is None for view in episodes)
    blank = {"close_form": CloseForm(), "end_form": EndPlacementForm(formdata=None), "missing_form": MissingForm(formdata=None),
             "consent_form": ConsentReleaseForm(formdata=None), "override_form": ConsentOverrideForm(formdata=None),
             "departure_form": DepartureForm(formdata=None), "document_form": DocumentForm(formdata=None),
             "offer_accept_form": OfferAcceptForm(formdata=None), "offer_decline_form": OfferDeclineForm(formdata=None)}
    grace = current_app.config["ARRIVAL_GRACE_MINUTES"]
    placed = found.bookings["placement"]
    handoff_view = handoff.view(session, placed[0], grace) if placed is not None else None
    packet = documents.for_referral(session, item)
    return render_template(
        "caseworker/referral.html", referral=item, status="missing" if missing_now else found.status,
        history=found.history, bookings=found.bookings, address=found.address, action_form=HomeChoiceForm(),
        episodes=episodes, consent=found.consent, consent_history=found.consent_history, consent_kinds=CONSENT_KINDS,
        detail=found, handoff_view=handoff_view, grace=grace, offer_status=offers.shown_status,
        packet=packet, checklists=documents.checklists(session, item, packet),
        document_kinds=INTAKE_DOCUMENT_KINDS, expired=documents.expired,
        escalated=escalations.for_referral(session, item, current_app.config["STALE_AFTER_HOURS"]), kinds=ESCALATION_KINDS,
        **{**blank, **forms},
    ), status_code
