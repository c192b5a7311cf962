"""Who may be placed where: the one place the hard eligibility rules live.

The matcher and the web app's bed search both import this module, so a caseworker's
search and the matcher's proposals can never disagree about a rule. Capacity is not an
eligibility rule: an eligible home may simply be full tonight (see `room`).

Rules (from the instance contract):
  age            the youth's age is within the home's `ages` (inclusive)
  gender         the youth's gender is one the home serves
  pregnant       a pregnant youth needs `accepts_pregnant`
  parenting      a youth with `children_with > 0` needs `accepts_parenting`
  substance_use  none fits any support; recovery needs recovery or detox; active needs detox
  medical        the youth's medical level is at most the home's
  mental_health  the youth's mental-health level is at most the home's
  program        the home's program is listed in `programs`, unless that list is empty
  distance       great-circle distance at most `max_distance_km`, when set
  jurisdiction   the home is in the custody state, or it accepts out-of-state youth and its
                 state is in the youth's `icpc_approved_states`
  keep_away      the home is not inside an area the youth must stay away from: not one of
                 `keep_away_homes` (county and ZIP areas, resolved to homes before solving)
                 and not within any `keep_away_circles` (point + radius)
  keep_apart     no youth this one must be kept apart from is already placed, held or
                 requested at the home (`keep_apart_homes`)

The messages of the last two never name the area or the other youth: a caseworker of
another agency, or a coordinator's cross-agency link, must not be revealed by a why-not.
Keeping two referrals of one matcher run apart is a pairwise rule, not a per-home one:
the model holds it (`engine.add_keep_apart`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .instance import GENDERS, Home, Location, Referral

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

RULES = ("age", "gender", "pregnant", "parenting", "substance_use", "medical", "mental_health",
         "program", "distance", "jurisdiction", "keep_away", "keep_apart")
KEEP_AWAY_MESSAGE = "inside an area this youth must stay away from"
KEEP_APART_MESSAGE = "a youth this youth must be kept apart from is placed, held or requested here"

# The home support levels that can care for each youth need.
SUBSTANCE_SUPPORT_FOR = {
    "none": frozenset({"none", "recovery", "detox"}),
    "recovery": frozenset({"recovery", "detox"}),
    "active": frozenset({"detox"}),
}
_SUPPORT_TEXT = {"none": "no substance-use support", "recovery": "recovery support only",
                 "detox": "on-site detox"}
_NEED_TEXT = {"recovery": "is in recovery and needs recovery support",
              "active": "has active substance use and needs detox"}


@dataclass(frozen=True)
class Exclusion:
    """One rule that keeps a youth out of a home, in words a caseworker can act on."""

    rule: str
    message: str


def places_needed(referral: Referral) -> int:
    """Places a referral takes in a home: the youth plus each child living with them."""
    return 1 + referral.children_with


def staffed_room(open_beds: int | np.ndarray, current_youth: int | np.ndarray, staff_on_duty: int | np.ndarray,
                 youth_per_staff: int | np.ndarray, fewer=min, more=max) -> int | np.ndarray:
    """Places that can be filled now: open beds, limited by the staff on duty.

    Open beds without staff are not open: a home may hold at most
    ``staff_on_duty * youth_per_staff`` youths in all, counting those already there.
    The figures are integers, or arrays of many homes' figures with `np.minimum` and
    `np.maximum` as `fewer` and `more`: the same rule, home by home.
    """
    staffed = staff_on_duty * youth_per_staff - current_youth
    return more(0, fewer(open_beds, staffed))


def room(home: Home) -> int:
    """Places `home` can fill tonight (see `staffed_room`)."""
    return staffed_room(home.open_beds, home.current_youth, home.staff_on_duty, home.youth_per_staff)


def distances_km(table: "HomeTable", homes: np.ndarray, to: Location) -> np.ndarray:
    """`distance_km` from each of `homes` (indexes into `table`) to `to`, as one array.

    The same formula in numpy; results can differ from `distance_km` in the last bit, so
    callers that compare or round them re-check values at a boundary with `distance_km`.
    """
    lat1, lat2 = np.radians(table.lat[homes]), math.radians(to.lat)
    dlat = lat2 - lat1
    dlon = np.radians(to.lon - table.lon[homes])
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * math.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def distance_km(a: Location, b: Location) -> float:
    """Great-circle distance between two points (haversine formula)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _label(program: str) -> str:
    return program.replace("_", " ")


