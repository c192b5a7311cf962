"""The JSON API: token auth, the same rules and access policy as the pages, errors,
idempotency, the OpenAPI description and the HSDS directory export."""
from __future__ import annotations

from datetime import timedelta

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from sqlmodel import func, select

from placement.api.openapi import openapi_path
from placement.models import ApiToken, AuditEvent, Hold, Placement, PlacementRequest, Referral
from placement.services import accounts
from placement.timeutil import clock

from ..helpers import api_token, bearer, make_referral, post

API = "/api/v1"
REFERRAL_JSON = {
    "case_reference": "MO-2026-0101", "urgency": "emergency", "age": 15, "gender": "female", "children_with": 0,
    "substance_use": "none", "medical_level": 0, "mental_health_level": 1, "language": "en", "cultural_need": None,
    "custody_state": "MO", "icpc_approved_states": [], "county": "Boone", "lat": 38.95, "lon": -92.33,
    "case_notes": "Synthetic note.",
}


def _world(factory, open_beds=2):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, availability={"open_beds": open_beds, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    return operator, home, caseworker


def _audits(factory, action: str) -> list[AuditEvent]:
    factory.session.commit()
    return list(factory.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    if code:
        assert error["code"] == code, error
    return error


def _schema_validator(client, name: str) -> Draft202012Validator:
    spec = client.get(f"{API}/openapi.json").get_json()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


# The description -------------------------------------------------------------------------------

def test_openapi_is_valid_3_1_and_lists_every_api_route(app, client):
    response = client.get(f"{API}/openapi.json")  # public: no token
    spec = response.get_json()
    assert response.status_code == 200 and spec["openapi"] == "3.1.0"
    validate_spec(spec)
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routes = {
        (openapi_path(rule.rule[len(API):]), method)
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes and routes == described


def test_request_bodies_are_the_page_forms_rules(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    body = spec["paths"][f"{API}/referrals"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["age"] == {"type": "integer", "minimum": 0, "maximum": 21, "title": "Age"}
    assert body["properties"]["case_reference"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9/_.-]*$"
    assert {"case_reference", "age", "urgency", "county"} <= set(body["required"])
    hold = spec["paths"][f"{API}/referrals/{{referral_id}}/holds"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in hold["parameters"])


# Tokens ------------------------------------------------------------------------------------------

def test_token_page_shows_the_token_once_stores_a_hash_and_audits(client, factory, login_as):
    user = factory.user("caseworker")
    login_as(user)
    response = post(client, "/account/tokens", {"name": "County CCWIS", "days": "30"})
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    secret = html.split('data-testid="token-text">')[1].split("<")[0]
    assert secret.startswith("sbt_") and len(secret) > 40
    stored = factory.session.exec(select(ApiToken)).one()
    assert secret not in (stored.token_hash, stored.prefix) and stored.token_hash != secret
    assert (stored.role, stored.organisation_id) == ("caseworker", user.organisation_id)
    assert timedelta(days=29) < stored.expires_at - stored.created_at <= timedelta(days=30)
    assert secret not in client.get("/account/tokens").get_data(as_text=True)  # shown once
    assert len(_audits(factory, "api_token_created")) == 1
    me = client.get(f"{API}/me", headers=bearer(secret))
    assert me.status_code == 200 and me.get_json()["user"]["id"] == user.id
    assert post(client, f"/account/tokens/{stored.id}/revoke", token_from="/account/tokens").status_code == 302
    assert len(_audits(factory, "api_token_revoked")) == 1
    _error(client.get(f"{API}/me", headers=bearer(secret)), 401, "token_revoked")


def test_a_user_cannot_revoke_another_users_token(client, factory, login_as):
    owner = factory.user("caseworker")
    secret = api_token(factory, owner)
    token = factory.session.exec(select(ApiToken)).one()
    login_as(factory.user("caseworker"))
    assert post(client, f"/account/tokens/{token.id}/revoke", token_from="/account/tokens").status_code == 404
    assert factory.get(ApiToken, token.id).revoked_at is None
    assert [e.object_type for e in _audits(factory, "access_denied")] == ["api_token"]
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200


def test_missing_malformed_and_unknown_tokens_are_401(client, factory):
    _error(client.get(f"{API}/me"), 401, "token_missing")
    _error(client.get(f"{API}/me", headers={"Authorization": "Basic abc"}), 401, "token_missing")
    response = client.get(f"{API}/me", headers=bearer("sbt_not-a-real-token"))
    _error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_deactivated_and_rescoped_tokens_are_refused_and_audited(client, factory):
    admin = factory.user("admin")
    expiring, inactive, moved = (factory.user("caseworker") for _ in range(3))
    short, off, rescoped = api_token(factory, expiring, days=30), api_token(factory, inactive), api_token(factory, moved)
    accounts.set_active(factory.session, admin, inactive, False)
    moved.organisation_id = factory.org("agency").id
    factory.session.add(moved)
    factory.session.commit()
    _error(client.get(f"{API}/me", headers=bearer(off)), 401, "account_inactive")
    _error(client.get(f"{API}/me", headers=bearer(rescoped)), 401, "token_out_of_scope")
    assert client.get(f"{API}/me", headers=bearer(short)).status_code == 200
    clock.advance(timedelta(days=31))
    _error(client.get(f"{API}/me", headers=bearer(short)), 401, "token_expired")
    assert {e.detail for e in _audits(factory, "api_token_refused")} == {"account_inactive", "token_out_of_scope", "token_expired"}


def test_the_session_cookie_does_not_authenticate_the_api_and_no_cookie_is_set(app, client, factory, login_as):
    user = factory.user("caseworker")
    login_as(user)  # a signed-in browser
    _error(client.get(f"{API}/referrals"), 401, "token_missing")
    response = app.test_client().get(f"{API}/referrals", headers=bearer(api_token(factory, user)))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_json_posts_need_no_csrf_token(client, factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    response = client.post(f"{API}/referrals", json=REFERRAL_JSON, headers=bearer(api_token(factory, caseworker)))
    assert response.status_code == 201, response.get_json()


def test_rate_limit_is_per_token(app, factory):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    first, second = api_token(factory, factory.user("caseworker")), api_token(factory, factory.user("caseworker"))
    assert [client.get(f"{API}/me", headers=bearer(first)).status_code for _ in range(3)] == [200, 200, 200]
    _error(client.get(f"{API}/me", headers=bearer(first)), 429)
    assert client.get(f"{API}/me", headers=bearer(second)).status_code == 200


# Errors --------------------------------------------------------------------------------------------

def test_every_error_has_the_one_shape(client, factory):
    token = api_token(factory, factory.user("caseworker"))
    _error(client.get(f"{API}/no-such-thing", headers=bearer(token)), 404)
    _error(client.delete(f"{API}/referrals", headers=bearer(token)), 405)
    _error(client.get(f"{API}/homes", headers=bearer(token)), 403)  # caseworkers have no homes
    bad_json = client.post(f"{API}/referrals", data="{not json", content_type="application/json", headers=bearer(token))
    assert _error(bad_json, 422, "validation_failed")["fields"] == {"body": "expected a JSON object"}


def test_validation_errors_name_each_field_and_use_the_form_rules(client, factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    token = api_token(factory, caseworker)
    cases = {
        "age": {"age": 1.5}, "lat": {"lat": "north"}, "case_reference": {"case_reference": "Jane Doe"},
        "urgency": {"urgency": "whenever"}, "icpc_approved_states": {"icpc_approved_states": ["ZZ"]},
        "children_with": {"children_with": 99},
    }
    for field, change in cases.items():
        error = _error(client.post(f"{API}/referrals", json={**REFERRAL_JSON, **change}, headers=bearer(token)), 422, "validation_failed")
        assert field in error["fields"], (change, error)
    missing = _error(client.post(f"{API}/referrals", json={"age": 15}, headers=bearer(token)), 422)
    assert {"case_reference", "urgency", "county"} <= set(missing["fields"])
    # A service rule (not the form's) comes back the same way.
    ok = client.post(f"{API}/referrals", json=REFERRAL_JSON, headers=bearer(token))
    assert ok.status_code == 201
    again = _error(client.post(f"{API}/referrals", json=REFERRAL_JSON, headers=bearer(token)), 400, "invalid")
    assert "case_reference" in again["fields"]
    assert factory.session.exec(select(func.count(Referral.id))).one() == 1


# Homes and availability ------------------------------------------------------------------------------

def test_operator_reads_own_homes_with_address_and_publishes_availability(client, factory):
    operator, home, _ = _world(factory)
    foreign = factory.home(factory.org("provider", "MO"), name="Elsewhere")
    token = api_token(factory, operator)
    listing = client.get(f"{API}/homes", headers=bearer(token)).get_json()
    assert [h["id"] for h in listing["homes"]] == [home.id]
    assert listing["homes"][0]["street_address"] == home.street_address
    assert not _schema_validator(client, "HomeList").is_valid(dict(listing, homes=[{}]))
    assert _schema_validator(client, "HomeList").is_valid(listing)
    _error(client.get(f"{API}/homes/{foreign.id}", headers=bearer(token)), 404)
    assert any(e.object_id == foreign.id for e in _audits(factory, "access_denied"))
    update = {"open_beds": 3, "staff_on_duty": 2, "youth_per_staff": 2, "current_youth": 1, "note": "night shift"}
    response = client.post(f"{API}/homes/{home.id}/availability", json=update, headers=bearer(token))
    assert response.status_code == 201 and response.get_json()["home"]["availability"]["open_beds"] == 3
    too_many = _error(client.post(f"{API}/homes/{home.id}/availability", json={**update, "open_beds": 7}, headers=bearer(token)), 400)
    assert "open_beds" in too_many["fields"]
    history = client.get(f"{API}/homes/{home.id}/availability", headers=bearer(token)).get_json()
    assert history["entries"][0]["note"] == "night shift"
    _error(client.post(f"{API}/homes/{foreign.id}/availability", json=update, headers=bearer(token)), 404)


# The caseworker path -----------------------------------------------------------------------------------

def test_the_whole_caseworker_path_through_the_api(client, factory):
    operator, home, caseworker = _world(factory)
    cw, op = bearer(api_token(factory, caseworker)), bearer(api_token(factory, operator))
    created = client.post(f"{API}/referrals", json=REFERRAL_JSON, headers=cw)
    assert created.status_code == 201
    referral_id = created.get_json()["id"]
    changed = client.patch(f"{API}/referrals/{referral_id}", json={"mental_health_level": 2}, headers=cw)
    assert changed.status_code == 200 and changed.get_json()["mental_health_level"] == 2
    assert changed.get_json()["case_reference"] == REFERRAL_JSON["case_reference"]
    found = client.get(f"{API}/referrals/{referral_id}/search", headers=cw).get_json()
    assert [c["home_id"] for c in found["available"]] == [home.id]
    assert home.street_address not in str(found)
    held = client.post(f"{API}/referrals/{referral_id}/holds", json={"home_id": home.id}, headers=cw)
    assert held.status_code == 201 and held.get_json()["active"]
    refused = client.post(f"{API}/referrals/{referral_id}/requests", json={"home_id": home.id}, headers=cw)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "consent_required"
    override = client.post(f"{API}/referrals/{referral_id}/consent/override",
                           json={"reason": "Youth asleep on arrival; emergency", "approved_by": "Test supervisor"}, headers=cw)
    assert override.status_code == 201 and override.get_json()["kind"] == "override"
    requested = client.post(f"{API}/referrals/{referral_id}/requests", json={"home_id": home.id}, headers=cw)
    assert requested.status_code == 201 and requested.get_json()["status"] == "pending"
    request_id = requested.get_json()["id"]
    incoming = client.get(f"{API}/requests", headers=op).get_json()["requests"]
    assert [r["request"]["id"] for r in incoming] == [request_id]
    assert "case_notes" not in incoming[0]["youth"] and "lat" not in incoming[0]["youth"]
    assert client.get(f"{API}/requests/{request_id}", headers=op).status_code == 200
    accepted = client.post(f"{API}/requests/{request_id}/accept", headers=op)
    assert accepted.status_code == 200 and accepted.get_json()["request"]["status"] == "accepted"
    detail = client.get(f"{API}/referrals/{referral_id}", headers=cw)
    body = detail.get_json()
    assert _schema_validator(client, "ReferralDetail").is_valid(body)
    assert body["referral"]["status"] == "placed"
    assert body["placement"]["street_address"] == home.street_address  # the accepting home's address, now
    assert [e.object_id for e in _audits(factory, "address_disclosed")] == [home.id]
    viewed = _audits(factory, "referral_viewed")
    assert {e.actor_id for e in viewed} == {caseworker.id, operator.id}
    assert factory.session.exec(select(Placement)).one().home_id == home.id
    _error(client.post(f"{API}/referrals/{referral_id}/close", json={"reason": "done"}, headers=cw), 409, "conflict")


def test_release_withdraw_decline_and_close(client, factory):
    operator, home, caseworker = _world(factory)
    cw, op = bearer(api_token(factory, caseworker)), bearer(api_token(factory, operator))
    referral = make_referral(factory, caseworker)
    hold = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=cw).get_json()
    released = client.post(f"{API}/referrals/{referral.id}/holds/{hold['id']}/release", headers=cw)
    assert released.status_code == 200 and released.get_json()["active"] is False
    first = client.post(f"{API}/referrals/{referral.id}/requests", json={"home_id": home.id}, headers=cw).get_json()
    withdrawn = client.post(f"{API}/referrals/{referral.id}/requests/{first['id']}/withdraw", headers=cw)
    assert withdrawn.get_json()["status"] == "withdrawn"
    second = client.post(f"{API}/referrals/{referral.id}/requests", json={"home_id": home.id}, headers=cw).get_json()
    bad_reason = _error(client.post(f"{API}/requests/{second['id']}/decline", json={"reason": "bored"}, headers=op), 422)
    assert "reason" in bad_reason["fields"]
    declined = client.post(f"{API}/requests/{second['id']}/decline", json={"reason": "no_staff", "note": "short tonight"}, headers=op)
    assert declined.get_json()["decline_reason"] == "no_staff"
    _error(client.post(f"{API}/requests/{second['id']}/accept", headers=op), 409, "conflict")
    closed = client.post(f"{API}/referrals/{referral.id}/close", json={"reason": "Synthetic: placed with kin"}, headers=cw)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert len(_audits(factory, "referral_closed")) == 1


def test_foreign_ids_are_404_and_audited_across_the_api(client, factory):
    operator, home, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    cw = bearer(api_token(factory, caseworker))
    hold = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=cw).get_json()
    rival = bearer(api_token(factory, factory.user("caseworker", factory.org("agency", "MO"))))
    rival_op = bearer(api_token(factory, factory.user("operator", factory.org("provider", "MO"))))
    before = len(_audits(factory, "access_denied"))
    for method, path in [("get", f"/referrals/{referral.id}"), ("patch", f"/referrals/{referral.id}"),
                         ("get", f"/referrals/{referral.id}/search"), ("post", f"/referrals/{referral.id}/holds/{hold['id']}/release")]:
        response = getattr(client, method)(f"{API}{path}", json={}, headers=rival)
        _error(response, 404)
        assert referral.case_reference not in response.get_data(as_text=True)
    requested = client.post(f"{API}/referrals/{referral.id}/requests", json={"home_id": home.id}, headers=cw)
    assert requested.status_code == 201  # the caseworker's own hold became the request
    _error(client.post(f"{API}/requests/{requested.get_json()['id']}/accept", headers=rival_op), 404)
    assert len(_audits(factory, "access_denied")) == before + 5
    assert factory.get(PlacementRequest, requested.get_json()["id"]).status == "pending"


# Idempotency ----------------------------------------------------------------------------------------------

def test_the_same_idempotency_key_twice_creates_one_hold(client, factory):
    _, home, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    headers = {**bearer(api_token(factory, caseworker)), "Idempotency-Key": "3f1c-retry-1"}
    first = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=headers)
    again = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert factory.session.exec(select(func.count(Hold.id))).one() == 1
    assert len(_audits(factory, "hold_created")) == 1
    other_body = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id + 1}, headers=headers)
    assert "Idempotency-Key" in _error(other_body, 422, "idempotency_key_reused")["fields"]
    # Without the key a second hold is an ordinary conflict, not a second hold.
    plain = {"Authorization": headers["Authorization"]}
    _error(client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=plain), 409)
    assert factory.session.exec(select(func.count(Hold.id))).one() == 1


def test_an_idempotency_key_is_remembered_for_a_day(client, factory):
    _, home, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    headers = {**bearer(api_token(factory, caseworker)), "Idempotency-Key": "daily-1"}
    hold = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=headers).get_json()
    clock.advance(timedelta(hours=23))  # the hold itself lapsed long ago; the answer is still replayed
    assert client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=headers).get_json() == hold
    clock.advance(timedelta(hours=2))  # the key is forgotten: it acts again
    again = client.post(f"{API}/referrals/{referral.id}/holds", json={"home_id": home.id}, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] != hold["id"]


