"""Attacks on the portal, and the guarantees that hold against them.

Route-wide tests walk every route of the URL map that has a row in the access
sweep's table (tests/placement/security_world.py), so a page added later is
attacked too: forged and missing CSRF tokens on every POST, state changes by
GET, oversized bodies, out-of-range ids, and the street address on every page
as every role. The rest are targeted: IDOR across organisations, session
fixation and replay, lockout, hostile text and numbers in every form field,
production cookie flags and headers, and what a 500 shows and logs.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from placement import create_app
from placement.extensions import limiter
from placement.models import AuditEvent, AvailabilityUpdate, Hold, Home, Organisation, PlacementRequest, Referral, ReferralEvent, User
from placement.services import booking
from placement.services.accounts import SIGN_IN_FAILED
from placement.web.security import DatabaseIdConverter

from ..helpers import HOME_FORM, PASSWORD, REFERRAL_FORM, csrf_token, login, make_referral, post
from .access_table import CASEWORKER, OPERATOR, TABLE
from .security_world import (
    ACTORS,
    ANONYMOUS,
    Cast,
    actor_client,
    visitor,
    allowed_actor,
    audit_since,
    build_world,
    fingerprint,
    last_audit_id,
    path_for,
    swept_rules,
)

# --- CSRF and GET -------------------------------------------------------------------------


def _form(rule, world) -> dict:
    """The row's form body as a browser would post it (text, world ids filled in)."""
    return {name: str(value).format(**world.ids) for name, value in TABLE[rule.endpoint].form.items()}


def test_every_post_route_refuses_missing_forged_and_foreign_csrf_tokens(app, factory):
    world = build_world(factory)
    clients = {}
    stranger = app.test_client()
    foreign_token = csrf_token(stranger)  # valid, but for another browser's session
    failures = []
    for rule in swept_rules(app, "POST"):
        actor = allowed_actor(rule)
        if actor not in clients:
            clients[actor] = actor_client(app, factory, world, actor)
        path = path_for(app, rule, world.ids)
        before = fingerprint(factory)
        for label, token in (("missing", None), ("forged", "forged-token"), ("foreign", foreign_token)):
            data = _form(rule, world)
            if token is not None:
                data["csrf_token"] = token
            response = clients[actor].post(path, data=data)
            if rule.endpoint.startswith("api."):
                # Token-authenticated API: a browser's session cookie must not be enough.
                refused = response.status_code in (400, 401, 403)
            else:
                refused = response.status_code == 400 and "Nothing was saved" in response.get_data(as_text=True)
            if not refused:
                failures.append(f"{rule.endpoint} as {actor} with a {label} token: HTTP {response.status_code}")
        if fingerprint(factory) != before:
            failures.append(f"{rule.endpoint}: a refused POST changed the database")
    assert not failures, "\n".join(failures)
    assert len(clients) >= 3  # operators, caseworkers and admins were all tried


def test_expired_csrf_token_fails_kindly_and_saves_nothing(app, client, factory, login_as):
    login_as(factory.user("operator"))
    token = csrf_token(client, "/provider/homes/new")
    app.config["WTF_CSRF_TIME_LIMIT"] = -1  # every token is now older than the limit
    response = client.post("/provider/homes/new", data={**HOME_FORM, "csrf_token": token})
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert factory.session.exec(select(Home)).first() is None


def test_no_get_route_changes_anything_but_the_audit_log(app, factory):
    world = build_world(factory)
    failures = []
    for actor in ACTORS:
        browser = visitor(app, factory, world, actor)
        before = fingerprint(factory)
        for rule in swept_rules(app, "GET"):
            browser.get(rule, path_for(app, rule, world.ids))
        if fingerprint(factory) == before:
            continue
        for rule in swept_rules(app, "GET"):  # something changed: find the route
            before = fingerprint(factory)
            status = browser.get(rule, path_for(app, rule, world.ids)).status_code
            if fingerprint(factory) != before:
                failures.append(f"GET {rule.endpoint} as {actor} (HTTP {status}) changed the database")
        failures = failures or [f"a GET as {actor} changed the database"]
    assert not failures, "\n".join(failures)


