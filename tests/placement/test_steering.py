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


def test_search_figures_agree_with_the_scalar_rules_for_every_home(factory):
    """The search reads homes and their figures as columns; each candidate's figures must
    equal what the scalar rules give for the same home read as a mapped object."""
    from placement.models import Home, Hold
    from placement.services.homes import status
    from placement.services.solver_inputs import solver_home, solver_referral
    from solver.eligibility import distance_km, exclusions
    from solver.fit import fit

    result, near, far, full = _world(factory)
    org = factory.org("provider", "MO")
    factory.home(org, name="Never published", availability=False)
    factory.home(org, name="Too old for it", min_age=16, max_age=17, genders=["male"], substance_use_support="none")
    factory.home(org, name="Detox, Spanish culture", substance_use_support="detox", cultural_services=["latinx"], lat=37.0, lon=-90.0)
    factory.home(org, name="Short of staff", availability={"open_beds": 3, "staff_on_duty": 1, "current_youth": 2})
    held = factory.home(org, name="Held", availability={"open_beds": 1})
    referral = result.referral
    factory.session.add(Hold(referral_id=referral.id, home_id=held.id, places=1, created_by_id=referral.created_by_id,
                             expires_at=utcnow() + timedelta(hours=2)))
    factory.session.commit()
    result = search(factory.session, referral, 24)
    wanted = solver_referral(referral)
    everyone = result.available + result.full + result.excluded
    assert len(everyone) == 8 and {c.home.name for c in result.excluded} == {"Too old for it"}
    assert {c.home.name for c in result.full} == {"Full", "Held", "Never published"}
    for candidate in everyone:
        home = factory.session.get(Home, candidate.home.id)
        found = status(factory.session, home)
        solver = solver_home(found)
        assert candidate.rules_broken == len(exclusions(solver, wanted)), home.name
        assert candidate.points == fit(solver, wanted).points, home.name
        assert candidate.room == found.room and candidate.stale == found.is_stale(24), home.name
        assert candidate.status.open_beds == found.open_beds and candidate.updated_at == found.updated_at
        assert abs(candidate.distance_km - distance_km(solver.location, wanted.location)) < 1e-9
        assert candidate.solver_home == solver
