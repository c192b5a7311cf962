"""The protective rules in the solver: keep-away areas, keep-apart youths, ICWA preferences
(instance version 2, eligibility, the model's pairwise rows and ICWA level, the checker)."""
from __future__ import annotations

import dataclasses
from unittest import mock

import pytest

from solver.checker import check
from solver.eligibility import KEEP_AWAY_MESSAGE, exclusions, is_eligible
from solver.engine import solve
from solver.icwa import preference_step
from solver.instance import Circle, InstanceError, instance_to_json, parse_instance
from solver.result import result_to_json

from .factories import COLUMBIA, KANSAS_CITY, home, instance, referral


def placements(result) -> dict[str, str]:
    return {a.referral: a.home for a in result.assignments}


def test_version_2_round_trips_and_version_1_still_loads():
    protected = instance(
        [home("h1", tribal_approvals=("Osage Nation",), native_serving=True), home("h2")],
        [referral("r1", keep_away_homes=("h2",), keep_away_circles=(Circle(KANSAS_CITY, 80.0),),
                  keep_apart=("r2",), keep_apart_homes=("h1",), icwa=True, tribe="Osage Nation"),
         referral("r2")])
    data = instance_to_json(protected)
    assert data["version"] == 2
    assert data["referrals"][0]["keep_away"] == {"homes": ["h2"], "circles": [{"lat": 39.1, "lon": -94.58, "radius_km": 80.0}]}
    assert data["referrals"][0]["keep_apart"] == {"referrals": ["r2"], "homes": ["h1"]}
    assert data["referrals"][0]["icwa"] == {"tribe": "Osage Nation"}
    assert parse_instance(data) == protected
    plain = instance([home("h1")], [referral("r1")])
    assert instance_to_json(plain)["version"] == 1
    assert parse_instance(instance_to_json(plain)) == plain


@pytest.mark.parametrize("change, field", [
    (lambda d: d["referrals"][0].update(keep_apart={"referrals": ["nobody"]}), "referrals[0].keep_apart.referrals[0]"),
    (lambda d: d["referrals"][0].update(keep_apart={"referrals": ["r1"]}), "referrals[0].keep_apart.referrals[0]"),
    (lambda d: d["referrals"][0].update(keep_away={"homes": ["h9"]}), "referrals[0].keep_away.homes[0]"),
    (lambda d: d["referrals"][0].update(keep_away={"circles": [{"lat": 39, "lon": -94, "radius_km": -1}]}),
     "referrals[0].keep_away.circles[0].radius_km"),
    (lambda d: d["referrals"][0].update(icwa={"tribe": ""}), "referrals[0].icwa.tribe"),
    (lambda d: d.update(version=1) or d["referrals"][0].update(icwa={"tribe": None}), "referrals[0].icwa"),
])
def test_bad_protective_fields_are_refused_naming_the_field(change, field):
    data = instance_to_json(instance([home("h1")], [referral("r1"), referral("r2")]))
    data["version"] = 2
    change(data)
    with pytest.raises(InstanceError) as caught:
        parse_instance(data)
    assert caught.value.field == field


def test_keep_away_excludes_listed_homes_and_homes_in_a_circle_without_naming_the_area():
    near = home("near", location=KANSAS_CITY)
    far = home("far", location=COLUMBIA)  # about 180 km from Kansas City
    youth = referral(keep_away_circles=(Circle(KANSAS_CITY, 80.0),))
    assert [e.message for e in exclusions(near, youth)] == [KEEP_AWAY_MESSAGE]
    assert is_eligible(far, youth) and not is_eligible(near, youth)
    listed = referral(keep_away_homes=("far",))
    assert [e.rule for e in exclusions(far, listed)] == ["keep_away"]
    assert "Kansas" not in KEEP_AWAY_MESSAGE and "km" not in KEEP_AWAY_MESSAGE


def test_matcher_never_places_inside_a_keep_away_area_and_explains_it():
    result = solve(instance([home("near", location=KANSAS_CITY)],
                            [referral(keep_away_circles=(Circle(KANSAS_CITY, 80.0),))]), time_limit=5, workers=1)
    assert not result.assignments
    assert result.unmatched[0].code == "no_eligible_home"
    assert "stay away from" in result.unmatched[0].detail and "80" not in result.unmatched[0].detail


def test_two_keep_apart_youths_are_never_proposed_to_the_same_home():
    roomy = home("h1", open_beds=4, staff_on_duty=4)
    pair = [referral("r1", keep_apart=("r2",)), referral("r2", urgency="urgent")]
    result = solve(instance([roomy], pair), time_limit=5, workers=1)
    assert placements(result) == {"r1": "h1"}  # the emergency youth wins the only home
    assert "kept apart" in result.unmatched[0].detail
    assert check(instance([roomy], pair), result_to_json(result)) == []
    two = solve(instance([roomy, home("h2")], pair), time_limit=5, workers=1)
    assert len(set(placements(two).values())) == 2