# --- Oversized bodies and out-of-range ids ----------------------------------------------------


def test_every_form_route_answers_an_oversized_body_with_413_and_saves_nothing(app, factory):
    world = build_world(factory)
    rules = [rule for rule in swept_rules(app, "POST") if not rule.rule.startswith("/api/")]  # JSON: the API's tests
    clients = {actor: actor_client(app, factory, world, actor) for actor in {allowed_actor(rule) for rule in rules}}
    failures = []
    before = fingerprint(factory)
    for rule in rules:
        actor = allowed_actor(rule)
        token = csrf_token(clients[actor], "/login" if actor == ANONYMOUS else "/account/password")
        # A document upload takes up to 10 MB (issue 19): more than that is too large there.
        padding = 11 if rule.endpoint == "caseworker.upload_document" else 2
        data = {**_form(rule, world), "csrf_token": token, "padding": "x" * (padding * 1024 * 1024)}
        response = clients[actor].post(path_for(app, rule, world.ids), data=data)
        html = response.get_data(as_text=True)
        if response.status_code != 413 or "at most 1 MB" not in html or "Nothing was saved" not in html:
            failures.append(f"{rule.endpoint}: HTTP {response.status_code}")
    assert not failures, "\n".join(failures)
    assert fingerprint(factory) == before


@pytest.mark.parametrize("huge", [2**31, 2**63])
def test_ids_beyond_the_integer_columns_are_404_not_500(app, factory, huge):
    world = build_world(factory)
    visitors = {}
    failures = []
    for method in ("GET", "POST"):
        for rule in swept_rules(app, method):
            ints = [name for name, conv in rule._converters.items() if isinstance(conv, DatabaseIdConverter)]
            if not ints:
                continue
            actor = allowed_actor(rule)
            if actor not in visitors:
                visitors[actor] = visitor(app, factory, world, actor)
            browser = visitors[actor]
            path = path_for(app, rule, world.ids, **{name: huge for name in ints})
            if method == "GET":
                response = browser.get(rule, path)
            elif rule.rule.startswith("/api/"):
                response = browser.client.post(path, json={}, headers={"Authorization": f"Bearer {browser.token}"})
            else:
                data = {**_form(rule, world), "csrf_token": csrf_token(browser.client, "/account/password")}
                response = browser.client.post(path, data=data)
            # 405 where a sibling rule takes another method on the same path (werkzeug's routing).
            if response.status_code not in (404, 405):
                failures.append(f"{method} {path} ({rule.endpoint}): HTTP {response.status_code}")
    assert not failures, "\n".join(failures)


# --- IDOR across organisations ------------------------------------------------------------------


def _hold_and_request(factory, home, caseworker):
    from placement.timeutil import utcnow

    referral = make_referral(factory, caseworker)
    now = utcnow()
    hold = Hold(referral_id=referral.id, home_id=home.id, created_by_id=caseworker.id, places=1,
                created_at=now, expires_at=now + timedelta(hours=4))
    request = PlacementRequest(referral_id=make_referral(factory, caseworker).id, home_id=home.id,
                               requested_by_id=caseworker.id, places=1)
    factory.session.add_all([hold, request])
    factory.session.commit()
    return referral, hold, request