def _in_jurisdiction(home: Home, referral: Referral) -> bool:
    return home.state == referral.custody_state or (
        home.accepts_out_of_state and home.state in referral.icpc_approved_states)


def in_keep_away(home: Home, referral: Referral) -> bool:
    """The home lies inside one of the referral's keep-away areas (a listed home of a
    county or ZIP area, or within a circle's radius, boundary included)."""
    return home.id in referral.keep_away_homes or any(
        distance_km(home.location, circle.location) <= circle.radius_km for circle in referral.keep_away_circles)


def _children(count: int) -> str:
    return "1 child" if count == 1 else f"{count} children"


def _outside_jurisdiction(referral: Referral, state: str) -> str:
    if state not in referral.icpc_approved_states:
        return f"in {state}; youth is a {referral.custody_state} ward without ICPC approval for {state}"
    return f"in {state} and takes no out-of-state youth; youth is a {referral.custody_state} ward"


# Each rule's message, from the referral and what the rule read of the home (`exclusions`
# passes it from a `Home`, `exclusions_among` from a `HomeTable`'s columns): one wording for both.
EXCLUSION_WORDS: dict[str, Callable[[Referral, Any], str]] = {
    "age": lambda referral, ages: f"accepts ages {ages[0]}-{ages[1]}; youth is {referral.age}",
    "gender": lambda referral, genders: f"serves {' and '.join(genders)} youth; youth is {referral.gender}",
    "pregnant": lambda referral, _: "does not accept pregnant youth",
    "parenting": lambda referral, _: ("does not accept parenting youth; youth has "
                                      f"{_children(referral.children_with)} with them"),
    "substance_use": lambda referral, support: (f"offers {_SUPPORT_TEXT[support]}; "
                                                f"youth {_NEED_TEXT[referral.substance_use]}"),
    "medical": lambda referral, level: f"serves medical level up to {level}; youth needs {referral.medical_level}",
    "mental_health": lambda referral, level: (f"serves mental-health level up to {level}; "
                                              f"youth needs {referral.mental_health_level}"),
    "program": lambda referral, program: (f"is a {_label(program)} program; referral asks for "
                                          f"{' or '.join(_label(p) for p in referral.programs)}"),
    "distance": lambda referral, km: f"is {km:.0f} km away; limit is {referral.max_distance_km:.0f} km",
    "jurisdiction": _outside_jurisdiction,
    "keep_away": lambda referral, _: KEEP_AWAY_MESSAGE,
    "keep_apart": lambda referral, _: KEEP_APART_MESSAGE,
}


def exclusions(home: Home, referral: Referral) -> list[Exclusion]:
    """Every rule that keeps `referral` out of `home`, in `RULES` order; empty = eligible."""
    found: list[Exclusion] = []

    def exclude(rule: str, read: Any = None) -> None:
        found.append(Exclusion(rule, EXCLUSION_WORDS[rule](referral, read)))

    low, high = home.ages
    if not low <= referral.age <= high:
        exclude("age", home.ages)
    if referral.gender not in home.genders:
        exclude("gender", home.genders)
    if referral.pregnant and not home.accepts_pregnant:
        exclude("pregnant")
    if referral.children_with > 0 and not home.accepts_parenting:
        exclude("parenting")
    if home.substance_use_support not in SUBSTANCE_SUPPORT_FOR[referral.substance_use]:
        exclude("substance_use", home.substance_use_support)
    if referral.medical_level > home.medical_level:
        exclude("medical", home.medical_level)
    if referral.mental_health_level > home.mental_health_level:
        exclude("mental_health", home.mental_health_level)
    if referral.programs and home.program not in referral.programs:
        exclude("program", home.program)
    if referral.max_distance_km is not None:
        km = distance_km(home.location, referral.location)
        if km > referral.max_distance_km:
            exclude("distance", km)
    if not _in_jurisdiction(home, referral):
        exclude("jurisdiction", home.state)
    if in_keep_away(home, referral):
        exclude("keep_away")
    if home.id in referral.keep_apart_homes:
        exclude("keep_apart")
    return found


