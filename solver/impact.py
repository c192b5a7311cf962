"""Where one more bed would help most: the exact effect of one more place in each home.

For a finished run, and for each home, two changes are weighed:

  bed    one more staffed bed: the home can take one more place tonight
  staff  one more staff member on duty: the home's room grows by what its beds and the
         staffing ratio then allow (nothing when beds, not staff, are what binds)

The effect is how many more youths of each tier the best answer places with the change,
emergency first (a gain in a more urgent tier can cost a less urgent one a place: the
lexicographic objective holds). It is exact: the component of the unit-home graph that
the home belongs to is solved again, tiers only, from the run's answer, which is still
feasible with more room. Fit is not weighed: a bed is worth funding for the children it
places, not for a better fit.

Most homes need no search. With the run's tier counts optimal, the LP relaxation of each
tier level on the component prices one more place in each home (the dual value of its
capacity row); the LP optimum is a concave function of the room, so `value + price x
extra places` bounds what the change can reach. A home whose bound does not beat the
run's counts at any tier gains nothing, proven without a search. The others are solved,
most promising first; with `top`, the search stops once `top` exact answers are at
least as good as every bound left, so the best `top` are exact and found quickly.

Solving a change again is a search for an answer that reaches, tier after tier, the
bound of the tier's LP re-solved warm with the change: reached, it is optimal. The LP
is nearly integral and the change local, so such an answer is almost always near the
LP's own (`_reach_bound`): the run's answer moved by a min-cost flow, else SCIP on the
few hundred pairs the answer in hand and the LP use, else on those plus the pairs free
at the homes and units the LP leaves fractional, and only then a search of the whole
component (reduced-cost fixing frees nearly all of it: the LP is degenerate). On the
dense benchmark state every one of the best ten changes reaches its LP bound.
"""
from __future__ import annotations

import dataclasses
import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from .eligibility import room, staffed_room
from .engine import Proof, is_feasible, objective_levels, reduced_search, run_mip, solve_levels
from .fit import fit_points
from .instance import Home, Instance
from .lp import LevelMip, Relaxation, build_level_mip, lagrangian
from .prepare import TIERS, Component, Pair, Prepared, components, eligible_for_unit, prepare
from .transport import transport_answer

CHANGES = ("bed", "staff")


@dataclass(frozen=True)
class Impact:
    """What one change in one home would do tonight."""

    home: str
    change: str  # "bed" or "staff"
    places: int  # places it adds to the home's room tonight
    gained: dict[str, int]  # more youths placed per tier (negative: fewer, for a more urgent gain)
    serves: tuple[str, ...]  # referrals of the tiers that gain, placed with the change, not by the run
    proven: bool  # exact; False only when the time limit stopped its search

    @property
    def key(self) -> tuple[int, ...]:
        """Sort key: tiers in order, the most urgent gain decides."""
        return tuple(self.gained[t] for t in TIERS)


@dataclass(frozen=True)
class ImpactReport:
    impacts: tuple[Impact, ...]  # every change examined, best first
    complete: bool  # True when every change was decided (or, with `top`, the best `top` are)
    seconds: float


def with_change(home: Home, change: str) -> Home:
    """`home` as it would be with the change: one more staffed bed, or one more staff member.

    For "bed", open beds and staff are set so that tonight's room is exactly one more
    than now (a bed is only open with the staff to run it).
    """
    if change == "staff":
        return dataclasses.replace(home, staff_on_duty=home.staff_on_duty + 1)
    if change != "bed":
        raise ValueError(f"unknown change {change!r}")
    places = room(home) + 1
    staff = max(home.staff_on_duty, math.ceil((home.current_youth + places) / home.youth_per_staff))
    return dataclasses.replace(home, open_beds=places, staff_on_duty=staff)


def _extra_places(home: Home, change: str) -> int:
    changed = with_change(home, change)
    return staffed_room(changed.open_beds, changed.current_youth, changed.staff_on_duty,
                        changed.youth_per_staff) - room(home)