@pytest.mark.parametrize("kind", ["hold", "placement_request"])
def test_own_referral_with_another_agencys_hold_or_request_id_is_404_and_audited(app, client, factory, kind, login_as):
    home = factory.home(factory.org("provider"), licensed_beds=6, availability={"open_beds": 4, "staff_on_duty": 3, "current_youth": 0})
    victim = factory.user("caseworker", factory.org("agency"))
    _, hold, request = _hold_and_request(factory, home, victim)
    attacker = factory.user("caseworker", factory.org("agency"))
    own = make_referral(factory, attacker)
    login_as(attacker)
    target = hold if kind == "hold" else request
    path = (f"/caseworker/referrals/{own.id}/holds/{hold.id}/release" if kind == "hold"
            else f"/caseworker/referrals/{own.id}/requests/{request.id}/withdraw")
    before = last_audit_id(factory)
    response = post(client, path, token_from=f"/caseworker/referrals/{own.id}")
    assert response.status_code == 404
    denied = [e for e in audit_since(factory, before) if e.action == "access_denied"]
    assert [(e.actor_id, e.object_type, e.object_id) for e in denied] == [(attacker.id, kind, target.id)]
    assert factory.get(Hold, hold.id).released_at is None
    assert factory.get(PlacementRequest, request.id).status == "pending"


def test_extra_form_fields_cannot_place_rows_in_another_organisation(app, factory):
    victim_provider, victim_agency = factory.org("provider"), factory.org("agency")
    provider = factory.org("provider")
    operator = factory.user("operator", provider)
    operator_client = app.test_client()
    login(operator_client, operator)
    extra = {"provider_id": victim_provider.id, "id": 999, "organisation_id": victim_provider.id, "role": "admin", "open_beds": 99}
    assert post(operator_client, "/provider/homes/new", {**HOME_FORM, **extra}).status_code == 302
    home = factory.session.exec(select(Home)).one()
    assert home.provider_id == provider.id and home.id != 999

    agency = factory.org("agency")
    caseworker = factory.user("caseworker", agency)
    caseworker_client = app.test_client()
    login(caseworker_client, caseworker)
    extra = {"agency_id": victim_agency.id, "created_by_id": operator.id, "status": "placed", "id": 999}
    assert post(caseworker_client, "/caseworker/referrals/new", {**REFERRAL_FORM, **extra}).status_code == 302
    referral = factory.session.exec(select(Referral)).one()
    assert (referral.agency_id, referral.created_by_id, referral.status) == (agency.id, caseworker.id, "open")
    assert factory.get(User, operator.id).role == "operator"


# --- Sessions ---------------------------------------------------------------------------------------


def test_session_fixation_planted_session_values_do_not_survive_sign_in(app, client, factory, login_as):
    user = factory.user("operator")
    client.get("/login")
    with client.session_transaction() as planted:
        planted["planted_by_attacker"] = "yes"
        planted_csrf = planted["csrf_token"]
    planted_cookie = client.get_cookie("session").value
    login_as(user)
    with client.session_transaction() as session:
        assert "planted_by_attacker" not in session
        assert session.get("csrf_token") != planted_csrf  # a token the attacker saw is worthless now
    assert client.get_cookie("session").value != planted_cookie
    attacker = app.test_client()
    attacker.set_cookie("session", planted_cookie)
    assert attacker.get("/provider/homes").status_code == 302  # still signed out


