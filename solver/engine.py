"""The matcher: tonight's placements as a lexicographic 0/1 program, solved with OR-Tools.

Model (the rows are written out above `build_level_model`), one Boolean per pair = a placement unit (a referral
or a whole sibling group) and a home eligible for all its members with room for it:
  one home      each unit takes at most one of its pairs
  capacity      the places a home takes (1 + children_with per youth) are at most its
                `room`: open beds, and staff on duty x youths per staff minus youths
                already there, whichever is smaller
  siblings      a group is one unit, so its members share a home or none is placed
  keep apart    two units whose youths must be kept apart never go to the same home
Objective, lexicographic, solved as a sequence of calls, one per level:
  1. maximise emergency youths placed
  2. maximise urgent youths placed, with the emergency count fixed at its best
  3. maximise planned youths placed, with both counts above fixed
  4. maximise ICWA youths placed in the best preference step available to them
     (`solver.icwa`), with the three counts fixed
  5. maximise total fit points, with all four levels above fixed
Fixing each count before the next level is what guarantees that the fit tie-break (or a
lower tier) can never cost a more urgent child a place; no big-M weights are involved.

At the level of tier k, only units with a member in tier k or above matter (the others
could only take room), and the graph of their pairs falls apart into independent
components (by state, joined by ICPC approvals). Lexicographic optima of independent
parts add up, so each level solves its own components separately and concurrently in a
thread pool (the solvers release the GIL); small components are batched into one model
to save the per-call overhead.

How a batch's level is decided (`solve_level`), cheapest first:
  1. LP bound: the LP relaxation (GLOP), read through its dual values as a Lagrangian
     bound (`lagrangian`: valid for any signed duals, so GLOP's tolerances cannot make it
     wrong). These models are nearly integral: on the dense benchmark state the bound of
     every tier level and of the ICWA level equals the optimum.
  2. Transportation answer (`solver.transport`): without sibling groups, parenting
     youths and keep-apart links the model is a transportation problem, solved exactly by
     a min-cost flow; those *special* units are fixed first where the LP puts them (or
     where the answer in hand does), then the flow places everyone else. When the LP still
     leaves special units fractional, a dive (`dive`: fix one, re-solve the LP warm)
     decides them while the LP keeps its bound. An answer that reaches the bound is proven
     optimal with no branch and bound.
  3. Search on what is left (`reduced_search`): an answer better than the one in hand may
     only deviate from the LP on pairs whose reduced cost is within the gap, so all other
     pairs are fixed and SCIP (batches of 5,000-80,000 pairs: LP-driven branch and bound
     proves these models where CP-SAT on two workers does not) or CP-SAT (the others)
     searches the rest; finding nothing better is the proof. At the fit level, whose LP
     bound is rarely reached, a first such search assumes the optimum near the bound
     (`OPTIMISTIC_GAP`), which fixes more pairs; if nothing reaches it, the bound drops
     and the usual search follows.
Batches below LP_PAIRS go straight to CP-SAT, which proves them quickly. For memory
(the stretch instance keeps within 1 GB), batches above LP_MAX_PAIRS get no LP and batches
above SEARCH_MAX_PAIRS no search, and each level hands the memory its solvers freed back
to the system (`release_freed_memory`). At a tier level such a batch gets the same LP as
a min-cost flow instead (`solver.split_flow`: a unit of several places may split across
homes), its bound by Lagrangian weights on the floors and its fractions as the guide
for the transportation answer, rounded and repaired until the levels above hold
(`transport.repaired_answer`).
A single state is one batch per level, which leaves a second worker idle: it solves the
LPs of the levels ahead (`Lookahead`), each holding the level above at its LP bound,
while that level is still looking for the answer that reaches it.

Building a level's model (`build_level_model`, `build_level_mip`) is kept apart from
running it (`solve_level`: time share, bound, solver, fallback).

Time limit: the whole call, explanations included, keeps within it (`solve`). Each
level gets a weighted share of the time left (`LEVEL_WEIGHTS`), and
each batch a share of its level's in proportion to its pairs (`Schedule`). A level
stopped by the limit keeps the best answer known that respects the levels above
(the solver's, the previous level's, or the greedy baseline's, which is feasible by
construction) and the status becomes "feasible". The greedy answer is that fallback, not
a CP-SAT hint: on the national benchmark, hints made the fit level about twice as slow.
After every level the answer is completed greedily where room is left, which never
lowers a level already reached.
"""
from __future__ import annotations

import ctypes
import dataclasses
import itertools
import math
import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .fit import FIT_SCALE
from .greedy import greedy_pairs
from .instance import Instance
from .prepare import TIERS, Component, Pair, Prepared, prepare
from .lp import (Relaxation, build_level_mip, capacity_rows, dive, keep_apart_rows, lp_relaxation,
                 rows_by_unit)
from .split_flow import relaxed_bound
from .transport import best_pairs_total, lexicographic_weights, pair_column, repaired_answer, transport_answer
from .result import LEVELS, Level, Result, build_result, result_to_json