def test_a_refused_first_attempt_does_not_stick_to_its_key(client, factory):
    operator, home, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    headers = {**bearer(api_token(factory, caseworker)), "Idempotency-Key": "req-42"}
    home.is_active = False
    factory.session.add(home)
    factory.session.commit()
    _error(client.post(f"{API}/referrals/{referral.id}/requests", json={"home_id": home.id}, headers=headers), 404)
    home.is_active = True
    factory.session.add(home)
    factory.session.commit()
    for _ in range(2):
        response = client.post(f"{API}/referrals/{referral.id}/requests", json={"home_id": home.id}, headers=headers)
        assert response.status_code == 201
    assert factory.session.exec(select(func.count(PlacementRequest.id))).one() == 1


# Matcher runs ---------------------------------------------------------------------------------------------

def test_matcher_run_start_status_and_result(client, factory):
    _, home, caseworker = _world(factory)
    make_referral(factory, caseworker)
    coordinator = factory.user("coordinator", factory.org("coordinator_office", "MO"))
    headers = bearer(api_token(factory, coordinator))
    started = client.post(f"{API}/matcher/runs", json={}, headers=headers)
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["id"]
    status = client.get(f"{API}/matcher/runs/{run_id}", headers=headers).get_json()
    assert (status["status"], status["progress"]) == ("done", 100)  # tests run jobs synchronously
    result = client.get(f"{API}/matcher/runs/{run_id}/result", headers=headers).get_json()
    assert [p["home_id"] for p in result["result"]["proposals"]] == [home.id]
    assert home.street_address not in str(result)
    other_state = bearer(api_token(factory, factory.user("coordinator", factory.org("coordinator_office", "KS"))))
    _error(client.get(f"{API}/matcher/runs/{run_id}", headers=other_state), 404)
    _error(client.post(f"{API}/matcher/runs", json={}, headers=bearer(api_token(factory, caseworker))), 403)
    _error(client.post(f"{API}/matcher/runs", json={"state": "KS"}, headers=headers), 404)  # not their state