def _copied_session(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_deactivated_users_copied_cookie_stops_working_at_once(app, client, factory, login_as):
    user = factory.user("caseworker")
    login_as(user)
    thief = _copied_session(app, client)
    assert thief.get("/caseworker/referrals").status_code == 200
    admin = app.test_client()
    login_as(factory.user("admin"), admin)
    assert post(admin, f"/admin/users/{user.id}/deactivate", token_from="/admin/users").status_code == 302
    for browser in (client, thief):
        response = browser.get("/caseworker/referrals")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_password_change_ends_copies_of_the_old_session(app, client, factory, login_as):
    user = factory.user("operator")
    login_as(user)
    thief = _copied_session(app, client)
    new = "an owl above the grain silo"
    assert post(client, "/account/password", {"current_password": PASSWORD, "new_password": new, "confirm": new}).status_code == 302
    assert client.get("/provider/homes").status_code == 200  # the browser that changed it stays in
    assert thief.get("/provider/homes").status_code == 302


def test_twenty_wrong_passwords_lock_and_throttle_and_admin_unlock_lets_the_owner_in(app, client, factory, login_as):
    user = factory.user("operator")
    statuses, pages = [], []
    for _ in range(20):
        response = client.post("/login", data={"email": user.email, "password": "guess guess guess", "csrf_token": csrf_token(client)})
        statuses.append(response.status_code)
        pages.append(response.get_data(as_text=True))
    assert statuses == [401] * 10 + [429] * 10  # 10 tries a minute per address and per account
    assert all(SIGN_IN_FAILED in page for page in pages[:10]) and "Too many attempts" in pages[10]
    locked = factory.get(User, user.id)
    assert locked.locked_until is not None and locked.failed_logins == 6
    actions = factory.session.exec(select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.object_id == user.id)).all()
    assert actions.count(("account_locked", "6 failed attempts")) == 1
    assert [a for a, _ in actions].count("login_failed") == 10  # the throttled ones never reached the password check

    limiter.reset()  # the minute has passed
    right = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert right.status_code == 401 and SIGN_IN_FAILED in right.get_data(as_text=True)  # locked: same message
    admin = app.test_client()
    login_as(factory.user("admin"), admin)
    assert post(admin, f"/admin/users/{user.id}/unlock", token_from="/admin/users").status_code == 302
    login_as(user)  # the owner signs in again (login asserts the 302)
    assert factory.get(User, user.id).failed_logins == 0


# --- Hostile text in every text field ----------------------------------------------------------------

PAYLOAD = "x'); DROP TABLE home;-- <script>alert(1)</script>"
RAW = "<script>alert(1)</script>"
ESCAPED = "x&#39;); DROP TABLE home;-- &lt;script&gt;alert(1)&lt;/script&gt;"


class Scene(Cast):
    """The cast, each signed in once: everyone a text-field case needs."""

    def __init__(self, app, factory):
        super().__init__(app, factory)
        self._clients = {}

    def client(self, user):
        if user.id not in self._clients:
            self._clients[user.id] = self.app.test_client()
            login(self._clients[user.id], user)
        return self._clients[user.id]

    def pending_request(self) -> PlacementRequest:
        referral = make_referral(self.factory, self.caseworker)
        request = PlacementRequest(referral_id=referral.id, home_id=self.home.id, requested_by_id=self.caseworker.id, places=1)
        self.factory.session.add(request)
        self.factory.session.commit()
        return request


def _home_field(name):
    def run(scene):
        response = post(scene.client(scene.operator), "/provider/homes/new", {**HOME_FORM, name: PAYLOAD})
        home = scene.factory.session.exec(select(Home).where(Home.name != scene.home.name).order_by(Home.id.desc())).first()
        where = f"/provider/homes/{home.id}" if home and name == "street_address" else "/provider/homes"
        return response, (getattr(home, name) if home else None), scene.operator, where
    return run


def _referral_field(name):
    def run(scene):
        data = {**REFERRAL_FORM, name: PAYLOAD}
        response = post(scene.client(scene.caseworker), "/caseworker/referrals/new", data)
        referral = scene.factory.session.exec(select(Referral)).first()
        where = f"/caseworker/referrals/{referral.id}" if referral else "/caseworker/referrals"
        return response, (getattr(referral, name) if referral else None), scene.caseworker, where
    return run


