"""Caseworker pages from request to arrival: consent, the handoff and the intake packet, on the referral page."""
from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

from ..access import get_intake_document, get_placement, get_referral, roles_required
from ..database import get_session
from ..forms.arrival import ConsentOverrideForm, ConsentReleaseForm, DepartureForm, DocumentForm
from ..models import DOCUMENT_MAX_BYTES, Referral
from ..services import consent, documents, handoff
from ..web.documents import document_response
from ..web.actions import CORRECT_FIELDS, submit
from ..web.lifecycle_actions import local_time, report_missed_arrival
from .blueprint import bp
from .pages import referral_page


def _on_referral(referral_id: int, form, action, success: str, form_name: str):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    outcome = submit(form, lambda: action(session, item), success, invalid_message=CORRECT_FIELDS)
    if not outcome.done:
        session.refresh(item)
        return referral_page(item, outcome.status if outcome.error else 422, **{form_name: form})
    return redirect(url_for("caseworker.referral", referral_id=item.id))


@bp.post("/referrals/<int:referral_id>/consent")
@roles_required("caseworker")
def record_consent(referral_id: int):
    form = ConsentReleaseForm()
    return _on_referral(referral_id, form, lambda session, item: consent.record_release(
        session, current_user, item, bool(form.youth_assented.data), form.recipients.data or "", form.information.data or "",
        local_time(form.signed_at), local_time(form.expires_at)),
        "Consent recorded. You can now send placement requests.", "consent_form")


@bp.post("/referrals/<int:referral_id>/consent/override")
@roles_required("caseworker")
def override_consent(referral_id: int):
    form = ConsentOverrideForm()
    return _on_referral(referral_id, form, lambda session, item: consent.record_override(
        session, current_user, item, form.reason.data or "", form.approved_by.data or ""),
        "Override recorded. You can now send placement requests.", "override_form")


# The handoff -------------------------------------------------------------------------

def _on_placement(placement_id: int, form, action, success: str, form_name: str):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    outcome = submit(form, lambda: action(session, item), success, invalid_message=CORRECT_FIELDS)
    referral = session.get(Referral, item.referral_id)
    if not outcome.done:
        session.refresh(item)
        return referral_page(referral, outcome.status if outcome.error else 422, **{form_name: form})
    return redirect(url_for("caseworker.referral", referral_id=referral.id))


@bp.post("/placements/<int:placement_id>/departure")
@roles_required("caseworker")
def record_departure(placement_id: int):
    form = DepartureForm()
    return _on_placement(placement_id, form, lambda session, item: handoff.record_departure(
        session, current_user, item, form.escort_name.data or "", local_time(form.departed_at),
        local_time(form.expected_arrival_at)), "Departure recorded. The home has been told to expect the youth.",
        "departure_form")


@bp.post("/placements/<int:placement_id>/missed-arrival")
@roles_required("caseworker")
def missed_arrival(placement_id: int):
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    outcome = report_missed_arrival(item)
    if outcome.done:
        return redirect(url_for("caseworker.episode", episode_id=outcome.value.id))
    session.refresh(item)
    return referral_page(session.get(Referral, item.referral_id), outcome.status if outcome.error else 422)


# The intake packet -------------------------------------------------------------------

@bp.url_value_preprocessor
def _document_upload_limit(endpoint, _values):
    """An upload may carry a 10 MB file: lift the 1 MB body limit for that one route, before
    CSRF protection reads the body (URL preprocessors run before every before_request)."""
    if endpoint == "caseworker.upload_document":
        request.max_content_length = DOCUMENT_MAX_BYTES + 256 * 1024


@bp.post("/referrals/<int:referral_id>/documents")
@roles_required("caseworker")
def upload_document(referral_id: int):
    form = DocumentForm()

    def action(session, item):
        data = form.file.data.read(DOCUMENT_MAX_BYTES + 1)
        return documents.upload(session, current_user, item, form.kind.data, data, form.expires_on.data)

    return _on_referral(referral_id, form, action, "Document attached and stored encrypted.", "document_form")


@bp.get("/referrals/<int:referral_id>/documents/<int:document_id>")
@roles_required("caseworker")
def download_document(referral_id: int, document_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id)
    document = get_intake_document(session, current_user, document_id, referral_id=item.id)
    return document_response(session, document)
