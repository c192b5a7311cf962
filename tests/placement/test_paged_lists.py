"""Referral and request lists: search, filters and paging, scoped in the query."""
from __future__ import annotations

from datetime import timedelta

from placement.models import PlacementRequest
from placement.services.paged_lists import PAGE_SIZE, ListFilter, answered_requests, referrals
from placement.timeutil import utcnow

from ..helpers import login, make_referral
from .lifecycle_world import make_world, report_missing


def test_referrals_page_search_and_filter_within_the_agency(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for i in range(PAGE_SIZE + 5):
        make_referral(factory, caseworker, case_reference=f"MO-LIST-{i:02d}", urgency="planned" if i % 2 else "emergency")
    make_referral(factory, caseworker, case_reference="MO-JACKSON-1", county="Jackson")
    make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")), case_reference="MO-LIST-OTHER")
    first = referrals(factory.session, caseworker, ListFilter())
    assert (first.total, first.pages, len(first.rows)) == (PAGE_SIZE + 6, 2, PAGE_SIZE)
    assert len(referrals(factory.session, caseworker, ListFilter(), 2).rows) == 6
    assert referrals(factory.session, caseworker, ListFilter(), 99).number == 2
    found = referrals(factory.session, caseworker, ListFilter(text="list-0"))
    assert sorted(r.case_reference for r, _ in found.rows) == [f"MO-LIST-{i:02d}" for i in range(10)]
    assert [r.case_reference for r, _ in referrals(factory.session, caseworker, ListFilter(text="jackson")).rows] == ["MO-JACKSON-1"]
    assert referrals(factory.session, caseworker, ListFilter(text="%")).total == 0
    assert referrals(factory.session, caseworker, ListFilter(text="' OR 1=1--")).total == 0
    assert referrals(factory.session, caseworker, ListFilter(urgency="planned")).total == (PAGE_SIZE + 5) // 2


def test_a_missing_youth_is_listed_as_missing_not_closed(client, factory):
    world = make_world(factory)
    login(client, world.operator)
    report_missing(client, world, utcnow() - timedelta(hours=1))
    page = referrals(factory.session, world.caseworker, ListFilter())
    assert [status for r, status in page.rows if r.id == world.referral.id] == ["missing"]
    assert [r.id for r, _ in referrals(factory.session, world.caseworker, ListFilter(status="missing")).rows] == [world.referral.id]
    assert referrals(factory.session, world.caseworker, ListFilter(status="closed")).total == 0


def test_answered_requests_filter_by_status_and_home(factory):
    world = make_world(factory)
    foreign_home = factory.home(factory.org("provider", "MO"))
    declined = make_referral(factory, world.caseworker, case_reference="MO-DECLINED-1")
    factory.session.add(PlacementRequest(referral_id=declined.id, home_id=world.home.id, requested_by_id=world.caseworker.id,
                                         places=1, status="declined", decline_reason="no_staff"))
    factory.session.commit()
    everything = answered_requests(factory.session, world.operator, ListFilter())
    assert {row[2].case_reference for row in everything.rows} == {world.referral.case_reference, "MO-DECLINED-1"}
    assert [row[2].case_reference for row in answered_requests(factory.session, world.operator, ListFilter(status="declined")).rows] == ["MO-DECLINED-1"]
    assert answered_requests(factory.session, world.operator, ListFilter(home_id=foreign_home.id)).total == 0


def test_the_list_pages_search_filter_and_page(client, factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for i in range(PAGE_SIZE + 2):
        make_referral(factory, caseworker, case_reference=f"MO-PAGE-{i:02d}")
    login(client, caseworker)
    first = client.get("/caseworker/referrals").get_data(as_text=True)
    assert "Page 1 of 2" in first and "MO-PAGE-21" in first and "MO-PAGE-00" not in first
    second = client.get("/caseworker/referrals?page=2").get_data(as_text=True)
    assert "MO-PAGE-00" in second
    found = client.get("/caseworker/referrals?q=page-01&status=open&urgency=emergency").get_data(as_text=True)
    assert "MO-PAGE-01" in found and "MO-PAGE-02" not in found and "1 referral match" in found
    assert client.get("/caseworker/referrals?status=nonsense").status_code == 200


def test_the_operator_filters_answered_requests_by_home(app, factory):
    world = make_world(factory)
    client = app.test_client()
    login(client, world.operator)
    html = client.get(f"/provider/requests?home={world.home.id}&status=accepted").get_data(as_text=True)
    assert world.referral.case_reference in html and "1 answered request," in html
    assert "None yet." not in html
    other = client.get("/provider/requests?status=declined").get_data(as_text=True)
    assert world.referral.case_reference not in other
