"""The transportation answer (`solver.transport`) and the LP's Lagrangian bound, on random
small instances (hypothesis) against brute force and the plain model."""
from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from solver.engine import _trivial_bound, is_feasible, lp_relaxation, objective_levels
from solver.instance import Instance
from solver.prepare import prepare
from solver.transport import lexicographic_weights, special_units, transport_answer

from .strategies import brute_force, instances, without_rules
from .test_properties import SOLVER


def single_place(instance: Instance) -> Instance:
    """The same instance with every unit single-place and free: no sibling groups, no
    children with the youth, no keep-apart or keep-away rules."""
    plain = without_rules(instance)
    return Instance(plain.homes, tuple(dataclasses.replace(r, sibling_group=None, children_with=0)
                                       for r in plain.referrals))


@SOLVER
@given(instances(max_homes=3, max_referrals=5))
def test_without_special_units_the_flow_is_the_lexicographic_optimum(instance):
    instance = single_place(instance)
    prepared = prepare(instance)
    assert not special_units(prepared, prepared.pairs)
    levels = objective_levels(prepared, prepared.pairs)
    answer = transport_answer(prepared, prepared.pairs, levels, len(levels) - 1, [0.0] * len(prepared.pairs))
    assert answer is not None and is_feasible(prepared, prepared.pairs, [], [], answer)
    reached = tuple(sum(c for c, v in zip(coefficients, answer) if v) for coefficients in levels)
    assert reached == brute_force(instance)


@SOLVER
@given(instances(max_homes=4, max_referrals=8), st.data())
def test_the_transportation_answer_is_feasible_for_any_score(instance, data):
    prepared = prepare(instance)
    levels = objective_levels(prepared, prepared.pairs)
    score = data.draw(st.lists(st.floats(0.0, 1.0), min_size=len(prepared.pairs), max_size=len(prepared.pairs)))
    answer = transport_answer(prepared, prepared.pairs, levels, 0, score)
    assert answer is not None and is_feasible(prepared, prepared.pairs, [], [], answer)


@SOLVER
@given(instances(max_homes=3, max_referrals=5), st.integers(0, 4))
def test_the_lagrangian_bound_is_an_upper_bound(instance, k):
    """A level's LP without floors: its Lagrangian bound is at least that level's value in
    the lexicographic optimum (a feasible answer), and no more than the LP value."""
    prepared = prepare(instance)
    if not prepared.pairs:
        return
    levels = objective_levels(prepared, prepared.pairs)
    relaxation = lp_relaxation(prepared, prepared.pairs, levels, [], k, 10.0)
    assert relaxation.bound >= brute_force(instance)[k]
    assert relaxation.lagrangian <= relaxation.value + 1e-6 * max(1.0, abs(relaxation.value))


@SOLVER
@given(instances(max_homes=4, max_referrals=8))
def test_a_level_weight_exceeds_all_that_the_levels_after_it_can_add(instance):
    prepared = prepare(instance)
    if not prepared.pairs:
        return
    levels = objective_levels(prepared, prepared.pairs)
    weights = lexicographic_weights(prepared.pairs, levels, 0, 10)
    assert weights is not None and weights[-1] == 1
    for j in range(len(levels) - 1):
        assert weights[j] > sum(w * _trivial_bound(prepared.pairs, c) for w, c in zip(weights[j + 1:], levels[j + 1:]))