BATCH_PAIRS = 4000  # components smaller than this are solved together, up to this size
# Time shares of the levels (emergency, urgent, planned, icwa, fit): the more urgent, the
# more. A level with nothing to decide (no ICWA youth) is proven at once by its trivial
# bound, and its share goes to the next.
LEVEL_WEIGHTS = (4, 3, 1, 1, 1)
FIT_LEVEL = len(LEVEL_WEIGHTS) - 1
ICWA_LEVEL = FIT_LEVEL - 1
# About how many pairs a second Python and CP-SAT take to build and load a model on a
# small server; a batch that cannot even be loaded in the time left is not tried.
PAIRS_PER_SECOND = 25_000
# About how many pairs a transportation answer (`solver.transport`) handles per second
# (stretch: 500,000 pairs in 0.5-0.9 s at load 5).
FLOW_PAIRS_PER_SECOND = 400_000
# Batches from this size on get an LP bound and a transportation answer first (GLOP:
# about 0.1-0.5 s for 40,000 pairs), which prove most levels with no search; smaller
# ones are proven quickly by CP-SAT without them.
LP_PAIRS = 2_000
# At the fit level, a first search assumes the optimum within this share of the LP bound
# (`reduced_search` with a target): dense benchmark, the optimum is 0.17% below it and
# the guess leaves 22,672 of 38,197 pairs free (SCIP 3.2 s -> 2.4 s at load 5). A wrong guess
# costs that search and lowers the bound; the usual search follows.
OPTIMISTIC_GAP = 0.002
# How long a level waits for the lookahead's LP (`Lookahead.relaxation`) before solving it
# itself. The lookahead runs at the lowest priority: on a busy machine (load 8-10 on two
# cores, other processes at normal priority) it got so little CPU that a 0.3 s LP took
# the whole time limit (dense benchmark: 30 s, not proven, returned after 42 s). At load 3
# a level waits about 0.1 s for it.
LOOKAHEAD_PATIENCE = 0.5
# Time kept back from the search for explaining the unplaced children and building the
# result: per child greedy leaves unplaced (stretch, explanations on arrays: 2,164 in
# 0.38-0.45 s of CPU at load 5, so 0.2 ms; 0.5 ms leaves room for a loaded machine), plus
# a share of the limit for the last calls overrunning a little.
EXPLAIN_SECONDS = 0.0005
RESULT_MARGIN = 0.02
# Batches from MIP_PAIRS up to MIP_MAX_PAIRS pairs are solved by SCIP, the others by
# CP-SAT (see `run_mip`). Above the cap SCIP's memory grows past what the stretch instance may
# use (1 GB peak with 150,000-pair urgent batches).
MIP_PAIRS = 5_000
MIP_MAX_PAIRS = 80_000
# No branch and bound at all on batches above this: CP-SAT on two workers neither found a
# better answer nor moved the bound there, and took memory the LPs need (stretch, 60 s
# limit: urgent level, 151,606 pairs, 8.4 s and 13.7 s, +155 MB; fit level, 253,361
# pairs, 11 s, +100-170 MB). Such a batch keeps its LP bound and transportation answer.
SEARCH_MAX_PAIRS = 100_000
# No LP on batches above this: GLOP takes about 1.1 KB per column, loaded and solved
# (stretch, planned level, 494,685 pairs: +543-574 MB at its peak, straight from the
# model's proto or through MPSolver alike), which took the process past 1 GB at the planned,
# ICWA and fit levels (1,020-1,085 MB), for bounds 0.6% (planned), 1% (ICWA) and 1.3% (fit)
# below the trivial ones, when it finished in its time at all, and no better answer. At a
# tier level such a batch gets the same bound from the split flow (`solver.split_flow`).
LP_MAX_PAIRS = 300_000
# A batch gets the split flow (`solver.split_flow`) only with time for this many of its
# flows (its bound takes up to 1 + 2 * PATIENCE flows a level above with slack, more while
# they improve it: stretch, planned level, 494,685 pairs, 7 flows of 0.5-0.7 s).
SPLIT_FLOW_SOLVES = 3
# About how many pairs GLOP builds and solves per second at a tier level (stretch, planned
# level, 494,685 pairs in 6.5 s at load 2-3): a batch too large for an LP in its time
# share gets only the trivial bound and the flow's answer.
LP_PAIRS_PER_SECOND = 60_000
SCIP_NO_PRESOLVE = "presolving/maxrounds = 0\n"
SCIP_NO_CUTS = "separating/maxroundsroot = 0\nseparating/maxrounds = 0\n"
# The fit level needs SCIP's root cuts (clique, zero-half, aggregation close its 0.17% LP
# gap), but not Gomory or strong CG cuts, nor the rounding heuristics, which on 38,000
# columns each cost a pass over the LP and find nothing the diving heuristics and the
# answer in hand do not (dense benchmark fit level, load about 5: 5.0 s -> 3.1 s). Its
# root LP is solved with steepest-edge pricing: 3,056 simplex iterations instead of 7,567
# (1.0 s instead of 2.2 s). Zero-half cuts are the ones it cannot do without (7.5 s without).
# The linear rows' own separation is off: it relaxes each row to a knapsack and lifts
# cardinality cuts from it, which on the floor rows (a coefficient per pair) took half of
# SCIP's time and closed nothing the separators above do not (dense benchmark, reduced fit
# model of 22,434 pairs: 1.45 s -> 0.68 s of CPU, still proven at the root node).
SCIP_FIT = "lp/pricing = s\nconstraints/linear/sepafreq = -1\n" + "".join(f"{name}/freq = -1\n" for name in (
    "separating/gomory", "separating/strongcg", "heuristics/feaspump", "heuristics/rens",
    "heuristics/shiftandpropagate", "heuristics/locks", "heuristics/randrounding", "heuristics/simplerounding",
    "heuristics/rounding", "heuristics/zirounding", "heuristics/trivial", "heuristics/clique", "heuristics/alns"))

