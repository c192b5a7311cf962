"""Steering the bed search: sort by distance, fit or freshness; filter by program, open now, distance."""
from __future__ import annotations

from datetime import timedelta

from placement.models import AvailabilityUpdate
from placement.services.search import search
from placement.services.steering import Steering, steer
from placement.timeutil import utcnow

from ..helpers import make_referral


def _world(factory):
    provider = factory.org("provider", "MO")
    # Near but a weaker fit (no Spanish), far but the best fit, and a full one in between.
    near = factory.home(provider, name="Near", lat=38.95, lon=-92.33, languages=["en"], program="long_term")
    far = factory.home(provider, name="Far", county="Jackson", lat=39.10, lon=-94.58, languages=["en", "es"])
    full = factory.home(provider, name="Full", lat=38.60, lon=-92.20, availability={"open_beds": 0})
    # The far home's figures are the freshest.
    factory.session.add(AvailabilityUpdate(home_id=far.id, licensed_beds=6, open_beds=2, staff_on_duty=2, youth_per_staff=3,
                                           current_youth=3, recorded_at=utcnow() + timedelta(minutes=5)))
    factory.session.commit()
    referral = make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")), language="es", urgency="planned")
    return search(factory.session, referral, 24), near, far, full


def _names(candidates):
    return [c.home.name for c in candidates]


def test_each_sort_orders_the_homes_that_can_take_the_youth(factory):
    result, *_ = _world(factory)
    assert _names(steer(result, Steering()).available) == _names(result.available) == ["Far", "Near"]
    assert _names(steer(result, Steering(sort="distance")).available) == ["Near", "Far"]
    assert _names(steer(result, Steering(sort="fit")).available) == ["Far", "Near"]
    assert _names(steer(result, Steering(sort="freshness")).available) == ["Far", "Near"]
    assert _names(steer(result, Steering()).full) == ["Full"]


def test_filters_narrow_the_lists_and_never_add_a_home(factory):
    result, *_ = _world(factory)
    assert _names(steer(result, Steering(within_km=50)).available) == ["Near"]
    assert _names(steer(result, Steering(program="long_term")).available) == ["Near"]
    assert steer(result, Steering(program="long_term")).full == []
    assert steer(result, Steering(open_now=True)).full == []
    assert _names(steer(result, Steering(within_km=1)).available) == ["Near"]
    assert steer(result, Steering(within_km=1, sort="distance")).excluded == result.excluded
