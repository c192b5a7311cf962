"""The matcher: an OR-Tools CP-SAT model of tonight's placements.

Model (built in the helpers below), one Boolean per pair = a placement unit (a referral
or a whole sibling group) and a home eligible for all its members with room for it:
  one home      each unit takes at most one of its pairs
  capacity      the places a home takes (1 + children_with per youth) are at most its
                `room`: open beds, and staff on duty x youths per staff minus youths
                already there, whichever is smaller
  siblings      a group is one unit, so its members share a home or none is placed
Objective, lexicographic, solved as a sequence of CP-SAT calls:
  1. maximise emergency youths placed
  2. maximise urgent youths placed, with the emergency count fixed at its best
  3. maximise planned youths placed, with both counts above fixed
  4. maximise total fit points, with all three counts fixed
Fixing each count before the next level is what guarantees that the fit tie-break (or a
lower tier) can never cost a more urgent child a place; no big-M weights are involved.

At the level of tier k, only units with a member in tier k or above matter (the others
could only take room), and the graph of their pairs falls apart into independent
components (by state, joined by ICPC approvals). Lexicographic optima of independent
parts add up, so each level solves its own components separately and concurrently in a
thread pool (CP-SAT releases the GIL); small components are batched into one model to
save the per-call overhead. Large batches first get an LP bound (GLOP), and CP-SAT stops
as soon as it reaches it.

Time limit: each level gets a weighted share of the time left (`LEVEL_WEIGHTS`), and
each batch a share of its level's in proportion to its pairs (`Schedule`). A level
stopped by the limit keeps the best answer known that respects the levels above
(CP-SAT's, the previous level's, or the greedy baseline's, which is feasible by
construction) and the status becomes "feasible". The greedy answer is that fallback, not
a CP-SAT hint: on the national benchmark, hints made the fit level about twice as slow.
After every level the answer is completed greedily where room is left, which never
lowers a level already reached.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .fit import FIT_SCALE
from .greedy import greedy_pairs
from .instance import Instance
from .prepare import TIERS, Component, Pair, Prepared, components, prepare
from .result import LEVELS, Level, Result, build_result, result_to_json

BATCH_PAIRS = 4000  # components smaller than this are solved together, up to this size
# Time shares of the levels (emergency, urgent, planned, fit): the more urgent, the more.
LEVEL_WEIGHTS = (4, 3, 1, 1)
# About how many pairs a second Python and CP-SAT take to build and load a model on a
# small server; a batch that cannot even be loaded in the time left is not tried.
PAIRS_PER_SECOND = 25_000
# Batches from this size on get an LP bound first; CP-SAT proves smaller ones quickly.
LP_PAIRS = 20_000

__all__ = ["solve", "result_to_json", "Result"]


@dataclass
class BatchOutcome:
    """One batch's answer at one level: its chosen pairs and that level's bound on it."""

    chosen: list[Pair]
    bound: int  # fit in points
    proven: bool


class Schedule:
    """Shares a level's time left between its batches in proportion to their pairs.

    Asked for a deadline, a batch gets `threads` times its share of the pairs of the
    batches still running or waiting (at most all the time left). A batch asks again
    before each call (LP, then CP-SAT), so the last one running gets all the time left.
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
    fallback = {pair.unit: pair for pair in greedy_pairs(prepared)}
    current = dict(fallback)
    bounds: list[int] = []
    seconds: list[float] = []
    proven = True
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k in range(len(LEVELS)):
            level_start = time.perf_counter()
            # Units with no member in tier k or above only take room from others at this
            # level: leaving them out splits the graph into smaller, faster components.
            top = min(k, len(TIERS) - 1)
            batches = pack_components(components(prepared, [
                p for p in prepared.pairs if prepared.units[p.unit].top_tier <= top]))
            threads = max(1, min(workers, len(batches)))
            # Few batches: give each CP-SAT call several workers; many: one each, in parallel.
            cpsat_workers = max(1, workers // threads)
            now = time.perf_counter()
            # This level's weighted share of the time left for it and the levels after it.
            share = LEVEL_WEIGHTS[k] / sum(LEVEL_WEIGHTS[k:])
            schedule = Schedule(batches, now + max(0.0, deadline - now) * share, threads)
            outcomes = list(pool.map(
                lambda batch: solve_level(prepared, batch, k, current, fallback, schedule, cpsat_workers),
                batches))
            # Units left out above (or not placed) are added greedily where room is left,
            # so a later level stopped by the time limit still places them where it can.
            chosen = [pair for outcome in outcomes for pair in outcome.chosen]
            current = {pair.unit: pair for pair in greedy_pairs(prepared, placed=chosen)}
            bounds.append(sum(outcome.bound for outcome in outcomes))
            proven = proven and all(outcome.proven for outcome in outcomes)
            seconds.append(time.perf_counter() - level_start)
    chosen = list(current.values())
    # A later level may place more of a tier than that tier's own call reached (its
    # constraint is >=): report what the final answer places. The bounds stay valid:
    # the final answer meets every constraint each bound assumed.
    everything = objective_levels(prepared, chosen)
    values = [sum(coefficients) for coefficients in everything]
    bounds = [max(value, bound) for value, bound in zip(values, bounds)]
    # Every level at its bound is a proof too, even when a call was stopped.
    status = "optimal" if proven or values == bounds else "feasible"
    levels = tuple(Level(name, _level_number(name, value), _level_number(name, bound), spent)
                   for name, value, bound, spent in zip(LEVELS, values, bounds, seconds))
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


def solve_level(prepared: Prepared, batch: Component, k: int, current: dict[int, Pair],
                fallback: dict[int, Pair], schedule: Schedule, workers: int) -> BatchOutcome:
    """Maximise level `k` on one batch, keeping every level above it at least where it is.

    The batch holds the units that matter at level k (a member in tier k or above).
    The levels above are held per batch at the values `current` reaches on it: when they
    are optimal, each of their components is at its own optimum, so this is the same as
    holding their totals.

    The answer kept is the best known one that respects those levels: CP-SAT's, else
    `current`'s, else the greedy `fallback`'s, which is feasible by construction. So a
    time limit can cost optimality, never a place greedy would give.
    """
    pairs = batch.pairs
    levels = objective_levels(prepared, pairs)
    coefficients = levels[k]
    previous = [int(current.get(p.unit) == p) for p in pairs]
    floors = [_value(levels[j], previous) for j in range(k)]
    greedy_solution = [int(fallback.get(p.unit) == p) for p in pairs]
    candidates = [previous]
    if all(_value(levels[j], greedy_solution) >= floors[j] for j in range(k)):
        candidates.append(greedy_solution)
    best = max(candidates, key=lambda solution: _value(coefficients, solution))
    value = _value(coefficients, best)
    bound = _trivial_bound(pairs, coefficients)
    status = cp_model.UNKNOWN
    solver = cp_model.CpSolver()
    remaining = schedule.deadline_for(batch) - time.perf_counter()
    if value < bound and len(pairs) >= LP_PAIRS and remaining > len(pairs) / PAIRS_PER_SECOND:
        # The LP relaxation is cheap and on these assignment-like models nearly tight:
        # its bound often proves the greedy answer, or lets CP-SAT stop as soon as it
        # reaches it instead of searching for a proof.
        bound = min(bound, lp_bound(prepared, pairs, levels, floors, k, remaining))
    remaining = schedule.deadline_for(batch) - time.perf_counter()
    if value < bound and remaining > len(pairs) / PAIRS_PER_SECOND:
        model = cp_model.CpModel()
        x = new_pair_variables(model, pairs)
        add_one_home_per_unit(model, pairs, x)
        add_capacity(model, prepared, pairs, x)
        for j, floor in enumerate(floors):
            if floor:  # the levels above may not give back anything they reached
                model.add(cp_model.LinearExpr.weighted_sum(x, levels[j]) >= floor)
        model.maximize(cp_model.LinearExpr.weighted_sum(x, coefficients))
        solver.parameters.num_workers = workers
        # Level 2 linearisation keeps the at-most-one and capacity rows in CP-SAT's LP; on
        # these assignment-like models it proves the fit level many times faster.
        solver.parameters.linearization_level = 2
        solver.parameters.max_time_in_seconds = max(0.0, schedule.deadline_for(batch) - time.perf_counter())
        status = solver.solve(model, StopAtBound(bound))
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if found and round(solver.objective_value) >= value:
            best = [int(solver.boolean_value(v)) for v in x]
            value = _value(coefficients, best)
        if status == cp_model.OPTIMAL:
            bound = value
        elif status == cp_model.FEASIBLE:  # stopped by the limit, or at the LP bound
            bound = min(bound, math.floor(solver.best_objective_bound + 1e-6))
    bound = max(value, bound)
    schedule.finish(batch)
    chosen = [pair for pair, v in zip(pairs, best) if v]
    return BatchOutcome(chosen, bound, bound == value)


class StopAtBound(cp_model.CpSolverSolutionCallback):
    """Stops the search at a solution that reaches a known bound: it is optimal."""

    def __init__(self, bound: int):
        super().__init__()
        self.bound = bound

    def on_solution_callback(self) -> None:
        if round(self.objective_value) >= self.bound:
            self.stop_search()


def lp_bound(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
             time_limit: float) -> int:
    """An upper bound on level `k` from the LP relaxation of its model (GLOP), or the trivial one.

    The rows are the model's: one home per unit, capacity, and the levels above held
    at their `floors`. Level values are integers, so the LP optimum rounded down is a
    bound; a small margin keeps GLOP's tolerances on the safe (higher) side.
    """
    lp = pywraplp.Solver.CreateSolver("GLOP")
    x = [lp.NumVar(0.0, 1.0, "") for _ in pairs]
    units: dict[int, pywraplp.Constraint] = {}
    homes: dict[int, pywraplp.Constraint] = {}
    for pair, var in zip(pairs, x):
        if pair.unit not in units:
            units[pair.unit] = lp.Constraint(0.0, 1.0)
        units[pair.unit].SetCoefficient(var, 1.0)
        if pair.home not in homes:
            homes[pair.home] = lp.Constraint(0.0, float(prepared.rooms[pair.home]))
        homes[pair.home].SetCoefficient(var, float(prepared.units[pair.unit].size))
    for j, floor in enumerate(floors):
        if floor:
            row = lp.Constraint(float(floor), lp.infinity())
            for var, c in zip(x, levels[j]):
                if c:
                    row.SetCoefficient(var, float(c))
    objective = lp.Objective()
    for var, c in zip(x, levels[k]):
        if c:
            objective.SetCoefficient(var, float(c))
    objective.SetMaximization()
    lp.SetTimeLimit(max(1, int(time_limit * 1000)))
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return _trivial_bound(pairs, levels[k])
    return math.floor(objective.Value() + 1e-3)