# GLOP's dual simplex on the fit level's LP: its objective (fit points) is far less
# degenerate than a tier count's, and the dual simplex takes 2,662 iterations where the
# primal takes 4,272 (dense benchmark, 0.31 s instead of 0.64 s of CPU). At the tier
# levels the primal is 5-20 times faster, so they keep GLOP's default.
GLOP_FIT = "use_dual_simplex: true"

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


@dataclass
class Lexicographic:
    """The answer of `solve_levels`: the chosen pairs and, per level solved, value and bound."""

    chosen: list[Pair]
    values: list[int]
    bounds: list[int]
    proven: bool
    seconds: list[float]


def solve(instance: Instance, time_limit: float = 10.0, workers: int = 2) -> Result:
    """Propose placements for every referral of `instance`.

    `time_limit` (seconds) bounds the whole call, preparation, search and explaining the
    unplaced children (`solve_seconds`); `workers` is the CPU threads it may use. The
    search stops early enough to leave time for the explanations, estimated from the
    children the greedy answer leaves unplaced (`EXPLAIN_SECONDS`).
    The result places as many emergency youths as possible, then urgent, then planned,
    then ICWA youths in their best available preference step, then maximises fit; it is "optimal" when every level was proven, else "feasible".
    Even when stopped by the time limit it is never lexicographically worse than the
    greedy baseline, whose answer is the starting point.
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    start = time.perf_counter()
    prepared = prepare(instance)
    baseline = greedy_pairs(prepared)
    unplaced = len(prepared.units) - len(baseline)
    reserve = min(time_limit / 2, RESULT_MARGIN * time_limit + EXPLAIN_SECONDS * unplaced)
    answer = solve_levels(prepared, start + time_limit - reserve, workers, greedy=baseline)
    # Every level at its bound is a proof too, even when a call was stopped.
    status = "optimal" if answer.proven or answer.values == answer.bounds else "feasible"
    levels = tuple(Level(name, _level_number(name, value), _level_number(name, bound), spent)
                   for name, value, bound, spent in zip(LEVELS, answer.values, answer.bounds, answer.seconds))
    result = build_result(prepared, answer.chosen, status=status, solve_seconds=0.0, levels=levels,
                          components=len(prepared.graphs[-1]))
    return dataclasses.replace(result, solve_seconds=time.perf_counter() - start)


def solve_levels(prepared: Prepared, deadline: float, workers: int, count: int = len(LEVELS),
                 start: list[Pair] = (), greedy: list[Pair] | None = None) -> Lexicographic:
    """Maximise the first `count` levels of `LEVELS` in order, by `deadline` (a
    `time.perf_counter()` value), starting from the greedy answer (`greedy`, computed when
    not given) or `start` (a feasible answer: the best of the two that respects the levels
    above is kept at each level)."""
    fallback = {pair.unit: pair for pair in (greedy_pairs(prepared) if greedy is None else greedy)}
    current = {pair.unit: pair for pair in greedy_pairs(prepared, placed=list(start))} if start else dict(fallback)
    bounds: list[int] = []
    seconds: list[float] = []
    proven = True
    plan = [level_parts(prepared, k) for k in range(count)]
    batches_by_level = [pack_components(parts) for parts, _ in plan]
    # With one batch per level, a second worker has nothing to do: it solves the LPs of
    # the levels ahead (`Lookahead`).
    lookahead = Lookahead(prepared, batches_by_level, deadline) if workers > 1 else None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k in range(count):
            level_start = time.perf_counter()
            idle = plan[k][1]
            kept = [current[u] for part in idle for u in part.units if u in current]
            batches = batches_by_level[k]
            threads = max(1, min(workers, len(batches)))
            # Few batches: give each CP-SAT call several workers (less the lookahead's
            # thread when it may run beside them); many: one each, in parallel.
            spare = lookahead is not None and lookahead.may_run(k + 1)
            cpsat_workers = max(1, (workers - spare) // threads)
            now = time.perf_counter()
            # This level's weighted share of the time left for it and the levels after it.
            share = LEVEL_WEIGHTS[k] / sum(LEVEL_WEIGHTS[k:count])
            schedule = Schedule(batches, now + max(0.0, deadline - now) * share, threads)
            outcomes = list(pool.map(
                lambda batch: solve_level(prepared, batch, k, current, fallback, schedule, cpsat_workers, lookahead),
                batches))
            # Units left out above (or not placed) are added greedily where room is left,
            # so a later level stopped by the time limit still places them where it can.
            chosen = [pair for outcome in outcomes for pair in outcome.chosen] + kept
            current = {pair.unit: pair for pair in greedy_pairs(prepared, placed=chosen)}
            bounds.append(sum(outcome.bound for outcome in outcomes))
            proven = proven and all(outcome.proven for outcome in outcomes)
            release_freed_memory()
            seconds.append(time.perf_counter() - level_start)
    if lookahead is not None:
        lookahead.close()
    chosen = list(current.values())
    # A later level may place more of a tier than that tier's own call reached (its
    # constraint is >=): report what the final answer places. The bounds stay valid:
    # the final answer meets every constraint each bound assumed.
    values = [sum(coefficients) for coefficients in objective_levels(prepared, chosen)[:count]]
    bounds = [max(value, bound) for value, bound in zip(values, bounds)]
    return Lexicographic(chosen, values, bounds, proven, seconds)


def _glibc_malloc_trim():
    """glibc's `malloc_trim`, or None on another C library."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def release_freed_memory() -> None:
    """Hand the memory the solvers freed back to the system. glibc keeps it in its
    per-thread arenas otherwise, where the next level's solvers, on other threads, do not
    reuse it: on the stretch instance the process held 728 MB after the urgent level and
    348 MB once trimmed, and the next level's models grew from there (0.01-0.04 s a call
    there)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _level_number(name: str, value: int) -> float:
    return value / FIT_SCALE if name == "fit" else value


def level_parts(prepared: Prepared, k: int) -> tuple[list[Component], list[Component]]:
    """The components solved at level `k`, and those left as they are (idle).

    Units with no member in tier k or above only take room from others at this level:
    leaving them out splits the graph into smaller, faster components. At the ICWA level
    a component without an ICWA coefficient has nothing to gain: it keeps its answer as
    it is (no search, value and bound 0)."""
    parts = prepared.graphs[min(k, len(TIERS) - 1)]
    if k != ICWA_LEVEL:
        return parts, []
    return ([part for part in parts if any(p.icwa for p in part.pairs)],
            [part for part in parts if not any(p.icwa for p in part.pairs)])


class Lookahead:
    """The LP relaxations of the levels ahead, solved on a spare thread while a level
    still searches for an answer that reaches its bound.

    Level k + 1's LP holds level k at the value it reaches, which is its LP bound on most
    levels (the bound is the optimum: `solve_level`). So as soon as level k's bound is
    known, level k + 1's LP is solved with that bound as its floor, then level k + 2's
    with the bound found, and so on, while level k looks for its answer (dense benchmark:
    the urgent level's dive and the planned and ICWA levels' answers run beside the LPs of
    the planned, ICWA and fit levels). A level takes the relaxation only if its floors
    turn out to be those assumed, so the answer is the same as without a lookahead, only
    sooner. Only levels of one batch are looked ahead: several batches already keep the
    workers busy."""

    def __init__(self, prepared: Prepared, batches_by_level: list[list[Component]], deadline: float):
        self.prepared = prepared
        self.batches_by_level = batches_by_level
        self.deadline = deadline
        self.executor = ThreadPoolExecutor(max_workers=1, initializer=_lowest_priority)
        self.lock = threading.Lock()
        self.started: dict[int, tuple[list[int], Future]] = {}

    def may_run(self, k: int) -> bool:
        """Whether level `k` is looked ahead: one batch of LP size."""
        return (k < len(self.batches_by_level) and len(self.batches_by_level[k]) == 1
                and len(self.batches_by_level[k][0].pairs) >= LP_PAIRS)

    def start(self, k: int, floors: list[int]) -> None:
        """Solve level `k`'s LP with `floors` on the spare thread, unless already started
        with them, or the level is not looked ahead (`may_run`)."""
        if not self.may_run(k) or time.perf_counter() >= self.deadline:
            return
        with self.lock:
            if k in self.started and self.started[k][0] == floors:
                return
            self.started[k] = (list(floors), self.executor.submit(self._solve, k, list(floors)))

    def _solve(self, k: int, floors: list[int]) -> Relaxation | None:
        pairs = self.batches_by_level[k][0].pairs
        levels = objective_levels(self.prepared, pairs)
        relaxation = lp_relaxation(self.prepared, pairs, levels, floors, k, self.deadline - time.perf_counter(),
                                   GLOP_FIT if k == FIT_LEVEL else "")
        if relaxation is not None:
            self.start(k + 1, floors + [min(relaxation.bound, _trivial_bound(pairs, levels[k]))])
        return relaxation

    def relaxation(self, k: int, batch: Component, floors: list[int]) -> Relaxation | None:
        """Level `k`'s LP on `batch` if it was started with these `floors` and finishes
        within `LOOKAHEAD_PATIENCE` seconds, else None (the level then solves the same LP
        itself, with the same answer)."""
        with self.lock:
            entry = self.started.get(k)
        if entry is None or entry[0] != floors or self.batches_by_level[k] != [batch]:
            return None
        try:
            return entry[1].result(timeout=LOOKAHEAD_PATIENCE)
        except TimeoutError:
            entry[1].cancel()  # not started yet: never
            return None

    def close(self) -> None:
        """Drop the LPs not started yet, without waiting for one still running: at the
        lowest priority on a busy machine it may take long to reach its deadline."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def _lowest_priority() -> None:
    """Run the calling thread at the lowest CPU priority (Linux sets it per thread): on a
    busy machine the lookahead then takes only what the level in progress leaves idle,
    instead of halving its share (at load 12 on two cores the urgent level took 5 s
    instead of 2.5 s, and one run missed its share of the time limit)."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass


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
#
# Level k of the lexicographic objective, on the pairs P of one batch (x_p = 1: unit u(p)
# goes to home h(p)), with c_j(p) the coefficient of pair p at level j (youths of tier j in
# the unit, or fit points):
#
#   maximise    sum_p c_k(p) x_p
#   subject to  sum_{p: u(p) = u} x_p            <= 1           every unit  (one home)
#               sum_{p: h(p) = h} size(u(p)) x_p  <= room(h)     every home  (capacity)
#               x_p + x_q                        <= 1           every home h and units u ~ v kept
#                                                               apart, p = (u, h), q = (v, h)
#               sum_p c_j(p) x_p                 >= floor_j     every j < k (levels above)
#               x_p in {0, 1}
#
# The same rows are written twice, for CP-SAT (`build_level_model`) and for the MIP/LP
# solvers behind `pywraplp` (`build_level_mip`: GLOP for the LP bound, SCIP for a proof by
# branch and bound), because each solver has its own model API.

def new_pair_variables(model: cp_model.CpModel, pairs: list[Pair]) -> list[cp_model.IntVar]:
    """One Boolean per eligible pair with room: true = place the unit in that home."""
    return [model.new_bool_var(f"u{p.unit}_h{p.home}") for p in pairs]


def add_one_home_per_unit(model: cp_model.CpModel, pairs: list[Pair], x: list) -> None:
    """A unit (a referral, or a whole sibling group) goes to at most one home."""
    for members in rows_by_unit(pairs).values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)


def add_capacity(model: cp_model.CpModel, prepared: Prepared, pairs: list[Pair], x: list) -> None:
    """The places taken in a home (beds and staffing together: its `room`) are not exceeded."""
    for home, members in capacity_rows(prepared, pairs).items():
        sizes = [prepared.units[pairs[i].unit].size for i in members]
        model.add(cp_model.LinearExpr.weighted_sum([x[i] for i in members], sizes) <= prepared.rooms[home])


def add_keep_apart(model: cp_model.CpModel, prepared: Prepared, pairs: list[Pair], x: list) -> None:
    """Two youths who must be kept apart are never proposed to the same home."""
    for i, j in keep_apart_rows(prepared, pairs):
        model.add_at_most_one(x[i], x[j])


def add_floors(model: cp_model.CpModel, x: list, levels: list[list[int]], floors: list[int]) -> None:
    """The levels above may not give back anything they reached."""
    for coefficients, floor in zip(levels, floors):
        if floor:
            model.add(cp_model.LinearExpr.weighted_sum(x, coefficients) >= floor)


def build_level_model(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int],
                      k: int) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model of level `k` on `pairs` (see the rows above); returns it and its variables."""
    model = cp_model.CpModel()
    x = new_pair_variables(model, pairs)
    add_one_home_per_unit(model, pairs, x)
    add_capacity(model, prepared, pairs, x)
    add_keep_apart(model, prepared, pairs, x)
    add_floors(model, x, levels, floors)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, levels[k]))
    return model, x