def bed_impact(instance: Instance, result: dict, time_limit: float = 10.0, workers: int = 2,
               top: int | None = None) -> ImpactReport:
    """The effect of one more bed and one more staff member in each home (see the module).

    `result` is the run's answer in the contract's JSON form. When it is not "optimal",
    each component's tier counts are solved again first, so the gains are measured from
    the best answer, not from a run stopped by its time limit.
    """
    start = time.perf_counter()
    deadline = start + time_limit
    prepared = prepare(instance)
    placed = _placed_pairs(prepared, result)
    parts = components(prepared)
    part_of_home = {pair.home: i for i, part in enumerate(parts) for pair in part.pairs}
    base: dict[int, tuple[list[Pair], list[int]]] = {}  # component -> its answer and tier counts
    prices: dict[int, list[Pricing] | None] = {}
    lps: dict[int, TierLPs] = {}
    part_of_unit = {u: i for i, part in enumerate(parts) for u in part.units}
    impacts: list[Impact] = []
    candidates: list[tuple[tuple[float, ...], int, str, int]] = []
    opened: dict[tuple[int, str], list[Pair]] = {}  # each change's new pairs (`_new_pairs`)
    for h, home in enumerate(prepared.homes):
        for change in CHANGES:
            places = _extra_places(home, change)
            if places <= 0:
                impacts.append(Impact(home.id, change, 0, dict.fromkeys(TIERS, 0), (), True))
                continue
            new_pairs = opened[(h, change)] = _new_pairs(prepared, h, prepared.rooms[h] + places)
            if not new_pairs and h not in part_of_home:  # no unit can ever go there
                impacts.append(Impact(home.id, change, places, dict.fromkeys(TIERS, 0), (), True))
                continue
            bound = (math.inf,) * len(TIERS)
            touched = _touched(part_of_home, part_of_unit, h, new_pairs)
            if len(touched) == 1:
                # The component's LP prices bound the gain (new pairs, if any, join it).
                part = touched.pop()
                if part not in base:
                    base[part] = _base_answer(prepared, parts[part], placed, result, deadline, workers)
                if part not in prices:
                    lps[part] = TierLPs(prepared, parts[part].pairs)
                    prices[part] = _prices(lps[part], base[part][1], deadline)
                bound = _gain_bound(prices[part], base[part][1], h, places, new_pairs, prepared)
                if all(b <= 0 for b in bound):  # proven: no tier can gain
                    impacts.append(Impact(home.id, change, places, dict.fromkeys(TIERS, 0), (), True))
                    continue
            candidates.append((bound, h, change, places))
    # Most promising first. With `top`, a bound from the prices is tightened one tier at
    # a time (that tier's LP re-solved with the change, the tiers after it priced again
    # from there), and the change goes back in its new place: a change that falls behind
    # the best `top` leaves its later tiers' LPs unsolved. Once every tier is tightened,
    # it is solved again.
    queue = [(tuple(-b for b in bound), 0, h, change, places) for bound, h, change, places in candidates]
    heapq.heapify(queue)
    complete = True
    exact: list[Impact] = []
    while queue:
        key, untight, h, change, places = heapq.heappop(queue)
        tight = -untight  # among equal bounds, the most tightened first: its exact answer comes sooner
        bound = tuple(-b for b in key)
        if top is not None and len(exact) >= top:
            kth = sorted((i.key for i in exact), reverse=True)[top - 1]
            if kth >= bound:  # nothing left can beat the best `top`
                break
        if time.perf_counter() >= deadline:
            complete = False
            break
        if top is not None and tight < len(TIERS):
            tighter = _tighter_tier(prepared, part_of_home, part_of_unit, base, lps, prices, h, places,
                                    opened[(h, change)], bound, tight, deadline)
            if tighter is not None:
                if all(b <= 0 for b in tighter):  # proven: no tier can gain
                    exact.append(Impact(prepared.homes[h].id, change, places, dict.fromkeys(TIERS, 0), (), True))
                else:
                    heapq.heappush(queue, (tuple(-b for b in tighter), -(tight + 1), h, change, places))
                continue
        impact = _resolve(prepared, parts, part_of_home, placed, result, base, lps, h, change, places,
                          opened[(h, change)], deadline, workers,
                          bound if top is not None and tight == len(TIERS) else None)
        exact.append(impact)
        complete = complete and impact.proven
    impacts.extend(exact)
    impacts.sort(key=lambda i: tuple(-g for g in i.key))
    return ImpactReport(tuple(impacts), complete, time.perf_counter() - start)