def _availability_note(scene):
    path = f"/provider/homes/{scene.home.id}/availability"
    data = {"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 2, "current_youth": 0, "note": PAYLOAD}
    response = post(scene.client(scene.operator), path, data)
    latest = scene.factory.session.exec(select(AvailabilityUpdate).order_by(AvailabilityUpdate.id.desc())).first()
    return response, latest.note, scene.operator, f"/provider/homes/{scene.home.id}"


def _decline_note(scene):
    request = scene.pending_request()
    response = post(scene.client(scene.operator), f"/provider/requests/{request.id}/decline",
                    {"reason": "other", "note": PAYLOAD}, token_from=f"/provider/requests/{request.id}")
    return response, scene.factory.get(PlacementRequest, request.id).decline_note, scene.caseworker, f"/caseworker/referrals/{request.referral_id}"


def _close_reason(scene):
    referral = make_referral(scene.factory, scene.caseworker)
    path = f"/caseworker/referrals/{referral.id}"
    response = post(scene.client(scene.caseworker), f"{path}/close", {"reason": PAYLOAD}, token_from=path)
    event = scene.factory.session.exec(select(ReferralEvent).order_by(ReferralEvent.id.desc())).first()
    return response, event.note, scene.caseworker, path


def _invite_name(scene):
    agency = scene.factory.org("agency")
    response = post(scene.client(scene.admin), "/admin/users/invite",
                    {"organisation_id": agency.id, "email": "hostile@test.example", "display_name": PAYLOAD, "role": "caseworker"})
    user = scene.factory.session.exec(select(User).where(User.email == "hostile@test.example")).first()
    return response, user.display_name if user else None, scene.admin, "/admin/users"


def _invite_email(scene):
    agency = scene.factory.org("agency")
    response = post(scene.client(scene.admin), "/admin/users/invite",
                    {"organisation_id": agency.id, "email": PAYLOAD, "display_name": "X", "role": "caseworker"})
    stored = scene.factory.session.exec(select(User.email).where(User.email.contains("DROP"))).first()
    return response, stored, scene.admin, "/admin/users"


def _organisation_name(scene):
    response = post(scene.client(scene.admin), "/admin/organisations", {"name": PAYLOAD, "kind": "agency", "state": "MO"})
    stored = scene.factory.session.exec(select(Organisation.name).where(Organisation.name == PAYLOAD)).first()
    return response, stored, scene.admin, "/admin/organisations"


def _login_email(scene):
    client = scene.app.test_client()
    response = client.post("/login", data={"email": PAYLOAD, "password": "x" * 12, "csrf_token": csrf_token(client)})
    return response, None, None, None


def _audit_filter(scene):
    response = scene.client(scene.admin).get("/admin/audit", query_string={"actor_email": PAYLOAD})
    return response, None, None, None


STORED, REFUSED, ECHOED = "stored", "refused", "echoed"
TEXT_FIELDS = {
    "home name": (_home_field("name"), STORED),
    # County, city and coordinates come from the place picker: hostile text names no place.
    "home place": (_home_field("place"), REFUSED),
    "home street address": (_home_field("street_address"), STORED),
    "home phone": (_home_field("contact_phone"), REFUSED),
    "availability note": (_availability_note, STORED),
    "decline note": (_decline_note, STORED),
    "referral place": (_referral_field("place"), REFUSED),
    "referral case notes": (_referral_field("case_notes"), STORED),
    "referral case reference": (_referral_field("case_reference"), REFUSED),
    "referral sibling group": (_referral_field("sibling_group"), REFUSED),
    "referral ICPC states": (_referral_field("icpc_approved_states"), REFUSED),
    "close reason": (_close_reason, STORED),
    "invited user's name": (_invite_name, STORED),
    "invited user's e-mail": (_invite_email, REFUSED),
    "organisation name": (_organisation_name, STORED),
    "sign-in e-mail": (_login_email, ECHOED),
    "audit filter e-mail": (_audit_filter, ECHOED),
}


@pytest.mark.parametrize("case", list(TEXT_FIELDS))
def test_sql_and_markup_in_every_text_field_are_stored_verbatim_or_refused_and_always_escaped(app, factory, case):
    run, outcome = TEXT_FIELDS[case]
    scene = Scene(app, factory)
    response, stored, viewer, where = run(scene)
    html = response.get_data(as_text=True)
    assert RAW not in html
    if outcome == STORED:
        assert response.status_code in (200, 302, 303), html[:300]
        assert stored == PAYLOAD  # verbatim: the quote ended no SQL string
        shown = scene.client(viewer).get(where).get_data(as_text=True)
        assert ESCAPED in shown and RAW not in shown
    elif outcome == REFUSED:
        assert response.status_code == 422, response.status_code
        assert stored is None
    else:
        assert response.status_code in (200, 401, 422) and ESCAPED in html
    assert factory.session.exec(select(func.count(Home.id))).one() >= 1  # no table was dropped


# --- Hostile numbers --------------------------------------------------------------------------------

INTEGERS = ["-1", "2147483648", "9223372036854775808", "1" * 40, "abc", "1.5", "1e9", "NaN", "0x10", ""]
LATITUDES = ["-90.5", "90.5", "1e9", "1e309", "-1e309", "NaN", "inf", "abc", ""]
LONGITUDES = ["-180.5", "180.5", "1e9", "1e309", "NaN", "-inf", "abc", ""]
DISTANCES = ["-1", "0", "5001", "1e309", "NaN", "inf", "abc"]

NUMERIC_FIELDS = {
    "home": ("/provider/homes/new", HOME_FORM, {
        "licensed_beds": INTEGERS, "min_age": INTEGERS + ["22"], "max_age": INTEGERS + ["22"],
    }),
    "availability": ("/provider/homes/{home_id}/availability",
                     {"open_beds": "1", "staff_on_duty": "1", "youth_per_staff": "2", "current_youth": "0"}, {
        "open_beds": INTEGERS, "staff_on_duty": INTEGERS, "youth_per_staff": INTEGERS + ["0"], "current_youth": INTEGERS,
    }),
    "referral": ("/caseworker/referrals/new", REFERRAL_FORM, {
        "age": INTEGERS + ["22", "200"], "children_with": INTEGERS + ["7"], "max_distance_km": DISTANCES,
    }),
    "hold": ("/caseworker/referrals/{referral_id}/hold", {"home_id": "{home_id}"}, {"home_id": INTEGERS + ["0"]}),
}


def test_bad_coordinates_sent_by_use_my_location_find_no_place(app, factory):
    """Coordinates reach SafeBed's pages only from "Use my location": out of range, not a
    number or empty, they are a 404 and nothing else."""
    client = Scene(app, factory).client(factory.user("caseworker"))
    for lat in LATITUDES:
        assert client.get(f"/places/near/{lat}/-92.3").status_code == 404, lat
    for lon in LONGITUDES:
        assert client.get(f"/places/near/38.9/{lon}").status_code == 404, lon


@pytest.mark.parametrize("form", list(NUMERIC_FIELDS))
def test_bad_numbers_in_every_numeric_field_are_form_errors_and_write_nothing(app, factory, form):
    scene = Scene(app, factory)
    referral = make_referral(factory, scene.caseworker)
    path, base, fields = NUMERIC_FIELDS[form]
    ids = {"home_id": scene.home.id, "referral_id": referral.id}
    user = scene.operator if path.startswith("/provider") else scene.caseworker
    client = scene.client(user)
    token = csrf_token(client, "/account/password")
    expected = 400 if form == "hold" else 422  # the hold button is not a form a person types into
    before = fingerprint(factory)
    failures = []
    for name, values in fields.items():
        for value in values:
            data = {key: (item.format(**ids) if isinstance(item, str) else item) for key, item in base.items()}
            data.update({name: value, "csrf_token": token})
            status = client.post(path.format(**ids), data=data).status_code
            if status != expected:
                failures.append(f"{form}.{name}={value!r}: HTTP {status}")
    assert not failures, "\n".join(failures)
    assert fingerprint(factory) == before


# --- Production configuration: cookies, headers, errors -----------------------------------------------

HTTPS = "https://safebed.test"


@pytest.fixture()
def production_app(database_url, monkeypatch):
    """The app as deployed: production mode, no TESTING, no debug."""
    for name in ("SAFEBED_SECURE_COOKIES", "FLASK_DEBUG", "SAFEBED_MODE", "SAFEBED_PROXY_HOPS", "SAFEBED_TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    application = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "p" * 64, "BASE_URL": HTTPS,
                              "SINGLE_PROCESS": True})
    yield application
    application.extensions["safebed_engine"].dispose()


