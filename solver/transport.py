"""A transportation answer: the single-place units by min-cost flow, the others fixed first.

Without sibling groups, parenting youths and keep-apart links, placing youths is a
transportation problem: each unit takes one place in at most one home, each home offers
its room. Its integer optimum is a min-cost flow (OR-Tools' `SimpleMinCostFlow`), exact
and fast, for any objective that is a sum over pairs. The lexicographic objective is such
a sum with mixed-radix weights (`lexicographic_weights`): a level's weight exceeds the
most that every level after it can add, so the flow maximises the levels in order.

The other units (taking several places, or kept apart from someone) are *special*: they
are fixed first, greedily in the order of a score per pair (the LP relaxation's values,
or the answer in hand), where room is left and no keep-apart link is broken; the flow
then places the single-place units in the room left. The answer is feasible by
construction and is the best one possible with those special units where they are.

`repaired_answer` rounds fractions (the LP's, or the split flow's: `solver.split_flow`) the
same way while holding the levels above at their floors.

It is a candidate, not a proof: the engine compares it with the LP bound
(`engine.solve_level`). On the dense benchmark state the LP bound of every tier level
and of the ICWA level equals the value this answer reaches, so those levels are proven
without branch and bound.
"""
from __future__ import annotations

import operator
import time

import numpy as np
from ortools.graph.python import min_cost_flow

from .prepare import Pair, Prepared

# SimpleMinCostFlow works in int64 and scales costs by about the number of nodes: the
# weights are kept well below that (a level that would not fit is left out of the weights).
COST_LIMIT = 2 ** 60

__all__ = ["best_pairs_total", "lexicographic_weights", "pair_column", "repaired_answer", "transport_answer",
           "unit_home_flow", "weights_for_maxima"]


def lexicographic_weights(pairs: list[Pair], levels: list[list[int]], first: int, nodes: int) -> list[int] | None:
    """Integer weights for `levels` such that comparing sum_j w_j v_j compares the values
    lexicographically, for any answer on `pairs`.

    Level j's weight is the product of (largest possible value + 1) of every level after
    it; a level's largest value is at most every unit taking its best pair. Levels from
    the end are dropped (weight 0) while the largest cost times `nodes` would overflow
    int64; None when even the levels up to `first` do not fit.
    """
    unit = pair_column(pairs, "unit")
    return weights_for_maxima([best_pairs_total(unit, coefficients) for coefficients in levels], first, nodes)


def weights_for_maxima(maxima: list[int], first: int, nodes: int) -> list[int] | None:
    """`lexicographic_weights` for levels whose largest values are `maxima`."""
    for last in range(len(maxima) - 1, first - 1, -1):
        weights = [0] * len(maxima)
        weights[last] = 1
        for j in range(last - 1, -1, -1):
            weights[j] = weights[j + 1] * (maxima[j + 1] + 1)
        if sum(w * m for w, m in zip(weights, maxima)) * (nodes + 1) < COST_LIMIT:
            return weights
    return None


def best_pairs_total(unit: np.ndarray, coefficients: list[int]) -> int:
    """The sum over units of their best coefficient (at least 0): every unit in its best
    pair, an upper bound on a level without search. `unit`: each pair's unit."""
    best = np.zeros(int(unit.max()) + 1 if len(unit) else 0, dtype=np.int64)
    np.maximum.at(best, unit, np.asarray(coefficients, dtype=np.int64))
    return int(best.sum())


def special_units(prepared: Prepared, pairs: list[Pair]) -> set[int]:
    """Units the flow cannot place: several places, or a keep-apart link."""
    unit = pair_column(pairs, "unit")
    return set(np.unique(unit[_special_mask(prepared, unit, frozenset())]).tolist())


def pair_column(pairs: list[Pair], field: str) -> np.ndarray:
    """One field of every pair, as an array."""
    return np.fromiter(map(operator.attrgetter(field), pairs), dtype=np.int64, count=len(pairs))


def _special_mask(prepared: Prepared, unit: np.ndarray, hold: set[int]) -> np.ndarray:
    """Per pair (its unit in `unit`): whether its unit is special or held."""
    special = np.array([u.size > 1 for u in prepared.units], dtype=bool)
    special[list(prepared.apart) + list(hold)] = True
    return special[unit]


def fix_special(prepared: Prepared, pairs: list[Pair], special: np.ndarray, score) -> tuple[list[int], list[int]]:
    """Place the units of the pairs marked `special` (a mask per pair) greedily by
    descending `score` (pairs scoring 0 are not placed) where room is left and no
    keep-apart link breaks. Returns the pair indexes chosen and the room left in each home."""
    left = list(prepared.rooms)
    at: dict[int, int] = {}
    chosen = []
    score = np.asarray(score, dtype=float)
    candidates = np.flatnonzero(special & (score > 1e-6))
    for i in candidates[np.lexsort((candidates, -score[candidates]))].tolist():
        pair = pairs[i]
        size = prepared.units[pair.unit].size
        if pair.unit in at or left[pair.home] < size:
            continue
        if any(at.get(other) == pair.home for other in prepared.apart.get(pair.unit, ())):
            continue
        at[pair.unit] = pair.home
        left[pair.home] -= size
        chosen.append(i)
    return chosen, left