def _placed_pairs(prepared: Prepared, result: dict) -> dict[int, Pair]:
    """The run's answer as pairs, by unit (units are placed whole)."""
    home_index = {home.id: i for i, home in enumerate(prepared.homes)}
    home_of = {a["referral"]: home_index[a["home"]] for a in result["assignments"]}
    by_key = {(p.unit, p.home): p for p in prepared.pairs}
    placed: dict[int, Pair] = {}
    for unit in prepared.units:
        where = home_of.get(unit.referrals[0].id)
        if where is not None:
            placed[unit.index] = by_key[(unit.index, where)]
    return placed


def _counts(prepared: Prepared, chosen: list[Pair]) -> list[int]:
    return [sum(c) for c in objective_levels(prepared, chosen)[:len(TIERS)]]


def _restricted(prepared: Prepared, pairs: list[Pair], rooms: list[int] | None = None) -> Prepared:
    """The same instance seen through `pairs` only (one component), optionally with other rooms."""
    return dataclasses.replace(prepared, pairs=pairs, rooms=list(rooms or prepared.rooms))


def _base_answer(prepared: Prepared, part: Component, placed: dict[int, Pair], result: dict,
                 deadline: float, workers: int) -> tuple[list[Pair], list[int]]:
    """The component's answer and its tier counts: the run's when proven, else solved again."""
    chosen = [placed[u] for u in part.units if u in placed]
    if result.get("status") != "optimal":
        chosen = solve_levels(_restricted(prepared, part.pairs), deadline, workers, len(TIERS), chosen).chosen
    return chosen, _counts(prepared, chosen)


