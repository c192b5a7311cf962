"""Why a child was not placed, in words a caseworker or coordinator can act on.

Two codes:
  no_eligible_home  no home passes every rule for the child (for a sibling group: no
                    home passes every rule for every member). The detail names the rule
                    that excludes every home in the child's jurisdiction when there is
                    one, the homes that come closest (fewest rules broken, then nearest)
                    with what excludes them, and the nearest home elsewhere that only
                    jurisdiction keeps out.
  no_capacity       some home is eligible, but none had room: the detail names the
                    eligible homes and, for each, what filled it (the children placed
                    there and whether they were more urgent) or that it has no room.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .eligibility import RULE_ROW, RULES, distance_km, distances_km, exclusions, failures_among
from .instance import Location
from .prepare import Prepared, Unit, candidate_homes

NAMED = 3  # homes or children named in one detail before "and N more"
CLOSEST = 2  # closest in-jurisdiction homes described in full
NEARBY_STATES = 4  # other states searched for the nearest home only jurisdiction keeps out
TIE_KM = 1e-6  # numpy's and `distance_km`'s distances differ far less than this (a millimetre)


def explain_unplaced(prepared: Prepared, unit: Unit, occupants: dict[int, list[int]]) -> tuple[str, str]:
    """The code and detail for a unit left unplaced; `occupants` maps home -> placed units.

    The rules are tested on whole arrays of homes (`failures_among`): a national run leaves
    hundreds of children unplaced, each with dozens of homes to weigh, and testing them one
    pair at a time cost a second. Only the homes a detail names are worded (`exclusions`).
    """
    candidates = np.array(candidate_homes(unit, prepared.homes, prepared.homes_by_state), dtype=np.int64)
    failed = unit_failures(prepared, unit, candidates)
    eligible = candidates[~failed.any(axis=0)]
    if len(eligible):
        return "no_capacity", _no_capacity(prepared, unit, eligible, occupants)
    return "no_eligible_home", _no_eligible_home(prepared, unit, candidates, failed)


def unit_failures(prepared: Prepared, unit: Unit, homes: np.ndarray) -> np.ndarray:
    """Which rules exclude some member of the unit from each of `homes` (a rule x home
    boolean array, rows in `RULES` order): column j holds the rules of every member's
    `exclusions` from home j."""
    failed = failures_among(prepared.table, unit.referrals[0], homes)
    for referral in unit.referrals[1:]:
        failed |= failures_among(prepared.table, referral, homes)
    return failed


def nearest(prepared: Prepared, homes: np.ndarray, to: Location, count: int,
            first: np.ndarray | None = None) -> list[int]:
    """The first `count` of `homes` (indexes) in the order of
    ``sorted(homes, key=lambda h: (first[h's position], distance_km(h's location, to)))``."""
    locations = prepared.homes
    approx = distances_km(prepared.table, homes, to)
    chosen = _first_by_distance(approx, lambda i: distance_km(locations[homes[i]].location, to), count, first)
    return homes[chosen].tolist()


def _first_by_distance(approx: np.ndarray, exact: Callable[[int], float], count: int,
                       first: np.ndarray | None = None) -> list[int]:
    """The positions of the first `count` places in the order of
    ``sorted(positions, key=lambda i: (first[i], exact(i)))``, `approx` being numpy's
    distances (`distances_km`) and `exact` `distance_km`'s.

    numpy's distances pick the few places that can be among them (up to `TIE_KM` beyond
    the last one's); `exact` orders just those, so a last-bit difference between the two
    formulas never changes which homes a detail names or their order.
    """
    if not len(approx):
        return []
    first = np.zeros(len(approx), dtype=np.int64) if first is None else first
    last = np.lexsort((approx, first))[min(count, len(approx)) - 1]
    close = (first < first[last]) | ((first == first[last]) & (approx <= approx[last] + TIE_KM))
    return sorted(np.flatnonzero(close).tolist(), key=lambda i: (first[i], exact(i)))[:count]


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:NAMED])
    return shown if len(ids) <= NAMED else f"{shown} and {len(ids) - NAMED} more"


def _who(unit: Unit) -> str:
    if unit.group is None:
        return ""
    return f"sibling group {unit.group} ({_names([r.id for r in unit.referrals])}): "


def _unit_exclusions(prepared: Prepared, home_index: int, unit: Unit) -> list[str]:
    """Exclusion messages for the whole unit; in a group each names its member."""
    home = prepared.homes[home_index]
    if len(unit.referrals) == 1:
        return [e.message for e in exclusions(home, unit.referrals[0])]
    return [f"{r.id}: {e.message}" for r in unit.referrals for e in exclusions(home, r)]


def _area(unit: Unit) -> str:
    first = unit.referrals[0]
    approved = [s for s in first.icpc_approved_states if s != first.custody_state]
    if not approved:
        return first.custody_state
    return f"{first.custody_state} or ICPC-approved {'/'.join(approved)}"


def _need(rule: str, unit: Unit) -> str:
    """What a home would have to offer, for the rule that excludes every home."""
    members = unit.referrals
    if rule == "age":
        return "accepts age " + " and ".join(sorted({str(r.age) for r in members}))
    if rule == "gender":
        return "serves " + " and ".join(sorted({r.gender for r in members})) + " youth"
    if rule == "pregnant":
        return "accepts pregnant youth"
    if rule == "parenting":
        return "accepts parenting youth"
    if rule == "substance_use":
        if any(r.substance_use == "active" for r in members):
            return "serves active substance use"
        return "offers substance-use recovery support"
    if rule == "medical":
        return f"serves medical level {max(r.medical_level for r in members)}"
    if rule == "mental_health":
        return f"serves mental-health level {max(r.mental_health_level for r in members)}"
    if rule == "program":
        wanted = sorted({p for r in members for p in r.programs})
        return "runs a " + " or ".join(p.replace("_", " ") for p in wanted) + " program"
    if rule == "keep_away":
        return "outside the areas this youth must stay away from"
    if rule == "keep_apart":
        return "without a youth this youth must be kept apart from"
    limit = min(r.max_distance_km for r in members if r.max_distance_km is not None)
    return f"is within {limit:.0f} km"


def _no_eligible_home(prepared: Prepared, unit: Unit, candidates: np.ndarray, failed: np.ndarray) -> str:
    """`failed`: `unit_failures` of the candidates, every one of which some rule excludes."""
    homes = prepared.homes
    first = unit.referrals[0]
    area = _area(unit)
    if not len(candidates):
        head = f"no home in {area}"
        closest = ""
    else:
        # Jurisdiction can only be common here within a sibling group whose members hold
        # different ICPC approvals; it has no "need" phrase, so leave it to the details.
        common = failed.all(axis=1)
        common[RULE_ROW["jurisdiction"]] = False
        if common.any():
            head = f"no home in {area} {_need(RULES[int(np.argmax(common))], unit)}"
        else:
            head = f"none of the {len(candidates)} homes in {area} is eligible"
        ranked = nearest(prepared, candidates, first.location, CLOSEST, failed.sum(axis=0))
        described = [f"{homes[h].id} ({'; '.join(_unit_exclusions(prepared, h, unit))})" for h in ranked]
        closest = "; closest: " + ", ".join(described)
    return _who(unit) + head + _nearest_outside(prepared, unit, candidates) + closest


def _nearest_outside(prepared: Prepared, unit: Unit, candidates: np.ndarray) -> str:
    """' (nearest: h7 in KS, no ICPC approval)' for the nearest home that only jurisdiction
    keeps out, searched in the custody state and the few states nearest the youth."""
    homes = prepared.homes
    first = unit.referrals[0]
    centres = prepared.centre_table
    states = _first_by_distance(
        distances_km(centres, np.arange(len(centres.states)), first.location),
        lambda i: distance_km(prepared.state_centres[centres.states[i]], first.location), NEARBY_STATES)
    nearby = np.array([h for i in states for h in prepared.homes_by_state[centres.states[i]]], dtype=np.int64)
    candidate = np.zeros(len(homes), dtype=bool)
    candidate[candidates] = True
    outside = nearby[~candidate[nearby]]
    failed = unit_failures(prepared, unit, outside)
    only_jurisdiction = failed[RULE_ROW["jurisdiction"]] & (failed.sum(axis=0) == 1)
    found = nearest(prepared, outside[only_jurisdiction], first.location, 1)
    if not found:
        return ""
    home = homes[found[0]]
    why = ("no ICPC approval" if home.state not in first.icpc_approved_states
           else "takes no out-of-state youth")
    return f" (nearest: {home.id} in {home.state}, {why})"


def _no_capacity(prepared: Prepared, unit: Unit, eligible: np.ndarray, occupants: dict[int, list[int]]) -> str:
    homes, rooms, units = prepared.homes, prepared.rooms, prepared.units
    size = unit.size
    first = unit.referrals[0]
    # Homes that had some room first: that is where the competition was.
    full = np.array([rooms[h] == 0 for h in eligible.tolist()], dtype=np.int64)
    described = []
    for h in nearest(prepared, eligible, first.location, NAMED, full):
        home = homes[h]
        placed = occupants.get(h, [])
        apart = prepared.apart.get(unit.index, frozenset())
        if rooms[h] == 0:
            why = "no room: 0 open beds" if home.open_beds == 0 else "no room: staffing allows no more youths"
        elif apart & set(placed) and rooms[h] - sum(units[u].size for u in placed) >= size:
            why = "room left, but a youth this youth must be kept apart from is placed there"
        elif placed:
            ids = [r.id for u in placed for r in units[u].referrals]
            relation = sorted({_relation(units[u], unit) for u in placed}, key=_RELATIONS.index)
            left = rooms[h] - sum(units[u].size for u in placed)
            why = f"filled by {_names(ids)}, {' and '.join(relation)}"
            if left > 0:
                why += f"; {left} place{'s' if left > 1 else ''} left"
        elif rooms[h] < size:
            why = f"room for {rooms[h]}"
        else:
            why = "room left: the search stopped at its time limit"
        described.append(f"{home.id} ({why})")
    more = f" and {len(eligible) - NAMED} more" if len(eligible) > NAMED else ""
    head = ""
    if size > 1:
        if unit.group is not None:
            head = f"needs {size} places in one home; "
        else:
            children = first.children_with
            head = f"needs {size} places (youth and {children} child{'ren' if children > 1 else ''}); "
    return _who(unit) + head + "eligible: " + ", ".join(described) + more


_RELATIONS = ("more urgent", "same urgency", "less urgent")


def _relation(other: Unit, unit: Unit) -> str:
    if other.top_tier < unit.top_tier:
        return "more urgent"
    if other.top_tier == unit.top_tier:
        return "same urgency"
    return "less urgent"

