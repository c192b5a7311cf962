"""A home's street address is disclosed to the caseworker only while the placement lasts (issue 17).

After a discharge, a transfer, or a missing episode that was closed, the caseworker keeps
the home's name and intake phone on the referral page and in the API, never the address;
the home's operators still see it. While a youth is missing (episode open) it stays.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from placement.models import Home
from placement.services import lifecycle
from placement.timeutil import utcnow

from ..helpers import api_token, bearer, login
from .lifecycle_world import episode_of, make_world

ADDRESS = "12 Secret Test Lane"


def _sees(app, factory, w, user=None) -> dict:
    """What the caseworker's referral page and API answer show of the home."""
    user = user or w.caseworker
    client = app.test_client()
    login(client, user)
    page = client.get(f"/caseworker/referrals/{w.referral.id}").get_data(as_text=True)
    api = app.test_client().get(f"/api/v1/referrals/{w.referral.id}", headers=bearer(api_token(factory, user))).get_json()
    placement = api["placement"]
    return {
        "page address": ADDRESS in page, "page name": w.home.name in page, "page phone": "555-0100" in page,
        "api address": placement["street_address"] == ADDRESS, "api name": placement["home_name"] == w.home.name,
        "api phone": placement["contact_phone"] == "555-0100",
    }


LIVE = {"page address": True, "page name": True, "page phone": True, "api address": True, "api name": True, "api phone": True}
ENDED = {**LIVE, "page address": False, "api address": False}


def _operator_sees_address(app, w) -> bool:
    client = app.test_client()
    login(client, w.operator)
    return ADDRESS in client.get(f"/provider/homes/{w.home.id}/edit").get_data(as_text=True) or \
        ADDRESS in client.get(f"/provider/placements/{w.placement.id}").get_data(as_text=True)


@pytest.mark.parametrize("reason", ["discharge", "transfer"])
def test_the_address_ends_with_a_planned_end(app, factory, reason):
    w = make_world(factory)
    assert _sees(app, factory, w) == LIVE
    lifecycle.end_placement(factory.session, w.caseworker, w.placement, reason, utcnow() - timedelta(minutes=5))
    assert _sees(app, factory, w) == ENDED
    assert _operator_sees_address(app, w)  # the home's own staff keep it


def test_the_address_stays_while_missing_and_ends_when_the_episode_closes(app, factory):
    w = make_world(factory)
    session = factory.session
    episode = lifecycle.report_missing(session, w.caseworker, w.placement, utcnow() - timedelta(hours=3), keep_hours=72)
    assert _sees(app, factory, w) == LIVE  # the search is on: the caseworker may need the home
    for kind in ("law_enforcement", "ncmec"):
        lifecycle.record_report(session, w.caseworker, episode, kind, utcnow() - timedelta(hours=2), "R-1", "Synthetic officer")
    lifecycle.record_located(session, w.caseworker, episode, utcnow() - timedelta(hours=1), "Boone", "law_enforcement")
    assert _sees(app, factory, w) == LIVE  # located, episode not closed yet
    lifecycle.record_screening(session, w.caseworker, episode, "no", "none", ["medical"], reopen=False)
    assert episode_of(factory, w).closed_at is not None
    assert _sees(app, factory, w) == ENDED


def test_another_live_placement_at_the_same_home_does_not_reopen_an_ended_one(app, factory):
    """The agency has a second youth at the home: that referral shows the address, the ended one does not."""
    from .lifecycle_world import place

    w = make_world(factory)
    second_referral, _ = place(factory, w.caseworker, factory.get(Home, w.home.id), w.operator)
    lifecycle.end_placement(factory.session, w.caseworker, w.placement, "discharge", utcnow() - timedelta(minutes=5))
    assert _sees(app, factory, w) == ENDED
    client = app.test_client()
    login(client, w.caseworker)
    assert ADDRESS in client.get(f"/caseworker/referrals/{second_referral.id}").get_data(as_text=True)
