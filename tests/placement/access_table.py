"""The access table: one row per endpoint saying what each actor gets, and the
world the rows run in.

Used by the access sweep (test_access_sweep.py), the security tests and the audit
tests.

Outcomes: ALLOWED (2xx, or a redirect anywhere but the sign-in page), FORBIDDEN
(403), NOT_FOUND (404), LOGIN (redirect to the sign-in page), UNAUTHORIZED (401,
the API without a token). Every 403 and 404 must also leave an `access_denied`
audit entry.

API routes (/api/...) are swept the same way with the actor's personal API token
instead of the session (the API ignores the cookie), sending `form` as the JSON
body; a value that is exactly one placeholder ("{home_id}") keeps the world
value's type. Name their actors with `api(...)`.

To add a row: name the allowed actors with `only(...)`; if the URL carries an
object id, say which role owns the object (`owner`) and what a user of that role
in another organisation gets (`foreign`); put any form body in `form` (values
are formatted with the world's ids, e.g. "{home_id}"); and if a URL argument
needs a world value other than its own name, map it in `args`. A new kind of
URL argument needs a value in `build_world`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from placement.models import (
    Escalation,
    Hold,
    MatcherRun,
    MissingEpisode,
    MissingReport,
    OutboxMessage,
    Placement,
    PlacementRequest,
)
from placement.services import accounts, api_tokens
from placement.timeutil import to_local_input, utcnow

from ..helpers import HOME_FORM, make_referral

ALLOWED, FORBIDDEN, NOT_FOUND, LOGIN, UNAUTHORIZED = "allowed", "403", "404", "login", "401"

ANONYMOUS, OPERATOR, CASEWORKER, COORDINATOR, AUDITOR, ADMIN = (
    "anonymous", "operator", "caseworker", "coordinator", "admin-with-audit", "admin-without-audit",
)
ACTORS = (ANONYMOUS, OPERATOR, CASEWORKER, COORDINATOR, AUDITOR, ADMIN)


def only(*allowed: str) -> dict[str, str]:
    """Signed-in actors in `allowed` get in, other signed-in actors get 403, anonymous goes to sign-in."""
    return {actor: LOGIN if actor == ANONYMOUS else ALLOWED if actor in allowed else FORBIDDEN for actor in ACTORS}


def api(*allowed: str) -> dict[str, str]:
    """An API route: like `only`, but a call without a token is 401."""
    return {**only(*allowed), ANONYMOUS: UNAUTHORIZED}


SIGNED_IN = only(*ACTORS[1:])
PUBLIC = dict.fromkeys(ACTORS, ALLOWED)


@dataclass(frozen=True)
class Row:
    expect: dict[str, str]
    owner: str | None = None  # role owning the object an id in the URL names
    foreign: str | None = None  # outcome for a user of `owner`'s role in another organisation
    form: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)  # URL argument -> world key, when not the same name
    last: bool = False


TABLE: dict[str, Row] = {
    "index": Row(SIGNED_IN),
    "healthz": Row(PUBLIC),
    "auth.login": Row(PUBLIC),
    "auth.accept_invitation": Row(PUBLIC),  # the one-time token is the credential
    "auth.change_password": Row(SIGNED_IN),
    "auth.notifications_page": Row(SIGNED_IN),
    "auth.api_tokens_page": Row(SIGNED_IN),
    # One's own tokens only: the world's token is the caseworker's.
    "auth.revoke_api_token": Row(
        {**dict.fromkeys(ACTORS, NOT_FOUND), ANONYMOUS: LOGIN, CASEWORKER: ALLOWED},
        owner="caseworker", foreign=NOT_FOUND, args={"token_id": "api_token_id"},
    ),
    "admin.users": Row(only(AUDITOR, ADMIN)),
    "admin.invite": Row(only(AUDITOR, ADMIN)),
    "admin.organisations": Row(only(AUDITOR, ADMIN)),
    # Accounts are administered platform-wide, so an admin of another organisation may act too.
    "admin.user_action": Row(only(AUDITOR, ADMIN), owner="admin", foreign=ALLOWED),
    "admin.audit_log": Row(only(AUDITOR)),
    "admin.audit_csv": Row(only(AUDITOR)),
    "provider.homes": Row(only(OPERATOR)),
    "provider.new_home": Row(only(OPERATOR)),
    "provider.home": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.edit_home": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.availability": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.requests": Row(only(OPERATOR)),
    "provider.request_detail": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.accept_request": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.decline_request": Row(
        only(OPERATOR), owner="operator", foreign=NOT_FOUND,
        form={"reason": "no_staff"}, args={"request_id": "second_request_id"},
    ),
    "caseworker.referrals_list": Row(only(CASEWORKER)),
    "caseworker.new_referral": Row(only(CASEWORKER)),
    "caseworker.referral": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.edit_referral": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.search_beds": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.release_hold": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.withdraw_request": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.hold": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"home_id": "{home_id}"}),
    "caseworker.request_placement": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"home_id": "{home_id}"}),
    "caseworker.close_referral": Row(
        only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"reason": "Synthetic: placed with kin"}, last=True,
    ),
    # Coordinator pages: a coordinator's own state, any state for admins.
    "coordinator.dashboard": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.unmet_need": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.export_csv": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.runs": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.start_run": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.run": Row(only(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    "coordinator.approve": Row(only(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND, form={"scope": "all"}),
    "coordinator.bed_impact": Row(only(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    "coordinator.start_bed_impact": Row(only(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    # The place picker's lookups (the offline gazetteer; nothing about youths or homes).
    "places.suggest": Row(only(OPERATOR, CASEWORKER)),
    "places.near": Row(only(OPERATOR, CASEWORKER)),
    # The JSON API: the same policy as the pages, with tokens. Its own objects (api_*) so
    # that its bookings do not race the page rows' bookings on the same referral.
    "api.openapi": Row(PUBLIC),
    "api.me": Row(api(*ACTORS[1:])),
    "api.directory_hsds": Row(api(*ACTORS[1:])),
    "api.homes": Row(api(OPERATOR)),
    "api.home": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "api.availability_history": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "api.record_availability": Row(
        api(OPERATOR), owner="operator", foreign=NOT_FOUND,
        form={"open_beds": 6, "staff_on_duty": 4, "youth_per_staff": 3, "current_youth": 2},
    ),
    "api.incoming_requests": Row(api(OPERATOR)),
    "api.incoming_request": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND, args={"request_id": "api_request_id"}),
    "api.accept_request": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND, args={"request_id": "api_request_id"}),
    "api.decline_request": Row(
        api(OPERATOR), owner="operator", foreign=NOT_FOUND, form={"reason": "no_staff"},
        args={"request_id": "api_second_request_id"},
    ),
    "api.referral_list": Row(api(CASEWORKER)),
    "api.create_referral": Row(api(CASEWORKER), form={
        "case_reference": "MO-SWEEP-API-1", "urgency": "urgent", "age": 16, "gender": "female", "substance_use": "none",
        "medical_level": 0, "mental_health_level": 0, "language": "en", "custody_state": "MO", "county": "Boone",
        "lat": 38.95, "lon": -92.33,
    }),
    "api.referral": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, args={"referral_id": "api_referral_id"}),
    "api.update_referral": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"has_run_before": True},
        args={"referral_id": "api_referral_id"},
    ),
    "api.search_beds": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, args={"referral_id": "api_referral_id"}),
    "api.release_hold": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, args={"referral_id": "api_referral_id", "hold_id": "api_hold_id"},
    ),
    "api.withdraw_request": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
        args={"referral_id": "api_referral_id", "request_id": "api_request_id"},
    ),
    "api.hold": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"home_id": "{home_id}"}, args={"referral_id": "api_referral_id"},
    ),
    "api.request_placement": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"home_id": "{home_id}"}, args={"referral_id": "api_referral_id"},
    ),
    "api.start_run": Row(api(COORDINATOR, AUDITOR, ADMIN)),
    # Admins read any state's runs; a coordinator of another state gets 404.
    "api.run_status": Row(api(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    "api.run_result": Row(api(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    "api.close_referral": Row(
        api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"reason": "Synthetic: placed with kin"},
        args={"referral_id": "api_referral_id"}, last=True,
    ),
    # Placement lifecycle: both sides end placements and report youths missing; the
    # caseworker records the reports, the return and the screening (rows run in this order).
    "provider.placements": Row(only(OPERATOR)),
    "provider.placement": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.end_placement": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND, form={"reason": "discharge"}),
    "provider.report_missing": Row(
        only(OPERATOR), owner="operator", foreign=NOT_FOUND, form={"last_seen_at": "{last_seen_local}"},
        args={"placement_id": "missing_placement_id"},
    ),
    "provider.release_kept_bed": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND),
    "provider.feedback_page": Row(only(OPERATOR)),
    "caseworker.missing_list": Row(only(CASEWORKER)),
    "caseworker.end_placement": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"reason": "transfer"}),
    "caseworker.report_missing": Row(
        only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"last_seen_at": "{last_seen_local}"},
        args={"placement_id": "missing_placement_id"},
    ),
    "caseworker.episode": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.record_report": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "kind": "law_enforcement", "made_at": "{last_seen_local}", "report_number": "SWEEP-1", "made_by": "Sweep"}),
    "caseworker.record_located": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "located_at": "{last_seen_local}", "located_county": "Boone", "located_by": "self"}),
    "caseworker.record_screening": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "exploited": "no", "health": "none", "services": "declined"}),
    "coordinator.outcomes": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    # Alerts: one's own settings; the Outbox for admins (platform-wide, like accounts); escalations
    # of the coordinator's state; "Ask the coordinator" on one's own referral (the world's has
    # eligible homes, so it is refused with a message: still the caseworker's to ask).
    "auth.alert_settings": Row(SIGNED_IN),
    "admin.outbox": Row(only(AUDITOR, ADMIN)),
    "admin.outbox_retry": Row(only(AUDITOR, ADMIN), owner="admin", foreign=ALLOWED),
    "coordinator.needs_bed": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.response_times": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.resolve_escalation": Row(only(COORDINATOR, AUDITOR, ADMIN), owner="coordinator", foreign=NOT_FOUND),
    "provider.response_times": Row(only(OPERATOR)),
    "caseworker.ask_coordinator": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    # Rules that protect a youth (issue 18): the referral's own agency; coordinators of its
    # state read them and link youths across agencies; the tribe list is the coordinators'.
    "caseworker.protections_page": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.add_keep_away": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                    form={"kind": "county", "state": "MO", "place": "Jackson County"}),
    "caseworker.remove_keep_away": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.add_keep_apart": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                     form={"case_reference": "{api_case_reference}"}),
    "caseworker.remove_keep_apart": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND),
    "caseworker.save_icwa": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                form={"icwa_applies": "y", "tribe": "{tribe_name}", "tribal_status": "member"}),
    "coordinator.tribes": Row(only(COORDINATOR, AUDITOR, ADMIN)),
    "coordinator.protected_referrals": Row(only(COORDINATOR)),
    "coordinator.referral_protections": Row(only(COORDINATOR), owner="coordinator", foreign=NOT_FOUND),
    "coordinator.link_youths": Row(only(COORDINATOR), owner="coordinator", foreign=NOT_FOUND,
                                   form={"agency_id": "{agency_id}", "case_reference": "{api_case_reference}"}),
    "coordinator.unlink_youths": Row(only(COORDINATOR), owner="coordinator", foreign=NOT_FOUND),
    "api.referral_protections": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, args={"referral_id": "api_referral_id"}),
    "api.add_keep_away": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                             form={"kind": "zip", "state": "MO", "place": "64106"}, args={"referral_id": "api_referral_id"}),
    "api.remove_keep_away": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                args={"referral_id": "api_referral_id", "area_id": "api_area_id"}),
    "api.add_keep_apart": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                              form={"case_reference": "{other_case_reference}"}, args={"referral_id": "api_referral_id"}),
    "api.save_icwa": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                         form={"icwa_applies": True, "tribe": "{tribe_name}", "tribal_status": "member"},
                         args={"referral_id": "api_referral_id"}),
    # From request to arrival (issue 19): consent on one's own referral.
    "caseworker.record_consent": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "youth_assented": "y", "recipients": "Sweep intake staff", "information": "Sweep needs",
        "signed_at": "{last_seen_local}", "expires_at": "{future_local}"}),
    "caseworker.override_consent": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "reason": "Sweep: no consent possible", "approved_by": "Sweep supervisor"}),
    "api.record_consent": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "youth_assented": True, "recipients": "Sweep intake staff", "information": "Sweep needs",
        "signed_at": "{last_seen_local}", "expires_at": "{future_local}"}, args={"referral_id": "api_referral_id"}),
    "api.override_consent": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "reason": "Sweep: no consent possible", "approved_by": "Sweep supervisor"}, args={"referral_id": "api_referral_id"}),
    # The handoff: the caseworker records the departure, the home confirms the arrival, either
    # side records a missed arrival (each row has a placement of its own).
    "caseworker.record_departure": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "escort_name": "Sweep escort", "departed_at": "{last_seen_local}", "expected_arrival_at": "{expected_local}"},
        args={"placement_id": "handoff_placement_id"}),
    "caseworker.missed_arrival": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                     args={"placement_id": "missed_placement_id"}),
    "provider.confirm_arrival": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND,
                                    args={"placement_id": "arrival_placement_id"}),
    "provider.missed_arrival": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND,
                                   args={"placement_id": "operator_missed_placement_id"}),
    "api.placement_handoff": Row(api(CASEWORKER, OPERATOR), owner="caseworker", foreign=NOT_FOUND,
                                 args={"placement_id": "handoff_placement_id"}),
    "api.record_departure": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "escort_name": "Sweep escort", "departed_at": "{last_seen_local}", "expected_arrival_at": "{expected_local}"},
        args={"placement_id": "api_handoff_placement_id"}),
    "api.confirm_arrival": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND,
                               args={"placement_id": "api_arrival_placement_id"}),
    "api.missed_arrival": Row(api(CASEWORKER, OPERATOR), owner="caseworker", foreign=NOT_FOUND,
                              args={"placement_id": "api_missed_placement_id"}),
    # The intake packet: downloads by the agency's caseworkers and, once their home accepted,
    # the home's operators. The sweep posts no file, so the caseworker's upload is refused
    # by the form (422): still the caseworker's to try; everyone else is kept out before it.
    "caseworker.upload_document": Row({**only(CASEWORKER), CASEWORKER: "HTTP 422"}, owner="caseworker", foreign=NOT_FOUND,
                                      form={"kind": "custody_order"}),
    "caseworker.download_document": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                        args={"referral_id": "placed_referral_id", "document_id": "placed_document_id"}),
    "provider.download_document": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND,
                                      args={"document_id": "placed_document_id"}),
    "api.upload_document": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={
        "kind": "custody_order", "content_base64": "JVBERi0xLjcKU1dFRVAKJSVFT0YK"}, args={"referral_id": "api_referral_id"}),
    "api.referral_documents": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                  args={"referral_id": "placed_referral_id"}),
    "api.download_document": Row(api(CASEWORKER, OPERATOR), owner="caseworker", foreign=NOT_FOUND,
                                 args={"document_id": "placed_document_id"}),
    # The operator's queue (issue 19): operators list waiting youths and offer a bed at their own
    # home (another provider's operator, with no home in reach, gets 404); the referral's agency
    # answers the offer (each row has an offer of its own).
    "provider.queue": Row(only(OPERATOR)),
    "provider.make_offer": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND, form={"home_id": "{offer_home_id}"},
                               args={"referral_id": "queue_referral_id"}),
    "caseworker.accept_offer": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                                   args={"referral_id": "offer_referral_id", "offer_id": "offer_id"}),
    "caseworker.decline_offer": Row(only(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"reason": "too_far"},
                                    args={"referral_id": "declined_referral_id", "offer_id": "declined_offer_id"}),
    "provider.withdraw_offer": Row(only(OPERATOR), owner="operator", foreign=NOT_FOUND,
                                   args={"offer_id": "withdraw_offer_id"}),
    "api.queue": Row(api(OPERATOR)),
    "api.withdraw_offer": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND, args={"offer_id": "api_withdraw_offer_id"}),
    "api.make_offer": Row(api(OPERATOR), owner="operator", foreign=NOT_FOUND, form={"home_id": "{offer_home_id}"},
                          args={"referral_id": "api_queue_referral_id"}),
    "api.referral_offers": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                               args={"referral_id": "declined_referral_id"}),
    "api.accept_offer": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND,
                            args={"referral_id": "api_offer_referral_id", "offer_id": "api_offer_id"}),
    "api.decline_offer": Row(api(CASEWORKER), owner="caseworker", foreign=NOT_FOUND, form={"reason": "too_far"},
                             args={"referral_id": "api_declined_referral_id", "offer_id": "api_declined_offer_id"}),
    # Signing out lands on the sign-in page whoever asks; that the session ends is tested in test_auth.
    "auth.logout": Row(dict.fromkeys(ACTORS, LOGIN), last=True),
}


@dataclass
class World:
    ids: dict[str, object]
    users: dict[str, object]


def build_world(factory) -> World:
    """A provider's home, an agency's referrals with a live hold and two pending
    requests, and a pending invitation: one value per URL argument name."""
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    # Room for every booking the page rows and the API rows make.
    home = factory.home(provider, licensed_beds=10, availability={"open_beds": 8, "staff_on_duty": 4, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    referral = make_referral(factory, caseworker)
    other_referral = make_referral(factory, caseworker)
    api_referral = make_referral(factory, caseworker)
    now = utcnow()
    hold = Hold(referral_id=referral.id, home_id=home.id, created_by_id=caseworker.id, places=1,
                created_at=now, expires_at=now + timedelta(hours=4))
    request = PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
    second_request = PlacementRequest(referral_id=other_referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
    api_hold = Hold(referral_id=api_referral.id, home_id=home.id, created_by_id=caseworker.id, places=1,
                    created_at=now, expires_at=now + timedelta(hours=4))
    api_request = PlacementRequest(referral_id=api_referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
    api_second_request = PlacementRequest(referral_id=other_referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
    run = MatcherRun(state="MO", started_by_id=caseworker.id, status="done", progress=100, finished_at=now,
                     instance={"homes": [], "referrals": []}, result={"status": "OPTIMAL", "assignments": [], "unmatched": []})
    factory.session.add_all([hold, request, second_request, api_hold, api_request, api_second_request, run])
    factory.session.flush()
    escalation = Escalation(referral_id=referral.id, request_id=request.id, state="MO", kind="unanswered")
    message = OutboxMessage(message_id="sweep@safebed", event="request_new", channel="email", to_address=operator.email,
                            subject="SafeBed: sweep", body="Sweep.", link="/", status="dead", attempts=8)
    factory.session.add_all([escalation, message])
    token = accounts.invite_user(factory.session, operator, provider, "invited@test.example", "Invited", "operator")
    factory.session.commit()
    world_token, _ = api_tokens.create(factory.session, caseworker, "world token", 30)
    return World(
        ids={
            "home_id": home.id, "referral_id": referral.id, "hold_id": hold.id, "request_id": request.id,
            "second_request_id": second_request.id, "user_id": operator.id, "action": "unlock", "token": token,
            "api_referral_id": api_referral.id, "api_hold_id": api_hold.id, "api_request_id": api_request.id,
            "api_second_request_id": api_second_request.id, "run_id": run.id, "api_token_id": world_token.id, "table": "capacity",
            "escalation_id": escalation.id, "message_id": message.id, "lat": 38.95, "lon": -92.33,
            **_lifecycle_world(factory, home, caseworker),
            **protection_world(factory, caseworker, referral, other_referral, api_referral),
            **_arrival_world(factory, home, caseworker),
            **offer_world(factory, provider, operator, caseworker),
        },
        users={OPERATOR: operator, CASEWORKER: caseworker},
    )


def _lifecycle_world(factory, home, caseworker) -> dict[str, object]:
    """Two running placements (one to end, one to report missing) and an open missing
    episode with its NCMEC report made and its bed kept."""
    now = utcnow()
    placements = []
    for _ in range(3):
        referral = make_referral(factory, caseworker)
        request = PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1, status="accepted")
        factory.session.add(request)
        factory.session.flush()
        placements.append(Placement(referral_id=referral.id, home_id=home.id, request_id=request.id, places=1,
                                    started_at=now - timedelta(days=2)))
    episode_placement = placements[2]
    episode_placement.ended_at, episode_placement.end_reason = now - timedelta(days=1), "missing"
    factory.session.add_all(placements)
    factory.session.flush()
    kept = Hold(referral_id=episode_placement.referral_id, home_id=home.id, created_by_id=caseworker.id, places=1,
                created_at=now, expires_at=now + timedelta(hours=72))
    factory.session.add(kept)
    factory.session.flush()
    episode = MissingEpisode(placement_id=episode_placement.id, referral_id=episode_placement.referral_id, home_id=home.id,
                             last_seen_at=now - timedelta(days=1), reported_at=now - timedelta(hours=2), reported_by_id=caseworker.id,
                             reports_due_at=now + timedelta(hours=22), bed_hold_id=kept.id)
    factory.session.add(episode)
    factory.session.flush()
    factory.session.add(MissingReport(episode_id=episode.id, kind="ncmec", made_at=now - timedelta(hours=1),
                                      report_number="NCMEC-SWEEP", made_by="Sweep", recorded_by_id=caseworker.id))
    factory.session.commit()
    return {"placement_id": placements[0].id, "missing_placement_id": placements[1].id, "episode_id": episode.id,
            "last_seen_local": to_local_input(now - timedelta(hours=1), caseworker.timezone)}


# What the protective-rule sweeps look for: none of it may reach anyone but the
# referral's agency and the state's coordinators (and never a log or an audit detail).
SECRET_AREA = "Sentinel County"
SECRET_TRIBE = "Sentinel Band of Test Indians"


def protection_world(factory, caseworker, referral, other_referral, api_referral) -> dict[str, object]:
    """A keep-away area on the world's referral (and one on the API's), a keep-apart link
    from it to a youth with no booking (so the world's home stays bookable), the tribe list
    and ICWA on the world's referral."""
    from placement.models import KeepApartLink, KeepAwayArea, Tribe

    partner = make_referral(factory, caseworker)
    tribe = Tribe(name=SECRET_TRIBE, created_by_id=caseworker.id)
    factory.session.add(tribe)
    factory.session.flush()
    area = KeepAwayArea(referral_id=referral.id, kind="county", state="MO", county="Sentinel", label=SECRET_AREA,
                        lat=39.0, lon=-94.5, created_by_id=caseworker.id)
    api_area = KeepAwayArea(referral_id=api_referral.id, kind="radius", state="MO", county="Sentinel",
                            label=f"within 80 km of {SECRET_AREA}", lat=39.0, lon=-94.5, radius_km=80.0,
                            created_by_id=caseworker.id)
    a, b = sorted((referral.id, partner.id))
    link = KeepApartLink(referral_a_id=a, referral_b_id=b, created_by_id=caseworker.id)
    referral.icwa_applies, referral.tribe_id, referral.tribal_status = True, tribe.id, "member"
    factory.session.add_all([area, api_area, link, referral])
    factory.session.commit()
    return {"area_id": area.id, "api_area_id": api_area.id, "link_id": link.id, "tribe_name": tribe.name,
            "agency_id": caseworker.organisation_id, "api_case_reference": api_referral.case_reference,
            "other_case_reference": other_referral.case_reference}


def _arrival_world(factory, home, caseworker) -> dict[str, object]:
    """Request to arrival (issue 19): local times for consent and departure forms, and
    placements accepted 5 hours ago: without a departure, in transit, and overdue."""
    from placement.models import Handoff

    from .arrival_world import sealed_document

    now = utcnow()
    ids = {"future_local": to_local_input(now + timedelta(days=7), caseworker.timezone),
           "expected_local": to_local_input(now + timedelta(hours=1), caseworker.timezone)}
    trips = {"handoff_placement_id": None, "api_handoff_placement_id": None,
             "arrival_placement_id": (1, -1), "api_arrival_placement_id": (1, -1),
             "missed_placement_id": (4, 2), "operator_missed_placement_id": (4, 2), "api_missed_placement_id": (4, 2)}
    for key, trip in trips.items():
        referral = make_referral(factory, caseworker)
        request = PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1, status="accepted")
        factory.session.add(request)
        factory.session.flush()
        placement = Placement(referral_id=referral.id, home_id=home.id, request_id=request.id, places=1,
                              started_at=now - timedelta(hours=5))
        factory.session.add(placement)
        factory.session.flush()
        if trip is not None:
            factory.session.add(Handoff(placement_id=placement.id, escort_name="Sweep escort", recorded_by_id=caseworker.id,
                                        departed_at=now - timedelta(hours=trip[0]),
                                        expected_arrival_at=now - timedelta(hours=trip[1])))
        ids[key] = placement.id
        if key == "handoff_placement_id":
            ids["placed_referral_id"] = referral.id
            ids["placed_document_id"] = sealed_document(factory, referral, caseworker).id
    factory.session.commit()
    return ids


