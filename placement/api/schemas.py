"""JSON Schemas of the API's answers (OpenAPI components), next to the functions that build them.

Each `*_json` function is the only way its object becomes JSON, and its schema
sits beside it; tests validate real answers against these schemas.
"""
from __future__ import annotations

from ..models import (
    DECLINE_REASONS, OFFER_DECLINE_REASONS, REFERRAL_STATUSES, REQUEST_STATUSES, Home, Hold, Placement, PlacementRequest, Referral,
)
from ..services.homes import HOME_FIELDS, HomeStatus
from ..services.referrals import REFERRAL_FIELDS
from ..timeutil import utcnow


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


TIME = {"type": "string", "format": "date-time"}
INT = {"type": "integer"}
OLDER = {**_nullable(INT), "description": "Pass as `before` for the next, older page; null on the last."}
NUM = {"type": "number"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
STR_LIST = {"type": "array", "items": STR}


def _object(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties), **extra}


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Homes --------------------------------------------------------------------------

def status_json(status: HomeStatus, stale_after_hours: float) -> dict:
    latest = status.latest
    return {
        "updated_at": iso(status.updated_at),
        "stale": status.is_stale(stale_after_hours),
        "open_beds": status.open_beds,
        "room": status.room,
        "staff_on_duty": latest.staff_on_duty if latest else None,
        "youth_per_staff": latest.youth_per_staff if latest else None,
        "current_youth": status.current_youth,
        "reserved_places": status.reserved_places,
    }


def home_json(status: HomeStatus, stale_after_hours: float) -> dict:
    """A home for its own operators (who may see its street address)."""
    home: Home = status.home
    return {"id": home.id, **{name: getattr(home, name) for name in HOME_FIELDS},
            "availability": status_json(status, stale_after_hours)}


def availability_json(entry) -> dict:
    return {
        "id": entry.id, "open_beds": entry.open_beds, "staff_on_duty": entry.staff_on_duty,
        "youth_per_staff": entry.youth_per_staff, "current_youth": entry.current_youth,
        "note": entry.note, "recorded_at": iso(entry.recorded_at),
    }


# Referrals ------------------------------------------------------------------------

NEEDS = ("age", "gender", "urgency", "pregnant", "children_with", "substance_use", "medical_level",
         "mental_health_level", "language", "cultural_need", "has_run_before", "county", "custody_state")


def referral_json(referral: Referral, status: str) -> dict:
    """A referral for its own agency: everything, case notes included."""
    return {"id": referral.id, "status": status, **{name: getattr(referral, name) for name in REFERRAL_FIELDS},
            "created_at": iso(referral.created_at), "updated_at": iso(referral.updated_at)}


def needs_json(referral: Referral) -> dict:
    """What a home sees of a youth: the needs, never the case notes or location."""
    return {"id": referral.id, "case_reference": referral.case_reference, **{name: getattr(referral, name) for name in NEEDS}}


def hold_json(hold: Hold, home: Home) -> dict:
    now = utcnow()
    return {
        "id": hold.id, "referral_id": hold.referral_id, "home_id": hold.home_id, "home_name": home.name,
        "places": hold.places, "created_at": iso(hold.created_at), "expires_at": iso(hold.expires_at),
        "released_at": iso(hold.released_at), "release_reason": hold.release_reason,
        "active": hold.is_live(now),
    }


def request_json(request: PlacementRequest, home: Home) -> dict:
    return {
        "id": request.id, "referral_id": request.referral_id, "home_id": request.home_id, "home_name": home.name,
        "places": request.places, "status": request.status, "decline_reason": request.decline_reason,
        "decline_note": request.decline_note, "created_at": iso(request.created_at), "answered_at": iso(request.answered_at),
    }


def placement_json(placement: Placement, home: Home, provider_name: str, address: str | None) -> dict:
    return {
        "id": placement.id, "referral_id": placement.referral_id, "home_id": home.id, "home_name": home.name,
        "provider_name": provider_name, "city": home.city, "county": home.county, "state": home.state,
        "places": placement.places, "started_at": iso(placement.started_at), "ended_at": iso(placement.ended_at),
        # The intake phone stays with the caseworker after the placement ends; the address does not.
        "street_address": address, "contact_phone": home.contact_phone,
    }


