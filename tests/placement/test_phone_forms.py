"""Phone-first forms: times compared to the minute shown, values kept after an error,
the ICPC field re-rendered as typed, the custody state defaulting to the agency's."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from placement.models import Placement, Referral
from placement.timeutil import clock, utcnow

from ..helpers import REFERRAL_FORM, login, post
from .lifecycle_world import local, make_world, place, report_missing


def test_the_minute_the_placement_began_is_not_before_it(client, factory):
    world = make_world(factory)
    placement = factory.get(Placement, world.placement.id)
    placement.started_at = placement.started_at.replace(second=40, microsecond=0)
    factory.session.commit()
    login(client, world.operator)
    # The screen shows the start to the minute; that same minute is accepted.
    assert report_missing(client, world, placement.started_at.replace(second=0)).status_code == 302


def test_a_minute_before_the_placement_began_is_refused(client, factory):
    world = make_world(factory)
    placement = factory.get(Placement, world.placement.id)
    login(client, world.operator)
    response = report_missing(client, world, placement.started_at.replace(second=0) - timedelta(minutes=1))
    assert response.status_code == 422 and "before the placement began" in response.get_data(as_text=True)


def test_a_refused_time_comes_back_in_its_field_with_the_error_on_both_sides(app, factory):
    world = make_world(factory)
    typed = local(utcnow() + timedelta(hours=2))
    for user, side in ((world.caseworker, "caseworker"), (world.operator, "provider")):
        client = app.test_client()
        login(client, user)
        response = post(client, f"/{side}/placements/{world.placement.id}/missing", {"last_seen_at": typed},
                        token_from="/account/password")
        html = response.get_data(as_text=True)
        assert response.status_code == 422, side
        assert f'value="{typed}"' in html, side
        assert "cannot be in the future" in html and 'id="last_seen_at-error-1"' in html, side


def test_the_custody_state_starts_as_the_agencys_own(client, factory):
    login(client, factory.user("caseworker", factory.org("agency", "KS")))
    html = client.get("/caseworker/referrals/new").get_data(as_text=True)
    assert '<option selected value="KS">' in html
    assert "Johnson County, KS" in html  # the place list is the agency's state's


def test_the_icpc_field_comes_back_as_typed_after_an_error(client, factory):
    login(client, factory.user("caseworker"))
    for typed in ("", "ks, il"):
        response = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "age": "99", "icpc_approved_states": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert f'name="icpc_approved_states" type="text" value="{typed}"' in html and "[]" not in html
    # And the next submit, corrected, goes through with the states parsed.
    assert post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "icpc_approved_states": "ks, il"}).status_code == 302
    assert factory.session.exec(select(Referral)).one().icpc_approved_states == ["IL", "KS"]


def test_an_unknown_or_ambiguous_place_says_what_to_do(client, factory):
    login(client, factory.user("caseworker"))
    unknown = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "place": "Atlantis"}).get_data(as_text=True)
    assert "No county, city or ZIP code" in unknown and 'value="Atlantis"' in unknown
    several = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "place": "Kansas City"}).get_data(as_text=True)
    assert "Several places match: Kansas City (Clay County), MO;" in several


def test_missing_episodes_list_overdue_first(client, factory):
    world = make_world(factory)
    clock.advance(-timedelta(days=2))
    _, second = place(factory, world.caseworker, world.home, world.operator, case_reference="MO-SECOND-1")
    clock.advance(timedelta(days=2))
    login(client, world.operator)
    report_missing(client, world, utcnow() - timedelta(hours=2))  # reported first: listed last by default
    clock.advance(timedelta(hours=2))
    login(client, world.operator)  # two idle hours end a session
    post(client, f"/provider/placements/{second.id}/missing", {"last_seen_at": local(utcnow() - timedelta(hours=1))},
         token_from="/account/password")
    clock.advance(timedelta(hours=23))  # the first is now overdue, the second has an hour left
    login(client, world.caseworker)
    html = client.get("/caseworker/missing").get_data(as_text=True)
    assert "reports overdue" in html
    assert html.index(world.referral.case_reference) < html.index("MO-SECOND-1")
