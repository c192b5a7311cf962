"""The access-control sweep: every route, every actor, one expected outcome each.

TABLE has one row per endpoint. Every route in the URL map (except `static`)
must have a row, so a route added later fails here until its row says who may
use it. Each actor gets a fresh world (a provider with a home, an agency with
referrals, a hold and two pending requests) and requests every route: GET, or
POST with a valid CSRF token for POST-only routes. Rows run in table order;
`last=True` rows (closing a referral, signing out) run after all the others
because they change what later rows would see.

The table, its outcomes and how to add a row: access_table.py.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlmodel import func, select

from placement.models import AuditEvent, Home

from ..helpers import HOME_FORM, api_token, csrf_token, login, post
from .access_table import (
    ACTORS,
    ALLOWED,
    ANONYMOUS,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    TABLE,
    UNAUTHORIZED,
    Row,
    actor_user,
    build_world,
    json_value,
    ordered_rules,
)


def _classify(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return LOGIN if urlsplit(response.headers["Location"]).path == "/login" else ALLOWED
    if 200 <= status < 300:
        return ALLOWED
    return {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND}.get(status, f"HTTP {status}")


def _denials(factory) -> int:
    factory.session.commit()  # end the read snapshot so rows committed by the app are visible
    return factory.session.exec(select(func.count(AuditEvent.id)).where(AuditEvent.action == "access_denied")).one()


def _request(app, client, rule, row: Row, ids: dict, token: str | None) -> str:
    values = {}
    for name in rule.arguments:
        key = row.args.get(name, name)
        assert key in ids, f"{rule.endpoint}: no world value for URL argument {name!r}; add one in build_world"
        values[name] = ids[key]
    path = app.url_map.bind("localhost").build(rule.endpoint, values)
    if rule.rule.startswith("/api/"):
        # The API takes the actor's token, never the session the client also carries.
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        method = "GET" if "GET" in rule.methods else next(iter(rule.methods - {"HEAD", "OPTIONS"}))
        body = {name: json_value(value, ids) for name, value in row.form.items()} if method != "GET" else None
        return _classify(client.open(path, method=method, json=body, headers=headers))
    if "GET" in rule.methods:
        return _classify(client.get(path))
    form = {name: value.format(**ids) for name, value in row.form.items()}
    form["csrf_token"] = csrf_token(client, "/account/password")
    return _classify(client.post(path, data=form))


def _check(app, client, factory, rule, row: Row, ids: dict, expected: str, who: str, token: str | None) -> str | None:
    """Request `rule` and compare with `expected`; a 403/404 must leave an access_denied entry."""
    before = _denials(factory)
    got = _request(app, client, rule, row, ids, token)
    if got != expected:
        return f"{rule.endpoint} ({rule.rule}) as {who}: expected {expected}, got {got}"
    if got in (FORBIDDEN, NOT_FOUND) and _denials(factory) == before:
        return f"{rule.endpoint} ({rule.rule}) as {who}: {got} without an access_denied audit entry"
    return None


def test_every_route_has_a_row_and_every_row_a_route(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    endpoints = {rule.endpoint for rule in rules}
    assert not sorted(endpoints - TABLE.keys()), f"routes without a row: {sorted(endpoints - TABLE.keys())}"
    assert not sorted(TABLE.keys() - endpoints), f"rows for routes that no longer exist: {sorted(TABLE.keys() - endpoints)}"
    for rule in rules:
        row = TABLE[rule.endpoint]
        assert set(row.expect) == set(ACTORS), f"{rule.endpoint}: give an outcome for every actor"
        if any(name.endswith("_id") for name in rule.arguments):
            assert row.owner and row.foreign, f"{rule.endpoint} carries an id: say its owner role and the foreign outcome"


@pytest.mark.parametrize("actor", ACTORS)
def test_every_route_answers_each_actor_as_the_table_says(app, factory, actor):
    world = build_world(factory)
    client = app.test_client()
    token = None
    if actor != ANONYMOUS:
        user = actor_user(factory, world, actor)
        login(client, user)
        token = api_token(factory, user)
    failures = [
        _check(app, client, factory, rule, row, world.ids, row.expect[actor], actor, token)
        for rule, row in ordered_rules(app)
    ]
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


def test_another_organisations_user_gets_nothing_by_id(app, factory):
    world = build_world(factory)
    rows = [(rule, row) for rule, row in ordered_rules(app) if row.owner]
    # A foreign coordinator is one of another state (a coordinator sees their whole state).
    kinds = {"operator": ("provider", "MO"), "caseworker": ("agency", "MO"), "admin": ("coordinator_office", "MO"),
             "coordinator": ("coordinator_office", "KS")}
    clients, tokens = {}, {}
    for role in sorted({row.owner for _, row in rows}):
        assert role in kinds, f"add an organisation kind for foreign {role}s"
        client = app.test_client()
        user = factory.user(role, factory.org(*kinds[role]))
        login(client, user)
        clients[role], tokens[role] = client, api_token(factory, user)
    failures = [
        _check(app, clients[row.owner], factory, rule, row, world.ids, row.foreign, f"a {row.owner} of another organisation",
               tokens[row.owner])
        for rule, row in rows
    ]
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


def test_foreign_home_id_is_404_audited_and_reveals_nothing(client, factory, login_as):
    home = factory.home(factory.org("provider"), name="Lantern House", street_address="9 Quiet Test Road")
    rival_provider = factory.org("provider")
    rival = factory.user("operator", rival_provider)
    login_as(rival)
    response = client.get(f"/provider/homes/{home.id}/edit")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Lantern House" not in html and "9 Quiet Test Road" not in html
    entry = factory.session.exec(select(AuditEvent).where(AuditEvent.action == "access_denied")).one()
    assert (entry.actor_id, entry.organisation_id, entry.object_type, entry.object_id, entry.ip) == (
        rival.id, rival_provider.id, "home", home.id, "127.0.0.1",
    )


SQL = "' OR 1=1--"
MARKUP = {
    "name": SQL,
    "contact_phone": "555 0100",
    "street_address": "1 Test St'); DROP TABLE home;--",
}
# A home's county and city come from the place picker: markup there is refused, and echoed escaped.
PLACE_MARKUP = "<img src=x onerror=alert(1)>"


def test_sql_metacharacters_and_markup_are_stored_verbatim_and_shown_escaped(client, factory, login_as):
    factory.home(factory.org("provider"), name="Elsewhere House")
    provider = factory.org("provider")
    login_as(factory.user("operator", provider))
    refused = post(client, "/provider/homes/new", {**HOME_FORM, **MARKUP, "name": "<script>alert(1)</script>", "place": PLACE_MARKUP})
    assert refused.status_code == 422 and "<img src=x" not in refused.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in refused.get_data(as_text=True)
    assert post(client, "/provider/homes/new", {**HOME_FORM, **MARKUP}).status_code == 302
    home = factory.session.exec(select(Home).where(Home.provider_id == provider.id)).one()
    assert {name: getattr(home, name) for name in MARKUP} == MARKUP
    note = "<script>document.location='//evil.example'</script>"
    availability = {"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 2, "current_youth": 0, "note": note}
    assert post(client, f"/provider/homes/{home.id}/availability", availability).status_code == 302

    for path in ("/provider/homes", f"/provider/homes/{home.id}", f"/provider/homes/{home.id}/edit"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<script>document" not in html, path
        assert "&#39; OR 1=1--" in html, path
    detail = client.get(f"/provider/homes/{home.id}").get_data(as_text=True)
    assert "&lt;script&gt;document.location=&#39;//evil.example&#39;&lt;/script&gt;" in detail
    # The quote ended no SQL string: the other provider's home is still there and still not listed.
    assert factory.session.exec(select(func.count(Home.id))).one() == 2
    assert "Elsewhere House" not in client.get("/provider/homes").get_data(as_text=True)


def test_oversized_form_body_is_413_and_nothing_is_saved(client, factory, login_as):
    login_as(factory.user("operator"))
    token = csrf_token(client, "/provider/homes/new")
    response = client.post("/provider/homes/new", data={**HOME_FORM, "csrf_token": token, "name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert factory.session.exec(select(Home)).first() is None
