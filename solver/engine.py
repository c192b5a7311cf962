"""The matcher: an OR-Tools CP-SAT model of tonight's placements.

Model (built in the helpers below), one Boolean per pair = a placement unit (a referral
or a whole sibling group) and a home eligible for all its members with room for it:
  one home      each unit takes at most one of its pairs
  capacity      the places a home takes (1 + children_with per youth) are at most its
                `room`: open beds, and staff on duty x youths per staff minus youths
                already there, whichever is smaller
  siblings      a group is one unit, so its members share a home or none is placed
Objective, lexicographic, solved as a sequence of CP-SAT calls on the same model:
  1. maximise emergency youths placed
  2. maximise urgent youths placed, with the emergency count fixed at its best
  3. maximise planned youths placed, with both counts above fixed
  4. maximise total fit points, with all three counts fixed
Fixing each count before the next level is what guarantees that the fit tie-break (or a
lower tier) can never cost a more urgent child a place; no big-M weights are involved.

The unit-home graph falls apart into independent components (mostly by state, joined
by ICPC approvals). Lexicographic optima of independent parts add up, so components
are solved separately and concurrently in a thread pool (CP-SAT releases the GIL);
small components are batched into one model to save the per-call overhead.

Time limit: every call gets a share of the time left. A level stopped by the limit
keeps its best solution and the answer's status becomes "feasible"; a batch in which
CP-SAT found no solution at all places nobody (fail closed: never an unchecked
placement). The greedy answer is given to CP-SAT as a hint.
"""
from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .fit import FIT_SCALE
from .greedy import greedy_pairs
from .model import Instance
from .prepare import TIERS, Component, Pair, Prepared, components, prepare
from .result import LEVELS, Level, Result, build_result, result_to_json

BATCH_PAIRS = 4000  # components smaller than this are solved together, up to this size

__all__ = ["solve", "result_to_json", "Result"]


@dataclass
class BatchOutcome:
    chosen: list[Pair]
    values: list[int]  # per level in LEVELS, fit in points
    bounds: list[int]
    proven: bool


