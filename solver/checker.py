"""An independent check of a matcher answer: does it break a hard rule, are its counts right?

A coordinator must be able to trust a proposal without trusting the engine, so this
module shares no code path with `prepare`, `engine`, `greedy` or `result`. It reads the
result as JSON (what a file or the web app holds), takes eligibility from
`eligibility.exclusions` (that module *is* the rule book, shared with the web search) and
fit from `fit.fit` (the definition of the score), and derives everything else itself from
the instance's fields: places taken (1 + children_with), each home's bed and staffing
limits, jurisdiction, sibling groups, the counts per tier and the fit total.

Protective rules (instance version 2): keep-away areas and homes where a keep-apart
youth already is come with `exclusions`; two referrals kept apart (a link on either
side) placed in one home is checked here from the instance's own lists.

For an answer that claims to be "optimal" it also looks for plain counter-examples: an
unmatched child (or whole sibling group) that some eligible home still has room for (and
holds no youth it must be kept apart from), and an ICWA youth outside any sibling group
placed below the best preference step available to them while a home of that step, with
room and nobody to keep apart from, is left (moving them would place the same youths and
more of them in their best step).
"""
from __future__ import annotations

import math
from collections import defaultdict
from .eligibility import exclusions
from .fit import fit
from .icwa import preference_step, rank
from .instance import URGENCIES, Home, Instance, Referral

STATUSES = ("optimal", "feasible")
CODES = ("no_eligible_home", "no_capacity")
FIT_TOLERANCE = 1e-6


def check(instance: Instance, result: dict) -> list[str]:
    """Every violation in `result` (the result JSON as a dict) for `instance`; empty = valid.

    Never raises on a malformed result: a wrong shape is itself reported as a violation.
    """
    if not isinstance(result, dict):
        return ["result: must be an object"]
    problems: list[str] = []
    if result.get("status") not in STATUSES:
        problems.append(f"status: {result.get('status')!r} is not one of {', '.join(STATUSES)}")
    homes = {h.id: h for h in instance.homes}
    referrals = {r.id: r for r in instance.referrals}
    placed_in = _assignments(result, homes, referrals, problems)
    unmatched = _unmatched(result, referrals, problems)
    for rid in placed_in.keys() & unmatched.keys():
        problems.append(f"referral {rid}: both assigned and unmatched")
    for rid in referrals.keys() - placed_in.keys() - unmatched.keys():
        problems.append(f"referral {rid}: missing (neither assigned nor unmatched)")
    for rid, hid in sorted(placed_in.items()):
        problems += _pair_violations(homes[hid], referrals[rid])
    problems += _capacity_violations(instance, placed_in)
    problems += _sibling_violations(instance, placed_in)
    problems += _keep_apart_violations(instance, placed_in)
    problems += _count_violations(result, homes, referrals, placed_in)
    eligible = _EligibleHomes(instance)
    problems += _code_violations(unmatched, referrals, eligible)
    if result.get("status") == "optimal" and not problems:
        problems += _missed_placements(instance, placed_in, unmatched, eligible)
        problems += _missed_icwa_steps(instance, placed_in, eligible)
    return problems


def _apart_links(instance: Instance) -> set[frozenset[str]]:
    """Every keep-apart link, whichever side lists it."""
    return {frozenset((r.id, other)) for r in instance.referrals for other in r.keep_apart}


def _keep_apart_violations(instance: Instance, placed_in: dict[str, str]) -> list[str]:
    found = []
    for link in sorted(_apart_links(instance), key=sorted):
        a, b = sorted(link)
        if a in placed_in and placed_in.get(a) == placed_in.get(b):
            found.append(f"referrals {a} and {b} must be kept apart but are both in {placed_in[a]}")
    return found


def _apart_from(instance: Instance) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for link in _apart_links(instance):
        a, b = sorted(link)
        found[a].add(b)
        found[b].add(a)
    return found


def _free_places(instance: Instance, placed_in: dict[str, str]) -> dict[str, int]:
    taken: dict[str, int] = defaultdict(int)
    for referral in instance.referrals:
        if referral.id in placed_in:
            taken[placed_in[referral.id]] += 1 + referral.children_with
    return {h.id: min(h.open_beds, h.staff_on_duty * h.youth_per_staff - h.current_youth) - taken[h.id]
            for h in instance.homes}