def _https_login(client, user):
    token = csrf_token_https(client, "/login")
    # A browser sends a same-origin Referer under the app's Referrer-Policy (same-origin).
    return client.post("/login", base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"},
                       data={"email": user.email, "password": PASSWORD, "csrf_token": token})


def csrf_token_https(client, path: str) -> str:
    html = client.get(path, base_url=HTTPS).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def test_production_session_cookie_is_secure_httponly_samesite(production_app, factory):
    assert not production_app.debug and not production_app.testing
    client = production_app.test_client()
    response = _https_login(client, factory.user("operator"))
    assert response.status_code == 302
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags and flags["samesite"] == "SameSite=Lax"
    page = client.get("/provider/homes", base_url=HTTPS)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.headers["Cache-Control"] == "no-store"


def test_https_forms_need_the_same_origin_referer_the_referrer_policy_allows(production_app, factory):
    user = factory.user("operator")
    client = production_app.test_client()
    token = csrf_token_https(client, "/login")
    response = client.get("/login", base_url=HTTPS)
    assert response.headers["Referrer-Policy"] == "same-origin"  # sends a Referer to this site only
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", base_url=HTTPS, data=data).status_code == 400  # what "no-referrer" did
    evil = client.post("/login", base_url=HTTPS, data=data, headers={"Referer": "https://evil.example/login"})
    assert evil.status_code == 400
    assert _https_login(client, user).status_code == 302


