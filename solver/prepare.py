"""From an instance to what the engines work on: placement units, candidate pairs, components.

A *unit* is what gets placed as one: a single referral, or a whole sibling group (its
members go to the same home or none is placed, so one decision covers them all). A
*pair* is a unit and a home that is eligible for every member and has room for the
whole unit tonight; only pairs become CP-SAT variables. Units whose members must be kept
apart (`keep_apart`, symmetric) are listed in `Prepared.apart`: the model never puts two
of them in one home. A pair's `icwa` counts the unit's ICWA youths for whom the home
meets the best preference step any of the unit's pairs offers them (`solver.icwa`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .eligibility import HomeTable, eligible_among, is_eligible, places_needed, room
from .fit import fit_points_among
from .icwa import preference_step, rank
from .instance import URGENCIES, Home, Instance, Location, Referral

TIERS = URGENCIES  # emergency, urgent, planned: the objective's order


@dataclass(frozen=True)
class Unit:
    """Referrals placed as one: a single referral or a whole sibling group."""

    index: int
    referrals: tuple[Referral, ...]

    @cached_property  # on the hot path of every model build; a unit never changes
    def size(self) -> int:
        """Places the whole unit takes in one home."""
        return sum(places_needed(r) for r in self.referrals)

    @cached_property
    def tiers(self) -> tuple[int, ...]:
        """How many members the unit has in each urgency tier."""
        return tuple(sum(r.urgency == t for r in self.referrals) for t in TIERS)

    @cached_property  # read for every pair at every level (`engine.solve_levels`)
    def top_tier(self) -> int:
        """Index in `TIERS` of the unit's most urgent member."""
        return min(TIERS.index(r.urgency) for r in self.referrals)

    @property
    def group(self) -> str | None:
        return self.referrals[0].sibling_group


# Slots: the stretch instance has 757,015 pairs, 36 MB less without a dict each.
@dataclass(frozen=True, slots=True)
class Pair:
    unit: int
    home: int
    fit: int  # fit points summed over the unit's members
    icwa: int = 0  # ICWA youths of the unit for whom this home is the best step available


@dataclass(frozen=True)
class Centres:
    """`Prepared.state_centres` as columns, in its order: the `lat` and `lon` that
    `eligibility.distances_km` reads of a table, with `states[i]` the state of row i."""

    states: list[str]
    lat: np.ndarray
    lon: np.ndarray


@dataclass
class Prepared:
    instance: Instance
    units: list[Unit]
    rooms: list[int]
    pairs: list[Pair]
    homes_by_state: dict[str, list[int]] = field(default_factory=dict)
    state_centres: dict[str, Location] = field(default_factory=dict)  # mean home location
    apart: dict[int, frozenset[int]] = field(default_factory=dict)  # unit -> units kept apart from it

    @property
    def homes(self) -> tuple[Home, ...]:
        return self.instance.homes

    @cached_property
    def centre_table(self) -> "Centres":
        """The states' centres as columns, to measure the distance to all of them at once."""
        states = list(self.state_centres)
        return Centres(states, np.array([self.state_centres[s].lat for s in states], dtype=np.float64),
                       np.array([self.state_centres[s].lon for s in states], dtype=np.float64))

    @cached_property
    def table(self) -> HomeTable:
        """The homes as columns, to test rules on many homes at once (`prepare` hands over its own)."""
        return HomeTable(self.homes)

    @cached_property
    def graphs(self) -> list[list[Component]]:
        """For each tier t, the `components` of the pairs of the units with a member in
        tier t or above: the graph the levels of tier t work on (the last tier's holds
        every pair: the ICWA and fit levels' graph too). Computed once: each level needs one."""
        unit = np.fromiter((p.unit for p in self.pairs), dtype=np.int64, count=len(self.pairs))
        top = np.array([u.top_tier for u in self.units], dtype=np.int64)[unit]
        return [components(self, [self.pairs[i] for i in np.flatnonzero(top <= t).tolist()])
                for t in range(len(TIERS))]

    @cached_property
    def preferences(self) -> list[list[Pair]]:
        """Every unit's pairs in the greedy order (`solver.greedy`): units most urgent
        first, then in referral order; each unit's pairs best ICWA step first, then best
        fit, ties to the home listed first. Sorted once: the engine completes an answer
        greedily after every level."""
        return preference_order(self.units, self.pairs)


def preference_order(units: list[Unit], pairs: list[Pair]) -> list[list[Pair]]:
    """`pairs` grouped by unit in the greedy order (see `Prepared.preferences`)."""
    by_unit: dict[int, list[Pair]] = {}
    for pair in pairs:
        by_unit.setdefault(pair.unit, []).append(pair)
    return [sorted(by_unit[u], key=lambda p: (-p.icwa, -p.fit, p.home))
            for u in sorted(by_unit, key=lambda u: (units[u].top_tier, u))]


@dataclass
class Component:
    """Units and the pairs that link them to homes, independent of every other component."""

    units: list[int]
    pairs: list[Pair]


def build_units(instance: Instance) -> list[Unit]:
    """One unit per sibling group and per referral outside a group, in input order."""
    grouped: dict[str, list[Referral]] = {}
    order: list[str | Referral] = []
    for referral in instance.referrals:
        if referral.sibling_group is None:
            order.append(referral)
        else:
            if referral.sibling_group not in grouped:
                grouped[referral.sibling_group] = []
                order.append(referral.sibling_group)
            grouped[referral.sibling_group].append(referral)
    return [Unit(i, tuple(grouped[item]) if isinstance(item, str) else (item,))
            for i, item in enumerate(order)]


