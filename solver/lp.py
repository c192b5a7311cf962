"""The level's model for the `pywraplp` solvers (GLOP, SCIP), and what its LP tells.

The rows are those written out in `solver.engine` (one home, capacity, keep apart, the
levels above held at their floors); `build_level_mip` writes them for GLOP (the LP
relaxation) and SCIP (branch and bound), `rows_by_unit`, `capacity_rows` and
`keep_apart_rows` list them for both this and the CP-SAT model. From an LP optimum:
`lp_relaxation` (value, values per pair, prices per home), `lagrangian` (a bound that
holds whatever GLOP's tolerances, and each pair's reduced cost) and `dive` (the special
units decided while the LP keeps its bound, for the transportation answer).
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

from .prepare import Pair, Prepared
from .transport import pair_column, special_units

__all__ = ["GLOP_DIVE_AFTER_FIX", "GLOP_DIVE_FIRST", "LevelMip", "Relaxation", "build_level_mip", "capacity_rows",
           "dive", "keep_apart_rows", "lagrangian", "lp_relaxation", "rows_by_unit"]


def rows_by_unit(pairs: list[Pair]) -> dict[int, list[int]]:
    """Indexes of the pairs of each unit: the one-home rows."""
    return _groups(pair_column(pairs, "unit"))


def capacity_rows(prepared: Prepared, pairs: list[Pair]) -> dict[int, list[int]]:
    """Indexes of the pairs of each home whose candidates could overflow its room.

    Pairs exist only where the unit fits alone, so a home whose candidates fit all
    together needs no row.
    """
    home = pair_column(pairs, "home")
    sizes = np.array([unit.size for unit in prepared.units], dtype=np.int64)
    demand = np.bincount(home, weights=sizes[pair_column(pairs, "unit")], minlength=len(prepared.rooms))
    return {h: members for h, members in _groups(home).items() if demand[h] > prepared.rooms[h]}


def _groups(keys: np.ndarray) -> dict[int, list[int]]:
    """The indexes of each key's entries, ascending, keys in the order they first appear
    (the order the rows are written in, as a Python loop over the pairs would)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(keys) else order
    ends = np.append(starts[1:], len(keys))
    return {int(ordered[starts[g]]): order[starts[g]:ends[g]].tolist()
            for g in np.argsort(order[starts], kind="stable").tolist()}


def keep_apart_rows(prepared: Prepared, pairs: list[Pair]) -> list[tuple[int, int]]:
    """Index pairs (i, j) of `pairs` at one home whose units must be kept apart: the
    pairwise rows. Only units with a link have any, so most models get none."""
    if not prepared.apart:
        return []
    at_home: dict[int, list[int]] = {}
    linked = np.isin(pair_column(pairs, "unit"), list(prepared.apart))
    for i in np.flatnonzero(linked).tolist():
        at_home.setdefault(pairs[i].home, []).append(i)
    rows = []
    for members in at_home.values():
        for a, i in enumerate(members):
            for j in members[a + 1:]:
                if pairs[j].unit in prepared.apart[pairs[i].unit]:
                    rows.append((i, j))
    return rows


@dataclass
class LevelMip:
    """A level's model for a `pywraplp` backend, with its rows by kind (their dual values
    price each constraint: `solver.impact`, `lagrangian`)."""

    solver: pywraplp.Solver
    units: dict[int, pywraplp.Constraint]  # one home, by unit
    capacity: dict[int, pywraplp.Constraint]  # by home, where one is needed
    apart: list[tuple[int, int, pywraplp.Constraint]]  # keep apart, by its two pair indexes
    floors: list[tuple[int, pywraplp.Constraint]]  # the levels above, by level
    columns: int  # the pairs it was built with (the first variables)

    @functools.cached_property
    def x(self) -> list[pywraplp.Variable]:
        """The variables of the pairs it was built with; a caller adding columns appends
        theirs. Wrapped only when asked: 40,000 of them take about as long as loading the
        model, and reading an answer needs none (`solution_values`)."""
        return self.solver.variables()[:self.columns]

    def solution_values(self) -> np.ndarray:
        """The values of the last answer, one per pair, read at once."""
        response = linear_solver_pb2.MPSolutionResponse()
        self.solver.FillSolutionResponseProto(response)
        return np.array(response.variable_value, dtype=float)


