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

from .eligibility import RULES, distance_km, exclusions
from .prepare import Prepared, Unit, candidate_homes, eligible_for_unit

NAMED = 3  # homes or children named in one detail before "and N more"
CLOSEST = 2  # closest in-jurisdiction homes described in full
NEARBY_STATES = 4  # other states searched for the nearest home only jurisdiction keeps out


def explain_unplaced(prepared: Prepared, unit: Unit, occupants: dict[int, list[int]]) -> tuple[str, str]:
    """The code and detail for a unit left unplaced; `occupants` maps home -> placed units."""
    homes = prepared.homes
    candidates = candidate_homes(unit, homes, prepared.homes_by_state)
    eligible = [h for h in candidates if eligible_for_unit(homes[h], unit)]
    if eligible:
        return "no_capacity", _no_capacity(prepared, unit, eligible, occupants)
    return "no_eligible_home", _no_eligible_home(prepared, unit, candidates)


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


def _unit_rules(prepared: Prepared, home_index: int, unit: Unit) -> set[str]:
    home = prepared.homes[home_index]
    return {e.rule for r in unit.referrals for e in exclusions(home, r)}


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


def _no_eligible_home(prepared: Prepared, unit: Unit, candidates: list[int]) -> str:
    homes = prepared.homes
    first = unit.referrals[0]
    area = _area(unit)
    if not candidates:
        head = f"no home in {area}"
        closest = ""
    else:
        rules = {h: _unit_rules(prepared, h, unit) for h in candidates}
        # Jurisdiction can only be common here within a sibling group whose members hold
        # different ICPC approvals; it has no "need" phrase, so leave it to the details.
        common = set.intersection(*rules.values()) - {"jurisdiction"}
        if common:
            head = f"no home in {area} {_need(min(common, key=RULES.index), unit)}"
        else:
            head = f"none of the {len(candidates)} homes in {area} is eligible"
        ranked = sorted(candidates, key=lambda h: (len(rules[h]), distance_km(homes[h].location, first.location)))
        described = [f"{homes[h].id} ({'; '.join(_unit_exclusions(prepared, h, unit))})"
                     for h in ranked[:CLOSEST]]
        closest = "; closest: " + ", ".join(described)
    nearest = _nearest_outside(prepared, unit, set(candidates))
    return _who(unit) + head + nearest + closest


def _nearest_outside(prepared: Prepared, unit: Unit, candidates: set[int]) -> str:
    """' (nearest: h7 in KS, no ICPC approval)' for the nearest home that only jurisdiction
    keeps out, searched in the custody state and the few states nearest the youth."""
    homes = prepared.homes
    first = unit.referrals[0]
    states = sorted(prepared.state_centres, key=lambda s: distance_km(prepared.state_centres[s], first.location))
    outside = [h for state in states[:NEARBY_STATES] for h in prepared.homes_by_state[state]
               if h not in candidates]
    # Nearest first, so the rules are worked out only until the first such home.
    outside.sort(key=lambda h: distance_km(homes[h].location, first.location))
    found = next((h for h in outside if _unit_rules(prepared, h, unit) == {"jurisdiction"}), None)
    if found is None:
        return ""
    home = homes[found]
    why = ("no ICPC approval" if home.state not in first.icpc_approved_states
           else "takes no out-of-state youth")
    return f" (nearest: {home.id} in {home.state}, {why})"


def _no_capacity(prepared: Prepared, unit: Unit, eligible: list[int], occupants: dict[int, list[int]]) -> str:
    homes, rooms, units = prepared.homes, prepared.rooms, prepared.units
    size = unit.size
    first = unit.referrals[0]
    # Homes that had some room first: that is where the competition was.
    ranked = sorted(eligible, key=lambda h: (rooms[h] == 0, distance_km(homes[h].location, first.location)))
    described = []
    for h in ranked[:NAMED]:
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

