"""Needs a bed now, Ask the coordinator, and the response-time figures (services)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlmodel import select

from placement.models import Escalation, OutboxMessage, PlacementRequest
from placement.services import alert_jobs, booking, escalations, response_times
from placement.services.errors import Conflict
from placement.timeutil import clock
from solver.instance import URGENCIES

from ..helpers import make_referral
from .alert_world import coordination_world

STALE = 24


@pytest.fixture()
def world(app, factory):
    return coordination_world(factory)


def test_a_youth_no_home_accepts_can_be_put_before_the_coordinator(app, factory, world):
    referral = make_referral(factory, world["caseworker"], age=8)  # the homes take 12-17
    with app.app_context():
        [listed] = escalations.needs_a_bed(factory.session, "MO", STALE).items
        assert listed.reasons == ["No eligible home"]
        escalation = escalations.ask_coordinator(factory.session, world["caseworker"], referral, STALE)
        with pytest.raises(Conflict):
            escalations.ask_coordinator(factory.session, world["caseworker"], referral, STALE)
        [listed] = escalations.needs_a_bed(factory.session, "MO", STALE).items
    assert listed.reasons == ["No eligible home"] and listed.escalations == [escalation]
    assert escalation.kind == "no_eligible_home" and escalation.reasons and all("2 homes" in r for r in escalation.reasons)
    [message] = factory.session.exec(select(OutboxMessage)).all()
    assert message.to_address == world["coordinator"].email and message.link == "/coordinator/needs-a-bed"
    assert referral.case_reference not in message.body + message.subject


def test_asking_is_refused_while_some_home_accepts_the_youth(app, factory, world):
    referral = make_referral(factory, world["caseworker"])
    with app.app_context(), pytest.raises(Conflict):
        escalations.ask_coordinator(factory.session, world["caseworker"], referral, STALE)
    assert factory.session.exec(select(Escalation)).all() == []


def test_unplaced_after_four_hours_and_escalated_requests_are_listed(app, factory, world):
    app.config["ESCALATE_MINUTES"] = 30
    make_referral(factory, world["caseworker"], case_reference="MO-WAIT")
    requested = make_referral(factory, world["caseworker"], case_reference="MO-ASKED")
    request = booking.request_placement(factory.session, world["caseworker"], requested, world["home"].id)
    with app.app_context():
        assert escalations.needs_a_bed(factory.session, "MO", STALE).items == []
        clock.advance(timedelta(minutes=31))
        alert_jobs.escalate_unanswered(factory.session)
        [listed] = escalations.needs_a_bed(factory.session, "MO", STALE).items
        assert listed.referral.id == requested.id and listed.reasons == ["Request unanswered"]
        # The caseworker is offered the next eligible homes with room, not the silent one.
        assert [c.home.name for c in escalations.next_homes(factory.session, requested, STALE, skip_home_id=request.home_id)] == ["Willow House 2"]
        clock.advance(timedelta(hours=4))
        listed = {item.referral.case_reference: item.reasons for item in escalations.needs_a_bed(factory.session, "MO", STALE).items}
    assert listed == {"MO-ASKED": ["Request unanswered", "Unplaced after 4 hours"], "MO-WAIT": ["Unplaced after 4 hours"]}


def test_a_coordinator_closes_an_escalation_once(app, factory, world):
    referral = make_referral(factory, world["caseworker"], age=8)
    with app.app_context():
        escalation = escalations.ask_coordinator(factory.session, world["caseworker"], referral, STALE)
        done = escalations.resolve(factory.session, world["coordinator"], escalation, "Calling the KS office.")
        assert done.resolution == "Calling the KS office." and escalations.open_escalations(factory.session, referral) == []
        with pytest.raises(Conflict):
            escalations.resolve(factory.session, world["coordinator"], escalation, "again")


def _answered_after(factory, world, minutes: float, answer: bool = True, **referral_fields) -> PlacementRequest:
    referral = make_referral(factory, world["caseworker"], **referral_fields)
    request = booking.request_placement(factory.session, world["caseworker"], referral, world["home"].id)
    clock.advance(timedelta(minutes=minutes))
    if answer:
        booking.decline(factory.session, world["operator"], request, "no_bed")
    return request


def test_response_times_share_within_30_minutes_and_median(app, factory, world):
    clock.advance(-timedelta(days=20))
    _answered_after(factory, world, 10)  # 20 days ago: only in the 30-day window
    clock.advance(timedelta(days=20) - timedelta(minutes=10))
    _answered_after(factory, world, 5)
    _answered_after(factory, world, 45)
    _answered_after(factory, world, 20)
    _answered_after(factory, world, 0, answer=False)  # waiting: not yet counted
    with app.app_context():
        figures = response_times.response_times(factory.session, state="MO")
        mine = response_times.response_times(factory.session, provider_id=world["provider"].id)
    week, month = figures.by_provider["Harbor Light"][7], figures.by_provider["Harbor Light"][30]
    assert (week.requests, week.within_target, week.share, week.median_minutes) == (3, 2, 67, 20.0)
    assert (month.requests, month.within_target, month.share, month.median_minutes) == (4, 3, 75, 15.0)
    assert figures.by_provider[response_times.ALL_PROVIDERS][7] == week
    assert mine.by_provider["Harbor Light"] == figures.by_provider["Harbor Light"]
    assert figures.table.rows[0] == ("Harbor Light", 3, 67, 20.0, 4, 75, 15.0)
    assert figures.chart["labels"] == ["Harbor Light", "All providers"] and figures.chart["series"][0]["data"] == [67, 67]
    clock.advance(timedelta(minutes=31))
    with app.app_context():
        late = response_times.response_times(factory.session, state="MO").by_provider["Harbor Light"][7]
    assert (late.requests, late.within_target) == (4, 2)  # the silent request is now a miss
    with app.app_context():
        assert response_times.response_times(factory.session, state="KS").table.rows == [("All providers", 0, "", "", 0, "", "")]


def test_needs_a_bed_counts_every_referral_and_details_only_the_shown_ones(app, factory, world):
    """The list is counted in full; the first `shown` (most urgent first) carry their reasons,
    "No eligible home" included for a referral listed anyway because it is overdue."""
    make_referral(factory, world["caseworker"], case_reference="MO-OLD", age=8)  # the homes take 12-17
    with app.app_context():
        clock.advance(timedelta(hours=5))
        make_referral(factory, world["caseworker"], case_reference="MO-NEW", age=8, urgency="urgent")
        make_referral(factory, world["caseworker"], case_reference="MO-FITS")  # new, and a home accepts it
        first = escalations.needs_a_bed(factory.session, "MO", STALE, shown=1)
        every = escalations.needs_a_bed(factory.session, "MO", STALE)
    assert first.total == every.total == 2
    assert [(item.referral.case_reference, item.reasons) for item in first.items] == [
        ("MO-OLD", ["No eligible home", "Unplaced after 5 hours"])]
    assert [(item.referral.case_reference, item.reasons) for item in every.items] == [
        ("MO-OLD", ["No eligible home", "Unplaced after 5 hours"]), ("MO-NEW", ["No eligible home"])]


def test_the_database_orders_waiting_referrals_as_most_urgent_first_does(app, factory, world):
    """`MOST_URGENT_FIRST` (the SQL order of Needs a bed now) and `most_urgent_first` (the
    operator's queue) agree on generated referrals: every urgency, equal and different times."""
    from placement.models import Referral
    from placement.services.referrals import MOST_URGENT_FIRST, most_urgent_first
    from placement.timeutil import utcnow

    rng = random.Random(16)
    start = utcnow()
    for _ in range(40):
        make_referral(factory, world["caseworker"], consent=False, urgency=rng.choice(URGENCIES),
                      created_at=start - timedelta(minutes=rng.choice([0, 1, 30, 300, 3000])))
    made = factory.session.exec(select(Referral)).all()
    ordered = factory.session.exec(select(Referral).order_by(*MOST_URGENT_FIRST)).all()
    assert [r.id for r in ordered] == [r.id for r in sorted(made, key=most_urgent_first)]
    assert len({(r.urgency, r.created_at) for r in made}) < len(made)  # ties exist: the id decides them


def test_needs_a_bed_shows_the_first_of_its_whole_list_in_urgency_order(app, factory, world):
    """On generated referrals (escalated, overdue, recent; with and without an eligible home;
    every urgency), each shown count gives the start of the full list, in `most_urgent_first`
    order, and the same total; the full list is exactly the referrals that need a bed."""
    from placement.services.referrals import most_urgent_first
    from placement.timeutil import utcnow

    rng = random.Random(2)
    start = utcnow()
    needing = set()
    for i in range(30):
        hours = rng.choice([0, 1, 3, 5, 30])
        fits = rng.random() < 0.5
        referral = make_referral(factory, world["caseworker"], consent=False, urgency=rng.choice(URGENCIES),
                                 age=15 if fits else 8, created_at=start - timedelta(hours=hours))
        escalated = rng.random() < 0.2
        if escalated:
            factory.session.add(Escalation(referral_id=referral.id, state="MO", kind="no_eligible_home", reasons=[]))
            factory.session.commit()
        if escalated or hours >= escalations.UNPLACED_HOURS or not fits:
            needing.add(referral.id)
    with app.app_context():
        every = escalations.needs_a_bed(factory.session, "MO", STALE)
        assert {item.referral.id for item in every.items} == needing and every.total == len(needing)
        assert [item.referral for item in every.items] == sorted((item.referral for item in every.items), key=most_urgent_first)
        for shown in (0, 1, 4, 25):
            first = escalations.needs_a_bed(factory.session, "MO", STALE, shown)
            assert first.total == every.total
            assert [(i.referral.id, i.reasons, i.escalations) for i in first.items] == [
                (i.referral.id, i.reasons, i.escalations) for i in every.items[:shown]]
