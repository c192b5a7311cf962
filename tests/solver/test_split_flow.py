"""The split flow (`solver.split_flow`): a tier level's LP as a min-cost flow, its
Lagrangian bound and its guides, and the repaired transportation answer
(`transport.repaired_answer`), on random small instances (hypothesis) against brute
force and GLOP."""
from __future__ import annotations

import time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from solver.engine import (_solution, _trivial_bound, _value, is_feasible, lp_relaxation, objective_levels,
                           solve_levels)
from solver.prepare import TIERS, prepare
from solver.split_flow import SplitFlowModel, relaxed_bound
from solver.transport import repaired_answer, transport_answer

from .factories import home, instance, referral
from .strategies import brute_force, instances, without_rules
from .test_properties import SOLVER

tier_levels = st.integers(0, len(TIERS) - 1)


@SOLVER
@given(instances(max_homes=3, max_referrals=6), tier_levels)
def test_the_split_flow_bound_holds_with_the_levels_above_at_their_optimum(instance, k):
    """With the levels above held at their lexicographic optimum, the bound is at least
    the optimum of level k and at most the trivial bound."""
    prepared = prepare(instance)
    if not prepared.pairs:
        return
    optimum = brute_force(instance)
    levels = objective_levels(prepared, prepared.pairs)
    split = relaxed_bound(prepared, prepared.pairs, levels, list(optimum[:k]), k, time.perf_counter() + 10)
    assert split is not None
    guides, bound = split
    assert optimum[k] <= bound <= _trivial_bound(prepared.pairs, levels[k])
    assert guides


@SOLVER
@given(instances(max_homes=4, max_referrals=8), tier_levels)
def test_without_keep_apart_rows_the_split_flow_is_the_lp(instance, k):
    """One level alone, no floors: the flow's optimum is GLOP's LP optimum, and its
    shares meet every row of that LP."""
    instance = without_rules(instance)
    prepared = prepare(instance)
    if not prepared.pairs:
        return
    pairs = prepared.pairs
    levels = objective_levels(prepared, pairs)
    weights = [0] * k + [1]
    flow = SplitFlowModel(prepared, pairs, levels[:k + 1]).solve(weights)
    relaxation = lp_relaxation(prepared, pairs, levels, [], k, 10.0)
    assert abs(flow.values[k] - relaxation.value) <= 1e-6 * max(1.0, relaxation.value)
    x = flow.x
    assert ((x >= 0) & (x <= 1 + 1e-9)).all()
    unit = np.array([p.unit for p in pairs])
    home = np.array([p.home for p in pairs])
    size = np.array([prepared.units[p.unit].size for p in pairs])
    assert (np.bincount(unit, weights=x) <= 1 + 1e-9).all()
    used = np.bincount(home, weights=x * size, minlength=len(prepared.rooms))
    assert (used <= np.asarray(prepared.rooms) + 1e-9).all()


@SOLVER
@given(instances(max_homes=4, max_referrals=8), st.integers(1, len(TIERS) - 1), st.data())
def test_the_repaired_answer_keeps_the_levels_above_for_any_guide(instance, k, data):
    """Whatever the guide, an answer that comes back breaks no rule and keeps every level
    above at the reference's value; with the reference (the lexicographic optimum, so no
    level above can gain at another's cost) as the guide one always comes back, as good
    on level k."""
    prepared = prepare(instance)
    pairs = prepared.pairs
    if not pairs:
        return
    levels = objective_levels(prepared, pairs)
    optimum = solve_levels(prepared, time.perf_counter() + 20, 1)
    assert optimum.proven
    reference = _solution(pairs, {p.unit: p for p in optimum.chosen})
    floors = [_value(levels[j], reference) for j in range(k)]
    guide = data.draw(st.lists(st.floats(0.0, 1.0), min_size=len(pairs), max_size=len(pairs)))
    deadline = time.perf_counter() + 10
    answer = repaired_answer(prepared, pairs, levels, floors, k, guide, reference, deadline)
    if answer is not None:
        assert is_feasible(prepared, pairs, levels[:k], floors, answer)
    again = repaired_answer(prepared, pairs, levels, floors, k, reference, reference, deadline)
    assert again is not None and is_feasible(prepared, pairs, levels[:k], floors, again)
    assert _value(levels[k], again) == _value(levels[k], reference)


def test_a_guide_taking_an_upper_youths_only_room_is_repaired():
    """Two places, an urgent youth with nowhere else to go and a planned pair of siblings
    who could take both: the guide puts the siblings there, which would leave the urgent
    youth out; the repair takes the siblings out of that home and the floor holds."""
    inst = instance([home("h1", open_beds=2, staff_on_duty=5), home("h2", open_beds=2, staff_on_duty=5, ages=(16, 17))],
                    [referral("u", urgency="urgent", age=13),
                     referral("s1", urgency="planned", sibling_group="g"),
                     referral("s2", urgency="planned", sibling_group="g")])
    prepared = prepare(inst)
    pairs = prepared.pairs
    levels = objective_levels(prepared, pairs)
    urgent = levels[1]
    reference = [int(c > 0) for c in urgent]  # the urgent youth in h1, nobody else
    siblings_in_h1 = [int(prepared.units[p.unit].size == 2 and prepared.homes[p.home].id == "h1") for p in pairs]
    unrepaired = transport_answer(prepared, pairs, levels, 2, siblings_in_h1)
    assert _value(urgent, unrepaired) == 0  # the guide alone costs the urgent youth
    answer = repaired_answer(prepared, pairs, levels, [0, 1], 2, siblings_in_h1, reference,
                             time.perf_counter() + 10)
    assert answer is not None and is_feasible(prepared, pairs, levels[:2], [0, 1], answer)
    assert _value(urgent, answer) == 1