def _missed_icwa_steps(instance: Instance, placed_in: dict[str, str], eligible: "_EligibleHomes") -> list[str]:
    """For an "optimal" answer: an ICWA youth (alone, not in a sibling group) placed below
    the best step an eligible home with room tonight offers, while such a home still has
    room for them and holds nobody they must be kept apart from."""
    homes = {h.id: h for h in instance.homes}
    free = _free_places(instance, placed_in)
    apart = _apart_from(instance)
    found = []
    for referral in instance.referrals:
        if not referral.icwa or referral.sibling_group is not None or referral.id not in placed_in:
            continue
        need = 1 + referral.children_with
        options = [h for h in eligible.for_referral(referral) if _room(h) >= need]
        best = min((rank(preference_step(h, referral)) for h in options), default=rank(None))
        here = rank(preference_step(homes[placed_in[referral.id]], referral))
        if best == rank(None) or here == best:
            continue
        for home in options:
            neighbours = {rid for rid, hid in placed_in.items() if hid == home.id}
            if (rank(preference_step(home, referral)) == best and free[home.id] >= need
                    and not neighbours & apart.get(referral.id, set())):
                found.append(f"status optimal, but ICWA youth {referral.id} in {placed_in[referral.id]} "
                             f"could move to {home.id}, a better preference step with room")
                break
    return found


def _room(home: Home) -> int:
    return max(0, min(home.open_beds, home.staff_on_duty * home.youth_per_staff - home.current_youth))


def _entries(result: dict, key: str, problems: list[str]) -> list[dict]:
    value = result.get(key)
    if not isinstance(value, list):
        problems.append(f"{key}: must be a list")
        return []
    good = []
    for i, entry in enumerate(value):
        if isinstance(entry, dict) and isinstance(entry.get("referral"), str):
            good.append(entry)
        else:
            problems.append(f"{key}[{i}]: must be an object with a referral id")
    return good


def _assignments(result: dict, homes: dict[str, Home], referrals: dict[str, Referral],
                 problems: list[str]) -> dict[str, str]:
    """referral id -> home id for the well-formed assignments; the rest become problems."""
    placed_in: dict[str, str] = {}
    for entry in _entries(result, "assignments", problems):
        rid, hid = entry["referral"], entry.get("home")
        if rid not in referrals:
            problems.append(f"assignment of {rid}: no such referral")
        elif not isinstance(hid, str) or hid not in homes:
            problems.append(f"assignment of {rid}: no such home {hid!r}")
        elif rid in placed_in:
            problems.append(f"referral {rid}: assigned more than once")
        else:
            placed_in[rid] = hid
    return placed_in


def _unmatched(result: dict, referrals: dict[str, Referral], problems: list[str]) -> dict[str, str]:
    """referral id -> code for the well-formed unmatched entries; the rest become problems."""
    found: dict[str, str] = {}
    for entry in _entries(result, "unmatched", problems):
        rid, code = entry["referral"], entry.get("code")
        if rid not in referrals:
            problems.append(f"unmatched {rid}: no such referral")
        elif rid in found:
            problems.append(f"referral {rid}: unmatched more than once")
        elif code not in CODES:
            problems.append(f"unmatched {rid}: code {code!r} is not one of {', '.join(CODES)}")
        elif not isinstance(entry.get("detail"), str) or not entry["detail"].strip():
            problems.append(f"unmatched {rid}: detail must be a non-empty text")
        else:
            found[rid] = code
    return found


def _in_jurisdiction(home: Home, referral: Referral) -> bool:
    """Derived here from the contract's wording, not taken from the engine's pre-filter."""
    if home.state == referral.custody_state:
        return True
    return home.accepts_out_of_state and home.state in referral.icpc_approved_states


def _pair_violations(home: Home, referral: Referral) -> list[str]:
    found = []
    if not _in_jurisdiction(home, referral):
        found.append(f"referral {referral.id} in {home.id}: jurisdiction: home in {home.state}, "
                     f"custody {referral.custody_state}, ICPC approvals "
                     f"{list(referral.icpc_approved_states)}, accepts out-of-state "
                     f"{home.accepts_out_of_state}")
    for exclusion in exclusions(home, referral):
        if exclusion.rule != "jurisdiction":
            found.append(f"referral {referral.id} in {home.id}: {exclusion.rule}: {exclusion.message}")
    return found


def _capacity_violations(instance: Instance, placed_in: dict[str, str]) -> list[str]:
    places: dict[str, int] = defaultdict(int)
    for referral in instance.referrals:
        if referral.id in placed_in:
            places[placed_in[referral.id]] += 1 + referral.children_with
    found = []
    for home in instance.homes:
        taken = places.get(home.id, 0)
        if taken > home.open_beds:
            found.append(f"home {home.id}: {taken} places taken, only {home.open_beds} open beds")
        limit = home.staff_on_duty * home.youth_per_staff
        if taken and home.current_youth + taken > limit:
            found.append(f"home {home.id}: {home.current_youth} youths + {taken} places exceeds "
                         f"staffing for {limit} ({home.staff_on_duty} staff x {home.youth_per_staff})")
    return found