class TierLPs:
    """The LP relaxation of each tier level on one component, kept loaded: a change of
    one home's room is priced again by a warm-started re-solve (GLOP without
    preprocessing keeps its basis: a few dozen iterations instead of thousands).

    A change that lets new units in (`_new_pairs`) adds their pairs as columns, with the
    rows they need, enabled only while that change is priced; GLOP keeps its basis when
    only columns are added."""

    def __init__(self, prepared: Prepared, pairs: list[Pair]):
        self.prepared = prepared
        self.base = len(pairs)
        self.columns = list(pairs)  # the component's pairs, then every pair added
        self.levels = objective_levels(prepared, pairs)
        self.added: dict[tuple[int, int], int] = {}
        self.by_home: dict[int, list[int]] = {}  # column indexes at each home
        for i, pair in enumerate(pairs):
            self.by_home.setdefault(pair.home, []).append(i)
        self.upper = np.ones(len(pairs))
        # Each column's unit, home and size, and the levels, as arrays for `lagrangian`:
        # built once here instead of in each of the dozens of solves (0.02 s each on a
        # dense state).
        self.arrays = (np.array([p.unit for p in pairs], dtype=np.int64),
                       np.array([p.home for p in pairs], dtype=np.int64),
                       np.array([prepared.units[p.unit].size for p in pairs], dtype=float))
        self.level_arrays = [np.array(level, dtype=float) for level in self.levels]
        self.models: list[LevelMip] = []
        for k in range(len(TIERS)):
            # Floors and rooms are set before each solve.
            model = build_level_mip(prepared, pairs, self.levels, [0] * k, k, "GLOP", every_floor=True)
            model.solver.SetSolverSpecificParametersAsString("use_preprocessing: false")
            self.models.append(model)

    @property
    def pairs(self) -> list[Pair]:
        return self.columns[:self.base]

    def enable(self, new_pairs: list[Pair]) -> list[int]:
        """Columns for `new_pairs` (added the first time), enabled; returns their indexes."""
        indexes = []
        for pair in new_pairs:
            key = (pair.unit, pair.home)
            if key not in self.added:
                self.added[key] = self._add_column(pair)
            indexes.append(self.added[key])
        self._bounds(indexes, 1.0)
        return indexes

    def disable(self, indexes: list[int]) -> None:
        self._bounds(indexes, 0.0)

    def _bounds(self, indexes: list[int], upper: float) -> None:
        for i in indexes:
            self.upper[i] = upper
            for model in self.models:
                model.x[i].SetBounds(0.0, upper)

    def _add_column(self, pair: Pair) -> int:
        """One more pair in every level's model: its unit's one-home row, its home's
        capacity row, keep-apart rows beside the pairs already at that home, the floors
        and the objective (each made when missing)."""
        unit = self.prepared.units[pair.unit]
        coefficients = [c[0] for c in objective_levels(self.prepared, [pair])]
        index = len(self.columns)
        here = self.by_home.setdefault(pair.home, [])
        at_home = [i for i in here if self.columns[i].unit in self.prepared.apart.get(pair.unit, ())]
        for k, model in enumerate(self.models):
            lp = model.solver
            var = lp.NumVar(0.0, 0.0, "")
            model.x.append(var)
            if pair.unit not in model.units:
                model.units[pair.unit] = lp.Constraint(-lp.infinity(), 1.0)
            model.units[pair.unit].SetCoefficient(var, 1.0)
            if pair.home not in model.capacity:
                model.capacity[pair.home] = lp.Constraint(-lp.infinity(), float(self.prepared.rooms[pair.home]))
                for i in here:
                    model.capacity[pair.home].SetCoefficient(model.x[i], float(self.prepared.units[self.columns[i].unit].size))
            model.capacity[pair.home].SetCoefficient(var, float(unit.size))
            for i in at_home:
                row = lp.Constraint(-lp.infinity(), 1.0)
                row.SetCoefficient(model.x[i], 1.0)
                row.SetCoefficient(var, 1.0)
                model.apart.append((i, index, row))
            for level, row in model.floors:
                row.SetCoefficient(var, float(coefficients[level]))
            lp.Objective().SetCoefficient(var, float(coefficients[k]))
        self.columns.append(pair)
        here.append(index)
        for level, c in zip(self.levels, coefficients):
            level.append(c)
        self.level_arrays = [np.append(level, float(c)) for level, c in zip(self.level_arrays, coefficients)]
        self.arrays = tuple(np.append(column, value) for column, value
                            in zip(self.arrays, (pair.unit, pair.home, float(unit.size))))
        self.upper = np.append(self.upper, 0.0)
        return index

    def solve(self, k: int, rooms: list[int], floors: list[int],
              deadline: float) -> tuple[float, LevelMip, np.ndarray] | None:
        """Level `k`'s Lagrangian bound with these rooms and floors (the enabled columns
        only), its model (its duals price each home) and every column's reduced cost
        (`lp.lagrangian`); None when GLOP does not finish by `deadline`."""
        model = self.models[k]
        for home, row in model.capacity.items():
            row.SetUb(float(rooms[home]))
        for level, row in model.floors:
            row.SetLb(float(floors[level]))
        model.solver.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
        if model.solver.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        changed = _restricted(self.prepared, self.columns, rooms)
        reduced, bound = lagrangian(changed, self.columns, self.level_arrays, floors, k, model, self.upper,
                                    self.arrays)
        return bound, model, reduced


@dataclass
class Pricing:
    """One tier level's LP on a component: its Lagrangian bound and the signed dual values
    of its rows (capacity per home, one home per unit, the floors of the levels above)."""

    bound: float
    homes: dict[int, float]
    units: dict[int, float]
    floors: dict[int, float]