def objective_levels(prepared: Prepared, pairs: list[Pair]) -> list[list[int]]:
    """Coefficients per pair for each level in `LEVELS`: youths of each tier, ICWA youths
    in their best available step, then fit points."""
    tiers = [prepared.units[p.unit].tiers for p in pairs]
    return [[t[k] for t in tiers] for k in range(len(TIERS))] + [[p.icwa for p in pairs], [p.fit for p in pairs]]


def _trivial_bound(pairs: list[Pair], coefficients: list[int]) -> int:
    """An upper bound without search: every unit takes its best pair."""
    return best_pairs_total(pair_column(pairs, "unit"), coefficients)


def _solution(pairs: list[Pair], answer: dict[int, Pair]) -> list[int]:
    """`answer` (a pair per unit placed) as 0/1 per pair of `pairs` (a pair is its unit and home)."""
    home = {unit: pair.home for unit, pair in answer.items()}
    return [int(home.get(p.unit) == p.home) for p in pairs]


def _value(coefficients: list[int], solution: list[int]) -> int:
    return sum(itertools.compress(coefficients, solution))


def is_feasible(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int],
                solution: list[int]) -> bool:
    """`solution` meets every row exactly: a MIP solver's answer is accepted only then
    (it works with tolerances; CP-SAT's answers are exact by construction)."""
    units: set[int] = set()
    used = [0] * len(prepared.rooms)
    for pair, v in zip(pairs, solution):
        if v:
            if pair.unit in units:
                return False
            units.add(pair.unit)
            used[pair.home] += prepared.units[pair.unit].size
    if any(solution[i] and solution[j] for i, j in keep_apart_rows(prepared, pairs)):
        return False
    return (all(u <= r for u, r in zip(used, prepared.rooms))
            and all(_value(c, solution) >= f for c, f in zip(levels, floors)))