def _sibling_violations(instance: Instance, placed_in: dict[str, str]) -> list[str]:
    groups: dict[str, list[Referral]] = defaultdict(list)
    for referral in instance.referrals:
        if referral.sibling_group is not None:
            groups[referral.sibling_group].append(referral)
    found = []
    for name, members in groups.items():
        where = {placed_in.get(r.id) for r in members}
        if len(where) > 1:
            shown = ", ".join(f"{r.id}->{placed_in.get(r.id) or 'unplaced'}" for r in members)
            found.append(f"sibling group {name}: not placed together ({shown})")
    return found


def _count_violations(result: dict, homes: dict[str, Home], referrals: dict[str, Referral],
                      placed_in: dict[str, str]) -> list[str]:
    found = []
    counts = dict.fromkeys(URGENCIES, 0)
    points = 0
    for rid, hid in placed_in.items():
        counts[referrals[rid].urgency] += 1
        points += fit(homes[hid], referrals[rid]).points
    claimed = result.get("placed")
    if not isinstance(claimed, dict) or set(claimed) != set(URGENCIES):
        found.append(f"placed: must have exactly the keys {', '.join(URGENCIES)}")
    else:
        for tier in URGENCIES:
            value = claimed[tier]
            if isinstance(value, bool) or not isinstance(value, int) or value != counts[tier]:
                found.append(f"placed.{tier}: says {value!r}, assignments place {counts[tier]}")
    total = points / 10
    claimed_fit = result.get("fit")
    if (isinstance(claimed_fit, bool) or not isinstance(claimed_fit, (int, float))
            or not math.isclose(claimed_fit, total, abs_tol=FIT_TOLERANCE)):
        found.append(f"fit: says {claimed_fit!r}, assignments add up to {total:g}")
    return found


class _EligibleHomes:
    """Homes eligible for a referral, looking only at homes jurisdiction could allow."""

    def __init__(self, instance: Instance):
        self.by_state: dict[str, list[Home]] = defaultdict(list)
        for home in instance.homes:
            self.by_state[home.state].append(home)
        self.members: dict[str, list[Referral]] = defaultdict(list)
        for referral in instance.referrals:
            if referral.sibling_group is not None:
                self.members[referral.sibling_group].append(referral)

    def for_referral(self, referral: Referral) -> list[Home]:
        states = {referral.custody_state, *referral.icpc_approved_states}
        return [h for s in sorted(states) for h in self.by_state.get(s, ())
                if not exclusions(h, referral)]

    def group_of(self, referral: Referral) -> list[Referral]:
        if referral.sibling_group is None:
            return [referral]
        return self.members[referral.sibling_group]

    def for_group(self, referral: Referral) -> list[Home]:
        """Homes eligible for the referral and, in a sibling group, for every member."""
        members = self.group_of(referral)
        return [h for h in self.for_referral(referral)
                if all(not exclusions(h, m) for m in members)]


def _code_violations(unmatched: dict[str, str], referrals: dict[str, Referral],
                     eligible: _EligibleHomes) -> list[str]:
    found = []
    for rid, code in sorted(unmatched.items()):
        homes = eligible.for_group(referrals[rid])
        if code == "no_eligible_home" and homes:
            found.append(f"unmatched {rid}: says no_eligible_home but {homes[0].id} is eligible")
        elif code == "no_capacity" and not homes:
            found.append(f"unmatched {rid}: says no_capacity but no home is eligible")
    return found


def _missed_placements(instance: Instance, placed_in: dict[str, str], unmatched: dict[str, str],
                       eligible: _EligibleHomes) -> list[str]:
    """For an "optimal" answer: an unmatched child or group some eligible home has room for
    would be one more child placed, so the answer cannot be optimal."""
    taken: dict[str, int] = defaultdict(int)
    for referral in instance.referrals:
        if referral.id in placed_in:
            taken[placed_in[referral.id]] += 1 + referral.children_with
    apart = _apart_from(instance)
    found, seen_groups = [], set()
    for referral in instance.referrals:
        if unmatched.get(referral.id) != "no_capacity" or referral.sibling_group in seen_groups:
            continue
        if referral.sibling_group is not None:
            seen_groups.add(referral.sibling_group)
        members = eligible.group_of(referral)
        need = sum(1 + m.children_with for m in members)
        kept_from = set().union(*(apart.get(m.id, set()) for m in members))
        for home in eligible.for_group(referral):
            free = min(home.open_beds,
                       home.staff_on_duty * home.youth_per_staff - home.current_youth) - taken[home.id]
            if kept_from & {rid for rid, hid in placed_in.items() if hid == home.id}:
                continue
            if free >= need:
                found.append(f"status optimal, but unmatched {referral.id} fits in {home.id} "
                             f"({free} places left)")
                break
    return found