def _prices(lps: TierLPs, counts: list[int], deadline: float) -> list[Pricing] | None:
    """Per tier level of the component: its LP bound (levels above held at `counts`) and
    its dual values; None when an LP does not finish in time."""
    found = []
    for k in range(len(TIERS)):
        solved = lps.solve(k, lps.prepared.rooms, counts[:k], deadline)
        if solved is None:
            return None
        bound, model, _ = solved
        found.append(Pricing(bound, {home: max(0.0, row.dual_value()) for home, row in model.capacity.items()},
                             {unit: max(0.0, row.dual_value()) for unit, row in model.units.items()},
                             {level: min(0.0, row.dual_value()) for level, row in model.floors}))
    return found


def _exact_tiers(lps: TierLPs, before: list[Pair], rooms: list[int], new_pairs: list[Pair], deadline: float,
                 workers: int, known: tuple[float, ...] | None = None,
                 counts: list[int] | None = None) -> tuple[list[Pair], list[int], bool]:
    """The best answer on the component's pairs and `new_pairs` with these `rooms`, tier
    after tier, from the run's answer `before` (still feasible with more room); returns
    it, its tier counts and whether each count is proven.

    Each tier's bound is its LP solved warm with the change and the tiers above held
    where they are now. An answer reaching it is the optimum: first the transportation
    answer (`solver.transport`) with the special units where the answer in hand, then
    the LP, puts them; else a search near the LP's answer (`_search_support`), then
    among the answers that reach the bound (`engine.reduced_search`), then, when none
    does, among those better than the answer in hand. `known` is the gain bound
    `_tighter_tier` found from the run's tier `counts`: a tier whose tiers above reached
    theirs, and that reaches its own, needs no LP."""
    prepared = lps.prepared
    pairs = lps.pairs + new_pairs
    levels = objective_levels(prepared, pairs)
    changed = _restricted(prepared, pairs, rooms)
    placed = set(before)
    answer = [int(pair in placed) for pair in pairs]
    values: list[int] = []
    proven = True
    enabled = lps.enable(new_pairs)
    try:
        columns = list(range(lps.base)) + enabled
        # The answer in hand is a flow's: the flow from it gives it again (its special
        # units stay where they are, the rest is the same flow), so it is not tried.
        flowed = False
        for k in range(len(TIERS)):
            proof = Proof(answer, int(np.dot(levels[k], answer)), int(np.dot(levels[k], answer)))
            tried = flowed  # the flow from the answer in hand: tried, or no use
            bounded = proven and known is not None and math.isfinite(known[k]) \
                and values == [c + g for c, g in zip(counts, known[:k])]
            if bounded:
                # The bound `_tighter_tier` found for the same LP: the LP is solved
                # again only for its values, when the flow falls short of it.
                proof.bound = max(proof.value, counts[k] + int(known[k]))
                if proof.value < proof.bound and not tried:
                    flowed = _flow_to_bound(changed, pairs, levels, values, k, proof, proof.solution)
                    tried = True
            if not bounded or proof.value < proof.bound:
                solved = lps.solve(k, rooms, values, deadline) if proven else None
                if solved is not None:
                    proof.bound = max(proof.value, math.floor(solved[0] + 1e-6))
                    if proof.value < proof.bound:
                        before_search = proof.value
                        taken = _reach_bound(changed, pairs, levels, values, k, proof, solved, columns, deadline,
                                             workers, tried)
                        flowed = taken or (flowed and proof.value == before_search)
            proven = proven and proof.value >= proof.bound
            answer = proof.solution
            values.append(proof.value)
        # A later tier's search may place more of a tier above than its own search did.
        values = [int(np.dot(c, answer)) for c in levels[:len(TIERS)]]
        return [pair for pair, v in zip(pairs, answer) if v], values, proven
    finally:
        lps.disable(enabled)


