"""The independent checker catches every kind of broken answer (solver/checker.py)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from solver.checker import check
from solver.engine import solve
from solver.fit import fit
from solver.instance import parse_instance
from solver.result import result_to_json

from .factories import home, instance, referral

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(scope="module")
def example():
    inst = parse_instance(json.loads((EXAMPLES / "instance.json").read_text()))
    return inst, result_to_json(solve(inst, time_limit=10, workers=1))


def broken(example, change) -> list[str]:
    inst, result = example
    result = copy.deepcopy(result)
    change(result)
    return check(inst, result)


def assignment(result, rid):
    return next(a for a in result["assignments"] if a["referral"] == rid)


def test_a_correct_answer_passes(example):
    inst, result = example
    assert check(inst, result) == []


def test_result_must_be_an_object(example):
    assert check(example[0], []) == ["result: must be an object"]


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["assignments"].pop(0), "referral r1: missing (neither assigned nor unmatched)"),
    (lambda r: r["unmatched"].append(dict(r["unmatched"][0])), "referral r5: unmatched more than once"),
    (lambda r: r["assignments"].append(dict(r["assignments"][0])), "referral r1: assigned more than once"),
    (lambda r: r["unmatched"].append({"referral": "r1", "code": "no_capacity", "detail": "x"}),
     "referral r1: both assigned and unmatched"),
    (lambda r: r["assignments"].append({"referral": "zz", "home": "harbor"}), "assignment of zz: no such referral"),
    (lambda r: r["unmatched"].append({"referral": "zz", "code": "no_capacity", "detail": "x"}),
     "unmatched zz: no such referral"),
    (lambda r: r.update(status="great"), "status: 'great' is not one of optimal, feasible"),
    (lambda r: r.update(assignments=None), "assignments: must be a list"),
    (lambda r: r["assignments"].append("r9"), "assignments[4]: must be an object with a referral id"),
])
def test_every_referral_exactly_once_and_ids_exist(example, change, expected):
    assert expected in broken(example, change)


def test_unknown_home(example):
    problems = broken(example, lambda r: assignment(r, "r1").update(home="nowhere"))
    assert "assignment of r1: no such home 'nowhere'" in problems


def test_ineligible_placement(example):
    # r7 has active substance use; ozark offers no support (and is full).
    def move(r):
        r["unmatched"] = [u for u in r["unmatched"] if u["referral"] != "r7"]
        r["assignments"].append({"referral": "r7", "home": "ozark"})
    problems = broken(example, move)
    assert any(p.startswith("referral r7 in ozark: substance_use:") for p in problems)


def test_jurisdiction_violation(example):
    # r1 is a MO ward without ICPC approval; prairie is in KS.
    problems = broken(example, lambda r: assignment(r, "r1").update(home="prairie"))
    assert any(p.startswith("referral r1 in prairie: jurisdiction: home in KS, custody MO") for p in problems)


def test_capacity_and_staffing_violations(example):
    # r5 (youth and child) into harbor, where r1 already is: 3 places, 2 open beds.
    def add(r):
        r["unmatched"] = [u for u in r["unmatched"] if u["referral"] != "r5"]
        r["assignments"].append({"referral": "r5", "home": "harbor"})
    problems = broken(example, add)
    assert "home harbor: 3 places taken, only 2 open beds" in problems
    assert not any("staffing" in p for p in problems)  # 3 youths + 3 = 6 = 2 staff x 3


def test_staffing_violation_alone():
    h, r = home(open_beds=3, current_youth=4, staff_on_duty=2, youth_per_staff=2), referral()
    result = {"status": "feasible", "assignments": [{"referral": "r1", "home": "h1"}], "unmatched": [],
              "placed": {"emergency": 1, "urgent": 0, "planned": 0}, "fit": fit(h, r).score}
    assert check(instance([h], [r]), result) == [
        "home h1: 4 youths + 1 places exceeds staffing for 4 (2 staff x 2)"]


def test_split_sibling_group(example):
    problems = broken(example, lambda r: r["assignments"].remove(assignment(r, "r4"))
                      or r["unmatched"].append({"referral": "r4", "code": "no_capacity", "detail": "x"}))
    assert "sibling group g1: not placed together (r3->ozark, r4->unplaced)" in problems


def test_wrong_counts_and_fit(example):
    assert "placed.urgent: says 3, assignments place 2" in broken(
        example, lambda r: r["placed"].update(urgent=3))
    assert "placed: must have exactly the keys emergency, urgent, planned" in broken(
        example, lambda r: r["placed"].pop("planned"))
    problems = broken(example, lambda r: r.update(fit=r["fit"] + 0.1))
    assert any(p.startswith("fit: says") for p in problems)


def test_unmatched_codes(example):
    def code(rid, value):
        return lambda r: next(u for u in r["unmatched"] if u["referral"] == rid).update(code=value)
    assert "unmatched r5: code 'full' is not one of no_eligible_home, no_capacity" in broken(example, code("r5", "full"))
    assert "unmatched r5: says no_eligible_home but harbor is eligible" in broken(
        example, code("r5", "no_eligible_home"))
    assert "unmatched r7: says no_capacity but no home is eligible" in broken(example, code("r7", "no_capacity"))
    problems = broken(example, lambda r: r["unmatched"][0].update(detail=""))
    assert "unmatched r5: detail must be a non-empty text" in problems


def test_optimal_claim_with_room_left_is_caught(example):
    # Remove r2 from prairie (the only home for r2): "optimal" is then plainly wrong.
    def drop(r):
        r["assignments"].remove(assignment(r, "r2"))
        r["unmatched"].append({"referral": "r2", "code": "no_capacity", "detail": "x"})
        r["placed"]["emergency"] -= 1
        r["fit"] = round(r["fit"] - 14.1, 1)
    assert broken(example, drop) == ["status optimal, but unmatched r2 fits in prairie (2 places left)"]
    assert broken(example, lambda r: (drop(r), r.update(status="feasible"))) == []
