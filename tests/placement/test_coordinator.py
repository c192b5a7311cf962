"""Coordinator pages: capacity dashboard, matcher runs with review, unmet need, CSV exports."""
from __future__ import annotations

import csv
import io
import random
import threading
import time
from collections import namedtuple
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, func, select

from placement import jobs
from placement.models import (
    AuditEvent, AvailabilityUpdate, Hold, Home, MatcherProposal, MatcherRun, Notification, Placement, PlacementRequest, Referral, User,
)
from placement.services import booking, capacity, matcher_runs, unmet_need
from placement.services.solver_inputs import REFERRAL_ELIGIBILITY_COLUMNS, solver_referral
from placement.services.tables import period
from placement.services.errors import Conflict
from placement.timeutil import clock, utcnow
from solver.checker import check
from solver.eligibility import eligible_among
from solver.instance import parse_instance

from ..helpers import REFERRAL_FORM, login, make_referral, post

SECRET_ADDRESS = "77 Hidden Coordinator Lane"
SECRET_NOTE = "Synthetic note: met exploiter at bus station"


@pytest.fixture()
def world(factory):
    """MO: one provider with two homes, an agency with a caseworker; a KS home; coordinators of MO and KS."""
    provider = factory.org("provider", "MO", name="Harbor Test Homes")
    operator = factory.user("operator", provider)
    roomy = factory.home(provider, name="Roomy House", street_address=SECRET_ADDRESS, county="Boone",
                         availability={"open_beds": 3, "staff_on_duty": 3, "youth_per_staff": 3, "current_youth": 2})
    small = factory.home(provider, name="Small House", program="long_term", county="Greene", city="Springfield",
                         lat=37.21, lon=-93.29, street_address="5 Other Secret Road",
                         availability={"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 2, "current_youth": 1})
    kansas = factory.home(factory.org("provider", "KS"), name="Prairie KS House", state="KS", county="Shawnee",
                          city="Topeka", lat=39.05, lon=-95.68, max_age=21, accepts_out_of_state=True)
    agency = factory.org("agency", "MO")
    caseworker = factory.user("caseworker", agency)
    return {
        "provider": provider, "operator": operator, "roomy": roomy, "small": small, "kansas": kansas, "caseworker": caseworker,
        "coordinator": factory.user("coordinator", factory.org("coordinator_office", "MO")),
        "ks_coordinator": factory.user("coordinator", factory.org("coordinator_office", "KS")),
        "admin": factory.user("admin"),
    }


def _switch(client, user):
    """A new client signed in as `user` (signing in again does not replace a live session)."""
    other = client.application.test_client()
    login(other, user)
    return other


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _run(factory, client, state_args: dict | None = None) -> MatcherRun:
    response = post(client, "/coordinator/runs", state_args or {}, token_from="/coordinator/runs")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return factory.get(MatcherRun, run_id)


def _audits(factory, action: str) -> list[AuditEvent]:
    factory.session.commit()
    return list(factory.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- dashboard ---------------------------------------------------------------------------

def test_dashboard_shows_the_states_capacity_and_never_an_address(client, factory, world, login_as):
    make_referral(factory, world["caseworker"], case_notes=SECRET_NOTE)
    login_as(world["coordinator"])
    response = client.get("/coordinator/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="total-homes">2<' in html  # the KS home is not MO's
    assert 'data-testid="total-open">4<' in html
    # Roomy: min(3 beds, 3*3-2=7) = 3; Small: min(1, 1*2-1=1) = 1.
    assert 'data-testid="total-room">4<' in html
    assert "Prairie KS House" not in html
    assert SECRET_ADDRESS not in html and SECRET_NOTE not in html
    assert 'type="application/json" id="chart-capacity"' in html and "<script>" not in html
    assert _audits(factory, "capacity_viewed")


def test_coordinator_sees_only_their_state_and_admin_chooses(client, factory, world, login_as):
    login_as(world["coordinator"])
    assert client.get("/coordinator/?state=KS").status_code == 404
    assert _audits(factory, "access_denied")[-1].object_type == "state"
    admin = world["admin"]
    client = _switch(client, admin)
    html = client.get("/coordinator/?state=KS").get_data(as_text=True)
    assert "Capacity in KS" in html and 'data-testid="total-homes">1<' in html
    assert client.get("/coordinator/?state=XX").status_code == 404


@pytest.mark.parametrize("role", ["operator", "caseworker"])
def test_other_roles_are_refused_every_coordinator_page(client, factory, world, role, login_as):
    login_as(world[role])
    for path in ("/coordinator/", "/coordinator/runs", "/coordinator/unmet-need", "/coordinator/export/capacity.csv"):
        assert client.get(path).status_code == 403, path


def test_stale_homes_waiting_requests_and_time_to_placement(client, factory, world, login_as):
    caseworker = world["caseworker"]
    # Quiet House last reported 30 hours ago: stale, listed with its operator.
    quiet = factory.home(world["provider"], name="Quiet House", availability=False)
    factory.session.add(AvailabilityUpdate(home_id=quiet.id, open_beds=1, licensed_beds=6, staff_on_duty=1,
                                           youth_per_staff=2, current_youth=1, recorded_at=utcnow() - timedelta(hours=30)))
    waiting = make_referral(factory, caseworker, case_reference="MO-WAIT-1")
    factory.session.add(PlacementRequest(referral_id=waiting.id, home_id=world["roomy"].id, requested_by_id=caseworker.id,
                                         places=1, created_at=utcnow() - timedelta(hours=5)))
    # Placements 10 h and 30 h after referral (last 7 days), and 50 h (20 days ago).
    for hours, days_ago in ((10, 1), (30, 2), (50, 20)):
        started = utcnow() - timedelta(days=days_ago)
        referral = make_referral(factory, caseworker, status="placed", created_at=started - timedelta(hours=hours))
        request = PlacementRequest(referral_id=referral.id, home_id=world["roomy"].id, requested_by_id=caseworker.id,
                                   places=1, status="accepted")
        factory.session.add(request)
        factory.session.flush()
        factory.session.add(Placement(referral_id=referral.id, home_id=world["roomy"].id, request_id=request.id,
                                      places=1, started_at=started))
    factory.session.commit()
    login_as(world["coordinator"])
    stale = _csv(client.get("/coordinator/export/stale.csv"))
    assert [row[0] for row in stale[1:]] == ["Quiet House"]
    assert stale[1][4] == "Harbor Test Homes" and world["operator"].email in stale[1][5]
    assert float(stale[1][6]) == pytest.approx(30, abs=0.1)
    waits = _csv(client.get("/coordinator/export/waiting.csv"))
    assert waits[1][0] == "MO-WAIT-1" and float(waits[1][6]) == pytest.approx(5, abs=0.1)
    times = _csv(client.get("/coordinator/export/placement_time.csv"))
    assert times[1] == ["Last 7 days", "2", "20.0"] and times[2] == ["Last 30 days", "3", "30.0"]


def test_waiting_requests_are_the_states_youths_anywhere_and_anyone_at_the_states_homes_once(client, factory, world, login_as):
    caseworker = world["caseworker"]
    ks_caseworker = factory.user("caseworker", factory.org("agency", "KS"))
    asked = [  # (case reference, custody state, home, hours ago)
        ("MO-AT-MO", "MO", world["roomy"], 1), ("MO-AT-KS", "MO", world["kansas"], 3),
        ("KS-AT-MO", "KS", world["small"], 2), ("KS-AT-KS", "KS", world["kansas"], 4),
    ]
    for reference, state, home, hours in asked:
        who = caseworker if state == "MO" else ks_caseworker
        referral = make_referral(factory, who, case_reference=reference, custody_state=state)
        factory.session.add(PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=who.id, places=1,
                                             created_at=utcnow() - timedelta(hours=hours)))
    factory.session.commit()
    login_as(world["coordinator"])
    waits = _csv(client.get("/coordinator/export/waiting.csv"))[1:]
    assert [row[0] for row in waits] == ["MO-AT-KS", "KS-AT-MO", "MO-AT-MO"]  # oldest first, each once
    assert [row[3] for row in waits] == ["KS", "MO", "MO"]


def test_occupancy_over_time_follows_the_availability_log(client, factory, world, login_as):
    home = factory.home(factory.org("provider", "IA"), state="IA", availability=False)
    for days_ago, youths in ((20, 1), (5, 3), (1, 6)):
        factory.session.add(AvailabilityUpdate(home_id=home.id, open_beds=0, licensed_beds=6, staff_on_duty=3,
                                               youth_per_staff=3, current_youth=youths,
                                               recorded_at=utcnow() - timedelta(days=days_ago, minutes=1)))
    factory.session.commit()
    login_as(world["admin"])
    rows = _csv(client.get("/coordinator/export/occupancy.csv?state=IA"))[1:]
    assert len(rows) == 15
    occupancy = [float(row[5]) for row in rows]
    # The 20-day-old entry stands until day -5, then 3/6, then 6/6 for the last day.
    assert occupancy[0] == pytest.approx(16.7) and occupancy[9] == 50.0 and occupancy[-1] == 100.0


def test_occupancy_counts_an_entry_from_the_day_it_is_recorded_until_the_next_one_replaces_it(factory):
    """The edges, to the microsecond: an entry recorded exactly at a day's end counts that day,
    and a later entry recorded exactly at a day's end replaces it that day."""
    home = factory.home(factory.org("provider", "IA"), state="IA", availability=False)
    now = utcnow().replace(microsecond=0)
    for days_ago, youths in ((10, 1), (3, 2), (2, 4)):
        factory.session.add(AvailabilityUpdate(home_id=home.id, open_beds=0, licensed_beds=4, staff_on_duty=2,
                                               youth_per_staff=2, current_youth=youths,
                                               recorded_at=now - timedelta(days=days_ago)))
    factory.session.add(AvailabilityUpdate(home_id=home.id, open_beds=0, licensed_beds=4, staff_on_duty=2,
                                           youth_per_staff=2, current_youth=3,
                                           recorded_at=now - timedelta(days=1, microseconds=1)))
    factory.session.commit()
    table = capacity._occupancy_table(factory.session, Home.id == home.id, now, days=4)
    # Day ends -4 .. 0: the 10-day-old entry, then 2 youths (recorded at -3), 4 (at -2),
    # 3 (a microsecond before -1), still 3 at the end of today.
    assert [row[3] for row in table.rows] == [1, 2, 4, 3, 3]
    assert [row[1] for row in table.rows] == [1, 1, 1, 1, 1]
    assert table.rows[0][5] == 25.0


def test_occupancy_matches_each_homes_latest_entry_at_each_day_end_on_a_random_log(factory):
    """The database's sums against the rule itself, worked out here entry by entry: at each
    day's end, each home of the state counts with its latest entry (by time, then id) up to
    that moment. Random logs with entries at a day's end to the microsecond, entries sharing
    a time, entries written out of time order, a home with no entry before the span, one
    with none at all, an inactive home and another state's home (neither counted)."""
    rng = random.Random(16)
    now = utcnow().replace(microsecond=0)
    days = 6
    points = [now - timedelta(days=back) for back in range(days, -1, -1)]
    provider = factory.org("provider", "IA")
    homes = [factory.home(provider, state="IA", availability=False, licensed_beds=8) for _ in range(5)]
    inactive = factory.home(provider, state="IA", availability=False, is_active=False)
    elsewhere = factory.home(factory.org("provider", "NE"), state="NE", availability=False)
    log = []
    for number, home in enumerate([*homes[:4], inactive, elsewhere]):
        times = [now - timedelta(seconds=rng.randrange(0, (days + 3) * 86400)) for _ in range(rng.randrange(3, 12))]
        times += [rng.choice(points) for _ in range(2)]  # at a day's end exactly
        times += [times[0]]  # two entries at one time
        if number == 3:  # no entry before the span: it reports from its first entry on
            times = [t for t in times if t >= points[0] + timedelta(hours=1)] or [now]
        rng.shuffle(times)  # ids out of time order
        for at in times:
            youths = rng.randrange(0, 8)
            entry = AvailabilityUpdate(home_id=home.id, open_beds=rng.randrange(0, 8 - youths + 1), licensed_beds=8,
                                       staff_on_duty=2, youth_per_staff=3, current_youth=youths, recorded_at=at)
            factory.session.add(entry)
            factory.session.flush()
            if home.state == "IA" and home.is_active:
                log.append(entry)
    factory.session.commit()
    expected = []
    for point in points:
        reporting = licensed = youths = open_beds = 0
        for home in homes:
            seen = [e for e in log if e.home_id == home.id and e.recorded_at <= point]
            if seen:
                latest = max(seen, key=lambda e: (e.recorded_at, e.id))
                reporting, licensed = reporting + 1, licensed + latest.licensed_beds
                youths, open_beds = youths + latest.current_youth, open_beds + latest.open_beds
        expected.append((point.date(), reporting, licensed, youths, open_beds))
    table = capacity._occupancy_table(factory.session, capacity._in_state("IA"), now, days=days)
    assert [row[:5] for row in table.rows] == expected
    assert any(row[1] < 4 for row in expected) and expected[-1][1] == 4  # home 3 joined within the span


def test_csv_export_is_audited_and_defuses_formulas(client, factory, world, login_as):
    factory.home(factory.org("provider", "MO"), name="=HYPERLINK(1)", county="Cole", availability=False)
    login_as(world["coordinator"])
    response = client.get("/coordinator/export/capacity.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert SECRET_ADDRESS not in body
    export = _audits(factory, "export")[-1]
    assert export.object_type == "coordinator_report" and "capacity CSV" in export.detail and "state MO" in export.detail
    stale = client.get("/coordinator/export/stale.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in stale
    assert client.get("/coordinator/export/nonsense.csv").status_code == 404


# --- unmet need ----------------------------------------------------------------------------

def test_unmet_need_groups_children_by_the_rule_that_excludes_them(client, factory, world, login_as):
    caseworker = world["caseworker"]
    make_referral(factory, caseworker, case_reference="MO-ACTIVE", substance_use="active")
    make_referral(factory, caseworker, case_reference="MO-PARENT", age=17, children_with=1)
    make_referral(factory, caseworker, case_reference="MO-AGE19", age=19)
    make_referral(factory, caseworker, case_reference="MO-FITS", urgency="planned")
    placed_fast = make_referral(factory, caseworker, case_reference="MO-QUICK", status="placed")
    declined = make_referral(factory, caseworker, case_reference="MO-DECLINED", status="declined", county="Greene")
    for referral, status, reason in ((placed_fast, "accepted", None), (declined, "declined", "no_staff")):
        request = PlacementRequest(referral_id=referral.id, home_id=world["roomy"].id, requested_by_id=caseworker.id,
                                   places=1, status=status, decline_reason=reason, answered_at=utcnow())
        factory.session.add(request)
        factory.session.flush()
        if status == "accepted":
            factory.session.add(Placement(referral_id=referral.id, home_id=world["roomy"].id, request_id=request.id, places=1))
    factory.session.commit()
    login_as(world["coordinator"])
    response = client.get("/coordinator/unmet-need")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and SECRET_NOTE not in html
    reasons = {row[0]: row for row in _csv(client.get("/coordinator/export/unmet_by_reason.csv"))[1:]}
    assert reasons["Active substance use: no detox-capable home in MO"][1] == "1"
    assert reasons["Parenting youth: 0 homes in MO accept them"][1] == "1"
    assert reasons["Age 18-21: no home in MO accepts this age"][1] == "1"
    assert reasons["Eligible homes had no room"][1:3] == ["2", "2"]  # MO-FITS and MO-DECLINED, still waiting
    children = {row[0] for row in _csv(client.get("/coordinator/export/unmet_children.csv"))[1:]}
    assert "MO-QUICK" not in children and "MO-ACTIVE" in children
    area = _csv(client.get("/coordinator/export/unmet_by_area.csv"))
    assert ["Greene", "Any program", "Eligible homes had no room", "1"] in area
    declines = _csv(client.get("/coordinator/export/declines.csv"))
    assert declines[1:] == [["Not enough staff on shift", "1", "100.0"]]
    assert _audits(factory, "unmet_need_viewed")


def test_unmet_need_reads_every_column_the_rules_read(factory, world):
    """The report builds solver referrals from plain rows of its columns: a row holding only
    REFERRAL_ELIGIBILITY_COLUMNS gives the same solver referral as the whole Referral."""
    referral = make_referral(factory, world["caseworker"], icpc_approved_states=["KS"], programs=["long_term"],
                             children_with=1, substance_use="recovery", sibling_group="S-1", has_run_before=True)
    names = [column.key for column in REFERRAL_ELIGIBILITY_COLUMNS]
    row = namedtuple("EligibilityRow", names)(*(getattr(referral, name) for name in names))
    assert solver_referral(row) == solver_referral(referral)
    assert set(names) <= {column.key for column in unmet_need.REFERRAL_COLUMNS}


def test_long_lists_show_the_first_25_and_a_link_to_all(client, factory, world, login_as):
    """Needs a bed now and the unmet-need children table show 25 on a phone, say how many of how
    many in words, and link to every one; the children's CSV keeps every child."""
    caseworker = world["caseworker"]
    make_referral(factory, caseworker, case_reference="MO-PLANNED", urgency="planned")
    for number in range(25):
        make_referral(factory, caseworker, case_reference=f"MO-URGENT-{number}")
    factory.session.commit()
    clock.advance(timedelta(hours=5))  # every one unplaced after 4 hours
    login_as(world["coordinator"])
    board = client.get("/coordinator/needs-a-bed").get_data(as_text=True)
    assert board.count('class="card" data-testid="needs-bed-') == 25 and "MO-PLANNED" not in board  # least urgent
    assert "The 25 most urgent of 26 youths are shown." in board
    assert '<a href="/coordinator/needs-a-bed?all=1">Show all 26</a>' in board
    every = client.get("/coordinator/needs-a-bed?all=1").get_data(as_text=True)
    assert every.count('class="card" data-testid="needs-bed-') == 26 and "MO-PLANNED" in every and "Show all" not in every
    assert "state MO, 26 referrals" in _audits(factory, "needs_bed_viewed")[-1].detail

    need = client.get("/coordinator/unmet-need").get_data(as_text=True)
    assert need.count('<td data-label="Case reference">') == 25 and "MO-URGENT-24" not in need  # the latest referred
    assert "The 25 earliest referred of 26 children are shown." in need
    link = need[need.index("The 25 earliest referred"):]
    assert 'href="/coordinator/unmet-need?all=1&amp;date_from=' in link
    every = client.get("/coordinator/unmet-need?all=1").get_data(as_text=True)
    assert every.count('<td data-label="Case reference">') == 26 and "The 25 earliest" not in every
    assert len(_csv(client.get("/coordinator/export/unmet_children.csv"))) == 27  # the header and every child


def test_the_dashboards_unmet_need_figures_are_the_reports(factory, world):
    caseworker = world["caseworker"]
    make_referral(factory, caseworker, case_reference="MO-ACTIVE", substance_use="active")
    make_referral(factory, caseworker, case_reference="MO-AGE19", age=19, county="Greene")
    make_referral(factory, caseworker, case_reference="MO-FITS", urgency="emergency")
    late = make_referral(factory, caseworker, case_reference="MO-LATE", status="placed")
    late.created_at = utcnow() - timedelta(days=3)
    request = PlacementRequest(referral_id=late.id, home_id=world["roomy"].id, requested_by_id=caseworker.id,
                               places=1, status="accepted", answered_at=utcnow())
    factory.session.add(request)
    factory.session.flush()
    factory.session.add(Placement(referral_id=late.id, home_id=world["roomy"].id, request_id=request.id, places=1))
    factory.session.commit()
    today = utcnow().date()
    span = period(today - timedelta(days=29), today, "America/Chicago")
    full = unmet_need.report(factory.session, "MO", span)
    light = unmet_need.dashboard_figures(factory.session, "MO", span)
    assert light.charts == full.charts and light.tables["unmet_by_area"] == full.tables["unmet_by_area"]
    assert sum(full.charts["unmet"]["series"][0]["data"]) == 4  # each child who waited, once
    assert ["Greene", "Any program", "Age 18-21: no home in MO accepts this age", 1] in [
        list(row) for row in light.tables["unmet_by_area"].rows]


def test_unmet_need_reads_other_states_homes_for_the_children_its_own_refuse(client, factory, world, login_as):
    """A child only an ICPC-approved state's home accepts waited for room; a child whose
    approved state's home takes no out-of-state youth is refused with every home in reach
    counted (the MO homes refuse the age, the IA home the jurisdiction)."""
    factory.home(factory.org("provider", "IA"), name="Iowa House", state="IA", county="Polk", lat=41.59, lon=-93.62,
                 max_age=21, accepts_out_of_state=False)
    caseworker = world["caseworker"]
    make_referral(factory, caseworker, case_reference="MO-TO-KS", age=19, icpc_approved_states=["KS"])
    make_referral(factory, caseworker, case_reference="MO-TO-IA", age=20, icpc_approved_states=["IA"])
    make_referral(factory, caseworker, case_reference="MO-STAYS", age=19)
    make_referral(factory, caseworker, case_reference="MO-FITS")
    factory.session.commit()
    login_as(world["coordinator"])
    reasons = {row[0]: row[-1] for row in _csv(client.get("/coordinator/export/unmet_children.csv"))[1:]}
    assert reasons == {"MO-TO-KS": "Eligible homes had no room", "MO-FITS": "Eligible homes had no room",
                       "MO-TO-IA": "No home fits every need (most often missing: age)",
                       "MO-STAYS": "Age 18-21: no home in MO accepts this age"}


def test_homes_that_accepted_earlier_children_decide_as_the_bulk_rules_do(factory, world):
    """Unmet need tries the homes that accepted earlier children first: in any order of
    children, its answer is the bulk rules' (some home of the candidates accepts the child)."""
    rng = random.Random(16)
    for _ in range(3):
        factory.home(world["provider"], min_age=rng.randint(10, 16), max_age=rng.randint(16, 21),
                     genders=rng.choice([["female"], ["male", "nonbinary"], ["female", "male", "nonbinary"]]),
                     substance_use_support=rng.choice(["none", "recovery", "detox"]), medical_level=rng.randint(0, 3),
                     mental_health_level=rng.randint(0, 3), program=rng.choice(["crisis_stabilization", "long_term"]))
    children = [solver_referral(make_referral(
        factory, world["caseworker"], age=rng.randint(10, 21), gender=rng.choice(["female", "male", "nonbinary"]),
        substance_use=rng.choice(["none", "recovery", "active"]), medical_level=rng.randint(0, 3),
        mental_health_level=rng.randint(0, 3), pregnant=rng.random() < 0.2, icpc_approved_states=rng.choice([[], ["KS"]]),
        programs=rng.choice([[], ["long_term"], ["crisis_stabilization", "short_term"]]))) for _ in range(60)]
    factory.session.commit()
    table, rows = unmet_need._homes_table(factory.session, Home.state.in_(["MO", "KS"]))
    candidates = np.concatenate(list(rows.values()))
    acceptance = unmet_need._Acceptance(table)
    answers = [acceptance.accepts(child, candidates) for child in children]
    assert answers == [bool(eligible_among(table, child, candidates).size) for child in children]
    assert 0 < sum(answers) < len(answers)  # both answers were given


def test_unmet_need_of_an_empty_period_exports_headers_only(client, factory, world, login_as):
    make_referral(factory, world["caseworker"], substance_use="active")
    login_as(world["coordinator"])
    query = "date_from=2020-01-01&date_to=2020-01-31"
    html = client.get(f"/coordinator/unmet-need?{query}").get_data(as_text=True)
    assert "None in this period." in html and "Jan 1, 2020 to Jan 31, 2020" in html
    for table in ("unmet_by_reason", "unmet_by_area", "unmet_children", "declines"):
        rows = _csv(client.get(f"/coordinator/export/{table}.csv?{query}"))
        assert len(rows) == 1 and rows[0][0], table


def test_unmet_need_refuses_a_backwards_period(client, factory, world, login_as):
    login_as(world["coordinator"])
    response = client.get("/coordinator/unmet-need?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 422 and "before the start date" in response.get_data(as_text=True)
    assert client.get("/coordinator/export/declines.csv?date_from=2026-02-30").status_code == 400


# --- matcher runs --------------------------------------------------------------------------

def test_run_with_no_open_referrals_or_no_homes_says_so(client, factory, world, login_as):
    login_as(world["coordinator"])
    response = post(client, "/coordinator/runs", token_from="/coordinator/runs", follow_redirects=True)
    assert "no open referrals in MO" in response.get_data(as_text=True)
    # Kansas has a home but no referrals; a state with referrals but no homes:
    ne_agency = factory.org("agency", "NE")
    make_referral(factory, factory.user("caseworker", ne_agency), custody_state="NE")
    client = _switch(client, world["admin"])
    html = post(client, "/coordinator/runs", {"state": "NE"}, token_from="/coordinator/runs",
                follow_redirects=True).get_data(as_text=True)
    assert "No home in NE" in html and "Nothing was run" in html
    assert factory.session.exec(select(func.count(MatcherRun.id))).one() == 0


def test_run_stores_snapshot_and_result_and_the_result_passes_the_checker(client, factory, world, login_as):
    caseworker = world["caseworker"]
    emergency = make_referral(factory, caseworker, case_reference="MO-EMERG", urgency="emergency")
    planned = make_referral(factory, caseworker, case_reference="MO-PLAN", urgency="planned")
    icpc = make_referral(factory, caseworker, case_reference="MO-ICPC", urgency="urgent", age=20, icpc_approved_states=["KS"],
                         lat=39.05, lon=-95.68)
    unplaceable = make_referral(factory, caseworker, case_reference="MO-DETOX", substance_use="active")
    make_referral(factory, caseworker, case_reference="MO-HELD", status="requested")
    login_as(world["coordinator"])
    run = _run(factory, client)
    assert run.status == "done" and run.progress == 100
    referral_keys = {r["id"] for r in run.instance["referrals"]}
    assert referral_keys == {f"r{r.id}" for r in (emergency, planned, icpc, unplaceable)}
    # KS home is in the snapshot because MO-ICPC holds ICPC approval for KS and it takes out-of-state youth.
    assert {h["id"] for h in run.instance["homes"]} == {f"h{world['roomy'].id}", f"h{world['small'].id}", f"h{world['kansas'].id}"}
    assert check(parse_instance(run.instance), run.result) == []
    proposals = factory.session.exec(select(MatcherProposal).where(MatcherProposal.run_id == run.id)
                                     .order_by(MatcherProposal.rank)).all()
    assert [p.referral_id for p in proposals][:1] == [emergency.id]
    assert {p.referral_id: p.home_id for p in proposals}[icpc.id] == world["kansas"].id
    html = client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    assert html.index("MO-EMERG") < html.index("MO-ICPC") < html.index("MO-PLAN")
    assert "MO-DETOX" in html and "No eligible home" in html and "serves active substance use" in html
    assert SECRET_ADDRESS not in html and "Synthetic case note" not in html
    assert 'http-equiv="refresh"' not in html
    assert _audits(factory, "matcher_run_finished")


def test_run_in_progress_refreshes_itself_without_script(client, factory, world, login_as):
    run = MatcherRun(state="MO", started_by_id=world["coordinator"].id, status="running", progress=40)
    factory.session.add(run)
    factory.session.commit()
    login_as(world["coordinator"])
    html = client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'data-testid="progress"' in html and "solving" in html
    clock.advance(timedelta(hours=1))
    client = _switch(client, world["coordinator"])
    html = client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    assert "background job was lost" in html and 'http-equiv="refresh"' not in html


def test_run_in_the_embedded_thread_queue(app, factory, world):
    app.config["JOB_QUEUE_URL"] = ""  # the demo's default: a worker thread in the web process
    make_referral(factory, world["caseworker"])
    with app.test_request_context():
        with Session(app.extensions["safebed_engine"], expire_on_commit=False) as session:
            run = matcher_runs.start_run(session, session.merge(world["coordinator"]), "MO")
        jobs.wait_for_idle(app)
    assert factory.get(MatcherRun, run.id).status == "done"


def test_a_failing_run_is_marked_failed_with_the_reason(client, factory, world, monkeypatch, login_as):
    def broken(*_args):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(matcher_runs, "solve", broken)
    make_referral(factory, world["caseworker"])
    login_as(world["coordinator"])
    run = _run(factory, client)
    assert run.status == "failed" and "solver exploded" in run.error
    assert "The run failed" in client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)


def test_another_states_run_is_404_and_audited(client, factory, world, login_as):
    make_referral(factory, world["caseworker"])
    login_as(world["coordinator"])
    run = _run(factory, client)
    client = _switch(client, world["ks_coordinator"])
    assert client.get(f"/coordinator/runs/{run.id}").status_code == 404
    assert post(client, f"/coordinator/runs/{run.id}/approve", {"scope": "all"}, token_from="/coordinator/runs").status_code == 404
    assert _audits(factory, "access_denied")[-1].object_type == "matcher_run"
    assert factory.session.exec(select(Hold)).first() is None


def test_approve_one_holds_the_bed_and_requests_the_placement(client, factory, world, login_as):
    referral = make_referral(factory, world["caseworker"], case_reference="MO-ONE")
    login_as(world["coordinator"])
    run = _run(factory, client)
    proposal = factory.session.exec(select(MatcherProposal).where(MatcherProposal.run_id == run.id)).one()
    response = post(client, f"/coordinator/runs/{run.id}/approve", {"only": proposal.id}, token_from=f"/coordinator/runs/{run.id}",
                    follow_redirects=True)
    assert "Approved 1: MO-ONE" in response.get_data(as_text=True)
    proposal = factory.get(MatcherProposal, proposal.id)
    request = factory.get(PlacementRequest, proposal.request_id)
    assert proposal.status == "approved" and request.status == "pending" and request.home_id == proposal.home_id
    assert factory.get(Referral, referral.id).status == "requested"
    assert factory.session.exec(select(Hold)).one().release_reason == "requested"
    note = factory.session.exec(select(Notification).where(Notification.user_id == world["caseworker"].id)).one()
    assert "MO-ONE" in note.message
    # Approving again changes nothing and says why.
    again = post(client, f"/coordinator/runs/{run.id}/approve", {"only": proposal.id}, token_from=f"/coordinator/runs/{run.id}",
                 follow_redirects=True)
    assert "Choose at least one proposal that is still open" in again.get_data(as_text=True)
    assert factory.session.exec(select(func.count(PlacementRequest.id))).one() == 1


def test_bulk_approval_refuses_proposals_whose_snapshot_no_longer_holds(client, factory, world, login_as):
    caseworker = world["caseworker"]
    # Each can go to one home only (by program), so the refusals cannot spill over.
    changed = make_referral(factory, caseworker, case_reference="MO-CHANGED", urgency="emergency", programs=["crisis_stabilization"])
    taken = make_referral(factory, caseworker, case_reference="MO-TAKEN", urgency="urgent", programs=["long_term"])
    fine = make_referral(factory, caseworker, case_reference="MO-FINE", urgency="planned", programs=["crisis_stabilization"])
    login_as(world["coordinator"])
    run = _run(factory, client)
    proposals = {p.referral_id: p for p in factory.session.exec(select(MatcherProposal).where(MatcherProposal.run_id == run.id))}
    assert set(proposals) == {changed.id, taken.id, fine.id}
    # After the run: the caseworker edits one referral; another's bed goes to someone else.
    client = _switch(client, caseworker)
    assert post(client, f"/caseworker/referrals/{changed.id}/edit",
                {**REFERRAL_FORM, "case_reference": "MO-CHANGED", "age": "16"}).status_code == 302
    assert proposals[taken.id].home_id == world["small"].id
    factory.session.add(AvailabilityUpdate(home_id=world["small"].id, open_beds=0, licensed_beds=6, staff_on_duty=1,
                                           youth_per_staff=2, current_youth=2))
    factory.session.commit()
    client = _switch(client, world["coordinator"])
    html = post(client, f"/coordinator/runs/{run.id}/approve", {"scope": "all"}, token_from=f"/coordinator/runs/{run.id}",
                follow_redirects=True).get_data(as_text=True)
    assert "Approved 1: MO-FINE" in html
    assert "MO-CHANGED changed since the run (age" in html
    assert "Not approved, MO-TAKEN: This bed is no longer available" in html
    statuses = {rid: factory.get(MatcherProposal, p.id).status for rid, p in proposals.items()}
    assert statuses == {changed.id: "refused", taken.id: "refused", fine.id: "approved"}
    assert factory.get(Referral, taken.id).status == "open"


def test_an_old_runs_proposal_is_refused_once_a_newer_one_was_approved(client, factory, world, login_as):
    referral = make_referral(factory, world["caseworker"], case_reference="MO-TWICE")
    login_as(world["coordinator"])
    old, new = _run(factory, client), _run(factory, client)
    old_proposal, new_proposal = (factory.session.exec(select(MatcherProposal).where(MatcherProposal.run_id == r.id)).one()
                                  for r in (old, new))
    post(client, f"/coordinator/runs/{new.id}/approve", {"only": new_proposal.id}, token_from=f"/coordinator/runs/{new.id}")
    html = post(client, f"/coordinator/runs/{old.id}/approve", {"proposal_ids": old_proposal.id},
                token_from=f"/coordinator/runs/{old.id}", follow_redirects=True).get_data(as_text=True)
    assert "MO-TWICE is requested now" in html and "snapshot" in html
    assert factory.get(MatcherProposal, old_proposal.id).status == "refused"
    assert factory.session.exec(select(func.count(PlacementRequest.id)).where(PlacementRequest.referral_id == referral.id)).one() == 1


def test_approve_form_refuses_bad_ids(client, factory, world, login_as):
    make_referral(factory, world["caseworker"])
    login_as(world["coordinator"])
    run = _run(factory, client)
    for data in ({"only": "2147483648"}, {"proposal_ids": "x"}, {"only": "-1"}):
        assert post(client, f"/coordinator/runs/{run.id}/approve", data, token_from="/coordinator/runs").status_code == 400
    html = post(client, f"/coordinator/runs/{run.id}/approve", {"scope": "selected"}, token_from="/coordinator/runs",
                follow_redirects=True).get_data(as_text=True)
    assert "Choose at least one proposal" in html
    assert client.post(f"/coordinator/runs/{run.id}/approve", data={"scope": "all"}).status_code == 400  # no CSRF token
    assert factory.session.exec(select(Hold)).first() is None


ROUNDS = 4
# The coordinator's approval does more work before it reaches the lock than a hold does,
# so without a head start it always arrives second: odd rounds give it one.
CASEWORKER_DELAY = (0.0, 0.05, 0.0, 0.05)


def test_concurrent_approval_and_caseworker_hold_on_the_last_bed_yield_one_placement(app, factory, world):
    """The coordinator's approval and a caseworker's hold race for one bed, in threads, through
    the real service functions on the real database: exactly one gets it, every round."""
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    coordinator, caseworker = world["coordinator"], world["caseworker"]
    engine = app.extensions["safebed_engine"]
    winners: list[str] = []
    for round_number in range(ROUNDS):
        home = factory.home(provider, name=f"Last Bed {round_number}",
                            availability={"open_beds": 1, "staff_on_duty": 3, "youth_per_staff": 3, "current_youth": 2})
        proposed = make_referral(factory, caseworker)
        rival = make_referral(factory, caseworker)
        run = MatcherRun(state="MO", started_by_id=coordinator.id, status="done", progress=100,
                         instance=matcher_runs.snapshot(factory.session, "MO"))
        factory.session.add(run)
        factory.session.flush()
        proposal = MatcherProposal(run_id=run.id, referral_id=proposed.id, home_id=home.id, rank=1, fit=1.0, reasons=[])
        factory.session.add(proposal)
        factory.session.commit()
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def approve():
            with app.app_context(), Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                try:
                    matcher_runs.approve(session, session.merge(coordinator), session.get(MatcherProposal, proposal.id), 4)
                    outcomes["coordinator"] = "won"
                except Conflict as error:
                    outcomes["coordinator"] = error.message

        def hold_and_request():
            with app.app_context(), Session(engine, expire_on_commit=False) as session:
                referral = session.get(Referral, rival.id)
                barrier.wait()
                time.sleep(CASEWORKER_DELAY[round_number])
                try:
                    booking.hold(session, session.merge(caseworker), referral, home.id, 4)
                    booking.request_placement(session, session.merge(caseworker), referral, home.id)
                    outcomes["caseworker"] = "won"
                except Conflict as error:
                    outcomes["caseworker"] = error.message

        threads = [threading.Thread(target=approve), threading.Thread(target=hold_and_request)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["caseworker", "coordinator"]
        assert list(outcomes.values()).count("won") == 1, outcomes
        winners.append(next(who for who, outcome in outcomes.items() if outcome == "won"))
        loser = next(v for v in outcomes.values() if v != "won")
        assert "no longer available" in loser
        factory.session.expire_all()
        requests = factory.session.exec(select(PlacementRequest).where(PlacementRequest.home_id == home.id)).all()
        assert len(requests) == 1
        with app.app_context(), Session(engine, expire_on_commit=False) as session:
            booking.accept(session, session.merge(operator), session.get(PlacementRequest, requests[0].id))
        factory.session.expire_all()
        placements = factory.session.exec(select(Placement).where(Placement.home_id == home.id)).all()
        assert len(placements) == 1
        status = factory.get(MatcherProposal, proposal.id).status
        assert status == ("approved" if outcomes["coordinator"] == "won" else "refused")
    print(f"\nlast-bed races: {winners}")


def test_the_demo_coordinator_sees_capacity_runs_the_matcher_approves_and_exports(client, factory, login_as):
    from placement.demo import DEMO_PASSWORD, seed

    seed(factory.session)
    coordinator = factory.session.exec(select(User).where(User.email == "coordinator.mo@safebed.example")).one()
    login_as(coordinator, password=DEMO_PASSWORD)
    assert "Capacity in MO" in client.get("/coordinator/").get_data(as_text=True)
    run = _run(factory, client)
    assert run.status == "done" and check(parse_instance(run.instance), run.result) == []
    html = post(client, f"/coordinator/runs/{run.id}/approve", {"scope": "all"}, token_from=f"/coordinator/runs/{run.id}",
                follow_redirects=True).get_data(as_text=True)
    proposals = factory.session.exec(select(MatcherProposal).where(MatcherProposal.run_id == run.id)).all()
    assert proposals and "Approved" in html
    assert {p.status for p in proposals} <= {"approved", "refused"} and any(p.status == "approved" for p in proposals)
    rows = _csv(client.get("/coordinator/export/unmet_by_reason.csv"))
    assert rows[0][0] == "Reason" and len(rows) > 1


@pytest.fixture()
def redis_url(tmp_path):
    """A private redis-server on a free port: the production queue, isolated from anything else."""
    import socket
    import subprocess

    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_on_redis_a_run_waits_for_safebed_worker(app, client, factory, world, redis_url, login_as, runner):
    app.config["JOB_QUEUE_URL"] = redis_url
    make_referral(factory, world["caseworker"], case_reference="MO-QUEUED")
    login_as(world["coordinator"])
    run = _run(factory, client)
    assert run.status == "queued"
    assert '<meta http-equiv="refresh" content="2">' in client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    run = factory.get(MatcherRun, run.id)
    assert run.status == "done" and check(parse_instance(run.instance), run.result) == []
    assert "MO-QUEUED" in client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)


def test_progress_moves_while_the_solver_works(app, factory, world, monkeypatch):
    """CP-SAT says nothing while it works: the run's progress follows the time spent."""
    seen: list[int] = []

    def slow_solve(instance, time_limit, workers):
        time.sleep(2.5)
        seen.append(factory.get(MatcherRun, run.id).progress)
        return real_solve(instance, time_limit, workers)

    real_solve = matcher_runs.solve
    monkeypatch.setattr(matcher_runs, "solve", slow_solve)
    app.config["MATCHER_TIME_LIMIT"] = 5
    make_referral(factory, world["caseworker"])
    run = MatcherRun(state="MO", started_by_id=world["coordinator"].id)
    factory.session.add(run)
    factory.session.commit()
    with app.app_context():
        matcher_runs.execute_run(run.id)
    assert matcher_runs.SOLVING < seen[0] < matcher_runs.SOLVED
    assert factory.get(MatcherRun, run.id).progress == 100


def test_each_dashboard_table_alone_is_the_dashboards(factory, world, monkeypatch):
    caseworker = world["caseworker"]
    waiting = make_referral(factory, caseworker, case_reference="MO-WAITING")
    placed = make_referral(factory, caseworker, case_reference="MO-PLACED", status="placed")
    placed.created_at = utcnow() - timedelta(days=2)
    for referral, status in ((waiting, "pending"), (placed, "accepted")):
        factory.session.add(PlacementRequest(referral_id=referral.id, home_id=world["roomy"].id, places=1, status=status,
                                             requested_by_id=caseworker.id))
    factory.session.flush()
    accepted = factory.session.exec(select(PlacementRequest).where(PlacementRequest.status == "accepted")).one()
    factory.session.add(Placement(referral_id=placed.id, home_id=world["roomy"].id, request_id=accepted.id, places=1))
    factory.session.commit()
    now = utcnow() + timedelta(hours=30)  # both homes' availability is stale by then
    monkeypatch.setattr(capacity, "utcnow", lambda: now)
    board = capacity.dashboard(factory.session, "MO", 24)
    assert list(board.tables) == list(capacity.DASHBOARD_TABLES)
    for key in capacity.DASHBOARD_TABLES:
        assert capacity.table(factory.session, "MO", 24, key) == board.tables[key], key
    assert {len(board.tables[key].rows) for key in ("capacity", "stale")} == {2}
    assert len(board.tables["waiting"].rows) == 1 and board.tables["placement_time"].rows[0][1] == 1


def test_the_dashboards_and_outcomes_long_lists_show_25_and_link_to_all(client, factory, world, login_as):
    """A large state's homes to chase for figures, requests waiting for an answer and homes'
    decline reasons: 25 on a phone, the longest waiting (or most declining) first, with a link
    to every one; the CSV keeps every row."""
    caseworker = world["caseworker"]
    homes = [factory.home(world["provider"], name=f"Decliner {number:02d}") for number in range(26)]
    referral = make_referral(factory, caseworker, case_reference="MO-ASKED")
    for number, home in enumerate(homes):
        # Decliner 25 declined twice, so it leads the reasons table although last by name.
        for _ in range(2 if number == 25 else 1):
            factory.session.add(PlacementRequest(referral_id=referral.id, home_id=home.id, places=1, status="declined",
                                                 decline_reason="no_staff", requested_by_id=caseworker.id))
    for number in range(26):
        waiting = make_referral(factory, caseworker, case_reference=f"MO-WAIT-{number:02d}")
        factory.session.add(PlacementRequest(referral_id=waiting.id, home_id=world["roomy"].id, places=1,
                                             status="pending", requested_by_id=caseworker.id))
        factory.session.commit()
        clock.advance(timedelta(minutes=1))  # MO-WAIT-00 has waited longest
    clock.advance(timedelta(hours=30))  # every home's figures are out of date by then
    login_as(world["coordinator"])

    board = client.get("/coordinator/").get_data(as_text=True)
    stale = board[board.index('data-testid="table-stale"'):board.index('data-testid="table-waiting"')]
    assert stale.count('<td data-label="Home">') == 25
    assert "The 25 most out of date of 28 homes are shown." in stale
    assert '<a href="/coordinator/?all=1#table-stale">Show all 28</a>' in stale
    waiting = board[board.index('data-testid="table-waiting"'):]
    assert waiting.count('<td data-label="Case reference">') == 25
    assert "MO-WAIT-00" in waiting and "MO-WAIT-25" not in waiting  # the latest request waits below the fold
    assert "The 25 longest waiting of 26 requests are shown." in waiting
    every = client.get("/coordinator/?all=1").get_data(as_text=True)
    assert every[every.index('data-testid="table-stale"'):every.index('data-testid="table-waiting"')].count(
        '<td data-label="Home">') == 28
    assert "MO-WAIT-25" in every and "Show all" not in every
    assert len(_csv(client.get("/coordinator/export/waiting.csv"))) == 27  # the header and every request

    outcomes_page = client.get("/coordinator/outcomes").get_data(as_text=True)
    reasons = outcomes_page[outcomes_page.index('data-testid="reasons-per-home"'):]
    assert reasons.count("<tr><td>") == 25 and reasons.index("Decliner 25") < reasons.index("Decliner 00")
    assert "The 25 with the most declines and disruptions of 26 homes are shown." in reasons
    assert '<a href="/coordinator/outcomes?all=1#reasons-per-home">Show all 26</a>' in reasons
    every = client.get("/coordinator/outcomes?all=1").get_data(as_text=True)
    assert every[every.index('data-testid="reasons-per-home"'):].count("<tr><td>") == 26 and "Show all" not in every
