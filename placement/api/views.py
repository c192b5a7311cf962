"""The JSON API at /api/v1/: thin routes over the same services, forms and access policy as the pages.

Each route validates its body with the page's form (`bodies.validate`), asks
`placement.access` for the object (another organisation's id is 404, audited),
calls the service, and answers JSON. Service refusals become
`{"error": {"code", "message", "fields"}}` with the service's status code.
"""
from __future__ import annotations

import base64
import binascii

from flask import current_app, g, jsonify, request
from flask_login import current_user

from .. import audit
from ..access import (
    coordinator_state,
    get_matcher_run,
    get_intake_document,
    get_own_home,
    get_placement,
    get_referral,
    get_referral_part,
    get_request_for_operator,
    roles_required,
)
from ..database import get_session
from ..forms.arrival import ArrivedForm, ConsentOverrideForm, ConsentReleaseForm, DepartureForm, DocumentBody
from ..forms.caseworker import CloseForm, HomeChoiceForm, ReferralBody
from ..forms.coordinator import StartRunForm
from ..forms.protections import IcwaForm, KeepApartForm, KeepAwayForm
from ..forms.provider import AvailabilityForm, DeclineForm
from ..models import Hold, Home, KeepAwayArea, Organisation, Placement, PlacementRequest, Referral
from ..services import (
    booking, consent, directory, documents, handoff, matcher_runs, offers, paged_lists, protections, referral_view, referrals,
)
from ..services import homes as home_service
from ..services.errors import Conflict, ServiceError
from ..services.search import search, word
from ..timeutil import from_local
from ..web.documents import document_response
from . import auth, schemas
from .blueprint import bp
from .bodies import ValidationFailed, validate
from .idempotency import idempotent
from .openapi import api_route, build_spec

CASEWORKER, OPERATOR, COORDINATORS = ("caseworker",), ("operator",), ("coordinator", "admin")


def reply(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    return response


def error_reply(status: int, code: str, message: str, fields: dict | None = None):
    return reply({"error": {"code": code, "message": message, "fields": fields or {}}}, status)


@bp.before_request
def authenticate():
    """Every route needs a valid token, except the public description."""
    if request.endpoint == "api.openapi":
        return None
    refused = auth.refusal()
    if refused is not None:
        response = error_reply(401, refused.code, refused.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="safebed"'
        return response
    return None


@bp.errorhandler(ServiceError)
def service_error(error: ServiceError):
    """A refused action changed nothing: roll back and say why, naming the fields."""
    get_session().rollback()
    return error_reply(error.status, error.code, error.message, error.fields)


def _body() -> object:
    """The JSON body (None when it is not JSON: `bodies.validate` refuses that, naming the body)."""
    return request.get_json(silent=True)


def _flag(name: str) -> bool:
    """A boolean query parameter: true or false (or absent: false), nothing else."""
    value = request.args.get(name, "false").lower()
    if value not in ("true", "false"):
        raise ValidationFailed(f"{name} must be true or false.", {name: "expected true or false"})
    return value == "true"


def _before() -> int | None:
    """The `before` query parameter of a paged list: the `older` id the previous page gave."""
    value = request.args.get("before")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and int(value) >= 1):
        raise ValidationFailed("before must be the older id that the previous page gave.", {"before": "expected a row id"})
    return int(value)


BEFORE = {"name": "before", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
          "description": "The next (older) page: the `older` id that the previous page gave."}


def _stale_after() -> float:
    return current_app.config["STALE_AFTER_HOURS"]


# Description and identity ------------------------------------------------------------------

@api_route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 description", tag="meta",
           response="OpenApiDocument", public=True)
def openapi():
    return reply(build_spec())


@api_route(bp, "/me", "GET", summary="The token's user and organisation", tag="meta", response="Me")
def me():
    session = get_session()
    token = g.api_token
    organisation = session.get(Organisation, current_user.organisation_id)
    return reply({
        "user": {"id": current_user.id, "email": current_user.email, "display_name": current_user.display_name,
                 "role": current_user.role, "organisation_id": organisation.id, "organisation_name": organisation.name},
        "token": {"id": token.id, "name": token.name, "expires_at": schemas.iso(token.expires_at)},
    })