def transport_answer(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], first: int,
                     score, hold: set[int] = frozenset()) -> list[int] | None:
    """A 0/1 answer on `pairs`: special units (and the units in `hold`) fixed by `score`,
    the rest by a min-cost flow that maximises `levels` lexicographically (at least levels
    0..`first`). None when the weights would not fit in int64 or the flow fails."""
    unit = pair_column(pairs, "unit")
    special = _special_mask(prepared, unit, hold)
    fixed, left = fix_special(prepared, pairs, special, score)
    singles = np.flatnonzero(~special)
    solution = np.zeros(len(pairs), dtype=np.int64)
    solution[fixed] = 1
    if not len(singles):
        return solution.tolist()
    units, unit_node = np.unique(unit[singles], return_inverse=True)
    homes, home_node = np.unique(pair_column(pairs, "home")[singles], return_inverse=True)
    weights = lexicographic_weights(pairs, levels, first, len(units) + len(homes) + 2)
    if weights is None:
        return None
    gain = sum(w * np.asarray(c, dtype=np.int64)[singles] for w, c in zip(weights, levels) if w)
    flowed = unit_home_flow(unit_node, home_node, np.ones(len(units), dtype=np.int64),
                            np.ones(len(singles), dtype=np.int64),
                            np.maximum(np.asarray(left, dtype=np.int64)[homes], 0), -gain)
    if flowed is None:
        return None
    used = flowed[0]
    solution[singles[used > 0]] = 1
    return solution.tolist()


def unit_home_flow(unit_node: np.ndarray, home_node: np.ndarray, unit_places: np.ndarray, pair_places: np.ndarray,
                   room: np.ndarray, pair_costs: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The min-cost flow from units to homes: each unit sends up to `unit_places`, pair i
    (unit `unit_node[i]`, home `home_node[i]`) carries up to `pair_places[i]` at
    `pair_costs[i]` a place, each home takes up to its `room`, and what is not sent costs
    nothing. The places sent along each pair and the flow's cost; None if it fails."""
    n_units, n_homes, n_pairs = len(unit_places), len(room), len(unit_node)
    source, sink = n_units + n_homes, n_units + n_homes + 1
    total = int(np.sum(unit_places))
    # Arcs: source -> unit, unit -> home (the pairs), home -> sink, and source -> sink
    # for the places left out.
    tails = np.concatenate([np.full(n_units, source), unit_node, n_units + np.arange(n_homes), [source]])
    heads = np.concatenate([np.arange(n_units), n_units + home_node, np.full(n_homes, sink), [sink]])
    capacities = np.concatenate([unit_places, pair_places, room, [total]])
    costs = np.concatenate([np.zeros(n_units, dtype=np.int64), pair_costs, np.zeros(n_homes + 1, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                                     capacities, costs)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    if flow.solve() != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
        return None
    return flow.flows(arcs[n_units:n_units + n_pairs]), flow.optimal_cost()


def repaired_answer(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                    guide: list[float] | np.ndarray, reference: list[int], deadline: float) -> list[int] | None:
    """A transportation answer with this level's special units where `guide` (fractions
    per pair, `solver.split_flow`) puts them, holding every level above at its floor.

    The special units with a member in a tier above k are fixed first where `reference`
    (an answer meeting the floors) has them. Rounding the guide can still take the only
    room an upper-tier youth had: then the special units this answer put in the homes
    where `reference` placed the youths now missing lose that pair, and the flow runs
    again, until the floors hold or `deadline`. None if they never do."""
    unit = pair_column(pairs, "unit")
    home = pair_column(pairs, "home")
    reference = np.asarray(reference, dtype=np.int64)
    upper = np.array([prepared.units[u].top_tier < k for u in unit.tolist()], dtype=bool)
    special = _special_mask(prepared, unit, frozenset())
    score = np.where(upper & special, 2.0 * reference, np.asarray(guide, dtype=float))
    coefficients = [np.asarray(c, dtype=np.int64) for c in levels[:k]]
    while time.perf_counter() < deadline:
        answer = transport_answer(prepared, pairs, levels, k, score)
        if answer is None:
            return None
        solution = np.asarray(answer, dtype=np.int64)
        short = [j for j in range(k) if solution @ coefficients[j] < floors[j]]
        if not short:
            return answer
        missing = np.zeros(len(pairs), dtype=bool)
        for j in short:
            placed = coefficients[j] > 0
            gone = np.setdiff1d(unit[(reference == 1) & placed], unit[(solution == 1) & placed])
            missing |= np.isin(unit, gone) & (reference == 1)
        culprits = (solution == 1) & special & (reference == 0) & np.isin(home, home[missing])
        if not culprits.any():
            return None
        score = np.where(culprits, 0.0, score)
    return None
