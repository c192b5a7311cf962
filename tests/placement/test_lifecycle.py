"""Placements that end: discharge, transfer, missing episodes, the 24-hour clock, return, outcomes."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from placement.services.solver_inputs import solver_home, solver_referral
from placement.models import (
    MISSING_REPORT_KINDS,
    AvailabilityUpdate,
    Home,
    MissingEpisode,
    MissingReport,
    Notification,
    Placement,
    PlacementRequest,
    Referral,
)
from placement.services import booking, lifecycle, outcomes
from placement.services.homes import status
from placement.timeutil import clock, utcnow
from solver.fit import fit_points

from ..helpers import login, make_referral, post
from .lifecycle_world import World, episode_of, local, make_world, place, report_missing

@pytest.fixture()
def world(factory) -> World:
    return make_world(factory)


def room(factory, home: Home) -> int:
    factory.session.expire_all()
    return status(factory.session, factory.get(Home, home.id)).room


# Ending a placement -------------------------------------------------------------------

def test_operator_discharge_gives_the_bed_back_and_tells_the_caseworker(client, factory, world, login_as):
    before = room(factory, world.home)
    login_as(world.operator)
    response = post(client, f"/provider/placements/{world.placement.id}/end", {"reason": "discharge", "note": "Reunified"})
    assert response.status_code == 302
    placement = factory.get(Placement, world.placement.id)
    assert (placement.end_reason, placement.ended_by_id, placement.end_note) == ("discharge", world.operator.id, "Reunified")
    assert room(factory, world.home) == before + 1
    assert factory.get(Referral, world.referral.id).status == "closed"
    notes = factory.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert any("ended (discharge)" in note.message for note in notes)


def test_caseworker_transfer_reopens_the_referral_and_a_disruption_is_counted(client, factory, world, login_as):
    login_as(world.caseworker)
    response = post(client, f"/caseworker/placements/{world.placement.id}/end",
                    {"reason": "transfer", "disruption_reason": "safety"}, token_from=f"/caseworker/referrals/{world.referral.id}")
    assert response.status_code == 302
    assert factory.get(Placement, world.placement.id).disruption_reason == "safety"
    assert factory.get(Referral, world.referral.id).status == "open"
    counts = outcomes.reasons_per_home(factory.session, [world.home])
    assert counts[0].disruptions["safety"] == 1


def test_ending_twice_or_in_the_future_changes_nothing(client, factory, world, login_as):
    login_as(world.operator)
    path = f"/provider/placements/{world.placement.id}/end"
    rows = len(factory.session.exec(select(AvailabilityUpdate)).all())
    future = post(client, path, {"reason": "discharge", "ended_at": local(utcnow() + timedelta(hours=2))})
    assert future.status_code == 422 and "cannot be in the future" in future.get_data(as_text=True)
    assert factory.get(Placement, world.placement.id).ended_at is None
    assert post(client, path, {"reason": "discharge"}).status_code == 302
    again = post(client, path, {"reason": "transfer"}, token_from="/account/password")
    assert again.status_code == 409 and "already ended" in again.get_data(as_text=True)
    assert factory.get(Placement, world.placement.id).end_reason == "discharge"
    assert len(factory.session.exec(select(AvailabilityUpdate)).all()) == rows + 1


# Missing: the clock and the kept bed ---------------------------------------------------------

def test_missing_report_starts_a_24_hour_clock_and_keeps_the_bed_for_72_hours(client, factory, world, login_as):
    before = room(factory, world.home)
    login_as(world.operator)
    response = report_missing(client, world, utcnow() - timedelta(hours=2))
    assert response.status_code == 302
    episode = episode_of(factory, world)
    assert episode.reports_due_at - episode.reported_at == timedelta(hours=24)
    assert factory.get(Placement, world.placement.id).end_reason == "missing"
    assert factory.get(Referral, world.referral.id).has_run_before is True
    # The youth's place is out of the home but kept: nobody else can take it.
    assert room(factory, world.home) == before
    page = client.get(f"/provider/placements/{world.placement.id}").get_data(as_text=True)
    assert "23 h 59 min left" in page or "24 h 00 min left" in page
    assert "kept for this youth until" in page
    clock.advance(timedelta(hours=71, minutes=50))
    assert room(factory, world.home) == before
    clock.advance(timedelta(minutes=11))
    assert room(factory, world.home) == before + 1  # lapsed by itself, no job needed
    login_as(world.operator)  # the session idled out over those hours
    assert "The kept bed has returned to availability" in client.get(f"/provider/placements/{world.placement.id}").get_data(as_text=True)


def test_bed_keeping_period_comes_from_config(app_config, factory):
    from placement import create_app

    app = create_app({**app_config, "BED_KEEP_HOURS": 2})
    client = app.test_client()
    w = make_world(factory)
    before = room(factory, w.home)
    login(client, w.operator)
    assert report_missing(client, w, utcnow() - timedelta(minutes=5)).status_code == 302
    clock.advance(timedelta(hours=1, minutes=59))
    assert room(factory, w.home) == before
    clock.advance(timedelta(minutes=2))
    assert room(factory, w.home) == before + 1
    app.extensions["safebed_engine"].dispose()


def test_operator_releases_the_kept_bed_early(client, factory, world, login_as):
    before = room(factory, world.home)
    login_as(world.operator)
    report_missing(client, world, utcnow() - timedelta(hours=1))
    episode = episode_of(factory, world)
    assert post(client, f"/provider/missing/{episode.id}/release-bed", {}, token_from="/account/password").status_code == 302
    assert room(factory, world.home) == before + 1
    again = post(client, f"/provider/missing/{episode.id}/release-bed", {}, token_from="/account/password")
    assert again.status_code == 409


def test_the_caseworker_cannot_release_a_kept_bed_as_if_it_were_a_hold(client, factory, world, login_as):
    login_as(world.caseworker)
    report_missing(client, world, utcnow() - timedelta(hours=1), side="caseworker")
    episode = episode_of(factory, world)
    page = client.get(f"/caseworker/referrals/{world.referral.id}").get_data(as_text=True)
    assert 'data-testid="active-hold"' not in page and f'data-testid="episode-{episode.id}"' in page
    response = post(client, f"/caseworker/referrals/{world.referral.id}/holds/{episode.bed_hold_id}/release", {},
                    token_from="/account/password")
    assert response.status_code == 409
    assert factory.get(Referral, world.referral.id).status == "closed"
    assert lifecycle.kept_bed(factory.session, episode_of(factory, world)) is not None


@pytest.mark.parametrize(
    ("recorded_utc", "due_local"),
    [
        # Clocks fall back at 02:00 CDT on 1 Nov 2026: the deadline reads 23:00 on the wall clock.
        (datetime(2026, 11, 1, 5, 0, tzinfo=timezone.utc), "Nov 01, 23:00 CST"),
        # Clocks spring forward at 02:00 CST on 8 Mar 2026: the deadline reads 01:00 the day after next.
        (datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc), "Mar 09, 01:00 CDT"),
    ],
)
def test_the_24_hour_clock_is_24_real_hours_across_daylight_saving(client, factory, recorded_utc, due_local, login_as):
    clock.advance(recorded_utc - timedelta(days=20) - clock.now())
    w = make_world(factory)
    clock.advance(recorded_utc - clock.now())
    login_as(w.operator)
    assert report_missing(client, w, recorded_utc - timedelta(minutes=30)).status_code == 302
    episode = episode_of(factory, w)
    assert episode.reports_due_at - episode.reported_at == timedelta(hours=24)
    assert abs(episode.reports_due_at - (recorded_utc + timedelta(hours=24))) < timedelta(seconds=30)
    assert due_local in client.get(f"/provider/placements/{w.placement.id}").get_data(as_text=True)
    clock.advance(timedelta(hours=23, minutes=30))
    text = lifecycle.clock_for(factory.session, episode).text
    assert text.startswith("0 h 29 min left") or text.startswith("0 h 30 min left")


def test_overdue_reports_are_flagged_once_to_the_caseworker_and_counted(client, factory, world, login_as):
    login_as(world.operator)
    report_missing(client, world, utcnow() - timedelta(hours=1))
    clock.advance(timedelta(hours=25))
    assert lifecycle.flag_overdue(factory.session) == 1
    assert lifecycle.flag_overdue(factory.session) == 0
    notes = factory.session.exec(select(Notification).where(Notification.user_id == world.caseworker.id)).all()
    assert sum("OVERDUE" in note.message for note in notes) == 1
    figures = outcomes.report_figures(factory.session, outcomes.custody_in("MO"))
    assert (figures.open_episodes, figures.overdue_now) == (1, 1)
    coordinator = factory.app.test_client()
    login_as(factory.user("coordinator", factory.org("coordinator_office", "MO")), coordinator)
    assert 'data-testid="dashboard-overdue">1<' in coordinator.get("/coordinator/").get_data(as_text=True)
    cw = factory.app.test_client()
    login_as(world.caseworker, cw)
    page = cw.get("/caseworker/missing").get_data(as_text=True)
    assert "reports overdue" in page and "overdue by 1 h" in page


# Reports, return and screening -----------------------------------------------------------------

def test_whole_missing_episode_from_report_to_reopened_referral(client, factory, world, login_as):
    seen = utcnow() - timedelta(hours=3)
    login_as(world.caseworker)
    assert report_missing(client, world, seen, side="caseworker").status_code == 302
    episode = episode_of(factory, world)
    page = f"/caseworker/missing/{episode.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="report-clock"' in html and "Law enforcement: not yet made" in html
    for kind, number in (("law_enforcement", "KCPD-26-1042"), ("ncmec", "NCMEC-1887342")):
        made = local(utcnow() - timedelta(minutes=30))
        response = post(client, f"{page}/reports", {"kind": kind, "made_at": made, "report_number": number, "made_by": "Test caseworker"}, token_from=page)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert "both reports made" in client.get(page).get_data(as_text=True)
    clock.advance(timedelta(hours=20))
    login_as(world.caseworker)  # the session idled out over those hours
    located = {"located_at": local(utcnow() - timedelta(hours=1)), "located_county": "Jackson", "located_by": "law_enforcement"}
    assert post(client, f"{page}/located", located, token_from=page).status_code == 302
    screening = {"exploited": "unsure", "health": "routine", "services": ["medical", "advocate"], "reopen": "y"}
    assert post(client, f"{page}/screening", screening, token_from=page).status_code == 302
    episode = episode_of(factory, world)
    assert episode.closed_at is not None and episode.screening_services == ["advocate", "medical"]
    assert (episode.located_county, episode.located_by) == ("Jackson", "law_enforcement")
    referral = factory.get(Referral, world.referral.id)
    # Emergency stays emergency; still within 72 hours, so the kept bed is the reopened referral's hold.
    assert (referral.status, referral.urgency, referral.has_run_before) == ("held", "emergency", True)
    assert booking.effective_status(factory.session, referral) == "held"


def test_reopening_raises_urgency_and_the_matcher_prefers_crisis_homes(factory):
    w = make_world(factory, urgency="planned")
    session = factory.session
    episode = lifecycle.report_missing(session, w.caseworker, w.placement, utcnow() - timedelta(hours=1), 0)
    for kind in ("law_enforcement", "ncmec"):
        lifecycle.record_report(session, w.caseworker, episode, kind, utcnow(), "N-1", "Test")
    lifecycle.record_located(session, w.caseworker, episode, utcnow(), "Boone", "self")
    lifecycle.record_screening(session, w.caseworker, episode, "no", "none", ["counseling"], reopen=True)
    referral = factory.get(Referral, w.referral.id)
    assert (referral.status, referral.urgency, referral.has_run_before) == ("open", "urgent", True)
    crisis = solver_home(status(session, w.home))
    other = crisis.__class__(**{**crisis.__dict__, "program": "long_term"})
    assert solver_referral(referral).has_run_before
    assert fit_points(crisis, solver_referral(referral)) > fit_points(other, solver_referral(referral))


def test_bad_input_is_refused_with_nothing_changed(client, factory, world, login_as):
    login_as(world.caseworker)
    path = f"/caseworker/placements/{world.placement.id}/missing"
    token_page = f"/caseworker/referrals/{world.referral.id}"
    future = post(client, path, {"last_seen_at": local(utcnow() + timedelta(hours=1))}, token_from=token_page)
    assert future.status_code == 422 and "cannot be in the future" in future.get_data(as_text=True)
    early = post(client, path, {"last_seen_at": local(world.placement.started_at - timedelta(days=1))}, token_from=token_page)
    assert early.status_code == 422 and "before the placement began" in early.get_data(as_text=True)
    empty = post(client, path, {"last_seen_at": ""}, token_from=token_page)
    assert empty.status_code == 422
    assert factory.session.exec(select(MissingEpisode)).first() is None
    assert factory.get(Placement, world.placement.id).ended_at is None

    assert report_missing(client, world, utcnow() - timedelta(hours=1), side="caseworker").status_code == 302
    episode = episode_of(factory, world)
    page = f"/caseworker/missing/{episode.id}"
    # Screening before the youth is located, or without answers: refused.
    unanswered = post(client, f"{page}/located", {"located_at": local(utcnow()), "located_county": "Boone", "located_by": "family"}, token_from=page)
    assert unanswered.status_code == 302
    twice = post(client, f"{page}/located", {"located_at": local(utcnow()), "located_county": "Cole", "located_by": "self"}, token_from=page)
    assert twice.status_code == 409 and "already recorded" in twice.get_data(as_text=True)
    assert episode_of(factory, world).located_county == "Boone"
    incomplete = post(client, f"{page}/screening", {"exploited": "", "health": "none"}, token_from=page)
    assert incomplete.status_code == 422 and "screening is incomplete" in incomplete.get_data(as_text=True)
    no_reports = post(client, f"{page}/screening", {"exploited": "no", "health": "none", "services": ["declined"]}, token_from=page)
    assert no_reports.status_code == 409 and "Law enforcement and NCMEC report" in no_reports.get_data(as_text=True)
    assert episode_of(factory, world).closed_at is None
    for kind in ("law_enforcement", "ncmec"):
        lifecycle.record_report(factory.session, world.caseworker, episode_of(factory, world), kind, utcnow(), "R-1", "Test")
    assert post(client, f"{page}/screening", {"exploited": "no", "health": "none", "services": ["declined"]}, token_from=page).status_code == 302
    closed = post(client, f"{page}/reports", {"kind": "ncmec", "made_at": local(utcnow()), "report_number": "X-9", "made_by": "Me"}, token_from="/account/password")
    assert closed.status_code == 409 and "episode is closed" in closed.get_data(as_text=True)
    assert len(factory.session.exec(select(MissingReport)).all()) == 2


def test_report_time_before_last_seen_and_duplicate_report_refused(client, factory, world, login_as):
    login_as(world.caseworker)
    report_missing(client, world, utcnow() - timedelta(hours=1), side="caseworker")
    episode = episode_of(factory, world)
    page = f"/caseworker/missing/{episode.id}"
    early = post(client, f"{page}/reports", {"kind": "ncmec", "made_at": local(utcnow() - timedelta(hours=5)), "report_number": "N-1", "made_by": "Me"}, token_from=page)
    assert early.status_code == 422 and "before the youth was last seen" in early.get_data(as_text=True)
    assert post(client, f"{page}/reports", {"kind": "ncmec", "made_at": local(utcnow()), "report_number": "N-1", "made_by": "Me"}, token_from=page).status_code == 302
    duplicate = post(client, f"{page}/reports", {"kind": "ncmec", "made_at": local(utcnow()), "report_number": "N-2", "made_by": "Me"}, token_from=page)
    assert duplicate.status_code == 409
    assert [r.report_number for r in factory.session.exec(select(MissingReport)).all()] == ["N-1"]


# Roles -------------------------------------------------------------------------------------------

def test_roles_and_organisations(client, factory, world, login_as):
    login_as(world.operator)
    report_missing(client, world, utcnow() - timedelta(hours=1))
    episode = episode_of(factory, world)
    # Operators see the clock but record no reports, returns or screenings.
    assert client.get(f"/caseworker/missing/{episode.id}").status_code == 403
    assert post(client, f"/caseworker/missing/{episode.id}/reports", {"kind": "ncmec"}, token_from="/account/password").status_code == 403
    other_operator = factory.app.test_client()
    login_as(factory.user("operator", factory.org("provider", "MO")), other_operator)
    assert other_operator.get(f"/provider/placements/{world.placement.id}").status_code == 404
    assert post(other_operator, f"/provider/missing/{episode.id}/release-bed", {}, token_from="/account/password").status_code == 404
    other_caseworker = factory.app.test_client()
    login_as(factory.user("caseworker", factory.org("agency", "MO")), other_caseworker)
    assert other_caseworker.get(f"/caseworker/missing/{episode.id}").status_code == 404
    assert "No youth of your agency is missing" in other_caseworker.get("/caseworker/missing").get_data(as_text=True)
    coordinator = factory.app.test_client()
    login_as(factory.user("coordinator", factory.org("coordinator_office", "MO")), coordinator)
    assert coordinator.get(f"/provider/placements/{world.placement.id}").status_code == 403
    html = coordinator.get("/coordinator/outcomes").get_data(as_text=True)
    assert 'data-testid="open-episodes">1<' in html


# Outcomes -----------------------------------------------------------------------------------------

def seeded_history(factory, genders: list[str], ends: list[tuple[int | None, str]], **home_fields) -> World:
    """Placements that began 100 days ago; ends[i] = (day it ended or None, how)."""
    start = utcnow() - timedelta(days=100)
    clock.advance(start - clock.now())
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, licensed_beds=12, genders=["female", "male", "nonbinary"],
                        availability={"open_beds": 10, "staff_on_duty": 5, "youth_per_staff": 3, "current_youth": 0}, **home_fields)
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    placements = []
    for gender in genders:
        placements.append(place(factory, caseworker, home, operator, gender=gender))
    for (referral, placement), (day, how) in zip(placements, ends):
        if day is None:
            continue
        clock.advance(start + timedelta(days=day) - clock.now())
        if how == "missing":
            lifecycle.report_missing(factory.session, operator, placement, utcnow() - timedelta(hours=1), 72)
        else:
            lifecycle.end_placement(factory.session, operator, placement, how, utcnow())
    clock.reset()
    return World(operator, caseworker, home, *placements[0])


def test_outcome_figures_on_a_seeded_history(client, factory, login_as):
    ends = [(3, "missing"), (5, "missing"), (20, "discharge"), (None, ""), (None, ""), (None, ""), (60, "transfer")]
    seeded_history(factory, ["female"] * 7, ends)
    items = outcomes.placement_outcomes(factory.session, Referral.custody_state == "MO")
    assert [item.in_place[7] for item in items] == [False, False, True, True, True, True, True]
    assert sum(item.missing_episodes for item in items) == 2
    total = outcomes._row("All", items)
    assert (total.stayed[7].percent, total.stayed[30].percent, total.stayed[90].percent) == (71, 57, 43)
    assert str(total.ended_missing) == "29% of 7"
    login_as(factory.user("coordinator", factory.org("coordinator_office", "MO")))
    html = client.get("/coordinator/outcomes").get_data(as_text=True)
    assert "Crisis stabilization" in html and "71% of 7" in html and "43% of 7" in html
    assert "Small group home" not in html and "Larger group home (7+ beds)" in html


def test_a_placement_too_young_to_tell_is_left_out_of_the_rate(factory):
    w = make_world(factory)
    [item] = outcomes.placement_outcomes(factory.session, Referral.id == w.referral.id)
    assert item.in_place == {7: None, 30: None, 90: None}
    assert str(outcomes._row("x", [item]).stayed[7]) == "no data yet"


def test_in_place_at_each_span_to_the_second():
    """A youth is in place `day` days on unless the placement ended before that moment;
    None until the moment comes. For each of DAYS, either side of it."""
    start = datetime(2026, 3, 1, 9, 30)
    second = timedelta(seconds=1)
    for day in outcomes.DAYS:
        mark = start + timedelta(days=day)
        stays = outcomes.PlacementFacts(1, start, None, None, None, None)
        assert outcomes.in_place_at(stays, day, mark - second) is None
        assert outcomes.in_place_at(stays, day, mark) is True
        assert outcomes.in_place_at(stays._replace(ended_at=mark), day, mark) is True
        assert outcomes.in_place_at(stays._replace(ended_at=mark - second), day, mark - second) is False


def test_equity_view_hides_small_cells(client, factory, login_as):
    ends = [(3, "missing")] + [(None, "")] * 5 + [(2, "missing"), (None, "")]
    seeded_history(factory, ["female"] * 6 + ["male"] * 2, ends)
    login_as(factory.user("coordinator", factory.org("coordinator_office", "MO")))
    html = client.get("/coordinator/outcomes").get_data(as_text=True)
    gender = html[html.index('data-testid="equity-1"'):]
    gender = gender[:gender.index("</table>")]
    assert "<td>Female</td><td>6</td>" in gender and "83% of 6" in gender
    male = gender[gender.index("<td>Male</td>"):]
    male = male[:male.index("</tr>")]
    assert "fewer than 5" in male and "%" not in male
    # The repeat-missing list and report counts carry no group split at all.
    assert "50%" not in html  # the male 7-day rate (1 of 2) appears nowhere


def test_provider_sees_its_criteria_next_to_criteria_mismatch_declines(client, factory, login_as):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, min_age=12, max_age=17)
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for age in (14, 15):
        referral = make_referral(factory, caseworker, age=age)
        request = booking.request_placement(factory.session, caseworker, referral, home.id)
        booking.decline(factory.session, operator, request, "criteria_mismatch")
    login_as(operator)
    html = client.get("/provider/feedback").get_data(as_text=True)
    assert 'data-testid="criteria-warning"' in html and "declined 2 youths" in html
    assert "accepted by your criteria" in html and 'data-testid="own-criteria"' in html
    assert client.get("/provider/placements").status_code == 200


def test_demo_history_is_added_once_and_fills_the_outcome_pages(factory, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    session = factory.session

    def counts():
        session.expire_all()
        return tuple(len(session.exec(select(model)).all()) for model in (Placement, MissingEpisode, MissingReport, PlacementRequest))

    before = counts()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert counts() == before
    placements, episodes, reports, _ = before
    assert placements >= 150 and episodes >= 20 and reports >= 2 * episodes - 10
    view = outcomes.coordinator_view(session, "MO")
    assert view["total"].placements >= 50 and view["total"].stayed[30].shown
    assert view["reports"].overdue_now >= 1 and view["repeat_missing"]
    for title, rows in view["equity"]:
        assert any(not row.hidden for row in rows), title
    flagged = runner.invoke(args=["flag-overdue"])
    assert flagged.exit_code == 0 and "3 missing episode(s) with overdue reports flagged" in flagged.output
    assert "0 missing episode(s)" in runner.invoke(args=["flag-overdue"]).output


def test_report_figures_count_open_overdue_and_late_reports_at_their_edges(factory):
    ends = [(3, "missing"), (5, "missing"), (20, "missing"), (40, "missing"), (100, "missing")]
    world = seeded_history(factory, ["female"] * 5, ends)
    on_time, overdue, one_late, closed, fresh = factory.session.exec(select(MissingEpisode).order_by(MissingEpisode.id)).all()
    law, ncmec = MISSING_REPORT_KINDS
    made = [
        (on_time, law, on_time.reports_due_at),  # made at the deadline itself: not late
        (on_time, ncmec, on_time.reports_due_at - timedelta(hours=1)),
        (overdue, law, overdue.reports_due_at + timedelta(seconds=1)),  # late, and NCMEC never made
        (one_late, law, one_late.reports_due_at - timedelta(hours=2)),
        (one_late, ncmec, one_late.reports_due_at + timedelta(hours=5)),
    ]
    for number, (episode, kind, at) in enumerate(made):
        factory.session.add(MissingReport(episode_id=episode.id, kind=kind, made_at=at, report_number=f"R-{number}",
                                          made_by="Test", recorded_by_id=world.operator.id))
    # Closed with no report made: neither open nor overdue.
    closed.located_at = closed.screened_at = closed.closed_at = utcnow()
    closed.located_county, closed.located_by = "Jackson", "law_enforcement"
    closed.screening_exploited, closed.screening_health = "no", "none"
    factory.session.add(closed)
    factory.session.commit()
    assert fresh.reports_due_at > utcnow()  # open, its deadline still ahead
    figures = outcomes.report_figures(factory.session, outcomes.custody_in("MO"))
    assert (figures.open_episodes, figures.overdue_now, figures.late_reports) == (4, 1, 2)
    # The same as each episode's own clock says.
    episodes = factory.session.exec(select(MissingEpisode)).all()
    clocks = lifecycle.clocks_for(factory.session, episodes)
    assert figures.overdue_now == sum(e.closed_at is None and clocks[e.id].is_overdue for e in episodes)
    assert figures.late_reports == sum(len(clocks[e.id].late) for e in episodes)
    assert outcomes.report_figures(factory.session, outcomes.custody_in("KS")) == outcomes.ReportFigures(0, 0, 0)


def test_report_figures_count_what_each_episodes_clock_says_on_random_episodes(factory):
    """The database's counts (outcomes.report_figures) against each episode's Clock, on
    random deadlines, reports (none, one or both, made before, at or after the deadline)
    and closed episodes: the two must apply the one rule."""
    seeded_history(factory, ["female"] * 8, [(day, "missing") for day in range(2, 18, 2)])
    episodes = factory.session.exec(select(MissingEpisode).order_by(MissingEpisode.id)).all()
    operator_id = factory.session.exec(select(MissingEpisode.reported_by_id)).first()
    rng = random.Random(24)
    now = utcnow().replace(microsecond=0)
    hours = [-30, -24, -1, 0, 1, 24]  # around `now` and around the deadline, the edges included
    for _ in range(8):
        for report in factory.session.exec(select(MissingReport)).all():
            factory.session.delete(report)
        factory.session.flush()
        for episode in episodes:
            episode.reports_due_at = now + timedelta(hours=rng.choice(hours))
            closed = rng.random() < 0.3
            episode.located_at = episode.screened_at = episode.closed_at = now if closed else None
            episode.located_county, episode.located_by = ("Jackson", "law_enforcement") if closed else (None, None)
            episode.screening_exploited, episode.screening_health = ("no", "none") if closed else (None, None)
            factory.session.add(episode)
            for number, kind in enumerate(MISSING_REPORT_KINDS):
                if rng.random() < 0.6:
                    factory.session.add(MissingReport(
                        episode_id=episode.id, kind=kind, made_at=episode.reports_due_at + timedelta(hours=rng.choice(hours)),
                        report_number=f"R-{episode.id}-{number}", made_by="Test", recorded_by_id=operator_id))
        factory.session.commit()
        clocks = lifecycle.clocks_for(factory.session, episodes, now)
        figures = outcomes.report_figures(factory.session, outcomes.custody_in("MO"), now)
        assert figures == outcomes.ReportFigures(
            sum(e.closed_at is None for e in episodes),
            sum(e.closed_at is None and clocks[e.id].is_overdue for e in episodes),
            sum(len(clocks[e.id].late) for e in episodes),
        )