def candidate_json(candidate) -> dict:
    """One search result. City and county only: never the street address."""
    home = candidate.home
    return {
        "home_id": home.id, "home_name": home.name, "provider_name": candidate.provider_name,
        "program": home.program, "city": home.city, "county": home.county, "state": home.state,
        "distance_km": round(candidate.distance_km, 1), "fit": {"score": candidate.fit.score, "reasons": list(candidate.fit.reasons)},
        "room": candidate.room, "open_beds": candidate.status.open_beds, "stale": candidate.stale,
        "updated_at": iso(candidate.status.updated_at),
        "exclusions": [{"rule": e.rule, "message": e.message} for e in candidate.exclusions],
        "icwa_step": candidate.icwa_step,
    }


def search_json(result, status: str) -> dict:
    return {
        "referral_id": result.referral.id, "referral_status": status, "places_needed": result.places_needed,
        "searched_at": iso(result.searched_at),
        "available": [candidate_json(c) for c in result.available],
        "full": [candidate_json(c) for c in result.full],
        "excluded": [candidate_json(c) for c in result.excluded],
        "other_state_homes": result.other_state_homes,
        "icwa": result.icwa, "first_icwa_step": result.first_step,
    }


def protections_json(rules) -> dict:
    """A referral's protective rules, for its own agency (a cross-agency link a coordinator
    made is a count, never the other case)."""
    referral = rules.referral
    return {
        "referral_id": referral.id,
        "keep_away": [{"id": a.id, "kind": a.kind, "label": a.label, "state": a.state, "county": a.county,
                       "zip_code": a.zip_code or None, "radius_km": a.radius_km} for a in rules.areas],
        "keep_apart": [{"id": v.link.id, "case_reference": v.other.case_reference} for v in rules.links],
        "keep_apart_hidden": rules.hidden_links,
        "icwa": {"applies": referral.icwa_applies, "tribe": rules.tribe, "tribal_status": referral.tribal_status or None,
                 "tribe_notice_on": referral.tribe_notice_on.isoformat() if referral.tribe_notice_on else None,
                 "tribe_notice_method": referral.tribe_notice_method or None},
    }


# Matcher runs -------------------------------------------------------------------------

def run_json(run) -> dict:
    return {
        "id": run.id, "state": run.state, "status": run.status, "progress": run.progress,
        "created_at": iso(run.created_at), "finished_at": iso(run.finished_at), "error": run.error,
    }


# Components -----------------------------------------------------------------------------

_HOME_FIELD_TYPES = {
    "name": STR, "program": STR, "state": STR, "county": STR, "city": STR, "lat": NUM, "lon": NUM,
    "street_address": STR, "contact_phone": STR, "licensed_beds": INT, "min_age": INT, "max_age": INT,
    "genders": STR_LIST, "accepts_pregnant": BOOL, "accepts_parenting": BOOL, "substance_use_support": STR,
    "medical_level": INT, "mental_health_level": INT, "languages": STR_LIST, "cultural_services": STR_LIST,
    "accepts_out_of_state": BOOL, "is_active": BOOL, "tribal_approvals": STR_LIST, "native_serving": BOOL,
    "intake_documents": STR_LIST,
}
_REFERRAL_FIELD_TYPES = {
    "case_reference": STR, "age": INT, "gender": STR, "urgency": STR, "pregnant": BOOL, "children_with": INT,
    "substance_use": STR, "medical_level": INT, "mental_health_level": INT, "language": STR,
    "cultural_need": _nullable(STR), "custody_state": STR, "icpc_approved_states": STR_LIST, "programs": STR_LIST,
    "county": STR, "lat": NUM, "lon": NUM, "max_distance_km": _nullable(NUM), "sibling_group": _nullable(STR),
    "has_run_before": BOOL, "case_notes": STR,
}
if set(_HOME_FIELD_TYPES) != set(HOME_FIELDS) or set(_REFERRAL_FIELD_TYPES) != set(REFERRAL_FIELDS):
    raise RuntimeError("a home or referral field was added: describe its type in placement/api/schemas.py")