@pytest.mark.parametrize("path", ["cpsat", "scip"])
def test_keep_apart_holds_on_the_scip_path_too(path):
    roomy = home("h1", open_beds=4, staff_on_duty=4)
    sizes = {"cpsat": {}, "scip": dict(MIP_PAIRS=1)}[path]
    inst = instance([roomy, home("h2")], [referral("r1", keep_apart=("r2",)), referral("r2"), referral("r3")])
    with mock.patch.multiple("solver.engine", **sizes) if sizes else mock.patch("solver.engine.MIP_PAIRS", 5000):
        result = solve(inst, time_limit=5, workers=1)
    where = placements(result)
    assert where.get("r1") is None or where.get("r1") != where.get("r2")
    assert result.placed["emergency"] == 3 and check(inst, result_to_json(result)) == []


def test_checker_reports_two_keep_apart_youths_in_one_home():
    roomy = home("h1", open_beds=4, staff_on_duty=4)
    inst = instance([roomy], [referral("r1"), referral("r2", keep_apart=("r1",))])
    broken = {"status": "feasible", "assignments": [{"referral": "r1", "home": "h1"}, {"referral": "r2", "home": "h1"}],
              "unmatched": [], "placed": {"emergency": 2, "urgent": 0, "planned": 0},
              "fit": result_to_json(solve(instance([roomy], [referral("r1"), referral("r2")]), time_limit=5, workers=1))["fit"]}
    assert check(inst, broken) == ["referrals r1 and r2 must be kept apart but are both in h1"]


TRIBE = "Osage Nation"


def test_icwa_steps_follow_the_order():
    youth = referral(icwa=True, tribe=TRIBE)
    assert preference_step(home(program="therapeutic_foster", tribal_approvals=(TRIBE,)), youth) == 2
    assert preference_step(home(program="therapeutic_foster", native_serving=True), youth) == 3
    assert preference_step(home(native_serving=True), youth) == 4
    assert preference_step(home(), youth) is None
    assert preference_step(home(native_serving=True), referral()) is None  # ICWA does not apply


def test_matcher_places_an_icwa_youth_in_the_best_step_before_fit():
    # The tribe's foster home is far and speaks no Spanish; the other is near and does: fit
    # prefers it, the ICWA level (above fit) does not.
    tribal = home("tribal", program="therapeutic_foster", tribal_approvals=(TRIBE,), location=COLUMBIA)
    near = home("near", location=KANSAS_CITY, languages=("en", "es"))
    youth = referral(icwa=True, tribe=TRIBE, language="es")
    result = solve(instance([near, tribal], [youth]), time_limit=5, workers=1)
    assert placements(result) == {"r1": "tribal"}
    assert [lv.name for lv in result.levels] == ["emergency", "urgent", "planned", "icwa", "fit"]
    assert result.levels[3].value == 1
    plain = solve(instance([near, tribal], [dataclasses.replace(youth, icwa=False)]), time_limit=5, workers=1)
    assert placements(plain) == {"r1": "near"}


def test_icwa_level_never_costs_a_more_urgent_youth_a_place():
    tribal = home("tribal", program="therapeutic_foster", tribal_approvals=(TRIBE,), open_beds=1)
    inst = instance([tribal], [referral("e1"), referral("u1", urgency="urgent", icwa=True, tribe=TRIBE)])
    assert placements(solve(inst, time_limit=5, workers=1)) == {"e1": "tribal"}


def test_checker_catches_an_optimal_answer_below_the_available_step():
    tribal = home("tribal", program="therapeutic_foster", tribal_approvals=(TRIBE,))
    other = home("other")
    youth = referral(icwa=True, tribe=TRIBE)
    inst = instance([other, tribal], [youth])
    good = result_to_json(solve(inst, time_limit=5, workers=1))
    assert good["assignments"][0]["home"] == "tribal"
    moved = dict(good, assignments=[{**good["assignments"][0], "home": "other"}])
    from solver.fit import fit
    moved["fit"] = fit(other, youth).score
    assert any("better preference step" in p for p in check(inst, moved))


@pytest.mark.parametrize("linked, gain", [(False, 1), (True, 0)])
def test_bed_impact_never_counts_a_bed_beside_a_keep_apart_youth(linked, gain):
    from solver.impact import bed_impact

    one_bed = home("h1", open_beds=1, staff_on_duty=4)
    inst = instance([one_bed], [referral("r1"), referral("r2", keep_apart=("r1",) if linked else ())])
    result = result_to_json(solve(inst, time_limit=5, workers=1))
    report = bed_impact(inst, result, time_limit=5, workers=1)
    bed = next(i for i in report.impacts if i.home == "h1" and i.change == "bed")
    assert bed.gained["emergency"] == gain
