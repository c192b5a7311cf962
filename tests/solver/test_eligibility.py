"""One test per hard eligibility rule, plus room and places (solver/eligibility.py)."""
from __future__ import annotations

import pytest

from solver.eligibility import distance_km, exclusions, is_eligible, places_needed, room, staffed_room
from solver.instance import Location

from .factories import COLUMBIA, KANSAS_CITY, home, referral


def rules(h, r) -> list[str]:
    return [e.rule for e in exclusions(h, r)]


def test_default_pair_is_eligible():
    assert is_eligible(home(), referral())
    assert exclusions(home(), referral()) == []


@pytest.mark.parametrize("age, ok", [(11, False), (12, True), (17, True), (18, False)])
def test_age_within_range_inclusive(age, ok):
    assert is_eligible(home(ages=(12, 17)), referral(age=age)) is ok
    assert ("age" in rules(home(ages=(12, 17)), referral(age=age))) is not ok


def test_gender_must_be_served():
    assert rules(home(genders=("female",)), referral(gender="male")) == ["gender"]
    assert is_eligible(home(genders=("female", "male")), referral(gender="male"))


def test_pregnant_needs_accepts_pregnant():
    assert rules(home(accepts_pregnant=False), referral(pregnant=True)) == ["pregnant"]
    assert is_eligible(home(accepts_pregnant=True), referral(pregnant=True))


def test_parenting_needs_accepts_parenting():
    excluded = exclusions(home(accepts_parenting=False), referral(children_with=2))
    assert [e.rule for e in excluded] == ["parenting"]
    assert "2 children" in excluded[0].message
    assert is_eligible(home(accepts_parenting=True), referral(children_with=2))


@pytest.mark.parametrize("use, support, ok", [
    ("none", "none", True), ("none", "recovery", True), ("none", "detox", True),
    ("recovery", "none", False), ("recovery", "recovery", True), ("recovery", "detox", True),
    ("active", "none", False), ("active", "recovery", False), ("active", "detox", True),
])
def test_substance_use_support(use, support, ok):
    h, r = home(substance_use_support=support), referral(substance_use=use)
    assert is_eligible(h, r) is ok
    assert rules(h, r) == ([] if ok else ["substance_use"])


def test_medical_level_not_above_home():
    assert rules(home(medical_level=1), referral(medical_level=2)) == ["medical"]
    assert is_eligible(home(medical_level=2), referral(medical_level=2))


def test_mental_health_level_not_above_home():
    assert rules(home(mental_health_level=1), referral(mental_health_level=3)) == ["mental_health"]
    assert is_eligible(home(mental_health_level=3), referral(mental_health_level=3))


def test_program_must_be_listed_unless_list_empty():
    assert rules(home(program="long_term"), referral(programs=("crisis_stabilization",))) == ["program"]
    assert is_eligible(home(program="long_term"), referral(programs=("short_term", "long_term")))
    assert is_eligible(home(program="long_term"), referral(programs=()))


def test_distance_within_limit_when_set():
    km = distance_km(COLUMBIA, KANSAS_CITY)
    assert 190 < km < 205  # Columbia to Kansas City is about 196 km
    assert rules(home(), referral(max_distance_km=km - 1)) == ["distance"]
    assert is_eligible(home(), referral(max_distance_km=km + 1))
    assert is_eligible(home(), referral(max_distance_km=None))


@pytest.mark.parametrize("accepts, approvals, ok", [
    (False, (), False),        # another state, no approval
    (True, (), False),         # accepts out-of-state youth, but no ICPC approval
    (False, ("KS",), False),   # approval, but the home takes no out-of-state youth
    (True, ("KS",), True),     # both
])
def test_jurisdiction_out_of_state(accepts, approvals, ok):
    h = home(state="KS", accepts_out_of_state=accepts)
    r = referral(custody_state="MO", icpc_approved_states=approvals)
    assert is_eligible(h, r) is ok
    assert rules(h, r) == ([] if ok else ["jurisdiction"])


def test_jurisdiction_in_custody_state_needs_nothing_else():
    assert is_eligible(home(state="MO", accepts_out_of_state=False), referral(custody_state="MO"))


def test_exclusions_lists_every_broken_rule_in_order():
    r = referral(age=20, gender="male", pregnant=True, substance_use="active", custody_state="KS")
    assert rules(home(), r) == ["age", "gender", "pregnant", "substance_use", "jurisdiction"]


@pytest.mark.parametrize("open_beds, current, staff, ratio, expected", [
    (3, 0, 2, 3, 3),   # beds bind
    (5, 4, 2, 3, 2),   # staffing binds: 6 - 4
    (5, 7, 2, 3, 0),   # already over the ratio: never negative
    (0, 0, 5, 5, 0),   # no beds
    (4, 0, 0, 3, 0),   # no staff on duty: beds without staff are not open
])
def test_staffed_room(open_beds, current, staff, ratio, expected):
    assert staffed_room(open_beds, current, staff, ratio) == expected
    assert room(home(open_beds=open_beds, current_youth=current, staff_on_duty=staff,
                     youth_per_staff=ratio)) == expected


def test_places_needed_counts_children():
    assert places_needed(referral(children_with=0)) == 1
    assert places_needed(referral(children_with=2)) == 3


def test_distance_is_symmetric_and_zero_at_same_point():
    assert distance_km(COLUMBIA, COLUMBIA) == 0
    assert distance_km(COLUMBIA, KANSAS_CITY) == pytest.approx(distance_km(KANSAS_CITY, COLUMBIA))
    assert distance_km(Location(0, 0), Location(0, 180)) == pytest.approx(20015, rel=1e-3)
