"""Parallel requests: up to SAFEBED_PARALLEL_REQUESTS wait at once for one referral, each
holding its places; the first home to accept wins and the rest are withdrawn in the same
transaction, the other homes thanked ("placed elsewhere"). Races: test_concurrency.py."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import Hold, Notification, OutboxMessage, Placement, PlacementRequest, Referral
from placement.services import booking
from placement.services import homes as home_service
from placement.services.errors import Conflict
from placement.timeutil import utcnow

from ..helpers import login, post
from .arrival_world import three_homes


def _requests(factory, world):
    factory.session.expire_all()
    return factory.session.exec(select(PlacementRequest).where(PlacementRequest.referral_id == world.referral.id)
                                .order_by(PlacementRequest.id)).all()


def test_three_requests_wait_at_once_each_holding_its_places(app, client, factory):
    world = three_homes(factory)
    login(client, world.caseworker)
    for home in world.homes:
        response = post(client, f"/caseworker/referrals/{world.referral.id}/request", {"home_id": home.id},
                        token_from=f"/caseworker/referrals/{world.referral.id}")
        assert response.status_code == 302
    assert [r.status for r in _requests(factory, world)] == ["pending"] * 3
    assert factory.get(Referral, world.referral.id).status == "requested"
    for home in world.homes:
        assert home_service.status(factory.session, factory.get(type(home), home.id)).reserved_places == 1
    page = client.get(f"/caseworker/referrals/{world.referral.id}").get_data(as_text=True)
    assert page.count("Withdraw") >= 3


def test_a_fourth_request_and_a_second_one_at_the_same_home_are_refused(app, factory):
    world = three_homes(factory)
    fourth = factory.home(factory.org("provider", "MO"))
    with app.app_context():
        for home in world.homes:
            booking.request_placement(factory.session, world.caseworker, world.referral, home.id)
        try:
            booking.request_placement(factory.session, world.caseworker, world.referral, world.homes[0].id)
            raise AssertionError("a second request at the same home was accepted")
        except Conflict as refused:
            factory.session.rollback()
            assert "already waiting" in refused.message
        try:
            booking.request_placement(factory.session, world.caseworker, world.referral, fourth.id)
            raise AssertionError("a fourth request was accepted")
        except Conflict as refused:
            factory.session.rollback()
            assert "at most 3 at once" in refused.message
    assert len(_requests(factory, world)) == 3


def test_the_limit_comes_from_the_configuration(app, factory):
    app.config["PARALLEL_REQUESTS"] = 1
    world = three_homes(factory)
    with app.app_context():
        booking.request_placement(factory.session, world.caseworker, world.referral, world.homes[0].id)
        try:
            booking.request_placement(factory.session, world.caseworker, world.referral, world.homes[1].id)
            raise AssertionError("the configured limit of 1 was ignored")
        except Conflict as refused:
            factory.session.rollback()
            assert "at most 1 at once" in refused.message


def test_first_accept_wins_the_rest_are_withdrawn_and_thanked(app, client, factory):
    world = three_homes(factory)
    with app.app_context():
        # A hold at the first home, then requests at the other two: the hold stays until someone accepts.
        held = booking.hold(factory.session, world.caseworker, world.referral, world.homes[0].id, 4)
        for home in world.homes[1:]:
            booking.request_placement(factory.session, world.caseworker, world.referral, home.id)
    pending = _requests(factory, world)
    login(client, world.operators[2])
    response = post(client, f"/provider/requests/{pending[1].id}/accept", token_from=f"/provider/requests/{pending[1].id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/provider/requests")
    statuses = [r.status for r in _requests(factory, world)]
    assert statuses == ["withdrawn", "accepted"]
    assert factory.get(Hold, held.id).release_reason == "placed_elsewhere"
    assert factory.get(Referral, world.referral.id).status == "placed"
    assert len(factory.session.exec(select(Placement)).all()) == 1
    # The other homes' beds are back in availability at once.
    for home in world.homes[:2]:
        status = home_service.status(factory.session, factory.get(type(home), home.id))
        assert (status.reserved_places, status.open_beds) == (0, 2)
    # The operators of the withdrawn request's home are told, in the portal and by e-mail.
    told = factory.session.exec(select(Notification).where(Notification.user_id == world.operators[1].id)).all()
    assert any("placed elsewhere; thank you" in n.message for n in told)
    outbox = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "placed_elsewhere")).all()
    assert [m.to_address for m in outbox] == [world.operators[1].email]
    assert world.referral.case_reference not in outbox[0].body
    # The losing operator's late accept changes nothing and says why.
    other = app.test_client()
    login(other, world.operators[1])
    late = post(other, f"/provider/requests/{pending[0].id}/accept", token_from=f"/provider/requests/{pending[0].id}",
                follow_redirects=True)
    assert "placed at another home" in late.get_data(as_text=True)
    assert len(factory.session.exec(select(Placement)).all()) == 1


def test_a_decline_leaves_the_referral_requested_while_others_wait(app, factory):
    world = three_homes(factory)
    with app.app_context():
        for home in world.homes[:2]:
            booking.request_placement(factory.session, world.caseworker, world.referral, home.id)
        first, second = _requests(factory, world)
        booking.decline(factory.session, world.operators[0], first, "no_staff")
        assert factory.get(Referral, world.referral.id).status == "requested"
        booking.decline(factory.session, world.operators[1], second, "no_bed")
        assert factory.get(Referral, world.referral.id).status == "declined"


def test_withdrawing_one_of_several_keeps_the_referral_requested(app, factory):
    world = three_homes(factory)
    with app.app_context():
        for home in world.homes[:2]:
            booking.request_placement(factory.session, world.caseworker, world.referral, home.id)
        first, _ = _requests(factory, world)
        booking.withdraw_request(factory.session, world.caseworker, world.referral, first)
        assert factory.get(Referral, world.referral.id).status == "requested"


def test_an_expired_hold_elsewhere_is_not_withdrawn_again(app, factory):
    world = three_homes(factory)
    now = utcnow()
    stale = Hold(referral_id=world.referral.id, home_id=world.homes[0].id, created_by_id=world.caseworker.id, places=1,
                 created_at=now - timedelta(hours=5), expires_at=now - timedelta(hours=1))
    factory.session.add(stale)
    factory.session.commit()
    with app.app_context():
        request = booking.request_placement(factory.session, world.caseworker, world.referral, world.homes[1].id)
        booking.accept(factory.session, world.operators[1], request)
    assert factory.get(Hold, stale.id).release_reason == ""
