"""Consent: the youth's assent and release of information, or an approved override; no
request without one; the home sees only that consent is on file; every record audited."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import AuditEvent, PlacementRequest, ReferralConsent
from placement.timeutil import to_local_input, utcnow

from ..helpers import api_token, bearer, login, make_referral, post
from .arrival_world import three_homes

API = "/api/v1"


def _local(user, delta: timedelta) -> str:
    return to_local_input(utcnow() + delta, user.timezone)


def _actions(factory, action: str) -> list[AuditEvent]:
    factory.session.commit()
    return factory.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_request_cannot_be_sent_without_consent_and_nothing_is_stored(client, factory):
    world = three_homes(factory, consent=False)
    login(client, world.caseworker)
    page = f"/caseworker/referrals/{world.referral.id}"
    assert 'data-testid="consent-missing"' in client.get(page).get_data(as_text=True)
    # The bed search says so before the caseworker picks a home, and links to the form.
    search = client.get(f"{page}/search").get_data(as_text=True)
    assert 'data-testid="search-consent-missing"' in search and f'href="{page}#consent"' in search
    refused = post(client, f"{page}/request", {"home_id": world.homes[0].id}, token_from=page)
    assert refused.status_code == 409
    assert "assent and release of information" in refused.get_data(as_text=True)
    assert factory.session.exec(select(PlacementRequest)).first() is None


def test_a_release_is_recorded_audited_and_then_requests_go(client, factory):
    world = three_homes(factory, consent=False)
    cw = world.caseworker
    login(client, cw)
    page = f"/caseworker/referrals/{world.referral.id}"
    response = post(client, f"{page}/consent", {
        "youth_assented": "y", "recipients": "Intake staff of the accepting home", "information": "Needs and custody order",
        "signed_at": _local(cw, -timedelta(hours=1)), "expires_at": _local(cw, timedelta(days=14)),
    }, token_from=page)
    assert response.status_code == 302
    row = factory.session.exec(select(ReferralConsent)).one()
    assert (row.kind, row.youth_assented, row.recipients) == ("release", True, "Intake staff of the accepting home")
    assert [e.object_id for e in _actions(factory, "consent_release_recorded")] == [world.referral.id]
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="consent-on-file"' in html and "Needs and custody order" in html
    assert 'search-consent-missing' not in client.get(f"{page}/search").get_data(as_text=True)
    assert post(client, f"{page}/request", {"home_id": world.homes[0].id}, token_from=page).status_code == 302


def test_bad_releases_are_refused_with_field_messages_and_nothing_stored(client, factory):
    world = three_homes(factory, consent=False)
    cw = world.caseworker
    login(client, cw)
    page = f"/caseworker/referrals/{world.referral.id}"
    good = {"youth_assented": "y", "recipients": "Intake staff", "information": "Needs",
            "signed_at": _local(cw, -timedelta(hours=1)), "expires_at": _local(cw, timedelta(days=14))}
    cases = {
        "youth_assented": ({**good, "youth_assented": ""}, "record an override"),
        "expired": ({**good, "expires_at": _local(cw, -timedelta(minutes=30))}, "already expired"),
        "before signing": ({**good, "signed_at": _local(cw, -timedelta(days=3)), "expires_at": _local(cw, -timedelta(days=4))},
                           "already expired"),
        "future signature": ({**good, "signed_at": _local(cw, timedelta(days=1))}, "cannot be in the future"),
        "no recipients": ({**good, "recipients": ""}, "Say who may receive"),
    }
    for name, (body, message) in cases.items():
        response = post(client, f"{page}/consent", body, token_from=page)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    assert factory.session.exec(select(ReferralConsent)).first() is None


def test_an_expired_release_no_longer_lets_a_request_go(app, client, factory):
    world = three_homes(factory, consent=False)
    now = utcnow()
    factory.session.add(ReferralConsent(referral_id=world.referral.id, kind="release", youth_assented=True, recipients="x",
                                        information="y", signed_at=now - timedelta(days=40), expires_at=now - timedelta(days=10),
                                        recorded_by_id=world.caseworker.id))
    factory.session.commit()
    login(client, world.caseworker)
    page = f"/caseworker/referrals/{world.referral.id}"
    assert post(client, f"{page}/request", {"home_id": world.homes[0].id}, token_from=page).status_code == 409


def test_an_override_needs_reason_and_approver_and_is_audited(client, factory):
    world = three_homes(factory, consent=False)
    login(client, world.caseworker)
    page = f"/caseworker/referrals/{world.referral.id}"
    refused = post(client, f"{page}/consent/override", {"reason": "Youth unconscious", "approved_by": ""}, token_from=page)
    assert refused.status_code == 422 and "Name the supervisor" in refused.get_data(as_text=True)
    assert factory.session.exec(select(ReferralConsent)).first() is None
    done = post(client, f"{page}/consent/override", {"reason": "Youth unconscious", "approved_by": "R. Supervisor"},
                token_from=page)
    assert done.status_code == 302
    assert len(_actions(factory, "consent_override_recorded")) == 1
    assert post(client, f"{page}/request", {"home_id": world.homes[0].id}, token_from=page).status_code == 302


def test_the_operator_sees_only_that_consent_is_on_file(app, client, factory):
    world = three_homes(factory, consent=False)
    cw_api = bearer(api_token(factory, world.caseworker))
    created = client.post(f"{API}/referrals/{world.referral.id}/consent", headers=cw_api, json={
        "youth_assented": True, "recipients": "Sentinel recipients", "information": "Sentinel information",
        "signed_at": _local(world.caseworker, -timedelta(hours=1)), "expires_at": _local(world.caseworker, timedelta(days=3)),
    })
    assert created.status_code == 201 and created.get_json()["recipients"] == "Sentinel recipients"
    detail = client.get(f"{API}/referrals/{world.referral.id}", headers=cw_api).get_json()
    assert detail["consent"]["id"] == created.get_json()["id"]
    request = client.post(f"{API}/referrals/{world.referral.id}/requests", json={"home_id": world.homes[0].id}, headers=cw_api)
    assert request.status_code == 201
    op_api = bearer(api_token(factory, world.operators[0]))
    incoming = client.get(f"{API}/requests/{request.get_json()['id']}", headers=op_api).get_json()
    assert incoming["consent_on_file"] is True
    assert "Sentinel" not in str(incoming)
    login(client, world.operators[0])
    html = client.get(f"/provider/requests/{request.get_json()['id']}").get_data(as_text=True)
    assert "on file with the agency" in html and "Sentinel" not in html


def test_the_api_refuses_a_bad_consent_body(client, factory):
    world = three_homes(factory, consent=False)
    cw_api = bearer(api_token(factory, world.caseworker))
    bad = client.post(f"{API}/referrals/{world.referral.id}/consent", headers=cw_api,
                      json={"youth_assented": True, "recipients": "x", "information": "y", "signed_at": "yesterday",
                            "expires_at": "2026-02-30T10:00"})
    assert bad.status_code in (400, 422) and set(bad.get_json()["error"]["fields"]) >= {"signed_at"}
    override = client.post(f"{API}/referrals/{world.referral.id}/consent/override", headers=cw_api, json={"reason": "x"})
    assert override.status_code in (400, 422) and "approved_by" in override.get_json()["error"]["fields"]
    assert factory.session.exec(select(ReferralConsent)).first() is None


def test_make_referral_records_consent_by_default(factory):
    caseworker = factory.user("caseworker")
    assert factory.session.exec(select(ReferralConsent).where(
        ReferralConsent.referral_id == make_referral(factory, caseworker).id)).one().kind == "release"