def is_eligible(home: Home, referral: Referral) -> bool:
    """True when no rule excludes `referral` from `home` (same rules as `exclusions`).

    Written as one short-circuit test because the matcher calls it for every candidate
    pair; a property test keeps it in step with `exclusions`.
    """
    return (
        home.ages[0] <= referral.age <= home.ages[1]
        and referral.gender in home.genders
        and (home.accepts_pregnant or not referral.pregnant)
        and (home.accepts_parenting or referral.children_with == 0)
        and home.substance_use_support in SUBSTANCE_SUPPORT_FOR[referral.substance_use]
        and referral.medical_level <= home.medical_level
        and referral.mental_health_level <= home.mental_health_level
        and (not referral.programs or home.program in referral.programs)
        and _in_jurisdiction(home, referral)
        and (referral.max_distance_km is None
             or distance_km(home.location, referral.location) <= referral.max_distance_km)
        and home.id not in referral.keep_apart_homes
        and not in_keep_away(home, referral)
    )


# The Home fields a HomeTable reads as they are (besides id, ages and location).
TABLE_FIELDS = ("genders", "accepts_pregnant", "accepts_parenting", "substance_use_support", "medical_level",
          "mental_health_level", "program", "state", "accepts_out_of_state", "languages", "cultural_services")


class HomeTable:
    """The homes as numpy columns, to test one referral against many homes at once.

    The matcher's preparation tests every referral against every home in its
    jurisdiction (2 million pairs on the stretch instance): row by row in Python that
    took seconds. `eligible_among` applies the same rules as `is_eligible` to a whole
    array of homes; a property test keeps the two equal.
    """

    def __init__(self, homes: tuple[Home, ...]):
        self._fill(homes, ids=[h.id for h in homes], min_age=[h.ages[0] for h in homes],
                   max_age=[h.ages[1] for h in homes], **{name: [getattr(h, name) for h in homes] for name in TABLE_FIELDS})
        self.lat = np.array([h.location.lat for h in homes], np.float64)
        self.lon = np.array([h.location.lon for h in homes], np.float64)

    @classmethod
    def from_columns(cls, homes: Sequence[Home], **columns) -> "HomeTable":
        """The table from one value list per home field, for callers that hold homes as
        rows rather than `Home` objects (the bed search reads thousands per request).

        `columns` names `ids`, `min_age`, `max_age`, `lat`, `lon` and every field of
        `TABLE_FIELDS`, each in the same home order; `homes` gives home i's `Home` on indexing
        and may build it then: the rules index it only at a rounding boundary."""
        table = cls.__new__(cls)
        table._fill(homes, **{k: v for k, v in columns.items() if k not in ("lat", "lon")})
        table.lat = np.array(columns["lat"], np.float64)
        table.lon = np.array(columns["lon"], np.float64)
        return table

    def _fill(self, homes, *, ids, min_age, max_age, genders, accepts_pregnant, accepts_parenting,
              substance_use_support, medical_level, mental_health_level, program, state,
              accepts_out_of_state, languages, cultural_services) -> None:
        self.homes = homes
        self.ids = np.array(ids, dtype=object)
        column = lambda values, dtype=None: np.array(values, dtype=dtype)  # noqa: E731
        self.min_age = column(min_age, np.int64)
        self.max_age = column(max_age, np.int64)
        self.serves = {g: column([g in served for served in genders], bool) for g in GENDERS}
        self.accepts_pregnant = column(accepts_pregnant, bool)
        self.accepts_parenting = column(accepts_parenting, bool)
        self.supports = {need: column([support in ok for support in substance_use_support], bool)
                         for need, ok in SUBSTANCE_SUPPORT_FOR.items()}
        self.medical_level = column(medical_level, np.int64)
        self.mental_health_level = column(mental_health_level, np.int64)
        self.program = column(program, object)
        self.state = column(state, object)
        self.accepts_out_of_state = column(accepts_out_of_state, bool)
        self._languages, self._cultural_services = languages, cultural_services
        self._genders, self._substance_use_support = genders, substance_use_support  # for the words only
        self._speaks: dict[str, np.ndarray] = {}
        self._offers: dict[str, np.ndarray] = {}
        self._in_state: dict[str, np.ndarray] = {}
        self._runs: dict[str, np.ndarray] = {}

    def speaks(self, language: str) -> np.ndarray:
        """Per home: its staff speak `language` (computed once per language)."""
        if language not in self._speaks:
            self._speaks[language] = np.array([language in spoken for spoken in self._languages], bool)
        return self._speaks[language]

    def in_state(self, state: str) -> np.ndarray:
        """Per home: it lies in `state` (computed once per state: comparing strings is the
        slow part of a referral's rules, and many referrals share a state)."""
        if state not in self._in_state:
            self._in_state[state] = self.state == state
        return self._in_state[state]

    def runs(self, program: str) -> np.ndarray:
        """Per home: its program is `program` (computed once per program)."""
        if program not in self._runs:
            self._runs[program] = self.program == program
        return self._runs[program]

    def offers(self, service: str) -> np.ndarray:
        """Per home: it offers the cultural service (computed once per service)."""
        if service not in self._offers:
            self._offers[service] = np.array([service in offered for offered in self._cultural_services], bool)
        return self._offers[service]