def build_level_mip(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int],
                    k: int, backend: str, every_floor: bool = False) -> LevelMip:
    """The same model for a `pywraplp` backend: "GLOP" solves its LP relaxation, "SCIP" the MIP.

    A floor of 0 needs no row, unless `every_floor` (a model re-solved with other floors).
    The rows are written into one `MPModelProto`, a row's columns as one list, and the
    solver loads it at once: setting 100,000-200,000 coefficients one call at a time took
    about 0.3 s per level on the dense benchmark state (38,197 pairs), about as long as
    GLOP takes to solve it."""
    proto = linear_solver_pb2.MPModelProto(maximize=True)
    proto.MergeFromString(_variables(levels[k], integer=backend != "GLOP"))
    size = np.array([prepared.units[p.unit].size for p in pairs], dtype=float)
    units = rows_by_unit(pairs)
    for members in units.values():
        _add_row(proto, members, [1.0] * len(members), upper=1.0)
    capacity = capacity_rows(prepared, pairs)
    for home, members in capacity.items():
        _add_row(proto, members, size[members].tolist(), upper=float(prepared.rooms[home]))
    apart = keep_apart_rows(prepared, pairs)
    for i, j in apart:
        _add_row(proto, [i, j], [1.0, 1.0], upper=1.0)
    floor_levels = [level for level, floor in enumerate(floors) if floor or every_floor]
    for level in floor_levels:
        coefficients = np.asarray(levels[level], dtype=float)
        columns = np.flatnonzero(coefficients)
        _add_row(proto, columns.tolist(), coefficients[columns].tolist(), lower=float(floors[level]))
    mip = pywraplp.Solver.CreateSolver(backend)
    error = mip.LoadModelFromProto(proto)
    if error:
        raise ValueError(f"level model not loaded: {error}")
    rows = iter(mip.constraints())  # in the order written above
    return LevelMip(mip, {unit: next(rows) for unit in units},
                    {home: next(rows) for home in capacity}, [(i, j, next(rows)) for i, j in apart],
                    [(level, next(rows)) for level in floor_levels], len(pairs))


def _variables(objective: list[int], integer: bool) -> bytes:
    """The 0/1 columns with these objective coefficients as a serialised `MPModelProto`.

    Serialised messages concatenated parse as one, their repeated fields appended in
    order, and the coefficients take few values (tier counts, ICWA steps, fit points): so
    each value's column is serialised once and the bytes joined, where adding 38,000
    columns one message at a time took 0.05-0.1 s of Python per model."""
    column = {c: linear_solver_pb2.MPModelProto(variable=[linear_solver_pb2.MPVariableProto(
        lower_bound=0.0, upper_bound=1.0, objective_coefficient=c, is_integer=integer)]).SerializeToString()
        for c in set(objective)}
    return b"".join(map(column.__getitem__, objective))


def _add_row(proto: linear_solver_pb2.MPModelProto, columns: list[int], coefficients: list[float],
             lower: float = -math.inf, upper: float = math.inf) -> None:
    """One row lower <= sum_i coefficients_i x_columns_i <= upper."""
    row = proto.constraint.add(lower_bound=lower, upper_bound=upper)
    row.var_index.extend(columns)
    row.coefficient.extend(coefficients)


@dataclass
class Relaxation:
    """The LP optimum of a level (GLOP), its values per pair and each capacity row's price.

    Level values are integers, so the optimum rounded down is a bound; the engine adds a
    small margin first, which keeps GLOP's tolerances on the safe (higher) side."""

    value: float
    x: list[float]
    prices: dict[int, float]
    reduced: np.ndarray  # reduced cost of each pair (`lagrangian`)
    lagrangian: float  # the bound the signed dual values prove

    @property
    def bound(self) -> int:
        """Level values are integers: the Lagrangian bound rounded down (the margin for
        rounding errors only loosens it)."""
        return math.floor(self.lagrangian + 1e-6)


def lp_relaxation(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                  time_limit: float, parameters: str = "") -> Relaxation | None:
    """The LP relaxation of level `k` (see `Relaxation`), or None when GLOP does not
    finish in `time_limit` seconds. `parameters`: GLOP's, in its text format."""
    model = build_level_mip(prepared, pairs, levels, floors, k, "GLOP")
    model.solver.SetSolverSpecificParametersAsString(parameters)
    model.solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    if model.solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    reduced, bound = lagrangian(prepared, pairs, levels, floors, k, model)
    return Relaxation(model.solver.Objective().Value(), model.solution_values().tolist(),
                      {home: row.dual_value() for home, row in model.capacity.items()}, reduced, bound)


def lagrangian(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
               model: LevelMip, upper: np.ndarray | None = None,
               columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, float]:
    """Reduced costs d and the Lagrangian bound L of level `k` from the LP's dual values y.

    For any y >= 0 on the <= rows and y <= 0 on the >= rows (the signs are enforced here,
    so GLOP's tolerances cannot make it wrong), every answer x in {0,1} meets
        c.x = y.Ax + d.x <= y.b + sum_p max(0, d_p) - sum_{p deviating} |d_p|  = L - ...
    where d = c - yA and a pair *deviates* when x_p = 1 with d_p < 0 or x_p = 0 with
    d_p > 0. So L is an upper bound (at the LP optimum it equals the LP value), and an
    answer worth at least T deviates only on pairs with |d_p| <= L - T
    (`reduced_search`). `upper` gives each pair's upper bound when some are fixed at 0
    (their max(0, d_p) then counts for nothing). `columns`: each pair's unit, home and
    size as arrays, when the caller keeps them (a model re-solved many times; building
    them and the levels as arrays took longer than reading the duals: `solver.impact`)."""
    d = np.array(levels[k], dtype=float)
    if columns is None:
        columns = (np.array([p.unit for p in pairs], dtype=np.int64), np.array([p.home for p in pairs], dtype=np.int64),
                   np.array([prepared.units[p.unit].size for p in pairs], dtype=float))
    unit, home, size = columns
    y_unit = np.zeros(len(prepared.units))
    for u, row in model.units.items():
        y_unit[u] = max(0.0, row.dual_value())
    y_home = np.zeros(len(prepared.rooms))
    room = np.zeros(len(prepared.rooms))
    for h, row in model.capacity.items():
        y_home[h], room[h] = max(0.0, row.dual_value()), prepared.rooms[h]
    d -= y_unit[unit] + y_home[home] * size
    bound = float(y_unit.sum() + (y_home * room).sum())
    for i, j, row in model.apart:
        y = max(0.0, row.dual_value())
        d[i] -= y
        d[j] -= y
        bound += y
    for level, row in model.floors:
        y = min(0.0, row.dual_value())
        d -= y * np.asarray(levels[level], dtype=float)
        bound += y * floors[level]
    positive = np.maximum(d, 0.0) if upper is None else np.maximum(d, 0.0) * upper
    return d, bound + float(positive.sum())


