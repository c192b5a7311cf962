"""The handoff: escort, departure and expected arrival; arrival confirmed by the home; an
arrival not confirmed in time alerts both sides once; one tap opens a missing episode
from the departure time (the usual 24-hour report clock)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import AuditEvent, Handoff, MissingEpisode, Notification, OutboxMessage, Placement
from placement.services import alert_jobs
from placement.timeutil import to_local_input, utcnow

from ..helpers import api_token, bearer, login, post
from .arrival_world import departed, placed

API = "/api/v1"


def _local(user, delta: timedelta) -> str:
    return to_local_input(utcnow() + delta, user.timezone)


def test_departure_then_arrival_confirmed_by_the_home(app, client, factory):
    world, placement = placed(app, factory)
    cw, operator = world.caseworker, world.operators[0]
    login(client, cw)
    page = f"/caseworker/referrals/{world.referral.id}"
    assert 'data-state="waiting"' in client.get(page).get_data(as_text=True)
    response = post(client, f"/caseworker/placements/{placement.id}/departure", {
        "escort_name": "Dana Lee, agency transport", "departed_at": _local(cw, timedelta()),
        "expected_arrival_at": _local(cw, timedelta(hours=2))}, token_from=page)
    assert response.status_code == 302
    assert 'data-state="in_transit"' in client.get(page).get_data(as_text=True)
    factory.session.commit()
    told = factory.session.exec(select(Notification).where(Notification.user_id == operator.id)).all()
    assert any("on the way" in n.message for n in told)
    home_side = app.test_client()
    login(home_side, operator)
    placement_page = f"/provider/placements/{placement.id}"
    assert "Dana Lee, agency transport" in home_side.get(placement_page).get_data(as_text=True)
    assert post(home_side, f"/provider/placements/{placement.id}/arrived", {"arrived_at": ""}, token_from=placement_page).status_code == 302
    row = factory.get(Handoff, factory.session.exec(select(Handoff.id)).one())
    assert row.arrived_at is not None and row.arrival_confirmed_by_id == operator.id
    assert 'data-state="arrived"' in client.get(page).get_data(as_text=True)
    actions = {e.action for e in factory.session.exec(select(AuditEvent)).all()}
    assert {"handoff_departed", "handoff_arrived"} <= actions
    again = post(home_side, f"/provider/placements/{placement.id}/arrived", {"arrived_at": ""}, token_from=placement_page)
    assert again.status_code == 409


def test_bad_departures_are_refused_and_nothing_is_stored(app, client, factory):
    world, placement = placed(app, factory)
    cw = world.caseworker
    login(client, cw)
    page = f"/caseworker/referrals/{world.referral.id}"
    good = {"escort_name": "Dana Lee", "departed_at": _local(cw, timedelta()), "expected_arrival_at": _local(cw, timedelta(hours=1))}
    cases = {
        "no escort": ({**good, "escort_name": ""}, "Name the staff member"),
        "the youth's reference": ({**good, "escort_name": world.referral.case_reference}, "not the youth"),
        "arrival before departure": ({**good, "expected_arrival_at": _local(cw, -timedelta(hours=1))}, "after the departure"),
        "before acceptance": ({**good, "departed_at": _local(cw, -timedelta(days=1))}, "before the home accepted"),
        "future departure": ({**good, "departed_at": _local(cw, timedelta(hours=5)),
                              "expected_arrival_at": _local(cw, timedelta(hours=6))}, "cannot be in the future"),
        "not a time": ({**good, "departed_at": "soon"}, "Enter a date and time"),
    }
    for name, (body, message) in cases.items():
        response = post(client, f"/caseworker/placements/{placement.id}/departure", body, token_from=page)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    assert factory.session.exec(select(Handoff)).first() is None


def test_a_missed_arrival_alerts_both_sides_once(app, factory):
    world, placement = placed(app, factory, started_hours_ago=5)
    late = departed(factory, world, placement, departed_hours_ago=4, expected_hours_ago=2)
    # Within the 60-minute grace: not yet flagged.
    world2, placement2 = placed(app, factory, started_hours_ago=5)
    departed(factory, world2, placement2, departed_hours_ago=2, expected_hours_ago=0.5)
    with app.app_context():
        assert alert_jobs.flag_missed_arrivals(factory.session) == "1 arrivals overdue"
        assert alert_jobs.flag_missed_arrivals(factory.session) == "0 arrivals overdue"
    messages = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "arrival_overdue")).all()
    assert sorted(m.to_address for m in messages) == sorted([world.caseworker.email, world.operators[0].email])
    assert all(m.urgent for m in messages)
    assert world.referral.case_reference not in " ".join(m.body for m in messages)
    assert factory.get(Handoff, late.id).overdue_at is not None


def test_the_grace_period_comes_from_the_configuration(app, factory):
    app.config["ARRIVAL_GRACE_MINUTES"] = 10
    world, placement = placed(app, factory, started_hours_ago=5)
    departed(factory, world, placement, departed_hours_ago=2, expected_hours_ago=0.5)
    with app.app_context():
        assert alert_jobs.flag_missed_arrivals(factory.session) == "1 arrivals overdue"


def test_a_confirmed_arrival_is_never_flagged(app, factory):
    world, placement = placed(app, factory, started_hours_ago=5)
    row = departed(factory, world, placement, departed_hours_ago=4, expected_hours_ago=3)
    row.arrived_at = utcnow() - timedelta(hours=3)
    factory.session.add(row)
    factory.session.commit()
    with app.app_context():
        assert alert_jobs.flag_missed_arrivals(factory.session) == "0 arrivals overdue"


def test_one_tap_records_a_missing_episode_from_the_departure_time(app, client, factory):
    world, placement = placed(app, factory, started_hours_ago=5)
    row = departed(factory, world, placement, departed_hours_ago=4, expected_hours_ago=2)
    login(client, world.caseworker)
    page = f"/caseworker/referrals/{world.referral.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-state="overdue"' in html and "Record missing from care, from the departure time" in html
    response = post(client, f"/caseworker/placements/{placement.id}/missed-arrival", token_from=page)
    assert response.status_code == 302 and "/caseworker/missing/" in response.headers["Location"]
    episode = factory.session.exec(select(MissingEpisode)).one()
    assert episode.last_seen_at == row.departed_at
    assert episode.reports_due_at - episode.reported_at == timedelta(hours=24)
    ended = factory.get(Placement, placement.id)
    assert (ended.end_reason, ended.ended_at) == ("missing", row.departed_at)
    # Nothing can be confirmed or recorded twice afterwards.
    home_side = app.test_client()
    login(home_side, world.operators[0])
    late = post(home_side, f"/provider/placements/{placement.id}/arrived", {"arrived_at": ""},
                token_from=f"/provider/placements/{placement.id}")
    assert late.status_code == 409
    again = post(home_side, f"/provider/placements/{placement.id}/missed-arrival", token_from=f"/provider/placements/{placement.id}")
    assert again.status_code == 409
    assert len(factory.session.exec(select(MissingEpisode)).all()) == 1


def test_the_handoff_through_the_api(app, client, factory):
    world, placement = placed(app, factory, started_hours_ago=3)
    cw, op = bearer(api_token(factory, world.caseworker)), bearer(api_token(factory, world.operators[0]))
    assert client.get(f"{API}/placements/{placement.id}/handoff", headers=op).get_json()["state"] == "waiting"
    bad = client.post(f"{API}/placements/{placement.id}/departure", headers=cw,
                      json={"escort_name": "Dana Lee", "departed_at": "2026-02-30T10:00", "expected_arrival_at": "x"})
    assert bad.status_code in (400, 422)
    done = client.post(f"{API}/placements/{placement.id}/departure", headers=cw, json={
        "escort_name": "Dana Lee", "departed_at": _local(world.caseworker, -timedelta(hours=2)),
        "expected_arrival_at": _local(world.caseworker, -timedelta(minutes=30))})
    assert done.status_code == 201 and done.get_json()["state"] == "in_transit"
    assert client.post(f"{API}/placements/{placement.id}/arrival", headers=cw, json={}).status_code == 403
    arrived = client.post(f"{API}/placements/{placement.id}/arrival", headers=op, json={})
    assert arrived.status_code == 200 and arrived.get_json()["state"] == "arrived"
    missed = client.post(f"{API}/placements/{placement.id}/missed-arrival", headers=cw)
    assert missed.status_code == 409
    stranger = bearer(api_token(factory, factory.user("operator", factory.org("provider", "MO"))))
    assert client.get(f"{API}/placements/{placement.id}/handoff", headers=stranger).status_code == 404


def test_the_demo_has_a_youth_in_transit_and_a_missed_arrival_for_the_scheduler(app, factory, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    factory.session.expire_all()
    rows = factory.session.exec(select(Handoff).order_by(Handoff.id)).all()
    assert len(rows) == 2 and all(r.arrived_at is None for r in rows)
    with app.app_context():
        assert alert_jobs.flag_missed_arrivals(factory.session) == "1 arrivals overdue"
    factory.session.expire_all()
    assert [r.overdue_at is not None for r in factory.session.exec(select(Handoff).order_by(Handoff.id)).all()] == [False, True]