def _reach_bound(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                 proof: Proof, solved: tuple[float, LevelMip, np.ndarray], columns: list[int], deadline: float,
                 workers: int, tried: bool = False) -> bool:
    """Level `k` from the answer in hand to the bound of its LP (`solved`, from
    `TierLPs.solve`; `columns`: the enabled ones) when an answer reaches it, cheapest
    first (see `_exact_tiers`); else as far as the search proves by `deadline`.
    `tried`: the flow from the answer in hand is of no use (tried, or gives it again).
    Returns whether the answer it leaves is a flow's."""
    lagrangian_bound, model, reduced = solved
    flowed = not tried and _flow_to_bound(prepared, pairs, levels, floors, k, proof, proof.solution)
    if proof.value >= proof.bound:
        return flowed
    x = [model.x[i].solution_value() for i in columns]  # read only when needed: 0.02 s on a dense state
    flowed = _flow_to_bound(prepared, pairs, levels, floors, k, proof, x) or flowed
    if proof.value >= proof.bound:
        return flowed
    found = proof.value
    relaxation = Relaxation(lagrangian_bound, x, {}, reduced[columns], lagrangian_bound)
    _search_support(prepared, pairs, levels, floors, k, proof, relaxation, deadline)
    for target in (proof.bound, None):
        if proof.value < proof.bound:
            reduced_search(prepared, pairs, levels, floors, k, proof, relaxation, deadline, workers, target)
    return flowed and proof.value == found


def _flow_to_bound(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                   proof: Proof, score) -> bool:
    """The transportation answer with the special units placed by `score`
    (`solver.transport`), offered when it keeps the floors of the levels above; returns
    whether it is now the answer in hand."""
    flow = transport_answer(prepared, pairs, levels, len(TIERS) - 1, score)
    if flow is not None and is_feasible(prepared, pairs, levels[:k], floors, flow):
        proof.offer(flow, int(np.dot(levels[k], flow)), proof.bound)
    return flow is not None and proof.solution is flow


def _search_support(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                    proof: Proof, relaxation: Relaxation, deadline: float) -> None:
    """Search level `k` near the LP's answer, for one that reaches the bound: first
    among the pairs of the answer in hand and those the LP uses (the LP optimum lies
    among them, and being nearly integral, most often so does such an answer), then
    also among the pairs that reduced-cost fixing leaves free at the homes and units
    the LP leaves fractional (where the rounding that fell short has to change).

    A few hundred or thousand pairs instead of tens of thousands: reduced-cost fixing
    alone frees almost all of them (the LP is degenerate). SCIP, whose LP bound on these
    pairs is the full one, proves such an answer at once; CP-SAT does not. Finding none
    proves nothing (the rest was left out): the caller searches further."""
    x = np.asarray(relaxation.x)
    solution = np.asarray(proof.solution)
    used = (solution > 0) | (x > 1e-6)
    fractional = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
    homes = {pairs[i].home for i in fractional}
    units = {pairs[i].unit for i in fractional}
    free = np.abs(relaxation.reduced) <= relaxation.lagrangian - proof.bound + 1e-6
    near = np.array([p.home in homes or p.unit in units for p in pairs], dtype=bool)
    for keep in (used, used | (free & near)):
        if proof.value >= proof.bound or time.perf_counter() >= deadline:
            return
        support = np.flatnonzero(keep).tolist()
        trial = Proof([proof.solution[i] for i in support], proof.value, proof.bound)
        run_mip(prepared, [pairs[i] for i in support], [[c[i] for i in support] for c in levels], floors, k,
                trial, deadline)
        if trial.value > proof.value:
            found = [0] * len(pairs)
            for i, v in zip(support, trial.solution):
                found[i] = v
            if is_feasible(prepared, pairs, levels[:k], floors, found):
                proof.offer(found, trial.value, proof.bound)