@dataclass
class Proof:
    """The best answer known for one batch's level, its value and the best bound proven."""

    solution: list[int]
    value: int
    bound: int

    def offer(self, solution: list[int], value: int, bound: int) -> None:
        """Keep a better answer and a tighter bound."""
        if value > self.value:
            self.solution, self.value = solution, value
        self.bound = min(self.bound, max(bound, self.value))


# --- running a level: time budget, bounds, fallback ----------------------------------------

def solve_level(prepared: Prepared, batch: Component, k: int, current: dict[int, Pair],
                fallback: dict[int, Pair], schedule: Schedule, workers: int,
                lookahead: Lookahead | None = None) -> BatchOutcome:
    """Maximise level `k` on one batch, keeping every level above it at least where it is.

    The batch holds the units that matter at level k (a member in tier k or above).
    The levels above are held per batch at the values `current` reaches on it: when they
    are optimal, each of their components is at its own optimum, so this is the same as
    holding their totals.

    The answer kept is the best known one that respects those levels: the solvers',
    else `current`'s, else the greedy `fallback`'s, which is feasible by construction. So
    a time limit can cost optimality, never a place greedy would give.
    """
    pairs = batch.pairs
    levels = objective_levels(prepared, pairs)
    previous = _solution(pairs, current)
    floors = [_value(levels[j], previous) for j in range(k)]
    greedy_solution = _solution(pairs, fallback)
    candidates = [previous]
    if all(_value(levels[j], greedy_solution) >= floors[j] for j in range(k)):
        candidates.append(greedy_solution)
    best = max(candidates, key=lambda solution: _value(levels[k], solution))
    proof = Proof(best, _value(levels[k], best), _trivial_bound(pairs, levels[k]))
    relaxation = None
    remaining = schedule.deadline_for(batch) - time.perf_counter()
    large = proof.value < proof.bound and len(pairs) >= LP_PAIRS
    if large and remaining > len(pairs) / LP_PAIRS_PER_SECOND and len(pairs) <= LP_MAX_PAIRS:
        # The LP relaxation is cheap and on these assignment-like models nearly tight: its
        # bound, with the transportation answer built from its values, proves most levels
        # without branch and bound (`solver.transport`).
        relaxation = lookahead.relaxation(k, batch, floors) if lookahead is not None else None
        if relaxation is None:
            relaxation = lp_relaxation(prepared, pairs, levels, floors, k, remaining,
                                       GLOP_FIT if k == FIT_LEVEL else "")
        if relaxation is not None:
            proof.offer(best, proof.value, relaxation.bound)
    guides = []
    if (large and relaxation is None and k < len(TIERS)
            and remaining > SPLIT_FLOW_SOLVES * len(pairs) / FLOW_PAIRS_PER_SECOND):
        # Too big for GLOP (memory) or for its time: the same LP as a flow, in half the time left.
        split = relaxed_bound(prepared, pairs, levels, floors, k, time.perf_counter() + remaining / 2)
        if split is not None:
            guides, bound = split
            proof.offer(best, proof.value, bound)
    if lookahead is not None:
        # The next level's LP, assuming this level reaches its bound (checked there).
        lookahead.start(k + 1, floors + [proof.bound])
    if large and remaining > len(pairs) / FLOW_PAIRS_PER_SECOND:
        # Without time to load an LP or a search this big, a flow still improves the answer.
        offer_transport(prepared, pairs, levels, floors, k, proof, relaxation, schedule.deadline_for(batch), guides)
    deadline = schedule.deadline_for(batch)
    if proof.value < proof.bound and relaxation is not None:
        guess = proof.bound - math.ceil(OPTIMISTIC_GAP * proof.bound)
        if k == FIT_LEVEL and guess > proof.value + 1:
            # The answer in hand is far below the bound (the flow could not keep the
            # special units' tiers), so fixing by it fixes nothing; the optimum is
            # usually much nearer the bound. Either way the bound drops or the level is proven.
            reduced_search(prepared, pairs, levels, floors, k, proof, relaxation, deadline, workers, guess)
        if proof.value < proof.bound:
            reduced_search(prepared, pairs, levels, floors, k, proof, relaxation, deadline, workers)
    elif proof.value < proof.bound:
        search(prepared, pairs, levels, floors, k, proof, deadline, workers)
    schedule.finish(batch)
    chosen = [pair for pair, v in zip(pairs, proof.solution) if v]
    return BatchOutcome(chosen, max(proof.value, proof.bound), proof.value >= proof.bound)


