"""Referral and request lists: search, filters and keyset paging, scoped in the query."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from placement.models import PlacementRequest, Referral
from placement.services import keyset, paged_lists
from placement.services.paged_lists import PAGE_SIZE, REFERRALS_NEWEST_FIRST, ListFilter, answered_requests, referrals
from placement.timeutil import utcnow

from ..helpers import api_token, bearer, login, make_referral
from .lifecycle_world import make_world, report_missing


def test_referrals_page_search_and_filter_within_the_agency(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for i in range(PAGE_SIZE + 5):
        make_referral(factory, caseworker, case_reference=f"MO-LIST-{i:02d}", urgency="planned" if i % 2 else "emergency")
    make_referral(factory, caseworker, case_reference="MO-JACKSON-1", county="Jackson")
    make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")), case_reference="MO-LIST-OTHER")
    first = referrals(factory.session, caseworker, ListFilter())
    assert (first.total, len(first.rows), first.newer) == (PAGE_SIZE + 6, PAGE_SIZE, None)
    assert first.older == first.rows[-1][0].id
    second = referrals(factory.session, caseworker, ListFilter(), before=first.older)
    assert (len(second.rows), second.older, second.newer) == (6, None, second.rows[0][0].id)
    assert {r.id for r, _ in first.rows}.isdisjoint(r.id for r, _ in second.rows)
    back = referrals(factory.session, caseworker, ListFilter(), after=second.newer)
    assert [r.id for r, _ in back.rows] == [r.id for r, _ in first.rows] and back.newer is None
    found = referrals(factory.session, caseworker, ListFilter(text="list-0"))
    assert sorted(r.case_reference for r, _ in found.rows) == [f"MO-LIST-{i:02d}" for i in range(10)]
    assert [r.case_reference for r, _ in referrals(factory.session, caseworker, ListFilter(text="jackson")).rows] == ["MO-JACKSON-1"]
    assert referrals(factory.session, caseworker, ListFilter(text="%")).total == 0
    assert referrals(factory.session, caseworker, ListFilter(text="' OR 1=1--")).total == 0
    assert referrals(factory.session, caseworker, ListFilter(urgency="planned")).total == (PAGE_SIZE + 5) // 2


def test_a_cursor_outside_the_list_shows_the_newest_page(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    own = [make_referral(factory, caseworker) for _ in range(3)]
    foreign = make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")))
    newest = [r.id for r, _ in referrals(factory.session, caseworker, ListFilter()).rows]
    assert newest == [r.id for r in reversed(own)]
    # Another agency's referral, an unknown id, a referral the filter leaves out: the newest page.
    for cursor in (foreign.id, foreign.id + 1000, own[0].id):
        filters = ListFilter(urgency="planned") if cursor == own[0].id else ListFilter()
        page = referrals(factory.session, caseworker, filters, before=cursor)
        assert [r.id for r, _ in page.rows] == ([] if filters.urgency else newest)


def test_keyset_pages_walk_every_row_once_both_ways_through_equal_times(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    same_moment = utcnow() - timedelta(hours=1)
    made = [make_referral(factory, caseworker, created_at=same_moment if i % 3 else same_moment - timedelta(minutes=i))
            for i in range(11)]
    statement = select(Referral).where(Referral.agency_id == caseworker.organisation_id)
    expected = [r.id for r in sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)]

    def walk(start, step):
        pages, page = [], keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 4, 100, **start)
        while True:
            pages.append([r.id for r in page.rows])
            cursor = step(page)
            if cursor is None:
                return pages
            page = keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 4, 100, **cursor)

    older = walk({}, lambda page: {"before": page.older} if page.older else None)
    assert older == [expected[0:4], expected[4:8], expected[8:11]]
    newer = walk({"before": expected[7]}, lambda page: {"after": page.newer} if page.newer else None)
    assert newer == [expected[8:11], expected[4:8], expected[0:4]]


def test_a_list_counts_no_further_than_its_bound(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for _ in range(7):
        make_referral(factory, caseworker)
    statement = select(Referral).where(Referral.agency_id == caseworker.organisation_id)
    bounded = keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 4, 5)
    assert (bounded.total, bounded.count_text("referral")) == (6, "More than 5 referrals")
    exact = keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 4, 7)
    assert exact.count_text("referral") == "7 referrals"
    assert keyset.page(factory.session, statement.where(Referral.id == -1), REFERRALS_NEWEST_FIRST, 4, 7).count_text(
        "referral") == "0 referrals"


def test_a_list_paged_without_a_count_runs_no_count(factory):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for _ in range(5):
        make_referral(factory, caseworker)
    statement = select(Referral).where(Referral.agency_id == caseworker.organisation_id)
    statements: list[str] = []
    engine = factory.session.get_bind()

    def listener(conn, cursor, sql, *rest):
        statements.append(sql.lower())

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        uncounted = keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 2, None)
        counted = keyset.page(factory.session, statement, REFERRALS_NEWEST_FIRST, 2, 100)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert [r.id for r in uncounted.rows] == [r.id for r in counted.rows]
    assert (uncounted.older, uncounted.total, counted.total) == (counted.older, None, 5)
    assert ["count(" in sql for sql in statements] == [False, False, True]  # uncounted: one read; counted: read, count
    with pytest.raises(ValueError):
        uncounted.count_text("referral")


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
    assert "MO-PAGE-21" in first and "MO-PAGE-00" not in first and "Newer referrals" not in first
    older_link = re.search(r'<a href="([^"]+)" rel="next">Older referrals</a>', first)
    second = client.get(html.unescape(older_link.group(1))).get_data(as_text=True)
    assert "MO-PAGE-00" in second and "MO-PAGE-21" not in second and "Older referrals" not in second
    newer_link = re.search(r'<a href="([^"]+)" rel="prev">Newer referrals</a>', second)
    assert "MO-PAGE-21" in client.get(html.unescape(newer_link.group(1))).get_data(as_text=True)
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


def test_the_api_lists_page_by_keyset_within_the_agency(client, factory, monkeypatch):
    monkeypatch.setattr(paged_lists, "API_PAGE_SIZE", 2)
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    own = [make_referral(factory, caseworker, case_reference=f"MO-API-{i}") for i in range(5)]
    foreign = make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")), case_reference="MO-API-OTHER")
    token = bearer(api_token(factory, caseworker))
    pages, before = [], None
    while True:
        body = client.get(f"/api/v1/referrals{'' if before is None else f'?before={before}'}", headers=token).get_json()
        pages.append([r["case_reference"] for r in body["referrals"]])
        before = body["older"]
        if before is None:
            break
    assert pages == [["MO-API-4", "MO-API-3"], ["MO-API-2", "MO-API-1"], ["MO-API-0"]]
    # Another agency's referral as the cursor reveals nothing: the newest page again.
    assert [r["id"] for r in client.get(f"/api/v1/referrals?before={foreign.id}", headers=token).get_json()["referrals"]] == \
        [own[4].id, own[3].id]
    for bad in ("abc", "-1", "0", "1.5", "99999999999", "１２"):
        refused = client.get(f"/api/v1/referrals?before={bad}", headers=token)
        assert refused.status_code == 422 and "before" in refused.get_json()["error"]["fields"]


def test_the_api_pages_answered_requests(client, factory, monkeypatch):
    monkeypatch.setattr(paged_lists, "API_PAGE_SIZE", 2)
    world = make_world(factory)
    for i in range(3):
        declined = make_referral(factory, world.caseworker, case_reference=f"MO-ANSWERED-{i}")
        factory.session.add(PlacementRequest(referral_id=declined.id, home_id=world.home.id, requested_by_id=world.caseworker.id,
                                             places=1, status="declined", decline_reason="no_staff"))
        factory.session.commit()
    token = bearer(api_token(factory, world.operator))
    first = client.get("/api/v1/requests?answered=true", headers=token).get_json()
    second = client.get(f"/api/v1/requests?answered=true&before={first['older']}", headers=token).get_json()
    seen = [r["request"]["id"] for r in first["requests"] + second["requests"]]
    assert len(first["requests"]) == 2 and second["older"] is None and len(seen) == len(set(seen)) == 4
    assert client.get("/api/v1/requests", headers=token).get_json()["older"] is None