_HOME_STATUS = _object({
    "updated_at": _nullable(TIME), "stale": BOOL, "open_beds": INT, "room": INT, "staff_on_duty": _nullable(INT),
    "youth_per_staff": _nullable(INT), "current_youth": INT, "reserved_places": INT,
})
_CANDIDATE = _object({
    "home_id": INT, "home_name": STR, "provider_name": STR, "program": STR, "city": STR, "county": STR, "state": STR,
    "distance_km": NUM, "fit": _object({"score": NUM, "reasons": STR_LIST}), "room": INT, "open_beds": INT,
    "stale": BOOL, "updated_at": _nullable(TIME),
    "exclusions": {"type": "array", "items": _object({"rule": STR, "message": STR})},
    "icwa_step": {**_nullable(INT), "description": "The ICWA preference step the home meets (2-4), or null."},
})
_HSDS_LOCATION = _object({
    "id": STR, "organization_id": STR, "name": STR, "location_type": STR, "latitude": NUM, "longitude": NUM,
    "addresses": {"type": "array", "items": _object({
        "id": STR, "location_id": STR, "address_type": STR, "city": STR, "region": STR,
        "state_province": STR, "country": STR})},
})

COMPONENTS: dict[str, dict] = {
    "Error": _object({"error": _object({
        "code": STR, "message": STR,
        "fields": {"type": "object", "additionalProperties": STR,
                   "description": "Field name -> what is wrong with it (empty unless a field is at fault)."},
    })}),
    "Me": _object({
        "user": _object({"id": INT, "email": STR, "display_name": STR, "role": STR, "organisation_id": INT,
                         "organisation_name": STR}),
        "token": _object({"id": INT, "name": STR, "expires_at": TIME}),
    }),
    "HomeStatus": _HOME_STATUS,
    "Home": _object({"id": INT, **_HOME_FIELD_TYPES, "availability": _HOME_STATUS}),
    "HomeList": _object({"homes": {"type": "array", "items": _ref("Home")}}),
    "Availability": _object({"id": INT, "open_beds": INT, "staff_on_duty": INT, "youth_per_staff": INT,
                             "current_youth": INT, "note": STR, "recorded_at": TIME}),
    "AvailabilityHistory": _object({"home_id": INT, "entries": {"type": "array", "items": _ref("Availability")}}),
    "AvailabilityRecorded": _object({"entry": _ref("Availability"), "home": _ref("Home")}),
    "Referral": _object({"id": INT, "status": {"enum": list(REFERRAL_STATUSES)}, **_REFERRAL_FIELD_TYPES,
                         "created_at": TIME, "updated_at": TIME}),
    "ReferralList": _object({"referrals": {"type": "array", "items": _ref("Referral")}, "older": OLDER}),
    "Hold": _object({"id": INT, "referral_id": INT, "home_id": INT, "home_name": STR, "places": INT,
                     "created_at": TIME, "expires_at": TIME, "released_at": _nullable(TIME), "release_reason": STR,
                     "active": BOOL}),
    "PlacementRequest": _object({"id": INT, "referral_id": INT, "home_id": INT, "home_name": STR, "places": INT,
                                 "status": {"enum": list(REQUEST_STATUSES)},
                                 "decline_reason": _nullable({"enum": list(DECLINE_REASONS)}),
                                 "decline_note": STR, "created_at": TIME, "answered_at": _nullable(TIME)}),
    "Placement": _object({"id": INT, "referral_id": INT, "home_id": INT, "home_name": STR, "provider_name": STR,
                          "city": STR, "county": STR, "state": STR, "places": INT, "started_at": TIME,
                          "ended_at": _nullable(TIME),
                          "street_address": {**_nullable(STR), "description": "Only while the placement lasts (until discharge, transfer, or the close of a missing episode)."},
                          "contact_phone": _nullable(STR)}),
    "ReferralDetail": _object({
        "referral": _ref("Referral"),
        "history": {"type": "array", "items": _object({"status": STR, "note": STR, "at": TIME})},
        "holds": {"type": "array", "items": _ref("Hold")},
        "requests": {"type": "array", "items": _ref("PlacementRequest")},
        "placement": _nullable(_ref("Placement")),
    }),
    "SearchResult": _object({
        "referral_id": INT, "referral_status": STR, "places_needed": INT, "searched_at": TIME,
        "available": {"type": "array", "items": _ref("Candidate"), "description": "Eligible with room tonight, best first."},
        "full": {"type": "array", "items": _ref("Candidate"), "description": "Eligible but no room tonight."},
        "excluded": {"type": "array", "items": _ref("Candidate"), "description": "Excluded, with the rules that exclude each."},
        "other_state_homes": INT,
        "icwa": {**BOOL, "description": "ICWA applies: homes are ranked by preference step first."},
        "first_icwa_step": {**_nullable(INT), "description": "The best ICWA step with room tonight; a request below it needs good_cause."},
    }),
    "Candidate": _CANDIDATE,
    "Protections": _object({
        "referral_id": INT,
        "keep_away": {"type": "array", "items": _object({"id": INT, "kind": {"enum": ["county", "zip", "radius"]}, "label": STR,
                                                          "state": STR, "county": STR, "zip_code": _nullable(STR),
                                                          "radius_km": _nullable(NUM)})},
        "keep_apart": {"type": "array", "items": _object({"id": INT, "case_reference": STR})},
        "keep_apart_hidden": {**INT, "description": "Links a coordinator made to youths of other agencies (not shown)."},
        "icwa": _object({"applies": BOOL, "tribe": _nullable(STR), "tribal_status": _nullable(STR),
                         "tribe_notice_on": _nullable({"type": "string", "format": "date"}),
                         "tribe_notice_method": _nullable(STR)}),
    }, description="Confidential: the referral's own agency only (every read audited)."),
    "Youth": _object({"id": INT, "case_reference": STR, "age": INT, "gender": STR, "urgency": STR, "pregnant": BOOL,
                      "children_with": INT, "substance_use": STR, "medical_level": INT, "mental_health_level": INT,
                      "language": STR, "cultural_need": _nullable(STR), "has_run_before": BOOL, "county": STR,
                      "custody_state": STR}),
    "IncomingRequest": _object({"request": _ref("PlacementRequest"), "youth": _ref("Youth")}),
    "IncomingRequestList": _object({"requests": {"type": "array", "items": _ref("IncomingRequest")}, "older": OLDER}),
    "PlacementAccepted": _object({"request": _ref("PlacementRequest"), "placement_id": INT}),
    "MatcherRun": _object({"id": INT, "state": STR, "status": {"enum": ["queued", "running", "done", "failed"]},
                           "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                           "created_at": TIME, "finished_at": _nullable(TIME), "error": STR}),
    "MatcherRunResult": _object({"run": _ref("MatcherRun"), "result": {"type": "object"}}),
    "HsdsDirectory": _object({
        "hsds_version": STR, "generated_at": TIME,
        "organizations": {"type": "array", "items": _object({"id": STR, "name": STR, "description": STR})},
        "services": {"type": "array", "items": {"type": "object", "required": ["id", "organization_id", "name", "status"]}},
        "locations": {"type": "array", "items": _HSDS_LOCATION},
        "service_at_locations": {"type": "array", "items": _object({"id": STR, "service_id": STR, "location_id": STR})},
    }, description="Open Referral HSDS 3.0 objects, flattened into one document. No street addresses."),
    "OpenApiDocument": {"type": "object", "description": "This document."},
}


# From request to arrival: consent, handoff, intake packet ---------------------------------------

def consent_json(row) -> dict | None:
    """The consent in force, for the referring agency (the home only ever learns `consent_on_file`)."""
    if row is None:
        return None
    return {"id": row.id, "kind": row.kind, "youth_assented": row.youth_assented, "recipients": row.recipients,
            "information": row.information, "signed_at": iso(row.signed_at), "expires_at": iso(row.expires_at),
            "override_reason": row.override_reason, "approved_by": row.approved_by, "recorded_at": iso(row.recorded_at)}


COMPONENTS["Consent"] = _object({
    "id": INT, "kind": {"enum": ["release", "override"]}, "youth_assented": BOOL, "recipients": STR, "information": STR,
    "signed_at": _nullable(TIME), "expires_at": _nullable(TIME), "override_reason": STR, "approved_by": STR,
    "recorded_at": TIME,
}, description="A release of information (kind release) or an approved override.")
COMPONENTS["ReferralDetail"]["properties"]["consent"] = {**_nullable(_ref("Consent")),
                                                         "description": "The consent in force; null when none is."}
COMPONENTS["ReferralDetail"]["required"].append("consent")
COMPONENTS["IncomingRequest"]["properties"]["consent_on_file"] = {
    **BOOL, "description": "Whether the agency has the youth's consent (or an approved override) on file; never its content."}
COMPONENTS["IncomingRequest"]["required"].append("consent_on_file")


def handoff_json(found) -> dict:
    """A HandoffView: the escort (agency staff), departure, expected and confirmed arrival, and its state."""
    row = found.handoff
    return {
        "placement_id": found.placement.id, "state": found.state,
        "escort_name": row.escort_name if row else None, "departed_at": iso(row.departed_at) if row else None,
        "expected_arrival_at": iso(row.expected_arrival_at) if row else None,
        "arrived_at": iso(row.arrived_at) if row else None, "overdue_alerted_at": iso(row.overdue_at) if row else None,
        "missing_episode_id": found.episode.id if found.episode else None,
    }


COMPONENTS["Handoff"] = _object({
    "placement_id": INT, "state": {"enum": ["waiting", "in_transit", "overdue", "arrived", "missing", "ended"]},
    "escort_name": _nullable(STR), "departed_at": _nullable(TIME), "expected_arrival_at": _nullable(TIME),
    "arrived_at": _nullable(TIME), "overdue_alerted_at": _nullable(TIME), "missing_episode_id": _nullable(INT),
}, description="The trip from acceptance to arrival. The escort is an agency staff member, never the youth.")


def document_json(document, expired: bool) -> dict:
    return {"id": document.id, "referral_id": document.referral_id, "kind": document.kind,
            "content_type": document.content_type, "size_bytes": document.size_bytes,
            "expires_on": document.expires_on.isoformat() if document.expires_on else None, "expired": expired,
            "uploaded_at": iso(document.uploaded_at)}


COMPONENTS["IntakeDocument"] = _object({
    "id": INT, "referral_id": INT, "kind": STR, "content_type": {"enum": ["application/pdf", "image/jpeg", "image/png"]},
    "size_bytes": INT, "expires_on": _nullable({"type": "string", "format": "date"}), "expired": BOOL, "uploaded_at": TIME,
}, description="One intake-packet document (its content: GET /documents/{document_id}).")
COMPONENTS["IntakeDocumentList"] = _object({"documents": {"type": "array", "items": _ref("IntakeDocument")}})


# The operator's queue and a home's offer of a bed ------------------------------------------------------

def offer_json(offer, home: Home, shown_status: str) -> dict:
    """A home's offer of a bed; `status` has expiry applied ("expired")."""
    return {"id": offer.id, "referral_id": offer.referral_id, "home_id": home.id, "home_name": home.name,
            "places": offer.places, "status": shown_status, "decline_reason": offer.decline_reason,
            "created_at": iso(offer.created_at), "expires_at": iso(offer.expires_at), "answered_at": iso(offer.answered_at)}


def queue_entry_json(entry) -> dict:
    """A waiting youth as an operator sees it (needs only, never case notes) and the homes that could take them."""
    return {
        "youth": needs_json(entry.referral), "consent_on_file": True, "places_needed": entry.places,
        "homes": [{"home_id": found.home.id, "home_name": found.home.name, "room": found.room,
                   "offer_id": entry.offers[found.home.id].id if found.home.id in entry.offers else None,
                   "requested": found.home.id in entry.requested} for found in entry.homes],
    }


COMPONENTS["Offer"] = _object({
    "id": INT, "referral_id": INT, "home_id": INT, "home_name": STR, "places": INT,
    "status": {"enum": ["pending", "accepted", "declined", "withdrawn", "expired"]},
    "decline_reason": _nullable({"enum": list(OFFER_DECLINE_REASONS)}),
    "created_at": TIME, "expires_at": TIME, "answered_at": _nullable(TIME),
}, description="A home's offer of a bed; it keeps the places until it expires (SAFEBED_HOLD_HOURS).")
COMPONENTS["OfferList"] = _object({"offers": {"type": "array", "items": _ref("Offer")}})
COMPONENTS["QueueEntry"] = _object({
    "youth": _ref("Youth"), "consent_on_file": BOOL, "places_needed": INT,
    "homes": {"type": "array", "items": _object({
        "home_id": INT, "home_name": STR, "room": INT,
        "offer_id": {**_nullable(INT), "description": "This home's live offer to the youth, if any."},
        "requested": {**BOOL, "description": "The caseworker already asked this home: answer the request instead."}})},
}, description="A youth waiting for a bed whom the operator's homes could take tonight.")
COMPONENTS["Queue"] = _object({"youths": {"type": "array", "items": _ref("QueueEntry")}})
COMPONENTS["OfferAccepted"] = _object({"offer": _ref("Offer"), "placement_id": INT})
COMPONENTS["ReferralDetail"]["properties"]["offers"] = {"type": "array", "items": _ref("Offer"),
                                                        "description": "Beds homes offered from their queue, newest first."}
COMPONENTS["ReferralDetail"]["required"].append("offers")