def _tighter_tier(prepared: Prepared, part_of_home: dict[int, int], part_of_unit: dict[int, int], base: dict,
                  lps: dict[int, "TierLPs"], prices: dict[int, list["Pricing"] | None], home: int, places: int,
                  new_pairs: list[Pair], bound: tuple[float, ...], tight: int,
                  deadline: float) -> tuple[float, ...] | None:
    """The gain bound `bound` (its first `tight` tiers from re-solved LPs, the rest from
    the prices) with tier `tight` bounded by its LP re-solved warm with the change (tighter
    than the prices, which hold only near the run's basis) and the tiers after it priced
    again from there (`_gain_bound`); None when the change touches more than one component
    or the LP is stopped.

    Each tier's LP holds the tiers above at their bounds (an answer below one of those is
    lexicographically below the tuple whatever its later tiers). An LP is a fifth of a
    second on a dense state, so none is solved that cannot change the answer: a tier
    the prices bound at no gain, the tiers above at no gain either, gains nothing (the
    run's answer stays feasible: the gain is not negative). `new_pairs`: the change's
    (`_new_pairs`)."""
    touched = _touched(part_of_home, part_of_unit, home, new_pairs)
    if len(touched) != 1 or next(iter(touched)) not in lps:
        return None
    part = next(iter(touched))
    loaded, counts = lps[part], base[part][1]
    prefix = list(bound[:tight])
    if not any(prefix) and bound[tight] <= 0:  # the prices held the same floors
        prefix.append(0)
    else:
        rooms = list(prepared.rooms)
        rooms[home] += places
        enabled = loaded.enable(new_pairs)
        try:
            solved = loaded.solve(tight, rooms, [c + g for c, g in zip(counts, prefix)], deadline)
        finally:
            loaded.disable(enabled)
        if solved is None:  # stopped, or the tiers above cannot all reach their bounds
            return None
        prefix.append(math.floor(solved[0] + 1e-6) - counts[tight])
    return _gain_bound(prices[part], counts, home, places, new_pairs, prepared, tuple(prefix))


def _gain_bound(prices: list[Pricing] | None, counts: list[int], home: int, places: int,
                new_pairs: list[Pair], prepared: Prepared, prefix: tuple[float, ...] = ()) -> tuple[float, ...]:
    """An upper bound on the gain per tier, lexicographically: each tier's bound holds
    the tiers above at their own bounds (as in `_tighter_tier`); the first tiers' bounds
    are `prefix` when given (from re-solved LPs).

    The same dual values y bound the changed LP (a Lagrangian bound holds for any signed
    y): one more place adds y_home per place, each new pair (a unit that fits only
    with the new room) adds its reduced cost where positive, and a tier above held at
    its count plus its gain g adds y_floor x g (y_floor <= 0: a floor raised costs); a
    new unit's own row, or a home without a capacity row, has y = 0."""
    if prices is None:
        return tuple(prefix) + (math.inf,) * (len(TIERS) - len(prefix))
    bound: list[float] = list(prefix)
    for k, (pricing, count) in enumerate(zip(prices, counts)):
        if k < len(prefix):
            continue
        price = pricing.homes.get(home, 0.0)
        reduced = []
        for pair in new_pairs:
            unit = prepared.units[pair.unit]
            reduced.append((unit.tiers[k] - pricing.units.get(pair.unit, 0.0) - price * unit.size
                            - sum(y * unit.tiers[j] for j, y in pricing.floors.items()), unit.size))
        if home in pricing.homes:
            extra = price * places + sum(max(0.0, d) for d, _ in reduced)
        else:
            # A home outside the LP (no capacity row): its row's y is free to choose, and the
            # bound is convex in it, so the best y is 0 or where a new pair's term vanishes.
            total = prepared.rooms[home] + places
            d = np.array([r for r, _ in reduced], dtype=float)
            size = np.array([s for _, s in reduced], dtype=float)
            ys = np.concatenate([[0.0], np.maximum(0.0, d / size)]) if len(d) else np.zeros(1)
            extra = float((ys * total + np.maximum(0.0, d[None, :] - ys[:, None] * size[None, :]).sum(axis=1)).min())
        raised = sum(y * bound[j] for j, y in pricing.floors.items())
        bound.append(math.floor(pricing.bound + extra + raised + 1e-6) - count)
    return tuple(bound)