# Homes (operators) ---------------------------------------------------------------------------

@api_route(bp, "/homes", "GET", summary="My homes with tonight's availability", tag="homes", roles=OPERATOR,
           response="HomeList")
@roles_required(*OPERATOR)
def homes():
    session = get_session()
    statuses = home_service.statuses(session, home_service.operator_homes(session, current_user))
    return reply({"homes": [schemas.home_json(s, _stale_after()) for s in statuses]})


@api_route(bp, "/homes/<int:home_id>", "GET", summary="One of my homes", tag="homes", roles=OPERATOR, response="Home")
@roles_required(*OPERATOR)
def home(home_id: int):
    session = get_session()
    item = get_own_home(session, current_user, home_id)
    return reply(schemas.home_json(home_service.status(session, item), _stale_after()))


@api_route(bp, "/homes/<int:home_id>/availability", "GET", summary="A home's availability history, newest first",
           tag="homes", roles=OPERATOR, response="AvailabilityHistory")
@roles_required(*OPERATOR)
def availability_history(home_id: int):
    session = get_session()
    item = get_own_home(session, current_user, home_id)
    return reply({"home_id": item.id, "entries": [schemas.availability_json(e) for e in home_service.history(session, item)]})


@api_route(bp, "/homes/<int:home_id>/availability", "POST", summary="Publish tonight's availability",
           tag="homes", roles=OPERATOR, response="AvailabilityRecorded", status=201, body=AvailabilityForm)
@roles_required(*OPERATOR)
def record_availability(home_id: int):
    """Appends to the home's availability log, as the page's "Update tonight" form does."""
    session = get_session()
    item = get_own_home(session, current_user, home_id)
    form = validate(AvailabilityForm, _body())
    entry = home_service.record_availability(
        session, current_user, item, form.open_beds.data, form.staff_on_duty.data, form.youth_per_staff.data,
        form.current_youth.data, (form.note.data or "").strip(),
    )
    return reply({"entry": schemas.availability_json(entry),
                  "home": schemas.home_json(home_service.status(session, item), _stale_after())}, 201)


# Referrals (caseworkers) -------------------------------------------------------------------------

@api_route(bp, "/referrals", "GET", summary="My agency's referrals, newest first", tag="referrals", roles=CASEWORKER,
           response="ReferralList",
           query=({"name": "include_finished", "in": "query", "required": False, "schema": {"type": "boolean"},
                   "description": "Also list placed and closed referrals."}, BEFORE))
@roles_required(*CASEWORKER)
def referral_list():
    """100 a page, newest first; listing is audited, like the page."""
    session = get_session()
    page = paged_lists.api_referrals(session, current_user, _flag("include_finished"), _before())
    effective = booking.effective_statuses(session, page.rows)
    return reply({"referrals": [schemas.referral_json(r, effective[r.id]) for r in page.rows], "older": page.older})


@api_route(bp, "/referrals", "POST", summary="Open a referral", tag="referrals", roles=CASEWORKER,
           response="Referral", status=201, body=ReferralBody)
@roles_required(*CASEWORKER)
def create_referral():
    session = get_session()
    item = referrals.create(session, current_user, validate(ReferralBody, _body()).values())
    return reply(schemas.referral_json(item, item.status), 201)


def _referral_detail(item: Referral):
    """The referral with history and bookings; the home's address once it accepted (audited)."""
    session = get_session()
    found = referral_view.detail(session, current_user, item, via="via api")
    bookings = found.bookings
    placement = None
    if bookings["placement"] is not None:
        placed, placed_home, provider = bookings["placement"]
        placement = schemas.placement_json(placed, placed_home, provider.name, found.address)
    return reply({
        "referral": schemas.referral_json(item, found.status),
        "history": [{"status": e.status, "note": e.note, "at": schemas.iso(e.created_at)} for e in found.history],
        "holds": [schemas.hold_json(h, hm) for h, hm in bookings["holds"]],
        "requests": [schemas.request_json(r, hm) for r, hm in bookings["requests"]],
        "placement": placement,
        "consent": schemas.consent_json(found.consent),
        "offers": [schemas.offer_json(made, home, offers.shown_status(made)) for made, home in found.offers],
    })