def search(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
           proof: Proof, deadline: float, workers: int) -> None:
    """Branch and bound on the level's model, by `deadline`, if there is time to load it:
    SCIP for batches from MIP_PAIRS to MIP_MAX_PAIRS pairs, CP-SAT for the others up to
    SEARCH_MAX_PAIRS (none above)."""
    if len(pairs) > SEARCH_MAX_PAIRS or deadline - time.perf_counter() <= len(pairs) / PAIRS_PER_SECOND:
        return
    if MIP_PAIRS <= len(pairs) <= MIP_MAX_PAIRS:
        run_mip(prepared, pairs, levels, floors, k, proof, deadline)
    else:
        run_cpsat(prepared, pairs, levels, floors, k, proof, deadline, workers)


def reduced_search(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                   proof: Proof, relaxation: Relaxation, deadline: float, workers: int,
                   target: int | None = None) -> None:
    """Search only among the answers better than the one in hand (reduced-cost fixing).

    An answer worth T = value + 1 or more deviates from the LP's preference only on pairs
    with |d| <= L - T (`lagrangian`): every other pair is fixed, at 1 where d > 0 and at 0
    where d < 0. The search on what is left (the fixed units and their room removed)
    either finds a better answer or shows there is none, so the level is decided either
    way, on a model often half the size (dense benchmark, fit level: 19,700 of 38,200
    pairs).

    A `target` above value + 1 (`OPTIMISTIC_GAP`) fixes more pairs: the search then
    either reaches the optimum (it is at least `target`, so in the reduced model) or
    proves that no answer reaches `target`, which lowers the bound to `target` - 1."""
    target = proof.value + 1 if target is None else target
    d = relaxation.reduced
    free = np.abs(d) <= relaxation.lagrangian - target + 1e-6
    ones = np.flatnonzero(~free & (d > 0)).tolist()
    fixed = [0] * len(pairs)
    for i in ones:
        fixed[i] = 1
    rooms = list(prepared.rooms)
    occupants: dict[int, set[int]] = {}
    for i in ones:
        rooms[pairs[i].home] -= prepared.units[pairs[i].unit].size
        occupants.setdefault(pairs[i].home, set()).add(pairs[i].unit)
    units = {pairs[i].unit for i in ones}
    clash = any(prepared.apart.get(u, frozenset()) & members for members in occupants.values() for u in members)
    if len(units) < len(ones) or min(rooms, default=0) < 0 or clash:
        proof.offer(proof.solution, proof.value, target - 1)  # the fixed pairs alone break a rule
        return
    kept = [i for i in np.flatnonzero(free).tolist()
            if pairs[i].unit not in units and rooms[pairs[i].home] >= prepared.units[pairs[i].unit].size
            and not prepared.apart.get(pairs[i].unit, frozenset()) & occupants.get(pairs[i].home, set())]
    base = [_value(c, fixed) for c in levels]
    sub_pairs = [pairs[i] for i in kept]
    sub_levels = [[c[i] for i in kept] for c in levels]
    sub_floors = [max(0, f - b) for f, b in zip(floors, base[:k])]
    sub = Proof([0] * len(kept), -1, _trivial_bound(sub_pairs, sub_levels[k]))
    if sub_pairs:
        search(dataclasses.replace(prepared, rooms=rooms), sub_pairs, sub_levels, sub_floors, k, sub, deadline,
               workers)
    elif all(b >= f for b, f in zip(base, floors)):
        sub.offer([], 0, 0)
    if sub.value >= 0:
        combined = list(fixed)
        for i, v in zip(kept, sub.solution):
            combined[i] = v
        if is_feasible(prepared, pairs, levels[:k], floors, combined):
            proof.offer(combined, _value(levels[k], combined), proof.bound)
    # Every answer worth `target` or more lies in the reduced model.
    proof.offer(proof.solution, proof.value, max(target - 1, base[k] + sub.bound if sub.bound >= 0 else -1))