def within_km_among(table: HomeTable, homes: np.ndarray, to: Location, km: float,
                    km_away: np.ndarray | None = None) -> np.ndarray:
    """Per home of `homes` (indexes into `table`): `distance_km(home, to) <= km`;
    `km_away`: the homes' `distances_km` to `to`, when the caller has them.

    Decided in numpy, except within a millimetre of the limit, where `distance_km` itself
    decides: numpy's distance may differ in the last bit, and a rule must never disagree
    with the scalar one by a rounding.
    """
    if km_away is None:
        km_away = distances_km(table, homes, to)
    inside = km_away <= km
    for i in np.flatnonzero(np.abs(km_away - km) < 1e-6).tolist():
        inside[i] = distance_km(table.homes[homes[i]].location, to) <= km
    return inside


RULE_ROW = {rule: row for row, rule in enumerate(RULES)}


def _any_of(column, values, candidates: np.ndarray) -> np.ndarray:
    """Per candidate: `column(value)` holds for one of `values` (a table's cached per-value column)."""
    found = np.zeros(len(candidates), dtype=bool)
    for value in values:
        found |= column(value)[candidates]
    return found


def failures_among(table: HomeTable, referral: Referral, candidates: np.ndarray,
                   km_away: np.ndarray | None = None) -> np.ndarray:
    """Which rules exclude `referral` from each of `candidates` (home indexes), at once
    (`km_away`: the candidates' `distances_km` to the referral, when the caller has them).

    A boolean array with a row per rule of `RULES` (`RULE_ROW` names them) and a column per
    candidate: column j holds exactly the rules of `exclusions(home j, referral)` (a property
    test keeps the two equal). The bed search uses it to sort every home in reach without
    building each one's messages; `exclusions_among` words them for the homes shown.
    """
    t, c = table, candidates
    failed = np.zeros((len(RULES), len(c)), dtype=bool)
    row = RULE_ROW
    failed[row["age"]] = (referral.age < t.min_age[c]) | (referral.age > t.max_age[c])
    failed[row["gender"]] = ~t.serves[referral.gender][c]
    if referral.pregnant:
        failed[row["pregnant"]] = ~t.accepts_pregnant[c]
    if referral.children_with > 0:
        failed[row["parenting"]] = ~t.accepts_parenting[c]
    failed[row["substance_use"]] = ~t.supports[referral.substance_use][c]
    failed[row["medical"]] = referral.medical_level > t.medical_level[c]
    failed[row["mental_health"]] = referral.mental_health_level > t.mental_health_level[c]
    if referral.programs:
        failed[row["program"]] = ~_any_of(t.runs, referral.programs, c)
    if referral.max_distance_km is not None:
        failed[row["distance"]] = ~within_km_among(t, c, referral.location, referral.max_distance_km, km_away)
    allowed = t.in_state(referral.custody_state)[c]
    if referral.icpc_approved_states:
        allowed = allowed | (t.accepts_out_of_state[c] & _any_of(t.in_state, referral.icpc_approved_states, c))
    failed[row["jurisdiction"]] = ~allowed
    if referral.keep_away_homes:
        failed[row["keep_away"]] = np.isin(t.ids[c], list(referral.keep_away_homes))
    for circle in referral.keep_away_circles:
        failed[row["keep_away"]] |= within_km_among(t, c, circle.location, circle.radius_km)
    if referral.keep_apart_homes:
        failed[row["keep_apart"]] = np.isin(t.ids[c], list(referral.keep_apart_homes))
    return failed