def solve(instance: Instance, time_limit: float = 10.0, workers: int = 2) -> Result:
    """Propose placements for every referral of `instance`.

    `time_limit` (seconds) bounds the whole call, and `workers` the CPU threads used.
    The result places as many emergency youths as possible, then urgent, then planned,
    then maximises fit; it is "optimal" when CP-SAT proved every level, else "feasible".
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    start = time.perf_counter()
    deadline = start + time_limit
    prepared = prepare(instance)
    parts = components(prepared)
    batches = pack_components(parts)
    hint = {(p.unit, p.home) for p in greedy_pairs(prepared)}
    threads = max(1, min(workers, len(batches)))
    # Few batches: give each CP-SAT call several workers; many: one each, in parallel.
    cpsat_workers = max(1, workers // threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(
            lambda batch: solve_batch(prepared, batch, hint, deadline, cpsat_workers), batches))
    chosen = [pair for outcome in outcomes for pair in outcome.chosen]
    levels = tuple(
        Level(name,
              _level_number(name, sum(o.values[k] for o in outcomes)),
              _level_number(name, sum(o.bounds[k] for o in outcomes)))
        for k, name in enumerate(LEVELS))
    status = "optimal" if all(o.proven for o in outcomes) else "feasible"
    result = build_result(prepared, chosen, status=status, solve_seconds=0.0, levels=levels,
                          components=len(parts))
    return dataclasses.replace(result, solve_seconds=time.perf_counter() - start)


def _level_number(name: str, value: int) -> float:
    return value / FIT_SCALE if name == "fit" else value


def pack_components(parts: list[Component], target: int = BATCH_PAIRS) -> list[Component]:
    """Large components alone; small ones (in order, largest first) batched up to `target` pairs."""
    batches: list[Component] = []
    open_batch: Component | None = None
    for part in parts:
        if len(part.pairs) >= target:
            batches.append(part)
            continue
        if open_batch is None or len(open_batch.pairs) >= target:
            open_batch = Component([], [])
            batches.append(open_batch)
        open_batch.units.extend(part.units)
        open_batch.pairs.extend(part.pairs)
    return batches


# --- the model, in named pieces ------------------------------------------------------------

def new_pair_variables(model: cp_model.CpModel, pairs: list[Pair]) -> list[cp_model.IntVar]:
    """One Boolean per eligible pair with room: true = place the unit in that home."""
    return [model.new_bool_var(f"u{p.unit}_h{p.home}") for p in pairs]


def add_one_home_per_unit(model: cp_model.CpModel, pairs: list[Pair], x: list) -> None:
    """A unit (a referral, or a whole sibling group) goes to at most one home."""
    by_unit: dict[int, list] = {}
    for pair, var in zip(pairs, x):
        by_unit.setdefault(pair.unit, []).append(var)
    for variables in by_unit.values():
        if len(variables) > 1:
            model.add_at_most_one(variables)


def add_capacity(model: cp_model.CpModel, prepared: Prepared, pairs: list[Pair], x: list) -> None:
    """The places taken in a home (beds and staffing together: its `room`) are not exceeded."""
    by_home: dict[int, tuple[list, list]] = {}
    for pair, var in zip(pairs, x):
        variables, sizes = by_home.setdefault(pair.home, ([], []))
        variables.append(var)
        sizes.append(prepared.units[pair.unit].size)
    for home, (variables, sizes) in by_home.items():
        # Pairs exist only where the unit fits alone, so one unit never needs a constraint.
        if sum(sizes) > prepared.rooms[home]:
            model.add(cp_model.LinearExpr.weighted_sum(variables, sizes) <= prepared.rooms[home])


def objective_levels(prepared: Prepared, pairs: list[Pair]) -> list[list[int]]:
    """Coefficients per pair for each level in `LEVELS`: youths of each tier, then fit points."""
    tiers = [prepared.units[p.unit].tiers for p in pairs]
    return [[t[k] for t in tiers] for k in range(len(TIERS))] + [[p.fit for p in pairs]]


def _trivial_bound(pairs: list[Pair], coefficients: list[int]) -> int:
    """An upper bound without search: every unit takes its best pair."""
    best: dict[int, int] = {}
    for pair, c in zip(pairs, coefficients):
        best[pair.unit] = max(best.get(pair.unit, 0), c)
    return sum(best.values())


def solve_batch(prepared: Prepared, batch: Component, hint: set[tuple[int, int]], deadline: float,
                workers: int) -> BatchOutcome:
    """Solve one batch of components level by level, fixing each level before the next."""
    pairs = batch.pairs
    model = cp_model.CpModel()
    x = new_pair_variables(model, pairs)
    add_one_home_per_unit(model, pairs, x)
    add_capacity(model, prepared, pairs, x)
    levels = objective_levels(prepared, pairs)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    current = [0] * len(pairs)  # fail closed: nobody placed until CP-SAT returns a solution
    suggestion = [int((p.unit, p.home) in hint) for p in pairs]
    values, bounds, proven = [], [], True
    active = [k for k, c in enumerate(levels) if any(c)]
    for k, coefficients in enumerate(levels):
        if k not in active:  # nobody of this tier here (or no fit to gain): 0, proven
            values.append(0)
            bounds.append(0)
            continue
        objective = cp_model.LinearExpr.weighted_sum(x, coefficients)
        remaining = deadline - time.perf_counter()
        status = cp_model.UNKNOWN
        if remaining > 0:
            # An equal share of the time left for this level and each one after it.
            solver.parameters.max_time_in_seconds = remaining / len([j for j in active if j >= k])
            model.maximize(objective)
            model.clear_hints()
            for var, value in zip(x, suggestion):
                model.add_hint(var, value)
            status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            current = list(solver.response_proto.solution)[:len(pairs)]
            suggestion = current
            value = round(solver.objective_value)
            bound = value if status == cp_model.OPTIMAL else int(solver.best_objective_bound + 1e-6)
        else:
            value = sum(c for c, v in zip(coefficients, current) if v)
            bound = _trivial_bound(pairs, coefficients)
        proven = proven and status == cp_model.OPTIMAL
        values.append(value)
        bounds.append(bound)
        if k < len(levels) - 1:
            # Later levels may not give back anything this level reached.
            model.add(objective >= value)
    chosen = [pair for pair, v in zip(pairs, current) if v]
    return BatchOutcome(chosen, values, bounds, proven)