def weighted_levels(pairs: list[Pair], levels: list[list[int]], k: int) -> list[int] | None:
    """Coefficients of levels k up to ICWA as one objective, each level's weight above all
    that the levels after it can add (`transport.lexicographic_weights`); None at ICWA or
    fit, or when the weights would pass 10^9 (beyond that the LP's tolerances blur them)."""
    if k >= ICWA_LEVEL:
        return None
    weights = lexicographic_weights(pairs, levels[k:ICWA_LEVEL + 1], ICWA_LEVEL - k, 0)
    if weights is None or weights[0] * max(1, _trivial_bound(pairs, levels[k])) > 10 ** 9:
        return None
    # Each pair's weighted sum stays near 10^9 at most (the test above): int64 holds it.
    return (np.asarray(weights, dtype=np.int64) @ np.asarray(levels[k:ICWA_LEVEL + 1], dtype=np.int64)).tolist()


def offer_transport(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                    proof: Proof, relaxation: Relaxation | None, deadline: float,
                    guides: list[np.ndarray] | tuple = ()) -> None:
    """Offer `proof` the transportation answers (`solver.transport`), cheapest first, until
    one reaches the bound: the special units where the LP relaxation puts them; at a tier
    level, where the LP's or the split flow's fractions (`guides`, for a batch too big
    for an LP) put them, repaired until the levels above hold
    (`transport.repaired_answer`); where the best answer known puts them, with the units
    of the tiers above held too; the same without holding them; then after a dive
    (`solver.lp.dive`), weighted over the levels ahead, then this level alone. Each is
    kept only if it holds every level above (the flow maximises them first, but may trade
    one above for another when those are not at their optimum)."""
    def flow(score, hold=frozenset()):
        return lambda: transport_answer(prepared, pairs, levels, k, score, hold)

    def flow_after(dive_scores):
        def run():
            score = dive_scores()
            return None if score is None else transport_answer(prepared, pairs, levels, k, score)
        return run

    if relaxation is not None and k < len(TIERS):
        guides = [relaxation.x]
    # The special units where a guide puts them, repaired: a few flows, where a dive
    # re-solves the LP for each special unit it decides (stretch, planned level, 253,361
    # pairs: 1,769 of the bound 1,774 in 0.6 s, where the dives reached 1,750 in 9 s).
    # They come right after the LP's own flow: on the stretch batches a flow takes 0.3-1 s,
    # and flows of the batches running side by side take turns (a flow holds the GIL).
    answers = [flow(relaxation.x)] if relaxation is not None else []
    answers += [lambda guide=guide: repaired_answer(prepared, pairs, levels, floors, k, guide, proof.solution,
                                                    deadline)
                for guide in guides]
    if 0 < k < len(TIERS):
        # The levels above may not be at their optimum (a time limit): a flow maximising
        # them first could trade this level away for them. Holding the units of the tiers
        # above where they are, the flow moves only this tier's and lower ones.
        above = {p.unit for p in pairs if prepared.units[p.unit].top_tier < k}
        answers.append(flow(proof.solution, above))
    answers.append(flow(proof.solution))
    if relaxation is not None and k != FIT_LEVEL:
        # At the fit level the LP bound is rarely reached (the dense benchmark: 57,336
        # against 57,239), so a dive to it fails; the search starts from the answer in hand.
        # Half the time left at most: the search after it needs the rest if it fails.
        until = time.perf_counter() + (deadline - time.perf_counter()) / 2
        ahead = weighted_levels(pairs, levels, k)
        if ahead is not None:
            # First a dive on this level and the ones after it up to ICWA, weighted in
            # order: its answer usually proves those levels too, with no dive of their own.
            answers.append(flow_after(lambda: dive(prepared, pairs, levels[:k] + [ahead], floors, k, None, until)))
        answers.append(flow_after(lambda: dive(prepared, pairs, levels, floors, k, relaxation.bound, until)))
    for candidate in answers:
        if proof.value >= proof.bound:
            return
        answer = candidate()
        if answer is not None and is_feasible(prepared, pairs, levels[:k], floors, answer):
            proof.offer(answer, _value(levels[k], answer), proof.bound)