def candidate_homes(unit: Unit, homes: tuple[Home, ...], homes_by_state: dict[str, list[int]]) -> list[int]:
    """Homes the unit's jurisdiction allows, by index: a cheap pre-filter before eligibility.

    Any other home fails the jurisdiction rule for the first member, so skipping it
    changes nothing; eligibility is still checked for every rule and every member.
    """
    first = unit.referrals[0]
    found = list(homes_by_state.get(first.custody_state, ()))
    for state in first.icpc_approved_states:
        if state != first.custody_state:
            found.extend(h for h in homes_by_state.get(state, ()) if homes[h].accepts_out_of_state)
    return sorted(found)


def eligible_for_unit(home: Home, unit: Unit) -> bool:
    """Eligible for every member of the unit."""
    if len(unit.referrals) == 1:  # the common case, on the hot path: skip the generator
        return is_eligible(home, unit.referrals[0])
    return all(is_eligible(home, r) for r in unit.referrals)


def keep_apart_units(instance: Instance, units: list[Unit]) -> dict[int, frozenset[int]]:
    """For each unit, the units it must be kept apart from (the links made symmetric)."""
    unit_of = {r.id: unit.index for unit in units for r in unit.referrals}
    found: dict[int, set[int]] = defaultdict(set)
    for referral in instance.referrals:
        for other in referral.keep_apart:
            a, b = unit_of[referral.id], unit_of[other]
            if a != b:
                found[a].add(b)
                found[b].add(a)
    return {u: frozenset(v) for u, v in found.items()}


def icwa_coefficients(homes: tuple[Home, ...], unit: Unit, found: list[int]) -> list[int]:
    """Per home in `found`: the unit's ICWA youths for whom it meets the best step among `found`."""
    counts = [0] * len(found)
    for referral in unit.referrals:
        if not referral.icwa:
            continue
        steps = [rank(preference_step(homes[h], referral)) for h in found]
        best = min(steps, default=rank(None))
        if best == rank(None):  # no home offers a step of the order: nothing to prefer
            continue
        for i, step in enumerate(steps):
            counts[i] += step == best
    return counts


def prepare(instance: Instance) -> Prepared:
    """Units, rooms and every (unit, home) pair that could be chosen tonight.

    Each unit is tested against all its candidate homes at once (`eligible_among`,
    `fit_points_among`): the same rules and points as `is_eligible` and `fit_points`.
    """
    homes = instance.homes
    homes_by_state: dict[str, list[int]] = defaultdict(list)
    for index, home in enumerate(homes):
        homes_by_state[home.state].append(index)
    rooms = [room(h) for h in homes]
    room_column = np.array(rooms, dtype=np.int64)
    table = HomeTable(homes)
    units = build_units(instance)
    pairs: list[Pair] = []
    for unit in units:
        candidates = np.array(candidate_homes(unit, homes, homes_by_state), dtype=np.int64)
        # A home without room for the whole unit cannot be chosen, whatever else happens.
        found = candidates[room_column[candidates] >= unit.size] if len(candidates) else candidates
        for referral in unit.referrals:
            found = eligible_among(table, referral, found)
        if not len(found):
            continue
        points = sum(fit_points_among(table, r, found) for r in unit.referrals)
        chosen = found.tolist()
        icwa = icwa_coefficients(homes, unit, chosen)
        pairs.extend(Pair(unit.index, h, p, c) for h, p, c in zip(chosen, points.tolist(), icwa))
    centres = {
        state: Location(sum(homes[h].location.lat for h in members) / len(members),
                        sum(homes[h].location.lon for h in members) / len(members))
        for state, members in homes_by_state.items()
    }
    prepared = Prepared(instance, units, rooms, pairs, dict(homes_by_state), centres, keep_apart_units(instance, units))
    prepared.table = table
    return prepared


def components(prepared: Prepared, pairs: list[Pair] | None = None) -> list[Component]:
    """Split the pairs (default: all) into connected components of the unit-home graph.

    Units without any of the pairs belong to no component: nothing can be decided for them.
    Components come out largest first (ties: in the order of their first pair), each with
    its units and pairs in input order.
    """
    pairs = prepared.pairs if pairs is None else pairs
    n_units = len(prepared.units)
    unit = np.fromiter((p.unit for p in pairs), dtype=np.int64, count=len(pairs))
    home = np.fromiter((p.home for p in pairs), dtype=np.int64, count=len(pairs)) + n_units
    label = component_labels(unit, home, n_units + len(prepared.homes))[unit]
    _, first, which, size = np.unique(label, return_index=True, return_inverse=True, return_counts=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.lexsort((first, -size))] = np.arange(len(first))
    order = np.argsort(rank[which], kind="stable")  # by component, input order within each
    found = []
    for members in np.split(order, np.cumsum(size[np.argsort(rank)])[:-1]) if len(pairs) else []:
        chosen = [pairs[i] for i in members.tolist()]
        units = [p.unit for a, p in enumerate(chosen) if a == 0 or chosen[a - 1].unit != p.unit]
        found.append(Component(units, chosen))
    return found


def component_labels(tails: np.ndarray, heads: np.ndarray, nodes: int) -> np.ndarray:
    """For each of `nodes` nodes, the smallest node index connected to it by the edges
    (tails[i], heads[i]): labels spread along the edges and jump to their label's label
    until nothing changes. Whole-array steps: a Python loop over 100,000s of pairs, six
    times per solve, cost more than the solvers on the smaller instances."""
    label = np.arange(nodes, dtype=np.int64)
    while True:
        lowest = np.minimum(label[tails], label[heads])
        spread = label.copy()
        np.minimum.at(spread, tails, lowest)
        np.minimum.at(spread, heads, lowest)
        while True:  # pointer jumping: a label's own label is at most as large
            jumped = spread[spread]
            if np.array_equal(jumped, spread):
                break
            spread = jumped
        if np.array_equal(spread, label):
            return label
        label = spread
