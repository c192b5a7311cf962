"""A tier level's LP relaxation as a min-cost flow, for batches too big for GLOP.

The LP relaxation of a level lets a unit of s places go to a home in part: x_(u,h) in
[0, 1], sum_h x_(u,h) <= 1, sum_u s_u x_(u,h) <= room_h. Writing f_(u,h) = s_u x_(u,h)
(places of u sent to h), that is a flow: the unit sends up to s_u places, each of its
pairs carries up to s_u, each home takes up to its room, and a place sent along (u, h)
is worth c_u / s_u where c_u is what the whole unit is worth. Keep-apart rows are left
out, which only loosens the relaxation. So `SimpleMinCostFlow` solves the LP exactly, on
integers (costs scaled by the sizes' least common multiple), in memory that grows with
the arcs alone: GLOP needs about 1.1 KB per column, 540 MB for the stretch benchmark's
494,685-pair batch, a flow a few dozen bytes.

The floors of the levels above enter by Lagrangian weights: for any weights c >= 0,
    max { c_k L_k + sum_(j<k) c_j (L_j - f_j) } >= c_k * (the level's optimum)
over the relaxation, so (F(c) - sum_j c_j f_j) / c_k bounds level k, whatever c. A level
whose relaxed maximum equals its floor can keep a weight above all later levels (the
lexicographic weight: its floor then holds exactly at no cost); a level with slack gets a
finite weight, found by bisection on its subgradient L_j - f_j (`relaxed_bound`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .prepare import Pair, Prepared
from .transport import COST_LIMIT, pair_column, unit_home_flow, weights_for_maxima

# Weights of a level with slack are tried on this grid (multiples of 1 / WEIGHT_STEPS)
# up to WEIGHT_MAX level-k youths per youth of that level.
WEIGHT_STEPS = 8
WEIGHT_MAX = 4
# A level's bisection stops after this many weights in a row that lower no bound: the
# bound moves in whole youths, so it settles long before the grid is exhausted (stretch,
# planned level: 5,491 from the third flow on, of eleven).
PATIENCE = 2

__all__ = ["SplitFlow", "relaxed_bound"]


@dataclass
class SplitFlow:
    """One solve of the relaxation: each pair's share of its unit (x in [0, 1]), each
    level's value there, and the bound it proves on level k (None when solved without one)."""

    x: np.ndarray
    values: list[float]
    bound: int | None


class SplitFlowModel:
    """The flow network of a batch, built once and re-solved with other unit values."""

    def __init__(self, prepared: Prepared, pairs: list[Pair], levels: list[list[int]]):
        units, self.unit_node = np.unique(pair_column(pairs, "unit"), return_inverse=True)
        homes, self.home_node = np.unique(pair_column(pairs, "home"), return_inverse=True)
        self.size = np.array([prepared.units[u].size for u in units], dtype=np.int64)
        self.scale = math.lcm(*set(self.size.tolist())) if len(units) else 1
        # Each unit's value per level: a unit's coefficient is the same on all its pairs
        # at the tier levels (its members' tiers).
        self.unit_levels = np.zeros((len(levels), len(units)), dtype=np.int64)
        for j, coefficients in enumerate(levels):
            np.maximum.at(self.unit_levels[j], self.unit_node, np.asarray(coefficients, dtype=np.int64))
        self.room = np.asarray(prepared.rooms, dtype=np.int64)[homes]
        self.nodes = len(units) + len(homes) + 2

    def solve(self, weights: list[int], floors: list[int] = (), k: int | None = None) -> SplitFlow | None:
        """Maximise sum_j weights_j L_j over the relaxation; None when the costs would
        overflow or the flow fails. The bound is on level `k` with `floors` on the levels
        above (None without a `k`)."""
        worth = np.asarray(weights, dtype=object) @ self.unit_levels.astype(object)
        per_place = [w * (self.scale // s) for w, s in zip(worth.tolist(), self.size.tolist())]
        if max(per_place, default=0) * self.nodes >= COST_LIMIT:
            return None
        flowed = unit_home_flow(self.unit_node, self.home_node, self.size, self.size[self.unit_node], self.room,
                                -np.asarray(per_place, dtype=np.int64)[self.unit_node])
        if flowed is None:
            return None
        places, cost = flowed
        x = places / self.size[self.unit_node]
        placed = np.bincount(self.unit_node, weights=x, minlength=len(self.size))
        values = (self.unit_levels @ placed).tolist()
        if k is None or not weights[k]:
            return SplitFlow(x, values, None)
        # -cost is sum_j weights_j L_j times `scale`, exactly, in integers.
        lagrangian = -cost - self.scale * sum(w * f for w, f in zip(weights[:k], floors))
        bound = lagrangian // (self.scale * weights[k])
        return SplitFlow(x, values, bound)


def relaxed_bound(prepared: Prepared, pairs: list[Pair], levels: list[list[int]], floors: list[int], k: int,
                  deadline: float) -> tuple[list[np.ndarray], int] | None:
    """The split flow's best bound on tier level `k` by `deadline`, with guides for
    rounding (`transport.repaired_answer`): each pair's share of its unit in two flows.

    The first flow weights every level above lexicographically: those levels at their
    relaxed maxima, at or above their floors. A level whose maximum there is its floor
    keeps that weight (its floor then holds exactly, at no cost); each other level starts
    at one youth of level k per youth and is bisected on the grid of WEIGHT_STEPS up to
    WEIGHT_MAX: a weight is too low where its level falls below its floor, too high where
    the level passes it (PATIENCE tries without a better bound end it). Every weight
    tried gives a valid bound; the least is kept, and its flow, nearer the LP's optimum
    with the floors, is the second guide. Rounding either can come out a little ahead
    (stretch, planned level: 5,452-5,465 of 5,491 over six such flows), so both are
    tried. None when even the first flow's costs do not fit in int64."""
    model = SplitFlowModel(prepared, pairs, levels[:k + 1])
    # The overflow check is the flow's own (`SplitFlowModel.solve`), with the scale in it.
    lexicographic = weights_for_maxima(model.unit_levels.sum(axis=1).tolist(), k, 0)
    if lexicographic is None:
        return None
    weights = [w * WEIGHT_STEPS for w in lexicographic]
    first = model.solve(weights, floors, k)
    if first is None:
        return None
    best = first
    slack = [j for j in range(k) if first.values[j] > floors[j] + 1e-9]
    for j in slack:
        weights[j] = WEIGHT_STEPS
    for j in slack:
        low, high = 0, WEIGHT_MAX * WEIGHT_STEPS
        best_weight = weights[j]
        stale = 0
        while low <= high and stale < PATIENCE and time.perf_counter() < deadline:
            weights[j] = (low + high) // 2
            tried = model.solve(weights, floors, k)
            if tried is None:
                break
            stale += 1
            if tried.bound < best.bound:
                best, best_weight, stale = tried, weights[j], 0
            if tried.values[j] < floors[j] - 1e-9:
                low = weights[j] + 1
            elif tried.values[j] > floors[j] + 1e-9:
                high = weights[j] - 1
            else:
                break
        weights[j] = best_weight
    return [first.x] + ([best.x] if best is not first else []), best.bound
