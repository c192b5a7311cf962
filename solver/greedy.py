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

from .instance import Instance
from .prepare import Pair, Prepared, preference_order, prepare
from .result import Result, build_result


def greedy_pairs(prepared: Prepared, pairs: list[Pair] | None = None, placed: list[Pair] = ()) -> list[Pair]:
    """The greedy choice among `pairs` (default: all), keeping the `placed` pairs.

    With `placed`, this completes an answer: the units already placed keep their homes
    and room, and the others are added where room is left (never beside a unit they must be
    kept apart from). Adding never lowers a tier's count, the ICWA level or the fit, so a
    completed answer still meets every level reached before.
    """
    preferences = prepared.preferences if pairs is None else preference_order(prepared.units, pairs)
    left = list(prepared.rooms)
    chosen = list(placed)
    occupants: dict[int, set[int]] = {}
    for pair in chosen:
        left[pair.home] -= prepared.units[pair.unit].size
        occupants.setdefault(pair.home, set()).add(pair.unit)
    done = {pair.unit for pair in chosen}
    no_one = frozenset()
    for options in preferences:
        u = options[0].unit
        if u in done:
            continue
        size = prepared.units[u].size
        apart = prepared.apart.get(u, no_one)
        # A home already holding a unit this one must be kept apart from is skipped.
        for pair in options:
            if left[pair.home] >= size and not (apart and apart & occupants.get(pair.home, no_one)):
                left[pair.home] -= size
                occupants.setdefault(pair.home, set()).add(u)
                chosen.append(pair)
                break
    return chosen


def greedy(instance: Instance) -> Result:
    """Solve `instance` with the greedy baseline (status is always "feasible")."""
    start = time.perf_counter()
    prepared = prepare(instance)
    result = build_result(prepared, greedy_pairs(prepared), status="feasible", solve_seconds=0.0)
    return dataclasses.replace(result, solve_seconds=time.perf_counter() - start)