def run_cpsat(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
              proof: Proof, deadline: float, workers: int) -> None:
    """Maximise level `k` with CP-SAT until proven or `deadline`; offers its answer to `proof`."""
    model, x = build_level_model(prepared, pairs, levels, floors, k)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    # Level 2 linearisation keeps the at-most-one and capacity rows in CP-SAT's LP; on
    # these assignment-like models it proves the fit level many times faster.
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = max(0.0, deadline - time.perf_counter())
    status = solver.solve(model, StopAtBound(proof.bound))
    if status == cp_model.INFEASIBLE:  # only in a reduced model: no better answer there
        proof.offer(proof.solution, proof.value, -1)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solution = [int(solver.boolean_value(v)) for v in x]
        value = _value(levels[k], solution)
        bound = value if status == cp_model.OPTIMAL else math.floor(solver.best_objective_bound + 1e-6)
        proof.offer(solution, value, bound)


def run_mip(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
            proof: Proof, deadline: float) -> None:
    """Maximise level `k` with SCIP (LP-based branch and bound) until proven or `deadline`.

    On large batches the LP relaxation is nearly integral, and SCIP's LP-driven search
    finds and proves the optimum where CP-SAT does not: on the dense single-state
    instance's urgent level SCIP proved 311 in 12 s where CP-SAT with two workers
    stopped at 20 s with 282 (docs/matcher.md, Benchmark). SCIP uses one thread.
    """
    model = build_level_mip(prepared, pairs, levels, floors, k, "SCIP")
    mip = model.solver
    # No presolve: the rows are already tight (the LP is nearly integral), and it only
    # costs time; no cutting planes either at the tier levels, whose 0/1 objectives the
    # LP bounds well, but at the fit level the cuts pay. Dense instance, load about 7:
    # urgent level 9.6 s with SCIP's defaults, 5.8 s without presolve, 3.4 s without both;
    # planned 17.7 s -> 6.3 s without both; fit 13.0 s without both, 6.3 s with cuts
    # (`SCIP_FIT`: some of them).
    mip.SetSolverSpecificParametersAsString(SCIP_NO_PRESOLVE + (SCIP_NO_CUTS if k != FIT_LEVEL else SCIP_FIT))
    parameters = pywraplp.MPSolverParameters()
    parameters.SetDoubleParam(parameters.RELATIVE_MIP_GAP, 0.0)  # the default 1e-4 is no proof
    mip.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
    status = mip.Solve(parameters)
    if status == pywraplp.Solver.INFEASIBLE:  # only in a reduced model: no better answer there
        proof.offer(proof.solution, proof.value, -1)
    if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        solution = (model.solution_values() > 0.5).astype(int).tolist()
        bound = math.floor(mip.Objective().BestBound() + 1e-6)
        # SCIP works within tolerances: its answer is kept only if it meets every row exactly.
        if is_feasible(prepared, pairs, levels[:k], floors, solution):
            proof.offer(solution, _value(levels[k], solution), bound)
        else:
            proof.offer(proof.solution, proof.value, bound)


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
    """An upper bound on level `k` from its LP relaxation, or the trivial one when GLOP
    does not finish in `time_limit` seconds."""
    relaxation = lp_relaxation(prepared, pairs, levels, floors, k, time_limit)
    return _trivial_bound(pairs, levels[k]) if relaxation is None else relaxation.bound