def test_a_500_outside_debug_shows_no_trace_and_logs_no_address(production_app, factory, monkeypatch, caplog):
    # A code path that forgets a rule: the database's CHECK refuses the row, with the address in it.
    monkeypatch.setattr("placement.services.homes._validate_home", lambda values: None)
    client = production_app.test_client()
    _https_login(client, factory.user("operator"))
    token = csrf_token_https(client, "/provider/homes/new")
    form = {**HOME_FORM, "street_address": "4 Never Logged Lane", "min_age": "17", "max_age": "12", "csrf_token": token}
    with caplog.at_level(logging.DEBUG):
        response = client.post("/provider/homes/new", base_url=HTTPS, data=form, headers={"Referer": f"{HTTPS}/provider/homes/new"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "nothing was saved" in html
    for secret in ("Traceback", "IntegrityError", "ck_home_ages", "INSERT INTO", "4 Never Logged Lane", 'File "'):
        assert secret not in html
    assert "unhandled error on POST /provider/homes/new" in caplog.text  # it was logged, with its traceback
    assert "IntegrityError" in caplog.text and "4 Never Logged Lane" not in caplog.text
    assert factory.session.exec(select(Home)).first() is None


def test_proxy_headers_are_trusted_only_when_configured(database_url, factory, monkeypatch):
    monkeypatch.delenv("SAFEBED_PROXY_HOPS", raising=False)
    user = factory.user("operator")
    for hops, expected in ((0, "10.0.0.2"), (1, "203.0.113.9")):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s" * 32, "PROXY_HOPS": hops})
        client = app.test_client()
        client.environ_base.update(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
        before = last_audit_id(factory)
        login(client, user)
        assert [e.ip for e in audit_since(factory, before) if e.action == "login"] == [expected]
        app.extensions["safebed_engine"].dispose()


# --- The confidential street address -------------------------------------------------------------------

SECRET_ADDRESS = "31 Confidential Sentinel Row"


# A <script> must load a file; a JSON data block (type="application/json") never runs.
INLINE_SCRIPT = re.compile(r'<script(?![^>]*\b(src=|type="application/json"))[^>]*>|\son[a-z]+\s*=|javascript:', re.IGNORECASE)


def _csp_problem(response) -> str | None:
    """Why this answer's CSP or markup would let an injected script run (None: fine)."""
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    script = directives.get("script-src", "")
    if "'self'" not in script or "unsafe" in script or directives.get("object-src") != "'none'" \
            or directives.get("frame-ancestors") != "'none'":
        return f"CSP {csp!r}"
    if response.mimetype == "text/html" and INLINE_SCRIPT.search(response.get_data(as_text=True)):
        return "an inline script or event handler in the page"
    return None


def test_every_page_as_every_role_keeps_the_address_secret_and_allows_no_inline_script(app, factory, caplog):
    """The street address reaches only the home's operators and the placed caseworker
    (audited); every answer sends a CSP without 'unsafe-inline' and holds no inline script."""
    world = build_world(factory)
    home = factory.get(Home, world.ids["home_id"])
    home.street_address = SECRET_ADDRESS
    factory.session.add(home)
    factory.session.commit()
    operator = world.users[OPERATOR]
    booking.accept(factory.session, operator, factory.get(PlacementRequest, world.ids["request_id"]))
    viewers = {actor: visitor(app, factory, world, actor) for actor in ACTORS}
    for role, kind in (("operator", "provider"), ("caseworker", "agency")):
        user = factory.user(role, factory.org(kind, "MO"))
        world.users[f"a {role} of another organisation"] = user
        viewers[f"a {role} of another organisation"] = visitor(app, factory, world, f"a {role} of another organisation")
    leaks, disclosures = [], 0
    with caplog.at_level(logging.DEBUG):
        for who, client in viewers.items():
            for rule in swept_rules(app, "GET"):
                path = path_for(app, rule, world.ids)
                before = last_audit_id(factory)
                response = client.get(rule, path)
                problem = _csp_problem(response)
                if problem:
                    leaks.append(f"{rule.endpoint} as {who}: {problem}")
                body = response.get_data(as_text=True)
                if SECRET_ADDRESS not in body or who == OPERATOR:
                    continue
                disclosed = [e for e in audit_since(factory, before) if e.action == "address_disclosed" and e.object_id == home.id]
                if who == CASEWORKER and disclosed:
                    disclosures += 1
                else:
                    leaks.append(f"{rule.endpoint} ({path}) showed the address to {who}")
    assert not leaks, "\n".join(leaks)
    assert disclosures >= 1  # the placed caseworker's referral page does show it, audited
    assert SECRET_ADDRESS not in caplog.text
    details = factory.session.exec(select(AuditEvent.detail)).all()
    assert not [d for d in details if SECRET_ADDRESS in d]


# --- Dates at the edges of the calendar ------------------------------------------------------------------

FAR_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "10000-01-01", "1969-12-31"]


def test_far_past_and_future_report_periods_never_break_the_coordinators_pages(app, factory):
    client = app.test_client()
    login(client, factory.user("coordinator"))
    failures = []
    for date_from in FAR_DATES:
        for date_to in FAR_DATES:
            response = client.get("/coordinator/unmet-need", query_string={"date_from": date_from, "date_to": date_to})
            if response.status_code not in (200, 422):
                failures.append(f"{date_from}..{date_to}: HTTP {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", [OPERATOR, CASEWORKER])
def test_far_past_and_future_times_in_a_missing_report_are_form_errors(app, factory, who):
    from placement.models import MissingEpisode, Placement

    world = build_world(factory)
    placement = factory.get(Placement, world.ids["missing_placement_id"])  # running, to be reported missing
    episodes = len(factory.session.exec(select(MissingEpisode)).all())
    client = app.test_client()
    login(client, world.users[who])
    side = "provider" if who == OPERATOR else "caseworker"
    path = f"/{side}/placements/{placement.id}/missing"
    token = csrf_token(client, "/account/password")
    failures = []
    for value in [f"{day}T23:59" for day in FAR_DATES] + ["0001-01-01T00:00", "not a time", ""]:
        status = client.post(path, data={"last_seen_at": value, "csrf_token": token}).status_code
        if status < 400 or status >= 500:
            failures.append(f"{value!r}: HTTP {status}")
    assert not failures, "\n".join(failures)
    assert len(factory.session.exec(select(MissingEpisode)).all()) == episodes
    assert factory.get(Placement, placement.id).ended_at is None
