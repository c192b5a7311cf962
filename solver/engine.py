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

Time limit: each batch gets a share of the time left, in proportion to its pairs among
the unfinished batches' (`Schedule`), and each of its levels an equal share of that.
A level stopped by the limit keeps the best answer known that respects the levels
above (CP-SAT's, the previous level's, or the greedy baseline's, which is feasible by
construction) and the status becomes "feasible". The greedy answer is that fallback, not a CP-SAT hint: on the national
benchmark, hints made the fit level about twice as slow. After every level the answer
is completed greedily where room is left, which never lowers a level already reached.
"""
from __future__ import annotations

import dataclasses
import math
import threading
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


class Schedule:
    """Shares the time left between batches in proportion to their pairs.

    Asked for a deadline, a batch gets `threads` times its share of the pairs of the
    batches still running or waiting (at most all the time left). Batches ask again at
    every level, so when the others finish, the last one running gets all the time left.
    """

    def __init__(self, batches: list[Component], deadline: float, threads: int):
        self.deadline = deadline
        self.threads = threads
        self.unfinished = sum(len(b.pairs) for b in batches)
        self.lock = threading.Lock()

    def deadline_for(self, batch: Component) -> float:
        """The deadline for `batch`'s next call, from now."""
        with self.lock:
            share = min(1.0, self.threads * len(batch.pairs) / max(self.unfinished, 1))
        now = time.perf_counter()
        return now + max(0.0, self.deadline - now) * share

    def finish(self, batch: Component) -> None:
        with self.lock:
            self.unfinished -= len(batch.pairs)


def solve(instance: Instance, time_limit: float = 10.0, workers: int = 2) -> Result:
    """Propose placements for every referral of `instance`.

    `time_limit` (seconds) bounds preparation and search, and `workers` the CPU threads
    used; explaining the unplaced children comes after it (`solve_seconds` counts all).
    The result places as many emergency youths as possible, then urgent, then planned,
    then maximises fit; it is "optimal" when CP-SAT proved every level, else "feasible".
    Even when stopped by the time limit it is never lexicographically worse than the
    greedy baseline, whose answer is the starting point.
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
    fallback = {(p.unit, p.home) for p in greedy_pairs(prepared)}
    threads = max(1, min(workers, len(batches)))
    # Few batches: give each CP-SAT call several workers; many: one each, in parallel.
    cpsat_workers = max(1, workers // threads)
    schedule = Schedule(batches, deadline, threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(
            lambda batch: solve_batch(prepared, batch, fallback, schedule, cpsat_workers),
            batches))
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


def _value(coefficients: list[int], solution: list[int]) -> int:
    return sum(c for c, v in zip(coefficients, solution) if v)


def _fix_to_zero(model: cp_model.CpModel, variables: list, indexes: list[int], fixed: bool) -> None:
    """Fix (or free again) the given Booleans by setting their domain in the model proto."""
    for i in indexes:
        # A Boolean's domain is [0, 1]; its upper end says whether it may be true.
        model.proto.variables[variables[i].index].domain[1] = 0 if fixed else 1


def _completed(prepared: Prepared, pairs: list[Pair], solution: list[int]) -> list[int]:
    """`solution` with the unplaced units added greedily where room is left."""
    chosen = greedy_pairs(prepared, pairs, [p for p, v in zip(pairs, solution) if v])
    keys = {(p.unit, p.home) for p in chosen}
    return [int((p.unit, p.home) in keys) for p in pairs]


def solve_batch(prepared: Prepared, batch: Component, fallback: set[tuple[int, int]], schedule: Schedule,
                workers: int) -> BatchOutcome:
    """Solve one batch of components level by level, fixing each level before the next.

    At the level of tier k, units with no member in tier k or above it only take room
    from others, so their pairs are fixed to 0 for that call (they are free again later);
    this shrinks the early, most important calls a lot.

    The answer kept at each level is the best known one that respects the levels fixed
    so far: CP-SAT's, else the previous level's, else the greedy answer, which is feasible
    by construction. So a time limit can cost optimality, never a place greedy would give.
    """
    pairs = batch.pairs
    model = cp_model.CpModel()
    x = new_pair_variables(model, pairs)
    add_one_home_per_unit(model, pairs, x)
    add_capacity(model, prepared, pairs, x)
    levels = objective_levels(prepared, pairs)
    top_tiers = [prepared.units[p.unit].top_tier for p in pairs]

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    # Level 2 linearisation keeps the at-most-one and capacity rows in CP-SAT's LP; on
    # these assignment-like models it proves the fit level many times faster.
    solver.parameters.linearization_level = 2
    greedy_solution = [int((p.unit, p.home) in fallback) for p in pairs]
    current = greedy_solution
    values, bounds, proven = [], [], True
    active = [k for k, c in enumerate(levels) if any(c)]
    for k, coefficients in enumerate(levels):
        if k not in active:  # nobody of this tier here (or no fit to gain): 0, proven
            values.append(0)
            bounds.append(0)
            continue
        idle = [i for i, t in enumerate(top_tiers) if t > k] if k < len(TIERS) else []
        candidates = [current]
        if all(_value(levels[j], greedy_solution) >= values[j] for j in range(k)):
            candidates.append(greedy_solution)
        best = max(candidates, key=lambda solution: _value(coefficients, solution))
        objective = cp_model.LinearExpr.weighted_sum(x, coefficients)
        remaining = schedule.deadline_for(batch) - time.perf_counter()
        status = cp_model.UNKNOWN
        if remaining > 0:
            # An equal share of the time left for this level and each one after it.
            solver.parameters.max_time_in_seconds = remaining / len([j for j in active if j >= k])
            model.maximize(objective)
            _fix_to_zero(model, x, idle, True)
            status = solver.solve(model)
            _fix_to_zero(model, x, idle, False)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if found and round(solver.objective_value) >= _value(coefficients, best):
            best = [int(solver.boolean_value(v)) for v in x]
        # Units fixed to 0 above are left out of `best`: fill the room left greedily, so
        # that a later level stopped by the time limit still places them where it can.
        current = _completed(prepared, pairs, best)
        value = _value(coefficients, current)
        if status == cp_model.OPTIMAL:
            bound = value
        elif found:
            bound = max(value, math.floor(solver.best_objective_bound + 1e-6))
        else:
            bound = max(value, _trivial_bound(pairs, coefficients))
        proven = proven and status == cp_model.OPTIMAL
        values.append(value)
        bounds.append(bound)
        if k < len(levels) - 1:
            # Later levels may not give back anything this level reached.
            model.add(objective >= value)
    schedule.finish(batch)
    # A later level may place more of a tier than that tier's own call reached (the
    # constraint is >=): report what the final answer places.
    # (Bounds stay valid: the final answer meets every constraint each bound assumed.)
    values = [_value(coefficients, current) for coefficients in levels]
    # Every level at its bound is a proof too, even when the call that computed the bound
    # was stopped: e.g. the previous level's answer already had the best fit.
    proven = proven or values == bounds
    chosen = [pair for pair, v in zip(pairs, current) if v]
    return BatchOutcome(chosen, values, bounds, proven)
