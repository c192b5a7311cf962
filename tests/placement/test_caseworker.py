"""Caseworker pages: referrals, search, holds, requests; the operator's answer."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import AuditEvent, AvailabilityUpdate, Hold, Notification, Placement, PlacementRequest, Referral, ReferralEvent
from placement.timeutil import clock

from ..helpers import REFERRAL_FORM, login, make_referral, post


def _world(factory, open_beds=1, **home_fields):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, availability={"open_beds": open_beds, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 2}, **home_fields)
    agency = factory.org("agency", "MO")
    caseworker = factory.user("caseworker", agency)
    return provider, operator, home, agency, caseworker


def test_create_referral_and_land_on_search(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory)
    login_as(caseworker)
    response = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "programs": ["crisis_stabilization"]})
    assert response.status_code == 302 and "/search" in response.headers["Location"]
    referral = factory.session.exec(select(Referral)).one()
    assert (referral.case_reference, referral.agency_id, referral.programs) == ("MO-2026-0001", caseworker.organisation_id, ["crisis_stabilization"])
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-testid="candidate-{home.id}"' in html
    assert home.street_address not in html  # never in search results


def test_case_reference_help_says_never_a_name(client, factory, login_as):
    login_as(factory.user("caseworker"))
    assert "Never the youth&#39;s name" in client.get("/caseworker/referrals/new").get_data(as_text=True)


def test_referral_form_errors(client, factory, login_as):
    login_as(factory.user("caseworker"))
    cases = [
        {"age": "22"}, {"age": "-1"}, {"age": "1.5"}, {"custody_state": "XX"}, {"icpc_approved_states": "KS, ZZ"},
        {"case_reference": "Jane Doe"}, {"place": "Atlantis"}, {"place": ""}, {"children_with": "99"}, {"urgency": "whenever"},
    ]
    for change in cases:
        response = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, **change})
        assert response.status_code == 422, change
    assert factory.session.exec(select(Referral)).first() is None


def test_duplicate_case_reference_refused(client, factory, login_as):
    caseworker = factory.user("caseworker")
    login_as(caseworker)
    assert post(client, "/caseworker/referrals/new", REFERRAL_FORM).status_code == 302
    again = post(client, "/caseworker/referrals/new", REFERRAL_FORM)
    assert again.status_code == 422 and "already has a referral" in again.get_data(as_text=True)


def test_search_ranks_fresh_above_stale_and_explains_exclusions(client, factory, login_as):
    provider, _, fresh, _, caseworker = _world(factory, name="Fresh House")
    stale = factory.home(provider, name="Stale House", languages=["en", "es"])
    young = factory.home(provider, name="Little Ones House", min_age=6, max_age=11)
    factory.session.add(AvailabilityUpdate(home_id=stale.id, open_beds=2, licensed_beds=6, staff_on_duty=2, youth_per_staff=3, current_youth=1,
                                           recorded_at=clock.now() - timedelta(hours=30)))
    factory.session.commit()  # the stale home's latest entry is now 30 hours old
    referral = make_referral(factory, caseworker, age=15)
    login_as(caseworker)
    html = client.get(f"/caseworker/referrals/{referral.id}/search").get_data(as_text=True)
    assert html.index("Fresh House") < html.index("Stale House")
    assert "stale: call to confirm" in html
    why_not = html.split('data-testid="why-not"')[1]
    assert "Little Ones House" in why_not and 'data-rule="age"' in why_not
    assert young.street_address not in html


def test_search_audited_and_foreign_referral_404(client, factory, login_as):
    _, _, _, _, caseworker = _world(factory)
    other_agency_worker = factory.user("caseworker", factory.org("agency"))
    referral = make_referral(factory, caseworker)
    login_as(other_agency_worker)
    for path in (f"/caseworker/referrals/{referral.id}", f"/caseworker/referrals/{referral.id}/search", f"/caseworker/referrals/{referral.id}/edit"):
        assert client.get(path).status_code == 404
    assert post(client, f"/caseworker/referrals/{referral.id}/hold", {"home_id": 1}, token_from="/caseworker/referrals").status_code == 404
    assert factory.session.exec(select(Hold)).first() is None
    login_as(caseworker, client.application.test_client())
    c = client.application.test_client()
    login_as(caseworker, c)
    c.get(f"/caseworker/referrals/{referral.id}")
    actions = factory.session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "referral", AuditEvent.object_id == referral.id)).all()
    assert "referral_viewed" in actions and "access_denied" in actions


def test_whole_path_hold_request_accept_address(app, client, factory, login_as):
    _, operator, home, _, caseworker = _world(factory, open_beds=1)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    assert post(client, f"{page}/hold", {"home_id": home.id}, token_from=f"{page}/search").status_code == 302
    held = factory.session.exec(select(Hold)).one()
    assert held.places == 1 and held.expires_at - held.created_at == timedelta(hours=4)
    # The held bed is not offered to anyone else.
    rival = make_referral(factory, factory.user("caseworker", factory.org("agency")))
    rival_client = app.test_client()
    login_as(factory.get(type(caseworker), rival.created_by_id), rival_client)
    rival_page = rival_client.get(f"/caseworker/referrals/{rival.id}/search").get_data(as_text=True)
    assert f'data-testid="candidate-{home.id}"' in rival_page.split('data-testid="full"')[1]

    assert post(client, f"{page}/request", {"home_id": home.id}, token_from=page).status_code == 302
    request = factory.session.exec(select(PlacementRequest)).one()
    assert request.status == "pending"
    operator_client = app.test_client()
    login_as(operator, operator_client)
    assert "1</span>" in operator_client.get("/provider/requests").get_data(as_text=True)  # badge
    detail = operator_client.get(f"/provider/requests/{request.id}").get_data(as_text=True)
    assert "Synthetic case note" not in detail  # minimum necessary: no case notes
    assert post(operator_client, f"/provider/requests/{request.id}/accept", token_from=f"/provider/requests/{request.id}").status_code == 302

    placement = factory.session.exec(select(Placement)).one()
    assert placement.home_id == home.id
    latest = factory.session.exec(select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == home.id).order_by(AvailabilityUpdate.id.desc())).first()
    assert (latest.open_beds, latest.current_youth) == (0, 3)
    assert factory.get(Referral, referral.id).status == "placed"
    note = factory.session.exec(select(Notification).where(Notification.user_id == caseworker.id)).one()
    assert "accepted" in note.message
    html = client.get(page).get_data(as_text=True)
    assert home.street_address in html
    assert factory.session.exec(select(AuditEvent).where(AuditEvent.action == "address_disclosed")).first() is not None
    statuses = [e.status for e in factory.session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id)).all()]
    assert statuses == ["open", "held", "requested", "placed"]
    # Accepting twice changes nothing.
    again = post(operator_client, f"/provider/requests/{request.id}/accept", token_from="/provider/requests", follow_redirects=True)
    assert "already accepted" in again.get_data(as_text=True)
    assert len(factory.session.exec(select(Placement)).all()) == 1


def test_address_hidden_before_acceptance_and_from_other_agencies(app, client, factory, login_as):
    _, operator, home, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    post(client, f"{page}/request", {"home_id": home.id}, token_from=page)
    assert home.street_address not in client.get(page).get_data(as_text=True)


def test_no_room_is_a_clear_refusal(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory, open_beds=0)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    response = post(client, f"{page}/hold", {"home_id": home.id}, token_from=page)
    assert response.status_code == 409 and "no longer available" in response.get_data(as_text=True)
    assert factory.session.exec(select(Hold)).first() is None
    assert factory.get(Referral, referral.id).status == "open"


def test_ineligible_home_refused_with_rule(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory, max_age=14)
    referral = make_referral(factory, caseworker, age=15)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    response = post(client, f"{page}/hold", {"home_id": home.id}, token_from=page)
    assert response.status_code == 400 and "does not accept this youth" in response.get_data(as_text=True)


def test_hold_expires_by_itself_and_release_gives_bed_back(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory, open_beds=1)
    first = make_referral(factory, caseworker)
    second = make_referral(factory, caseworker)
    login_as(caseworker)
    post(client, f"/caseworker/referrals/{first.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals")
    refused = post(client, f"/caseworker/referrals/{second.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals")
    assert refused.status_code == 409
    clock.advance(timedelta(hours=4, minutes=1))
    login_as(caseworker)  # the idle timeout signed the caseworker out meanwhile
    assert post(client, f"/caseworker/referrals/{second.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals").status_code == 302
    second_hold = factory.session.exec(select(Hold).where(Hold.referral_id == second.id)).one()
    assert post(client, f"/caseworker/referrals/{second.id}/holds/{second_hold.id}/release", token_from="/caseworker/referrals").status_code == 302
    assert post(client, f"/caseworker/referrals/{first.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals").status_code == 302


def test_expire_holds_command_tidies(client, factory, login_as, runner):
    _, _, home, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    post(client, f"/caseworker/referrals/{referral.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals")
    clock.advance(timedelta(hours=5))
    result = runner.invoke(args=["expire-holds"])
    assert "1 expired hold" in result.output
    assert factory.get(Referral, referral.id).status == "open"
    assert factory.session.exec(select(Hold)).one().release_reason == "expired"


def test_decline_frees_bed_and_records_reason(app, client, factory, login_as):
    _, operator, home, _, caseworker = _world(factory, open_beds=1)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    post(client, f"/caseworker/referrals/{referral.id}/request", {"home_id": home.id}, token_from="/caseworker/referrals")
    request = factory.session.exec(select(PlacementRequest)).one()
    op = app.test_client()
    login_as(operator, op)
    bad = post(op, f"/provider/requests/{request.id}/decline", {"reason": "because"}, token_from="/provider/requests", follow_redirects=True)
    assert "Choose a reason" in bad.get_data(as_text=True)
    assert post(op, f"/provider/requests/{request.id}/decline", {"reason": "no_staff"}, token_from="/provider/requests").status_code == 302
    request = factory.get(PlacementRequest, request.id)
    assert (request.status, request.decline_reason) == ("declined", "no_staff")
    assert factory.get(Referral, referral.id).status == "declined"
    other = make_referral(factory, caseworker)
    assert post(client, f"/caseworker/referrals/{other.id}/hold", {"home_id": home.id}, token_from="/caseworker/referrals").status_code == 302
    assert "declined" in client.get("/notifications").get_data(as_text=True)


def test_operator_cannot_answer_other_providers_requests(app, client, factory, login_as):
    _, _, home, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    post(client, f"/caseworker/referrals/{referral.id}/request", {"home_id": home.id}, token_from="/caseworker/referrals")
    request = factory.session.exec(select(PlacementRequest)).one()
    stranger = app.test_client()
    login_as(factory.user("operator", factory.org("provider")), stranger)
    assert stranger.get(f"/provider/requests/{request.id}").status_code == 404
    assert post(stranger, f"/provider/requests/{request.id}/accept", token_from="/provider/requests").status_code == 404
    assert factory.get(PlacementRequest, request.id).status == "pending"


def test_close_referral_releases_hold(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    post(client, f"{page}/hold", {"home_id": home.id}, token_from=page)
    assert post(client, f"{page}/close", {"reason": "placed with a relative"}, token_from=page).status_code == 302
    assert factory.get(Referral, referral.id).status == "closed"
    assert factory.session.exec(select(Hold)).one().release_reason == "referral_closed"
    assert post(client, f"{page}/close", {"reason": "again"}, token_from=page).status_code == 409


def test_withdraw_request(client, factory, login_as):
    _, _, home, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}"
    post(client, f"{page}/request", {"home_id": home.id}, token_from=page)
    request = factory.session.exec(select(PlacementRequest)).one()
    assert post(client, f"{page}/requests/{request.id}/withdraw", token_from=page).status_code == 302
    assert factory.get(PlacementRequest, request.id).status == "withdrawn"
    assert post(client, f"{page}/requests/{request.id}/withdraw", token_from=page).status_code == 409


def test_edit_referral(client, factory, login_as):
    _, _, _, _, caseworker = _world(factory)
    referral = make_referral(factory, caseworker, icpc_approved_states=["KS"])
    login_as(caseworker)
    page = f"/caseworker/referrals/{referral.id}/edit"
    form_html = client.get(page).get_data(as_text=True)
    assert 'value="KS"' in form_html
    data = {**REFERRAL_FORM, "case_reference": referral.case_reference, "age": "16", "icpc_approved_states": "ks, il"}
    assert post(client, page, data).status_code == 302
    updated = factory.get(Referral, referral.id)
    assert (updated.age, updated.icpc_approved_states) == (16, ["IL", "KS"])
    detail = factory.session.exec(select(AuditEvent.detail).where(AuditEvent.action == "referral_updated")).one()
    assert "Synthetic" not in detail


def test_other_roles_refused_caseworker_pages(app, factory):
    for role in ("operator", "coordinator", "admin"):
        c = app.test_client()
        login(c, factory.user(role))
        assert c.get("/caseworker/referrals").status_code == 403