@api_route(bp, "/referrals/<int:referral_id>", "GET", summary="A referral with its history, holds, requests and placement",
           tag="referrals", roles=CASEWORKER, response="ReferralDetail")
@roles_required(*CASEWORKER)
def referral(referral_id: int):
    """Every read is audited. The placement carries the home's street address only once that home accepted."""
    return _referral_detail(get_referral(get_session(), current_user, referral_id))


def _referral_values(item: Referral) -> dict:
    """The referral as a JSON body, so a partial update is validated as a whole, like the edit page."""
    return {name: getattr(item, name) for name in referrals.REFERRAL_FIELDS}


@api_route(bp, "/referrals/<int:referral_id>", "PATCH", summary="Change a referral (send only the fields that change)",
           tag="referrals", roles=CASEWORKER, response="Referral",
           body=ReferralBody, partial=True)
@roles_required(*CASEWORKER)
def update_referral(referral_id: int):
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id, change=True))
    form = validate(ReferralBody, _body(), base=_referral_values(item))
    referrals.update(session, current_user, item, form.values())
    return reply(schemas.referral_json(item, booking.effective_status(session, item)))


@api_route(bp, "/referrals/<int:referral_id>/close", "POST", summary="Close a referral that no longer needs a bed",
           tag="referrals", roles=CASEWORKER, response="Referral", body=CloseForm)
@roles_required(*CASEWORKER)
def close_referral(referral_id: int):
    """Releases its holds and withdraws its pending requests."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(CloseForm, _body())
    referrals.close(session, current_user, item, form.reason.data.strip())
    return reply(schemas.referral_json(item, item.status))


@api_route(bp, "/referrals/<int:referral_id>/search", "GET", summary="Eligible beds for a referral, with exclusion reasons",
           tag="referrals", roles=CASEWORKER, response="SearchResult")
@roles_required(*CASEWORKER)
def search_beds(referral_id: int):
    """Ranked fresh-before-stale, then by fit; city and county only, never a street address."""
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id))
    result = search(session, item, _stale_after())
    word(result.available + result.full + result.excluded)  # every home is written, each with its words
    return reply(schemas.search_json(result, booking.effective_status(session, item)))


# Protective rules (caseworkers of the referral's agency) ----------------------------------------------

def _protections(item: Referral):
    return reply(schemas.protections_json(protections.view(get_session(), current_user, item)))


@api_route(bp, "/referrals/<int:referral_id>/protections", "GET",
           summary="The referral's keep-away areas, keep-apart youths and ICWA details (confidential)",
           tag="protections", roles=CASEWORKER, response="Protections")
@roles_required(*CASEWORKER)
def referral_protections(referral_id: int):
    """Only the referral's own agency; every read is audited. A coordinator's link to another
    agency's youth is a count (`keep_apart_hidden`), never the other case."""
    return _protections(get_referral(get_session(), current_user, referral_id))


@api_route(bp, "/referrals/<int:referral_id>/keep-away", "POST", summary="Add a keep-away area (county, ZIP code, or place + radius)",
           tag="protections", roles=CASEWORKER, response="Protections", status=201, body=KeepAwayForm)
@roles_required(*CASEWORKER)
def add_keep_away(referral_id: int):
    """The place is named like on the page (a county, ZIP code, or city), resolved by the offline gazetteer."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    protections.add_area(session, current_user, item, validate(KeepAwayForm, _body()).values())
    response = _protections(item)
    response.status_code = 201
    return response


@api_route(bp, "/referrals/<int:referral_id>/keep-away/<int:area_id>/remove", "POST", summary="Remove a keep-away area",
           tag="protections", roles=CASEWORKER, response="Protections")
@roles_required(*CASEWORKER)
def remove_keep_away(referral_id: int, area_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    area = get_referral_part(session, current_user, item, KeepAwayArea, area_id, "keep_away_area")
    protections.remove_area(session, current_user, item, area)
    return _protections(item)


@api_route(bp, "/referrals/<int:referral_id>/keep-apart", "POST", summary="Keep this youth apart from another of my agency's youths",
           tag="protections", roles=CASEWORKER, response="Protections", status=201, body=KeepApartForm)
@roles_required(*CASEWORKER)
def add_keep_apart(referral_id: int):
    """Symmetric: the other referral is kept apart from this one too. Both are audited."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(KeepApartForm, _body())
    protections.add_link(session, current_user, item, protections.own_case(session, current_user, form.case_reference.data))
    response = _protections(item)
    response.status_code = 201
    return response


