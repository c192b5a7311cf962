"""The level model's rows (`solver.lp`): grouped with numpy, written as a loop over the pairs would."""
from __future__ import annotations

import pytest
from ortools.linear_solver import linear_solver_pb2

from solver.bench import generate
from solver.engine import objective_levels
from solver.lp import _variables, build_level_mip, capacity_rows, rows_by_unit
from solver.prepare import prepare


def test_rows_are_grouped_in_the_order_of_the_pairs():
    prepared = prepare(generate("state"))
    pairs = prepared.pairs
    by_unit: dict[int, list[int]] = {}
    by_home: dict[int, list[int]] = {}
    for i, pair in enumerate(pairs):
        by_unit.setdefault(pair.unit, []).append(i)
        by_home.setdefault(pair.home, []).append(i)
    crowded = {home: members for home, members in by_home.items()
               if sum(prepared.units[pairs[i].unit].size for i in members) > prepared.rooms[home]}
    assert crowded and len(crowded) < len(by_home)  # the instance has both kinds of home
    assert list(rows_by_unit(pairs).items()) == list(by_unit.items())
    assert list(capacity_rows(prepared, pairs).items()) == list(crowded.items())
    assert rows_by_unit([]) == {} and capacity_rows(prepared, []) == {}


def test_answers_are_read_per_pair_and_variables_wrapped_on_demand():
    prepared = prepare(generate("state"))
    pairs = prepared.pairs
    levels = objective_levels(prepared, pairs)
    model = build_level_mip(prepared, pairs, levels, [], 0, "GLOP")
    model.solver.Solve()
    values = model.solution_values()
    assert len(values) == len(model.x) == len(pairs)
    assert values.tolist() == [v.solution_value() for v in model.x]
    assert sum(c * v for c, v in zip(levels[0], values)) == pytest.approx(model.solver.Objective().Value())


def test_columns_joined_as_bytes_are_the_columns_added_one_at_a_time():
    prepared = prepare(generate("state"))
    levels = objective_levels(prepared, prepared.pairs)
    for coefficients, backend in ((levels[0], "GLOP"), (levels[-1], "SCIP")):
        one_at_a_time = linear_solver_pb2.MPModelProto(maximize=True)
        for c in coefficients:
            one_at_a_time.variable.add(lower_bound=0.0, upper_bound=1.0, objective_coefficient=c,
                                       is_integer=backend == "SCIP")
        joined = linear_solver_pb2.MPModelProto(maximize=True)
        joined.MergeFromString(_variables(coefficients, integer=backend == "SCIP"))
        assert len(set(coefficients)) > 1
        assert joined == one_at_a_time
    assert _variables([], integer=False) == b""