# The table column a rule's words read, for the rules that read one column as it is.
_COLUMN_READ = {"medical": "medical_level", "mental_health": "mental_health_level", "program": "program",
                "jurisdiction": "state"}


def _read_among(table: HomeTable, rule: str, homes: list[int], referral: Referral) -> list:
    """Per home of `homes`: what `exclusions` passes `EXCLUSION_WORDS[rule]` for it, read from
    the table's columns (a distance by `distance_km` itself, so its words match to the digit)."""
    if rule == "age":
        return list(zip(table.min_age[homes].tolist(), table.max_age[homes].tolist()))
    if rule == "gender":
        return [table._genders[i] for i in homes]
    if rule == "substance_use":
        return [table._substance_use_support[i] for i in homes]
    if rule in _COLUMN_READ:
        return getattr(table, _COLUMN_READ[rule])[homes].tolist()
    if rule == "distance":
        return [distance_km(Location(lat, lon), referral.location)
                for lat, lon in zip(table.lat[homes].tolist(), table.lon[homes].tolist())]
    return [None] * len(homes)


def exclusions_among(table: HomeTable, referral: Referral, candidates: np.ndarray,
                     failed: np.ndarray) -> list[list[Exclusion]]:
    """`exclusions(home, referral)` for each of `candidates` (home indexes), `failed` being
    their `failures_among`: the same rules, words and order (a property test keeps them
    equal), worded from the table's columns without a `Home` per candidate. A message that
    depends only on what its rule reads is worded once per distinct value."""
    found: list[list[Exclusion]] = [[] for _ in range(len(candidates))]
    for row, rule in enumerate(RULES):  # rule by rule: each home's list comes out in RULES order
        hits = np.flatnonzero(failed[row]).tolist()
        if not hits:
            continue
        words, worded = EXCLUSION_WORDS[rule], {}
        for j, read in zip(hits, _read_among(table, rule, candidates[hits], referral)):
            if read not in worded:
                worded[read] = Exclusion(rule, words(referral, read))
            found[j].append(worded[read])
    return found


def eligible_among(table: HomeTable, referral: Referral, candidates: np.ndarray) -> np.ndarray:
    """The `candidates` (home indexes) that `referral` is eligible for, by `is_eligible`'s rules:
    those no rule of `failures_among` excludes."""
    return candidates[~failures_among(table, referral, candidates).any(axis=0)]