@api_route(bp, "/referrals/<int:referral_id>/icwa", "PUT", summary="Record whether ICWA applies, the tribe and the tribe's notice",
           tag="protections", roles=CASEWORKER, response="Protections", body=IcwaForm)
@roles_required(*CASEWORKER)
def save_icwa(referral_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    protections.set_icwa(session, current_user, item, validate(IcwaForm, _body()).values())
    return _protections(item)


# Holds and placement requests (caseworkers) ----------------------------------------------------------

@api_route(bp, "/referrals/<int:referral_id>/holds", "POST", summary="Hold a bed at a home for this referral",
           tag="bookings", roles=CASEWORKER, response="Hold", status=201, body=HomeChoiceForm, idempotent=True)
@roles_required(*CASEWORKER)
@idempotent
def hold(referral_id: int):
    """The hold lasts SAFEBED_HOLD_HOURS (4 by default) and lapses by itself."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    home_id = validate(HomeChoiceForm, _body()).home_id.data
    held = booking.hold(session, current_user, item, home_id, current_app.config["HOLD_HOURS"])
    return reply(schemas.hold_json(held, session.get(Home, held.home_id)), 201)


@api_route(bp, "/referrals/<int:referral_id>/holds/<int:hold_id>/release", "POST", summary="Release a hold",
           tag="bookings", roles=CASEWORKER, response="Hold")
@roles_required(*CASEWORKER)
def release_hold(referral_id: int, hold_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    held = get_referral_part(session, current_user, item, Hold, hold_id, "hold")
    booking.release_hold(session, current_user, item, held)
    session.refresh(held)
    return reply(schemas.hold_json(held, session.get(Home, held.home_id)))


@api_route(bp, "/referrals/<int:referral_id>/requests", "POST", summary="Request the placement at a home",
           tag="bookings", roles=CASEWORKER, response="PlacementRequest", status=201, body=HomeChoiceForm, idempotent=True)
@roles_required(*CASEWORKER)
@idempotent
def request_placement(referral_id: int):
    """From the referral's live hold at that home, or directly. The home's operators are notified."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(HomeChoiceForm, _body())
    created = booking.request_placement(session, current_user, item, form.home_id.data, (form.good_cause.data or "").strip())
    return reply(schemas.request_json(created, session.get(Home, created.home_id)), 201)


@api_route(bp, "/referrals/<int:referral_id>/requests/<int:request_id>/withdraw", "POST",
           summary="Withdraw a pending placement request", tag="bookings", roles=CASEWORKER, response="PlacementRequest")
@roles_required(*CASEWORKER)
def withdraw_request(referral_id: int, request_id: int):
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    pending = get_referral_part(session, current_user, item, PlacementRequest, request_id, "placement_request")
    booking.withdraw_request(session, current_user, item, pending)
    session.refresh(pending)
    return reply(schemas.request_json(pending, session.get(Home, pending.home_id)))


# Consent (caseworkers) ---------------------------------------------------------------------------------

@api_route(bp, "/referrals/<int:referral_id>/consent", "POST",
           summary="Record the youth's assent and release of information (who may receive what, signed when, expires when)",
           tag="consent", roles=CASEWORKER, response="Consent", status=201, body=ConsentReleaseForm)
@roles_required(*CASEWORKER)
def record_consent(referral_id: int):
    """Times are local to the token's user. Audited. A request cannot be sent without consent in force."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(ConsentReleaseForm, _body())
    row = consent.record_release(session, current_user, item, bool(form.youth_assented.data), form.recipients.data or "",
                                 form.information.data or "", _local(form.signed_at), _local(form.expires_at))
    return reply(schemas.consent_json(row), 201)


@api_route(bp, "/referrals/<int:referral_id>/consent/override", "POST",
           summary="Record an override of consent with its reason and approver", tag="consent", roles=CASEWORKER,
           response="Consent", status=201, body=ConsentOverrideForm)
@roles_required(*CASEWORKER)
def override_consent(referral_id: int):
    """Audited."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(ConsentOverrideForm, _body())
    row = consent.record_override(session, current_user, item, form.reason.data or "", form.approved_by.data or "")
    return reply(schemas.consent_json(row), 201)


def _local(field):
    """A body's local time (the token user's zone) as UTC."""
    return from_local(field.data, current_user.timezone)


# The handoff (both sides of a placement) ------------------------------------------------------------------

BOTH_SIDES = ("caseworker", "operator")


def _handoff_reply(placement_item, status: int = 200):
    session = get_session()
    session.refresh(placement_item)
    return reply(schemas.handoff_json(handoff.view(session, placement_item, current_app.config["ARRIVAL_GRACE_MINUTES"])), status)


@api_route(bp, "/placements/<int:placement_id>/handoff", "GET", summary="A placement's handoff: escort, departure, arrival",
           tag="handoff", roles=BOTH_SIDES, response="Handoff")
@roles_required(*BOTH_SIDES)
def placement_handoff(placement_id: int):
    """The home's operators and the referring agency's caseworkers."""
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    audit.record(session, "referral_viewed", "referral", item.referral_id, f"via handoff of placement {item.id} (api)",
                 actor=current_user)
    session.commit()
    return _handoff_reply(item)


@api_route(bp, "/placements/<int:placement_id>/departure", "POST",
           summary="Record the departure: escort (agency staff, never the youth), departure time, expected arrival",
           tag="handoff", roles=CASEWORKER, response="Handoff", status=201, body=DepartureForm)
@roles_required(*CASEWORKER)
def record_departure(placement_id: int):
    """Times are local to the token's user. The home's operators are told to expect the youth."""
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    form = validate(DepartureForm, _body())
    handoff.record_departure(session, current_user, item, form.escort_name.data or "", _local(form.departed_at),
                             _local(form.expected_arrival_at))
    return _handoff_reply(item, 201)


@api_route(bp, "/placements/<int:placement_id>/arrival", "POST", summary="Confirm the youth arrived (the home's operator)",
           tag="handoff", roles=OPERATOR, response="Handoff", body=ArrivedForm, partial=True)
@roles_required(*OPERATOR)
def confirm_arrival(placement_id: int):
    """`arrived_at` (local time) may be left out: now."""
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    form = validate(ArrivedForm, _body() if _body() is not None else {})
    handoff.confirm_arrival(session, current_user, item, _local(form.arrived_at))
    return _handoff_reply(item)


@api_route(bp, "/placements/<int:placement_id>/missed-arrival", "POST",
           summary="The youth never arrived: record a missing-from-care episode starting at the departure time",
           tag="handoff", roles=BOTH_SIDES, response="Handoff", status=201)
@roles_required(*BOTH_SIDES)
def missed_arrival(placement_id: int):
    """The same episode, 24-hour report clock and kept bed as reporting a youth missing."""
    session = get_session()
    item = get_placement(session, current_user, placement_id)
    handoff.report_missed_arrival(session, current_user, item, current_app.config["BED_KEEP_HOURS"])
    return _handoff_reply(item, 201)


# The intake packet ----------------------------------------------------------------------------------------

@api_route(bp, "/referrals/<int:referral_id>/documents", "GET", summary="The referral's intake-packet documents",
           tag="documents", roles=CASEWORKER, response="IntakeDocumentList")
@roles_required(*CASEWORKER)
def referral_documents(referral_id: int):
    """Kind, type, size and expiry of each document; expired ones are flagged."""
    session = get_session()
    item = referrals.read(session, current_user, get_referral(session, current_user, referral_id))
    return reply({"documents": [schemas.document_json(d, documents.expired(d)) for d in documents.for_referral(session, item)]})


@bp.url_value_preprocessor
def _document_upload_limit(endpoint, _values):
    """A base64 document of up to 10 MB: lift the 1 MB body limit for that one operation."""
    if endpoint == "api.upload_document":
        request.max_content_length = 15 * 1024 * 1024


@api_route(bp, "/referrals/<int:referral_id>/documents", "POST",
           summary="Attach an intake-packet document (PDF, JPEG or PNG by content, up to 10 MB, base64 in JSON)",
           tag="documents", roles=CASEWORKER, response="IntakeDocument", status=201, body=DocumentBody)
@roles_required(*CASEWORKER)
def upload_document(referral_id: int):
    """Sealed with AES-GCM; audited. A wrong type, an empty or too large file is refused and nothing is stored."""
    session = get_session()
    item = get_referral(session, current_user, referral_id, change=True)
    form = validate(DocumentBody, _body())
    try:
        data = base64.b64decode(form.content_base64.data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed("content_base64 is not valid base64.", {"content_base64": "not base64"}) from error
    try:
        document = documents.upload(session, current_user, item, form.kind.data, data, form.expires_on.data)
    except ServiceError as error:
        if "file" not in error.fields:
            raise
        # The page's file field is this body's content_base64: name the field the client sent.
        raise ValidationFailed(error.message, {"content_base64": error.fields["file"]}) from error
    return reply(schemas.document_json(document, documents.expired(document)), 201)


@api_route(bp, "/documents/<int:document_id>", "GET",
           summary="Download one intake-packet document (the agency's caseworkers; the accepting home's operators)",
           tag="documents", roles=BOTH_SIDES, response=None)
@roles_required(*BOTH_SIDES)
def download_document(document_id: int):
    """The file itself (PDF, JPEG or PNG) as an attachment under a sandboxing CSP; audited.
    A home's operators get it only once their home accepted the youth; anyone else 404."""
    session = get_session()
    return document_response(session, get_intake_document(session, current_user, document_id))


# Incoming requests (operators) ------------------------------------------------------------------------

def _incoming(request_row: PlacementRequest, home, youth: Referral, consent_on_file: bool) -> dict:
    return {"request": schemas.request_json(request_row, home), "youth": schemas.needs_json(youth),
            "consent_on_file": consent_on_file}


@api_route(bp, "/requests", "GET", summary="Placement requests to my homes", tag="requests", roles=OPERATOR,
           response="IncomingRequestList",
           query=({"name": "answered", "in": "query", "required": False, "schema": {"type": "boolean"},
                   "description": "The answered requests, 100 a page, newest first, instead of the pending ones."},
                  {**BEFORE, "description": "With answered: the next (older) page, the `older` id the previous page gave."}))
@roles_required(*OPERATOR)
def incoming_requests():
    """Each youth's needs, never case notes. Listing is audited, like the page."""
    session = get_session()
    older = None
    if _flag("answered"):
        page = paged_lists.answered_requests(session, current_user, paged_lists.ListFilter(), _before(), for_api=True)
        rows, older = page.rows, page.older
    else:
        rows = booking.incoming_requests(session, current_user)
    audit.record(session, "referral_listed", "referral", None, f"{len(rows)} requests via api", actor=current_user)
    session.commit()
    on_file = consent.with_consent_on_file(session, [youth.id for _, _, youth in rows])
    return reply({"requests": [_incoming(found, home, youth, youth.id in on_file) for found, home, youth in rows],
                  "older": older})


@api_route(bp, "/requests/<int:request_id>", "GET", summary="One placement request to my homes", tag="requests",
           roles=OPERATOR, response="IncomingRequest")
@roles_required(*OPERATOR)
def incoming_request(request_id: int):
    session = get_session()
    found, home = get_request_for_operator(session, current_user, request_id)
    youth = session.get(Referral, found.referral_id)
    audit.record(session, "referral_viewed", "referral", youth.id, f"via request {found.id} (api)", actor=current_user)
    session.commit()
    return reply(_incoming(found, home, youth, consent.on_file(session, youth)))


@api_route(bp, "/requests/<int:request_id>/accept", "POST", summary="Accept a placement request", tag="requests",
           roles=OPERATOR, response="PlacementAccepted")
@roles_required(*OPERATOR)
def accept_request(request_id: int):
    """The placement is created and the home's open beds drop in the same transaction."""
    session = get_session()
    found, home = get_request_for_operator(session, current_user, request_id)
    placement: Placement = booking.accept(session, current_user, found)
    return reply({"request": schemas.request_json(found, home), "placement_id": placement.id})


@api_route(bp, "/requests/<int:request_id>/decline", "POST", summary="Decline a placement request with a reason",
           tag="requests", roles=OPERATOR, response="PlacementRequest", body=DeclineForm)
@roles_required(*OPERATOR)
def decline_request(request_id: int):
    session = get_session()
    found, home = get_request_for_operator(session, current_user, request_id)
    form = validate(DeclineForm, _body())
    booking.decline(session, current_user, found, form.reason.data, (form.note.data or "").strip())
    return reply(schemas.request_json(found, home))


# Matcher runs (coordinators; admins for any state) ----------------------------------------------------------

@api_route(bp, "/matcher/runs", "POST", summary="Start a matcher run for my state", tag="matcher", roles=COORDINATORS,
           response="MatcherRun", status=202, body=StartRunForm, partial=True)
@roles_required(*COORDINATORS)
def start_run():
    """Runs in the background; poll the run for its progress. Admins name the state; coordinators get their own."""
    session = get_session()
    form = validate(StartRunForm, _body() if request.get_data() else {})  # the body is optional
    state = coordinator_state(session, current_user, form.state.data)
    return reply(schemas.run_json(matcher_runs.start_run(session, current_user, state)), 202)


@api_route(bp, "/matcher/runs/<int:run_id>", "GET", summary="A matcher run's status and progress (0-100)", tag="matcher",
           roles=COORDINATORS, response="MatcherRun")
@roles_required(*COORDINATORS)
def run_status(run_id: int):
    run = get_matcher_run(get_session(), current_user, run_id)
    body = schemas.run_json(run)
    if matcher_runs.is_lost(run):
        body["error"] = body["error"] or "This run's job was lost (the process restarted); start a new run."
    return reply(body)


@api_route(bp, "/matcher/runs/<int:run_id>/result", "GET", summary="A finished run's ranked proposals and unmatched children",
           tag="matcher", roles=COORDINATORS, response="MatcherRunResult")
@roles_required(*COORDINATORS)
def run_result(run_id: int):
    """409 until the run is done. Home names and case references only, never an address."""
    session = get_session()
    run = get_matcher_run(session, current_user, run_id)
    if run.status != "done":
        raise Conflict(f"This run is {run.status}; its result is ready when the status is done.")
    view = matcher_runs.run_view(session, run)
    audit.record(session, "matcher_run_viewed", "matcher_run", run.id, "via api", actor=current_user)
    session.commit()
    return reply({"run": schemas.run_json(run), "result": {
        "solver_status": run.result.get("status"),
        "homes_in_snapshot": view.homes_in_snapshot, "referrals_in_snapshot": view.referrals_in_snapshot,
        "proposals": [{
            "id": row.proposal.id, "rank": row.proposal.rank, "status": row.proposal.status, "fit": row.proposal.fit,
            "reasons": row.proposal.reasons, "referral_id": row.referral.id, "case_reference": row.referral.case_reference,
            "urgency": row.referral.urgency, "home_id": row.home.id, "home_name": row.home.name, "provider_name": row.provider,
            "city": row.home.city, "state": row.home.state,
        } for row in view.proposals],
        "unmatched": [{"case_reference": u.case_reference, "urgency": u.urgency, "reason": u.code, "detail": u.detail}
                      for u in view.unmatched],
    }})


# Provider directory ---------------------------------------------------------------------------------------

@api_route(bp, "/directory/hsds", "GET", summary="The provider directory in Open Referral HSDS form", tag="directory",
           response="HsdsDirectory")
def directory_hsds():
    """Any authenticated token. Organizations, services (with eligibility) and locations with city, county,
    state and a position rounded to about 10 km: never a street address. Every export is audited."""
    return reply(directory.export(get_session(), current_user))