def _touched(part_of_home: dict[int, int], part_of_unit: dict[int, int], home: int,
             new_pairs: list[Pair]) -> set[int]:
    """The components a change in `home` touches: the home's own, and those of the units
    its new pairs let in."""
    touched = {part_of_unit[p.unit] for p in new_pairs if p.unit in part_of_unit}
    if home in part_of_home:
        touched.add(part_of_home[home])
    return touched


def _new_pairs(prepared: Prepared, home: int, places: int) -> list[Pair]:
    """Pairs the extra room creates: units eligible for `home` that fit only with it."""
    before = prepared.rooms[home]
    target = prepared.homes[home]
    found = []
    for unit in prepared.units:
        if before < unit.size <= places and eligible_for_unit(target, unit):
            found.append(Pair(unit.index, home, sum(fit_points(target, r) for r in unit.referrals)))
    return found


def _resolve(prepared: Prepared, parts: list[Component], part_of_home: dict[int, int], placed: dict[int, Pair],
             result: dict, base: dict, lps: dict[int, TierLPs], home: int, change: str, places: int,
             new_pairs: list[Pair], deadline: float, workers: int, known: tuple[float, ...] | None = None) -> Impact:
    """Solve the tiers again on the components the change touches, from the run's answer
    (`_exact_tiers`, on the component's loaded LPs when the change touches only it;
    `new_pairs`: the change's, from `_new_pairs`; `known`: the gain bound `_tighter_tier`
    found there)."""
    part_of_unit = {u: i for i, part in enumerate(parts) for u in part.units}
    touched = _touched(part_of_home, part_of_unit, home, new_pairs)
    pairs = [p for i in sorted(touched) for p in parts[i].pairs] + new_pairs
    before: list[Pair] = []
    counts = [0] * len(TIERS)
    for i in touched:
        if i not in base:
            base[i] = _base_answer(prepared, parts[i], placed, result, deadline, workers)
        before += base[i][0]
        counts = [a + b for a, b in zip(counts, base[i][1])]
    rooms = list(prepared.rooms)
    rooms[home] += places
    if len(touched) == 1 and next(iter(touched)) in lps:
        chosen, values, proven = _exact_tiers(lps[next(iter(touched))], before, rooms, new_pairs, deadline, workers,
                                              known, counts)
    else:
        chosen, values, proven = _exact_tiers(TierLPs(prepared, pairs), before, rooms, [], deadline, workers)
    chosen, values = at_least_the_run(chosen, values, before, counts)
    return _impact(prepared, home, change, places, before, counts, chosen, values, proven)


def at_least_the_run(chosen: list[Pair], values: list[int], before: list[Pair],
                     counts: list[int]) -> tuple[list[Pair], list[int]]:
    """The re-solve's answer, or the run's own where a search cut off by the time limit
    came back lexicographically worse: the run's answer stays feasible with more room, so
    a change never loses youths, and an unproven impact reads "no gain found", not a loss."""
    if tuple(values) < tuple(counts):
        return before, counts
    return chosen, values


def _impact(prepared: Prepared, home: int, change: str, places: int, before: list[Pair], counts: list[int],
            chosen: list[Pair], values: list[int], proven: bool) -> Impact:
    """The change's gain per tier (`values` against the run's `counts`) and whom it serves."""
    gained = {t: v - c for t, v, c in zip(TIERS, values, counts)}
    # The youths of the tiers that gain, placed now and not before. (Within a tier the
    # re-solve may also swap who is placed; those who only swap in for a tier with no
    # gain are not what the change serves.)
    placed_before = {p.unit for p in before}
    serves = tuple(r.id for p in chosen if p.unit not in placed_before
                   for r in prepared.units[p.unit].referrals if gained[r.urgency] > 0)
    return Impact(prepared.homes[home].id, change, places, gained, serves, proven)