# GLOP for a dive: no preprocessing, so each solve starts from the last basis. The first
# solve prices by steepest edge, GLOP's default; the re-solves after each change of bounds
# by devex, whose weights start afresh at no cost where steepest edge recomputes the norms
# of all columns (dense benchmark, urgent level, 24,598 columns: the same 22 solves, 4,349
# simplex iterations instead of 2,395, but 0.50 s of CPU instead of 0.70 s).
GLOP_DIVE_FIRST = "use_preprocessing: false"
GLOP_DIVE_AFTER_FIX = GLOP_DIVE_FIRST + " optimization_rule: DEVEX feasibility_rule: DEVEX"


def dive(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
         target: int | None, deadline: float) -> list[float] | None:
    """LP values with every special unit (`solver.transport`) decided, where the LP still
    reaches `target`: a score for the transportation answer.

    The single-place units form a transportation problem, so the fractions of an LP
    optimum sit on the special units. One at a time, the special pair with the largest
    fraction is fixed to 1, or if the LP then falls below `target`, to 0; GLOP starts
    each solve from the last basis (`GLOP_DIVE_FIRST`, `GLOP_DIVE_AFTER_FIX`), a few
    dozen iterations. It stops when none is fractional, at `deadline`, or when neither
    choice keeps `target` (then the values reached so far are returned). None when the
    first LP does not reach `target` or the last one is stopped by `deadline`. Without a
    `target`, the first LP's optimum rounded down is kept."""
    model = build_level_mip(prepared, pairs, levels, floors, k, "GLOP")
    model.solver.SetSolverSpecificParametersAsString(GLOP_DIVE_FIRST)
    return _dive(prepared, pairs, model, target, deadline)


def _dive(prepared: Prepared, pairs: list[Pair], model: LevelMip, target: int | None,
          deadline: float) -> list[float] | None:
    special = special_units(prepared, pairs)
    lp, x = model.solver, model.x
    watched = [i for i, p in enumerate(pairs) if p.unit in special]
    together = True

    solved = [False]  # the last solve finished: its values can be read

    def solve_reaches() -> bool:
        lp.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
        solved[0] = lp.Solve() == pywraplp.Solver.OPTIMAL
        # Relative tolerance: a weighted objective of several levels runs into millions.
        return solved[0] and lp.Objective().Value() >= target - 1e-6 * max(1.0, abs(target))

    if target is None:  # the first LP reaches its own optimum rounded down: no second solve
        lp.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
        solved[0] = lp.Solve() == pywraplp.Solver.OPTIMAL
        if not solved[0]:
            return None
        value = lp.Objective().Value()
        target = math.floor(value + 1e-6 * max(1.0, abs(value)))
    elif not solve_reaches():
        return None
    lp.SetSolverSpecificParametersAsString(GLOP_DIVE_AFTER_FIX)
    while time.perf_counter() < deadline:
        fraction = {i: x[i].solution_value() for i in watched}  # read before any change
        fractional = [i for i in watched if 1e-6 < fraction[i] < 1 - 1e-6]
        if not fractional:
            break
        # Each unit's largest fraction, all at once first: often the LP keeps `target`
        # and one solve decides them all; else (and from then on) the largest alone.
        top: dict[int, int] = {}
        for i in sorted(fractional, key=lambda j: (fraction[j], -j)):
            top[pairs[i].unit] = i
        chosen = list(top.values())
        for i in chosen:
            x[i].SetBounds(1.0, 1.0)
        if together and len(chosen) > 1:
            if solve_reaches():
                continue
            together = False
        for i in chosen:
            x[i].SetBounds(0.0, 1.0)
        i = max(chosen, key=lambda j: (fraction[j], -j))
        x[i].SetBounds(1.0, 1.0)
        if not solve_reaches():
            x[i].SetBounds(0.0, 0.0)
            if not solve_reaches():
                break
    return model.solution_values().tolist() if solved[0] else None
