"""First-come-first-served with urgency first: the baseline the benchmark compares against.

Units (referrals, or whole sibling groups) are taken most urgent first and, within a
tier, in the order they were referred; each takes the eligible home with room that fits
it best. This is roughly what a diligent coordinator does by hand. It is not the
matcher: the benchmark and the tests use it, and the CP-SAT engine uses its answer only
as a starting hint.
"""
from __future__ import annotations

import dataclasses
import time

from .model import Instance
from .prepare import Pair, Prepared, prepare
from .result import Result, build_result


def greedy_pairs(prepared: Prepared, units: list[int] | None = None) -> list[Pair]:
    """The greedy choice of pairs, restricted to `units` (unit indexes) when given."""
    by_unit: dict[int, list[Pair]] = {}
    for pair in prepared.pairs:
        by_unit.setdefault(pair.unit, []).append(pair)
    order = sorted(units if units is not None else by_unit, key=lambda u: (prepared.units[u].top_tier, u))
    left = list(prepared.rooms)
    chosen: list[Pair] = []
    for u in order:
        size = prepared.units[u].size
        # Best fit first; ties go to the home listed first.
        for pair in sorted(by_unit.get(u, ()), key=lambda p: (-p.fit, p.home)):
            if left[pair.home] >= size:
                left[pair.home] -= size
                chosen.append(pair)
                break
    return chosen


def greedy(instance: Instance) -> Result:
    """Solve `instance` with the greedy baseline (status is always "feasible")."""
    start = time.perf_counter()
    prepared = prepare(instance)
    result = build_result(prepared, greedy_pairs(prepared), status="feasible", solve_seconds=0.0)
    return dataclasses.replace(result, solve_seconds=time.perf_counter() - start)
