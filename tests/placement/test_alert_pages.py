"""The alert pages: settings, on-call in Update tonight, Outbox, Needs a bed now, Ask the
coordinator, response times, and the demo's request-to-escalation path."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from placement import scheduler
from placement.models import ALERT_EVENTS, Escalation, HomeOnCall, NotificationPreference, OutboxMessage, PlacementRequest, Referral, User
from placement.services import booking
from placement.timeutil import clock

from ..helpers import csrf_token, login, make_referral, post
from .alert_world import coordination_world


@pytest.fixture()
def world(app, factory):
    return coordination_world(factory)


def test_a_user_chooses_events_channel_and_quiet_hours(client, factory, world):
    login(client, world["operator"])
    page = client.get("/account/alerts").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="email"', page)  # the default: e-mail for every event
    assert len(re.findall(r'<input checked[^>]*name="events"', page)) == len(ALERT_EVENTS)
    response = post(client, "/account/alerts", {"channel": "portal", "events": ["request_new", "figures_stale"],
                                                 "quiet_start": "22:00", "quiet_end": "06:30"})
    assert response.status_code == 302
    saved = factory.session.exec(select(NotificationPreference)).one()
    assert (saved.channel, saved.events, saved.quiet_start, saved.quiet_end) == ("portal", ["figures_stale", "request_new"], 1320, 390)
    refused = post(client, "/account/alerts", {"channel": "email", "events": ["request_new"], "quiet_start": "22:00", "quiet_end": ""})
    assert refused.status_code == 422 and "Give both the start and the end" in refused.get_data(as_text=True)
    unknown = post(client, "/account/alerts", {"channel": "sms", "events": ["request_new"]})
    assert unknown.status_code == 422
    factory.session.expire_all()
    assert factory.session.exec(select(NotificationPreference)).one().channel == "portal"


def test_update_tonight_sets_the_on_call_contact(client, factory, world):
    login(client, world["operator"])
    path = f"/provider/homes/{world['home'].id}/availability"
    figures = {"open_beds": "2", "staff_on_duty": "2", "youth_per_staff": "3", "current_youth": "3"}
    half = post(client, path, {**figures, "on_call_name": "Night lead", "on_call_email": ""})
    assert half.status_code == 422 and "name and e-mail, or leave both empty" in half.get_data(as_text=True)
    assert post(client, path, {**figures, "on_call_name": "Night lead", "on_call_email": "oncall@willow.example"}).status_code == 302
    contact = factory.session.exec(select(HomeOnCall)).one()
    assert (contact.home_id, contact.name, contact.email, contact.set_by_id) == (
        world["home"].id, "Night lead", "oncall@willow.example", world["operator"].id)
    assert post(client, path, figures).status_code == 302  # empty: the contact stays
    assert len(factory.session.exec(select(HomeOnCall)).all()) == 1
    assert "Night lead (oncall@willow.example)" in client.get(path).get_data(as_text=True)


def test_the_outbox_shows_dead_letters_and_retries_them(app, client, factory, world):
    booking.request_placement(factory.session, world["caseworker"], make_referral(factory, world["caseworker"]), world["home"].id)
    message = factory.session.exec(select(OutboxMessage)).one()
    message.status, message.attempts, message.last_error = "dead", 8, "smtp://mail:25 answered 550"
    factory.session.add(message)
    factory.session.commit()
    login(client, world["admin"])
    page = client.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "A placement request is waiting at Willow House 1 (emergency)." in page and "answered 550" in page
    assert "Failed for good (1)" in page
    assert "MO-T-" not in page  # no case reference: the Outbox shows what left, nothing more
    response = post(client, f"/admin/outbox/{message.id}/retry", token_from="/admin/outbox?status=dead")
    assert response.status_code == 302
    assert factory.get(OutboxMessage, message.id).status == "pending"
    again = post(client, f"/admin/outbox/{message.id}/retry", token_from="/admin/outbox")
    assert "Only a message that failed for good can be retried" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_ask_the_coordinator_then_the_coordinator_handles_it(client, factory, world):
    referral = make_referral(factory, world["caseworker"], age=8)  # no home takes an 8-year-old
    login(client, world["caseworker"])
    search = client.get(f"/caseworker/referrals/{referral.id}/search").get_data(as_text=True)
    assert "Ask the coordinator" in search and "(2 homes)" in search
    response = post(client, f"/caseworker/referrals/{referral.id}/ask-coordinator", token_from=f"/caseworker/referrals/{referral.id}/search")
    assert response.status_code == 302
    escalation = factory.session.exec(select(Escalation)).one()
    assert escalation.kind == "no_eligible_home" and escalation.created_by_id == world["caseworker"].id
    assert "The coordinator has been asked" in client.get(f"/caseworker/referrals/{referral.id}/search").get_data(as_text=True)
    assert "with the coordinator" in client.get(f"/caseworker/referrals/{referral.id}").get_data(as_text=True)

    coordinator = factory.app.test_client()
    login(coordinator, world["coordinator"])
    board = coordinator.get("/coordinator/needs-a-bed").get_data(as_text=True)
    assert referral.case_reference in board and "No eligible home" in board and "(2 homes)" in board
    assert "Synthetic case note" not in board and "Secret Test Lane" not in board
    done = post(coordinator, f"/coordinator/escalations/{escalation.id}/resolve", {"note": "Calling the KS office."},
                token_from="/coordinator/needs-a-bed")
    assert done.status_code == 302
    page = client.get(f"/caseworker/referrals/{referral.id}").get_data(as_text=True)
    assert "handled" in page and "Calling the KS office." in page


def test_a_coordinator_of_another_state_cannot_resolve(client, factory, world):
    referral = make_referral(factory, world["caseworker"], age=8)
    escalation = Escalation(referral_id=referral.id, state="MO", kind="no_eligible_home")
    factory.session.add(escalation)
    factory.session.commit()
    login(client, factory.user("coordinator", factory.org("coordinator_office", "KS")))
    response = post(client, f"/coordinator/escalations/{escalation.id}/resolve", {"note": "x"}, token_from="/coordinator/needs-a-bed")
    assert response.status_code == 404
    assert factory.get(Escalation, escalation.id).resolved_at is None


def test_after_an_unanswered_request_the_referral_offers_the_next_homes(app, client, factory, world):
    referral = make_referral(factory, world["caseworker"])
    booking.request_placement(factory.session, world["caseworker"], referral, world["home"].id)
    clock.advance(timedelta(minutes=31))
    scheduler.run_due(app, tick=scheduler.current_tick(app.config["TICK_SECONDS"]))
    login(client, world["caseworker"])
    page = client.get(f"/caseworker/referrals/{referral.id}").get_data(as_text=True)
    assert "Request unanswered: with the coordinator" in page
    offered = re.search(r'data-testid="next-homes">(.*?)</section>', page, re.S).group(1)
    assert "Willow House 2" in offered and "Willow House 1" not in offered


def _chart(page: str, key: str) -> dict:
    return json.loads(re.search(rf'<script type="application/json" id="chart-{key}">(.*?)</script>', page, re.S).group(1))


def test_response_times_for_coordinators_and_for_operators_own_homes(client, factory, world):
    other = factory.org("provider", "MO", name="Lantern Homes")
    other_home = factory.home(other, name="Lantern House")
    for home, operator, minutes in ((world["home"], world["operator"], 10), (other_home, factory.user("operator", other), 50)):
        request = booking.request_placement(factory.session, world["caseworker"], make_referral(factory, world["caseworker"]), home.id)
        clock.advance(timedelta(minutes=minutes))
        booking.decline(factory.session, operator, request, "no_bed")
    login(client, world["coordinator"])
    page = client.get("/coordinator/response-times").get_data(as_text=True)
    chart = _chart(page, "response")
    assert chart["labels"] == ["Harbor Light", "Lantern Homes", "All providers"]
    assert chart["series"][0]["data"] == [100, 0, 50]
    assert "<td>10.0</td>" in page and "<td>50.0</td>" in page
    operator = factory.app.test_client()
    login(operator, world["operator"])
    own = operator.get("/provider/response-times").get_data(as_text=True)
    assert "Harbor Light" in own and "Lantern Homes" not in own


def _demo_referral_with_room(client, factory, password: str) -> tuple[Referral, int]:
    """An open demo referral whose bed search offers a home with room, its caseworker signed in."""
    for referral in factory.session.exec(select(Referral).where(Referral.status == "open").order_by(Referral.id)).all():
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        login(client, factory.session.get(User, referral.created_by_id), password)
        search = client.get(f"/caseworker/referrals/{referral.id}/search").get_data(as_text=True)
        available = re.search(r'data-testid="available">(.*?)</ul>', search, re.S).group(1)
        found = re.search(r'data-testid="candidate-(\d+)"', available)
        if found:
            return referral, int(found.group(1))
    pytest.fail("no demo referral with an eligible home that has room")


def test_demo_request_reaches_the_operators_in_one_tick_and_escalates_when_unanswered(app, client, factory, capsys):
    """The demo's promise, on the demo world: e-mails printed and kept in the Outbox."""
    from placement.demo import DEMO_PASSWORD, seed

    app.config["SAFEBED_MODE"] = "demo"  # prints e-mails to the console, as `safebed demo` does
    seed(factory.session, 2026)
    referral, home_id = _demo_referral_with_room(client, factory, DEMO_PASSWORD)
    caseworker = factory.session.get(User, referral.created_by_id)
    post(client, f"/caseworker/referrals/{referral.id}/request", {"home_id": str(home_id)},
         token_from=f"/caseworker/referrals/{referral.id}/search")
    request = factory.session.exec(select(PlacementRequest).where(PlacementRequest.referral_id == referral.id,
                                                                  PlacementRequest.status == "pending")).one()
    capsys.readouterr()
    scheduler.run_due(app)  # one tick
    new = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "request_new",
                                                           OutboxMessage.link == f"/provider/requests/{request.id}")).all()
    assert new and all(m.status == "sent" and m.transport == "outbox" for m in new)
    printed = capsys.readouterr().out
    assert "[outbox] e-mail to operator." in printed and "A placement request is waiting at" in printed
    assert referral.case_reference not in printed

    clock.advance(timedelta(minutes=app.config["ESCALATE_MINUTES"] + 1))
    scheduler.run_due(app)
    escalated = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "request_escalated")).all()
    assert {m.to_address for m in escalated} >= {caseworker.email}
    assert any(m.to_address.startswith("coordinator.") for m in escalated)
    admin = factory.session.exec(select(User).where(User.role == "admin")).first()
    outbox = factory.app.test_client()
    login(outbox, admin, DEMO_PASSWORD)
    page = outbox.get("/admin/outbox").get_data(as_text=True)
    assert "A placement request is waiting at" in page and "has had no answer for 30 minutes" in page
