"""How good a matcher run is (the shortfall of a run not proven best, a longer re-run)
and where one more bed helps most (page, background job, audited CSV)."""
from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from placement.models import AuditEvent, MatcherRun

from ..helpers import login, make_referral, post

SECRET_ADDRESS = "12 Hidden Impact Lane"


@pytest.fixture()
def world(factory):
    """MO: one home with room for one youth, and an emergency and an urgent youth who both fit it."""
    provider = factory.org("provider", "MO", name="Impact Test Homes")
    home = factory.home(provider, name="Only House", street_address=SECRET_ADDRESS, county="Boone",
                        availability={"open_beds": 1, "staff_on_duty": 2, "youth_per_staff": 2, "current_youth": 0})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    make_referral(factory, caseworker, case_reference="MO-IMP-EMERG", urgency="emergency")
    make_referral(factory, caseworker, case_reference="MO-IMP-URGENT", urgency="urgent")
    return {"home": home, "coordinator": factory.user("coordinator", factory.org("coordinator_office", "MO"))}


def _run(factory, client, data: dict | None = None) -> MatcherRun:
    response = post(client, "/coordinator/runs", data or {}, token_from="/coordinator/runs")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return factory.get(MatcherRun, int(response.headers["Location"].rsplit("/", 1)[1]))


def _audits(factory, action: str) -> list[AuditEvent]:
    factory.session.commit()
    return list(factory.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_proven_run_shows_no_shortfall(client, factory, world):
    login(client, world["coordinator"])
    run = _run(factory, client)
    assert run.result["status"] == "optimal" and run.time_limit == 20
    html = client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    assert 'data-testid="shortfall"' not in html and "best possible set of placements (proven)" in html


def test_a_run_not_proven_says_per_tier_how_many_more_might_be_placed_and_reruns_longer(client, factory, world):
    login(client, world["coordinator"])
    run = _run(factory, client)
    # As a run stopped by its limit would store it: 0 urgent placed, at most 2 more.
    stopped = dict(run.result, status="feasible",
                   levels=[dict(level, bound=level["value"] + 2) if level["name"] == "urgent" else level
                           for level in run.result["levels"]])
    run.result = stopped
    factory.session.add(run)
    factory.session.commit()
    html = client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    assert 'data-testid="shortfall"' in html and "time limit of 20 seconds" in html
    assert "0 urgent placed; up to 2 more urgent youths might still be placeable." in html
    assert 'data-testid="shortfall-emergency"' not in html  # proven tiers are not listed
    assert 'name="time_limit" value="60.0"' in html and "Run again with 60 seconds" in html
    longer = _run(factory, client, {"state": "MO", "time_limit": "60"})
    assert longer.time_limit == 60 and longer.status == "done"
    assert any("time limit 60 s" in event.detail for event in _audits(factory, "matcher_run_started"))


def test_a_time_limit_beyond_the_longest_is_refused(client, factory, world):
    login(client, world["coordinator"])
    response = post(client, "/coordinator/runs", {"time_limit": "3600"}, token_from="/coordinator/runs")
    assert response.status_code == 400
    assert factory.session.exec(select(MatcherRun)).first() is None


def test_where_one_more_bed_helps_most_lists_the_home_and_the_youth_and_exports_audited_csv(client, factory, world):
    login(client, world["coordinator"])
    run = _run(factory, client)
    page = f"/coordinator/runs/{run.id}/beds"
    assert f'href="{page}"' in client.get(f"/coordinator/runs/{run.id}").get_data(as_text=True)
    html = client.get(page).get_data(as_text=True)
    assert 'data-status="none"' in html and "Work it out" in html
    response = post(client, page, {})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert factory.get(MatcherRun, run.id).impact["status"] == "done"  # jobs run at once in tests
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="bed-impact-done"' in html
    assert "Only House (Columbia, MO)" in html and "one more staffed bed" in html and "MO-IMP-URGENT" in html
    assert SECRET_ADDRESS not in html and "MO-IMP-EMERG" not in html  # placed already: not served by a new bed
    assert _audits(factory, "bed_impact_started") and _audits(factory, "bed_impact_viewed")
    exported = client.get(f"/coordinator/export/bed-impact.csv?run={run.id}")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:4] == ["Rank", "Home", "Change", "Places added"]
    assert rows[1][1:] == ["Only House (Columbia, MO)", "one more staffed bed", "1", "0", "1", "0", "MO-IMP-URGENT"]
    assert any(f"run {run.id}" in event.detail for event in _audits(factory, "export"))


def test_bed_impact_of_an_unfinished_run_is_refused_with_the_reason(client, factory, world):
    run = MatcherRun(state="MO", started_by_id=world["coordinator"].id, status="running", progress=40)
    factory.session.add(run)
    factory.session.commit()
    login(client, world["coordinator"])
    response = post(client, f"/coordinator/runs/{run.id}/beds", {}, token_from=f"/coordinator/runs/{run.id}/beds",
                    follow_redirects=True)
    assert "can only be worked out from a finished run" in response.get_data(as_text=True)
    assert factory.get(MatcherRun, run.id).impact is None
