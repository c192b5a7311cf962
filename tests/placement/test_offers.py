"""The operator's queue: waiting youths an operator's homes could take tonight (their state or
ICPC-approved, consent on file, the one eligibility rule with keep-away and keep-apart), in the
pseudonymous form a request uses; a home's offer of a bed holds its places; the caseworker
accepts (the placement, everything else withdrawn) or declines. Races: test_concurrency.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlmodel import select

from placement import scheduler
from placement.models import (
    AuditEvent, KeepApartLink, KeepAwayArea, Notification, OutboxMessage, Placement, PlacementOffer, PlacementRequest, Referral,
    ReferralConsent,
)
from placement.services import booking, offers, response_times
from placement.services import homes as home_service
from placement.services.errors import Conflict, ServiceError
from placement.timeutil import utcnow

from ..helpers import api_token, bearer, login, make_referral, post

API = "/api/v1"
SECRET_NOTE = "Sentinel note: never shown to a home"


@dataclass
class World:
    operator: object
    home: object  # MO, takes out-of-state youth with ICPC approval
    other_operator: object  # another MO provider whose home takes no youth of these ages
    other_home: object
    ks_operator: object
    caseworker: object
    stranger: object  # a caseworker of another agency
    fits: object  # MO youth, consent on file: in the queue
    icpc: object  # KS ward approved for MO: in the queue
    no_consent: object
    too_old: object
    ks_ward: object  # KS ward without ICPC approval
    kept_away: object  # a keep-away county covers the home
    closed: object


@pytest.fixture()
def world(factory) -> World:
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, accepts_out_of_state=True,
                        availability={"open_beds": 2, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 2})
    other_provider = factory.org("provider", "MO")
    other_home = factory.home(other_provider, min_age=18, max_age=21)
    ks_provider = factory.org("provider", "KS")
    ks_operator = factory.user("operator", ks_provider)
    factory.home(ks_provider, state="KS")
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    ks_caseworker = factory.user("caseworker", factory.org("agency", "KS"))

    def youth(**fields):
        return make_referral(factory, fields.pop("by", caseworker), case_notes=SECRET_NOTE, **fields)

    kept_away = youth()
    factory.session.add(KeepAwayArea(referral_id=kept_away.id, kind="county", state="MO", county="Boone",
                                     label="Boone County, MO", lat=38.95, lon=-92.33, created_by_id=caseworker.id))
    closed = youth(status="closed")
    factory.session.commit()
    return World(
        operator=operator, home=home, other_operator=factory.user("operator", other_provider), other_home=other_home,
        ks_operator=ks_operator, caseworker=caseworker, stranger=factory.user("caseworker", factory.org("agency", "MO")),
        fits=youth(), icpc=youth(by=ks_caseworker, custody_state="KS", icpc_approved_states=["MO"]),
        no_consent=youth(consent=False), too_old=youth(age=20), ks_ward=youth(by=ks_caseworker, custody_state="KS"),
        kept_away=kept_away, closed=closed,
    )


def _signed_in(app, user):
    """A fresh client (a device of its own) signed in as `user`."""
    device = app.test_client()
    login(device, user)
    return device


def _conforms(client, name: str, body) -> bool:
    """Whether `body` matches the OpenAPI component `name` the API itself serves."""
    spec = client.get(f"{API}/openapi.json").get_json()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]}).is_valid(body)


def _queued(factory, user) -> set[int]:
    return {entry.referral.id for entry in offers.queue(factory.session, user)}


def _offer(app, factory, world, referral=None) -> PlacementOffer:
    with app.app_context():
        return offers.offer(factory.session, world.operator, referral or world.fits, world.home, 4)


def test_the_queue_shows_only_youths_the_homes_could_take_and_no_notes(app, client, factory, world):
    with app.app_context():
        assert _queued(factory, world.operator) == {world.fits.id, world.icpc.id}
        assert _queued(factory, world.other_operator) == {world.too_old.id}  # its home takes ages 18-21 only
        assert _queued(factory, world.ks_operator) == {world.icpc.id, world.ks_ward.id}  # its own state's wards only
    login(client, world.operator)
    page = client.get("/provider/queue").get_data(as_text=True)
    assert f'data-testid="queue-{world.fits.id}"' in page and f'data-testid="queue-{world.icpc.id}"' in page
    for hidden in (world.no_consent, world.too_old, world.ks_ward, world.kept_away, world.closed):
        assert hidden.case_reference not in page
    assert SECRET_NOTE not in page and "on file with the agency" in page
    assert "Waiting youths" in page  # in the operator's navigation
    assert 'data-testid="queue-more"' not in page
    listed = factory.session.exec(select(AuditEvent).where(AuditEvent.action == "referral_listed")).all()
    assert any("queue" in event.detail for event in listed)
    body = client.get(f"{API}/queue", headers=bearer(api_token(factory, world.operator))).get_json()
    assert {entry["youth"]["id"] for entry in body["youths"]} == {world.fits.id, world.icpc.id}
    assert _conforms(client, "Queue", body)
    assert SECRET_NOTE not in str(body) and "case_notes" not in str(body)
    # A caseworker has no queue; an operator of another provider cannot offer at the home, nor
    # an operator with no home in reach of the youth.
    assert _signed_in(app, world.caseworker).get("/provider/queue").status_code == 403
    for intruder in (world.other_operator, world.ks_operator):
        refused = post(_signed_in(app, intruder), f"/provider/queue/{world.fits.id}/offer", {"home_id": world.home.id},
                       token_from="/provider/queue")
        assert refused.status_code == 404
    assert factory.session.exec(select(PlacementOffer)).first() is None


def test_a_long_queue_shows_a_phone_sized_part_and_all_on_asking(client, factory, world, monkeypatch):
    from placement.provider import queue as queue_views

    monkeypatch.setattr(queue_views, "SHOWN", 1)
    login(client, world.operator)
    page = client.get("/provider/queue").get_data(as_text=True)
    assert page.count('data-testid="queue-') == 2  # one card and the "show all" note
    assert 'data-testid="queue-more"' in page and "Show all 2" in page
    every = client.get("/provider/queue?all=1").get_data(as_text=True)
    assert f'data-testid="queue-{world.fits.id}"' in every and f'data-testid="queue-{world.icpc.id}"' in every


def test_an_offer_holds_the_bed_alerts_the_caseworker_and_accepting_places_the_youth(app, client, factory, world):
    elsewhere_provider = factory.org("provider", "MO")
    elsewhere_operator = factory.user("operator", elsewhere_provider)
    elsewhere = factory.home(elsewhere_provider)
    with app.app_context():
        waiting = booking.request_placement(factory.session, world.caseworker, world.fits, elsewhere.id)
    before = home_service.status(factory.session, world.home).room
    login(client, world.operator)
    response = post(client, f"/provider/queue/{world.fits.id}/offer", {"home_id": world.home.id}, token_from="/provider/queue")
    assert response.status_code == 302
    made = factory.session.exec(select(PlacementOffer)).one()
    assert made.status == "pending" and made.places == 1
    factory.session.expire_all()
    assert home_service.status(factory.session, world.home).room == before - 1  # the bed is not promised twice
    assert factory.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).first() is not None
    assert f'data-testid="offered-{world.fits.id}-{world.home.id}"' in client.get("/provider/queue").get_data(as_text=True)
    # Keep-apart applies: a youth linked to the offered one no longer sees this home.
    partner = make_referral(factory, world.caseworker)
    with app.app_context():
        assert partner.id in _queued(factory, world.operator)
        a, b = sorted((partner.id, world.fits.id))
        factory.session.add(KeepApartLink(referral_a_id=a, referral_b_id=b, created_by_id=world.caseworker.id))
        factory.session.commit()
        assert partner.id not in _queued(factory, world.operator)
    # The caseworker may not also request or hold at the home that offered (accept the offer instead).
    for book in (booking.request_placement, lambda *a: booking.hold(*a, 4)):
        with app.app_context(), pytest.raises(Conflict, match="offered a bed"):
            book(factory.session, world.caseworker, world.fits, world.home.id)
        factory.session.rollback()
    accept = f"/caseworker/referrals/{world.fits.id}/offers/{made.id}/accept"
    assert post(_signed_in(app, world.stranger), accept, token_from="/caseworker/referrals").status_code == 404
    client = _signed_in(app, world.caseworker)
    page = f"/caseworker/referrals/{world.fits.id}"
    assert f'data-testid="offer-{made.id}"' in client.get(page).get_data(as_text=True)
    assert post(client, accept, token_from=page).status_code == 302
    factory.session.expire_all()
    placement = factory.session.exec(select(Placement).where(Placement.referral_id == world.fits.id)).one()
    assert placement.home_id == world.home.id
    assert factory.get(Referral, world.fits.id).status == "placed"
    assert factory.get(PlacementOffer, made.id).status == "accepted"
    assert factory.get(PlacementRequest, placement.request_id).answered_by_id == world.operator.id
    assert factory.get(PlacementRequest, waiting.id).status == "withdrawn"
    thanked = factory.session.exec(select(Notification).where(Notification.user_id == elsewhere_operator.id)).all()
    assert any("placed elsewhere" in note.message for note in thanked)
    assert world.home.street_address in client.get(page).get_data(as_text=True)  # disclosed once placed
    actions = {e.action for e in factory.session.exec(select(AuditEvent)).all()}
    assert {"placement_offered", "placement_offer_accepted", "placement_accepted", "referral_viewed"} <= actions
    # Coordinators: the home was offered one youth (its own offer) and answered no request.
    with app.app_context():
        table = response_times.response_times(factory.session, state="MO").by_home
    rows = {row[0]: row for row in table.rows}
    assert rows[world.home.name][2:4] == (1, 0)
    assert rows[elsewhere.name][2:4] == (1, 0)
    coordinator = factory.user("coordinator", factory.org("coordinator_office", "MO"))
    shown = _signed_in(app, coordinator).get("/coordinator/response-times").get_data(as_text=True)
    assert 'data-testid="table-youths_offered"' in shown and world.home.name in shown


def test_declines_expiry_and_refusals_change_nothing(app, client, factory, world):
    made = _offer(app, factory, world)
    with app.app_context(), pytest.raises(Conflict, match="already offered"):
        _offer(app, factory, world)
    factory.session.rollback()
    login(client, world.caseworker)
    page = f"/caseworker/referrals/{world.fits.id}"
    bad = post(client, f"{page}/offers/{made.id}/decline", {"reason": "nonsense"}, token_from=page)
    assert bad.status_code == 422 and factory.get(PlacementOffer, made.id).status == "pending"
    assert post(client, f"{page}/offers/{made.id}/decline", {"reason": "too_far"}, token_from=page).status_code == 302
    assert factory.get(PlacementOffer, made.id).decline_reason == "too_far"
    late = post(client, f"{page}/offers/{made.id}/accept", token_from=page)
    assert late.status_code == 409 and factory.session.exec(select(Placement)).first() is None
    assert factory.session.exec(select(Notification).where(Notification.user_id == world.operator.id)).first() is not None
    # An expired offer gives its bed back at read time and can no longer be accepted.
    expired = _offer(app, factory, world, world.icpc)
    room = home_service.status(factory.session, world.home).room
    expired.created_at, expired.expires_at = utcnow() - timedelta(hours=5), utcnow() - timedelta(minutes=1)
    factory.session.add(expired)
    factory.session.commit()
    assert home_service.status(factory.session, world.home).room == room + 1
    with app.app_context(), pytest.raises(Conflict, match="expired"):
        offers.accept(factory.session, world.caseworker, world.icpc, expired)
    factory.session.rollback()
    # Consent gates both ends: no offer without it, no acceptance once it lapsed.
    with app.app_context(), pytest.raises(ServiceError, match="release of information"):
        _offer(app, factory, world, world.no_consent)
    factory.session.rollback()
    fresh = _offer(app, factory, world, world.fits)
    for row in factory.session.exec(select(ReferralConsent).where(ReferralConsent.referral_id == world.fits.id)).all():
        row.expires_at = utcnow() - timedelta(minutes=1)
        factory.session.add(row)
    factory.session.commit()
    refused = post(client, f"{page}/offers/{fresh.id}/accept", token_from=page)
    assert refused.status_code == 409 and factory.get(PlacementOffer, fresh.id).status == "pending"
    # Closing the referral withdraws its offer and frees the bed.
    with app.app_context():
        from placement.services import referrals

        referrals.close(factory.session, world.caseworker, factory.get(Referral, world.fits.id), "Synthetic: placed with kin")
    assert factory.get(PlacementOffer, fresh.id).status == "withdrawn"
    assert home_service.status(factory.session, world.home).room == room + 1


def test_the_api_offers_lists_accepts_and_declines(app, client, factory, world):
    operator, caseworker = bearer(api_token(factory, world.operator)), bearer(api_token(factory, world.caseworker))
    created = client.post(f"{API}/queue/{world.fits.id}/offers", json={"home_id": world.home.id}, headers=operator)
    assert created.status_code == 201, created.get_json()
    offer = created.get_json()
    assert offer["status"] == "pending" and offer["home_id"] == world.home.id and _conforms(client, "Offer", offer)
    assert client.post(f"{API}/queue/{world.fits.id}/offers", json={"home_id": world.other_home.id},
                       headers=operator).status_code == 404  # not the operator's home
    assert client.post(f"{API}/queue/{world.no_consent.id}/offers", json={"home_id": world.home.id},
                       headers=operator).get_json()["error"]["code"] == "consent_required"
    second = client.post(f"{API}/queue/{world.icpc.id}/offers", json={"home_id": world.home.id}, headers=operator).get_json()
    listed = client.get(f"{API}/referrals/{world.fits.id}/offers", headers=caseworker).get_json()
    assert [o["id"] for o in listed["offers"]] == [offer["id"]] and _conforms(client, "OfferList", listed)
    detail = client.get(f"{API}/referrals/{world.fits.id}", headers=caseworker).get_json()
    assert [o["id"] for o in detail["offers"]] == [offer["id"]] and _conforms(client, "ReferralDetail", detail)
    decline = f"{API}/referrals/{world.fits.id}/offers/{offer['id']}/decline"
    bad = client.post(decline, json={"reason": "nope"}, headers=caseworker)
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["fields"]
    # The KS ward's offer belongs to another agency's referral: 404 under one's own referral too.
    assert client.post(f"{API}/referrals/{world.fits.id}/offers/{second['id']}/accept",
                       headers=caseworker).status_code == 404
    accepted = client.post(f"{API}/referrals/{world.fits.id}/offers/{offer['id']}/accept", headers=caseworker)
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["offer"]["status"] == "accepted"
    assert _conforms(client, "OfferAccepted", accepted.get_json())
    assert factory.get(Placement, accepted.get_json()["placement_id"]).referral_id == world.fits.id
    again = client.post(decline, json={"reason": "too_far"}, headers=caseworker)
    assert again.status_code == 409
    spec = client.get(f"{API}/openapi.json").get_json()
    for path in ("/queue", "/queue/{referral_id}/offers", "/referrals/{referral_id}/offers/{offer_id}/accept"):
        assert f"{API}{path}" in spec["paths"]


def test_the_home_withdraws_its_offer_the_bed_returns_and_the_caseworker_is_told(app, client, factory, world):
    made = _offer(app, factory, world)
    room = home_service.status(factory.session, world.home).room
    # Another provider's operator, and a caseworker, cannot withdraw it (404, audited).
    assert post(_signed_in(app, world.other_operator), f"/provider/offers/{made.id}/withdraw", {},
                token_from="/provider/queue").status_code == 404
    stranger = bearer(api_token(factory, world.other_operator))
    assert client.post(f"{API}/offers/{made.id}/withdraw", headers=stranger).status_code == 404
    assert client.post(f"{API}/offers/{made.id}/withdraw",
                       headers=bearer(api_token(factory, world.caseworker))).status_code == 403
    assert factory.get(PlacementOffer, made.id).status == "pending"
    login(client, world.operator)
    done = post(client, f"/provider/offers/{made.id}/withdraw", {}, token_from="/provider/queue")
    assert done.status_code == 302 and factory.get(PlacementOffer, made.id).status == "withdrawn"
    assert home_service.status(factory.session, world.home).room == room + 1
    told = factory.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("withdrew its offer" in n.message and world.fits.case_reference in n.message for n in told)
    # It is an alert like a new offer: an e-mail that names the home, never the youth.
    mail = factory.session.exec(select(OutboxMessage).where(
        OutboxMessage.event == "offer_withdrawn", OutboxMessage.to_address == world.caseworker.email)).one()
    assert world.home.name in mail.body and world.fits.case_reference not in mail.body + mail.subject
    assert factory.session.exec(select(AuditEvent).where(
        AuditEvent.action == "placement_offer_withdrawn", AuditEvent.object_id == made.id)).first() is not None
    # Twice is refused, and the caseworker can no longer accept it.
    again = post(client, f"/provider/offers/{made.id}/withdraw", {}, token_from="/provider/queue")
    assert again.status_code == 409
    with app.app_context(), pytest.raises(Conflict, match="withdrawn"):
        offers.accept(factory.session, world.caseworker, world.fits, factory.get(PlacementOffer, made.id))
    factory.session.rollback()
    # The API does the same, and answers with the offer.
    second = _offer(app, factory, world, world.icpc)
    answer = client.post(f"{API}/offers/{second.id}/withdraw", headers=bearer(api_token(factory, world.operator)))
    assert answer.status_code == 200 and answer.get_json()["status"] == "withdrawn"
    assert _conforms(client, "Offer", answer.get_json())


def test_the_demo_operator_finds_youths_waiting(client, factory):
    from placement.demo import DEMO_PASSWORD, seed
    from placement.demo.queue import QUEUE_OPERATOR
    from placement.models import User

    seed(factory.session)
    seed(factory.session)  # a second call changes nothing
    operator = factory.session.exec(select(User).where(User.email == QUEUE_OPERATOR)).one()
    login(client, operator, DEMO_PASSWORD)
    page = client.get("/provider/queue").get_data(as_text=True)
    assert 'data-testid="queue-' in page and "Offer a bed at" in page
    assert "Synthetic demo case" not in page  # the demo's case notes stay with the agency


def test_an_unanswered_offer_is_recorded_expired_once_and_both_sides_are_told(app, client, factory, world):
    lapsing = _offer(app, factory, world)
    live = _offer(app, factory, world, world.icpc)
    room = home_service.status(factory.session, world.home).room
    lapsing.created_at, lapsing.expires_at = utcnow() - timedelta(hours=5), utcnow() - timedelta(minutes=1)
    factory.session.add(lapsing)
    factory.session.commit()
    with app.app_context():
        assert scheduler.JOBS["expire_offers"](factory.session) == "1 offers expired"
        assert offers.expire_due(factory.session) == 0  # once: the next tick finds nothing
    assert (factory.get(PlacementOffer, lapsing.id).status, factory.get(PlacementOffer, live.id).status) == ("expired", "pending")
    assert home_service.status(factory.session, world.home).room == room + 1
    mails = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "offer_expired")).all()
    assert sorted(m.to_address for m in mails) == sorted([world.caseworker.email, world.operator.email])
    assert all(world.home.name in m.body and world.fits.case_reference not in m.body + m.subject for m in mails)
    told = factory.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("expired" in n.message and world.fits.case_reference in n.message for n in told)
    assert factory.session.exec(select(AuditEvent).where(
        AuditEvent.action == "placement_offer_expired", AuditEvent.object_id == lapsing.id)).one()
    # The portal and the API say "Expired", and it can no longer be accepted.
    login(client, world.caseworker)
    assert "Expired" in client.get(f"/caseworker/referrals/{world.fits.id}").get_data(as_text=True)
    listed = client.get(f"{API}/referrals/{world.fits.id}/offers",
                        headers=bearer(api_token(factory, world.caseworker))).get_json()
    assert [o["status"] for o in listed["offers"]] == ["expired"]
    with app.app_context(), pytest.raises(Conflict, match="expired"):
        offers.accept(factory.session, world.caseworker, world.fits, factory.get(PlacementOffer, lapsing.id))
    factory.session.rollback()
    # The home may offer the youth a bed again.
    assert _offer(app, factory, world).status == "pending"
