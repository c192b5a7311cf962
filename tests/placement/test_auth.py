"""Sign-in, lockout, rate limits, sessions that really end, invitations."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import AuditEvent, User
from placement.services.accounts import SIGN_IN_FAILED
from placement.timeutil import clock

from ..helpers import PASSWORD, csrf_token, login, post


def _attempt(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_login_and_logout(client, factory):
    user = factory.user("operator")
    response = login(client, user)
    assert response.headers["Location"].endswith("/")
    assert client.get("/provider/homes").status_code == 200
    assert post(client, "/logout", token_from="/provider/homes").status_code == 302
    assert client.get("/provider/homes").status_code == 302


def test_password_is_stored_as_argon2id(factory):
    user = factory.user("caseworker")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_unknown_and_known_users_get_the_same_message(client, factory):
    user = factory.user("operator")
    wrong = _attempt(client, user.email, "not the password at all")
    unknown = _attempt(client, "nobody@test.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert SIGN_IN_FAILED in wrong.get_data(as_text=True)
    assert SIGN_IN_FAILED in unknown.get_data(as_text=True)


def test_six_failures_lock_the_account_and_admin_unlocks(app, client, factory, login_as):
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    user = factory.user("operator")
    for _ in range(6):
        _attempt(client, user.email, "wrong wrong wrong")
    assert _attempt(client, user.email, PASSWORD).status_code == 401  # right password, but locked
    locked = factory.get(User, user.id)
    assert locked.locked_until is not None
    actions = factory.session.exec(select(AuditEvent.action).where(AuditEvent.object_id == user.id)).all()
    assert "account_locked" in actions and actions.count("login_failed") >= 6

    admin_client = app.test_client()
    login_as(factory.user("admin"), admin_client)
    response = post(admin_client, f"/admin/users/{user.id}/unlock", token_from="/admin/users")
    assert response.status_code == 302
    assert _attempt(client, user.email, PASSWORD).status_code == 302


def test_lockout_expires_after_thirty_minutes(app, client, factory):
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    user = factory.user("operator")
    for _ in range(6):
        _attempt(client, user.email, "wrong wrong wrong")
    clock.advance(timedelta(minutes=31))
    assert _attempt(client, user.email, PASSWORD).status_code == 302


def test_login_rate_limited_per_account_across_addresses(client, factory):
    user = factory.user("operator")
    statuses = [
        client.post("/login", data={"email": user.email, "password": "x" * 12, "csrf_token": csrf_token(client)},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
        for i in range(20)
    ]
    assert statuses.count(429) >= 9
    assert statuses[:10] == [401] * 10


def test_login_rate_limited_per_address_across_accounts(client, factory):
    statuses = [_attempt(client, f"user{i}@test.example", "x" * 12).status_code for i in range(100)]
    assert statuses.count(429) == 90


def test_login_requires_csrf_token(client, factory):
    user = factory.user("operator")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    forged = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400


def test_session_is_replaced_at_login(client, factory, login_as):
    user = factory.user("operator")
    client.get("/login")
    before = client.get_cookie("session")
    login_as(user)
    after = client.get_cookie("session")
    assert before is None or before.value != after.value


def test_old_cookie_is_dead_after_logout(app, client, factory, login_as):
    user = factory.user("operator")
    login_as(user)
    stolen = client.get_cookie("session").value
    post(client, "/logout", token_from="/provider/homes")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/provider/homes").status_code == 302


def test_deactivated_users_session_ends(app, client, factory, login_as):
    user = factory.user("operator")
    login_as(user)
    admin_client = app.test_client()
    login_as(factory.user("admin"), admin_client)
    post(admin_client, f"/admin/users/{user.id}/deactivate", token_from="/admin/users")
    assert client.get("/provider/homes").status_code == 302
    assert _attempt(app.test_client(), user.email, PASSWORD).status_code == 401


def test_idle_timeout_signs_out_with_notice(client, factory, login_as):
    login_as(factory.user("operator"))
    clock.advance(timedelta(minutes=31))
    response = client.get("/provider/homes", follow_redirects=True)
    assert "inactivity" in response.get_data(as_text=True)
    assert client.get("/provider/homes").status_code == 302


def test_open_redirect_refused(client, factory):
    user = factory.user("operator")
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert "evil.example" not in response.headers["Location"]


def test_change_password_rules_and_other_sessions_end(app, client, factory, login_as):
    user = factory.user("operator")
    login_as(user)
    other_device = app.test_client()
    login_as(user, other_device)
    short = post(client, "/account/password", {"current_password": PASSWORD, "new_password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)
    common = post(client, "/account/password", {"current_password": PASSWORD, "new_password": "password1234", "confirm": "password1234"})
    assert "too common" in common.get_data(as_text=True)
    new = "a quiet river at midnight"
    ok = post(client, "/account/password", {"current_password": PASSWORD, "new_password": new, "confirm": new})
    assert ok.status_code == 302
    assert client.get("/provider/homes").status_code == 200
    assert other_device.get("/provider/homes").status_code == 302


def test_invitation_flow(app, client, factory, login_as):
    admin = factory.user("admin")
    agency = factory.org("agency")
    login_as(admin)
    response = post(client, "/admin/users/invite", {"organisation_id": agency.id, "email": "New.Worker@Test.example", "display_name": "New Worker", "role": "caseworker"})
    assert response.status_code == 200
    link = response.get_data(as_text=True).split('data-testid="invite-link">')[1].split("<")[0]
    assert link.startswith(app.config["BASE_URL"] + "/invitation/")
    path = link.removeprefix(app.config["BASE_URL"])
    invitee = app.test_client()
    assert invitee.post("/login", data={"email": "new.worker@test.example", "password": "", "csrf_token": csrf_token(invitee)}).status_code in (200, 401)
    new = "lanterns over the prairie"
    assert post(invitee, path, {"new_password": new, "confirm": new}).status_code == 302
    assert post(invitee, path, {"new_password": new, "confirm": new}).status_code == 404  # used once
    login_as(factory.session.exec(select(User).where(User.email == "new.worker@test.example")).one(), invitee, password=new)


def test_invite_refuses_role_that_does_not_fit_organisation(client, factory, login_as):
    login_as(factory.user("admin"))
    provider = factory.org("provider")
    response = post(client, "/admin/users/invite", {"organisation_id": provider.id, "email": "x@test.example", "display_name": "X", "role": "caseworker"})
    assert response.status_code == 422
    assert factory.session.exec(select(User).where(User.email == "x@test.example")).first() is None


def test_admin_pages_refuse_other_roles(client, factory, login_as):
    login_as(factory.user("operator"))
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/organisations").status_code == 403