# Directory --------------------------------------------------------------------------------------------------

def test_hsds_directory_has_no_street_address_and_is_audited(client, factory):
    operator, home, caseworker = _world(factory)
    paused = factory.home(operator_org := factory.org("provider", "KS"), name="Paused House", is_active=False)
    response = client.get(f"{API}/directory/hsds", headers=bearer(api_token(factory, caseworker)))
    body = response.get_json()
    assert response.status_code == 200 and _schema_validator(client, "HsdsDirectory").is_valid(body)
    text = response.get_data(as_text=True)
    assert home.street_address not in text and home.contact_phone not in text and paused.name not in text
    (location,) = body["locations"]
    assert (location["latitude"], location["longitude"]) == (round(home.lat, 1), round(home.lon, 1))
    assert location["addresses"][0] == {"id": f"location-{home.id}-address", "location_id": f"location-{home.id}",
                                        "address_type": "physical", "city": home.city, "region": f"{home.county} County",
                                        "state_province": "MO", "country": "US"}
    (service,) = body["services"]
    assert (service["minimum_age"], service["maximum_age"]) == (home.min_age, home.max_age)
    assert "pregnant youth accepted" in service["eligibility_description"]
    assert operator_org.name not in text
    assert len(_audits(factory, "directory_exported")) == 1
    assert client.get(f"{API}/directory/hsds").status_code == 401


def test_query_flags_and_optional_bodies_are_strict(client, factory):
    token = bearer(api_token(factory, factory.user("caseworker")))
    assert client.get(f"{API}/referrals?include_finished=true", headers=token).status_code == 200
    assert "include_finished" in _error(client.get(f"{API}/referrals?include_finished=maybe", headers=token), 422)["fields"]
    coordinator = bearer(api_token(factory, factory.user("coordinator")))
    null_body = client.post(f"{API}/matcher/runs", data="null", content_type="application/json", headers=coordinator)
    assert _error(null_body, 422)["fields"] == {"body": "expected a JSON object"}
    # No body at all is fine for a run; here nothing is open, which the service says plainly.
    assert "no open referrals" in _error(client.post(f"{API}/matcher/runs", headers=coordinator), 400)["message"]


def test_405_keeps_its_allow_header(client, factory):
    response = client.delete(f"{API}/me", headers=bearer(api_token(factory, factory.user("caseworker"))))
    _error(response, 405)
    assert "GET" in response.headers["Allow"]