def offer_world(factory, provider, operator, caseworker) -> dict[str, object]:
    """A second home of the provider with room for every offer the rows make, two waiting youths
    for the operators to offer a bed to, four live offers for the caseworker to answer and two
    for the home to withdraw."""
    from placement.models import PlacementOffer

    home = factory.home(provider, licensed_beds=12, availability={"open_beds": 10, "staff_on_duty": 4, "youth_per_staff": 3,
                                                                   "current_youth": 2})
    now = utcnow()
    ids = {"offer_home_id": home.id, "queue_referral_id": make_referral(factory, caseworker).id,
           "api_queue_referral_id": make_referral(factory, caseworker).id}
    for key in ("offer", "declined", "api_offer", "api_declined", "withdraw", "api_withdraw"):
        referral = make_referral(factory, caseworker)
        made = PlacementOffer(referral_id=referral.id, home_id=home.id, offered_by_id=operator.id, places=1,
                              created_at=now, expires_at=now + timedelta(hours=4))
        factory.session.add(made)
        factory.session.flush()
        ids[f"{key}_referral_id"] = referral.id
        ids[key if key.endswith("offer") else f"{key}_offer_id"] = made.id
    ids["offer_id"], ids["api_offer_id"] = ids.pop("offer"), ids.pop("api_offer")
    factory.session.commit()
    return ids


def actor_user(factory, world: World, actor: str):
    """The world's user for `actor`, or a new coordinator or admin."""
    if actor in world.users:
        return world.users[actor]
    if actor == COORDINATOR:
        return factory.user("coordinator")
    return factory.user("admin", can_view_audit=actor == AUDITOR)


def ordered_rules(app):
    """The swept rules with their rows, `last` rows at the end; fails naming any route without a row."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    missing = sorted({rule.endpoint for rule in rules} - TABLE.keys())
    if missing:
        pytest.fail(f"routes without a row in the access table (tests/placement/access_table.py TABLE): {missing}")
    order = list(TABLE)
    rules.sort(key=lambda rule: (TABLE[rule.endpoint].last, order.index(rule.endpoint)))
    return [(rule, TABLE[rule.endpoint]) for rule in rules]


def json_value(value, ids: dict):
    """A JSON body value: "{key}" alone is the world value itself (an id stays an integer)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    return value.format(**ids) if isinstance(value, str) else value
