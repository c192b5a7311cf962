"""The matcher's answer: placements, unplaced children with the reason, and the objective.

Shared by the CP-SAT engine and the greedy baseline so both answer in the same form
(and the checker can judge both).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .explain import explain_unplaced
from .fit import FIT_SCALE, fit
from .prepare import TIERS, Pair, Prepared

STATUSES = ("optimal", "feasible")
UNMATCHED_CODES = ("no_eligible_home", "no_capacity")
LEVELS = (*TIERS, "icwa", "fit")  # the lexicographic objective, most important first


@dataclass(frozen=True)
class Assignment:
    referral: str
    home: str
    fit: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unmatched:
    referral: str
    code: str  # one of UNMATCHED_CODES
    detail: str


@dataclass(frozen=True)
class Level:
    """One level of the lexicographic objective: the value reached and its proven bound.

    The bound of a level holds given the values reached on the levels above it. For
    "fit" both are in score units (points / 10).
    """

    name: str
    value: float
    bound: float
    seconds: float = 0.0  # wall time spent on this level (not in the JSON: it varies per run)


@dataclass(frozen=True)
class Result:
    status: str  # "optimal" when every level is proven, else "feasible"
    assignments: tuple[Assignment, ...]
    unmatched: tuple[Unmatched, ...]
    placed: dict[str, int]
    fit: float
    solve_seconds: float
    levels: tuple[Level, ...] = ()
    components: int = 0

    @property
    def gap(self) -> float:
        """Relative gap at the first level not proven optimal; 0.0 when all are."""
        for level in self.levels:
            if level.bound > level.value:
                return (level.bound - level.value) / max(abs(level.bound), 1e-9)
        return 0.0


def build_result(prepared: Prepared, chosen: list[Pair], *, status: str, solve_seconds: float,
                 levels: tuple[Level, ...] = (), components: int = 0) -> Result:
    """Turn the chosen (unit, home) pairs into a `Result`, explaining every unplaced child."""
    homes = prepared.homes
    home_of_unit = {pair.unit: pair.home for pair in chosen}
    occupants: dict[int, list[int]] = defaultdict(list)
    for pair in chosen:
        occupants[pair.home].append(pair.unit)
    placed = dict.fromkeys(TIERS, 0)
    points = 0
    assigned: dict[str, Assignment] = {}
    missing: dict[str, Unmatched] = {}
    for unit in prepared.units:
        if unit.index in home_of_unit:
            home = homes[home_of_unit[unit.index]]
            for referral in unit.referrals:
                match = fit(home, referral)
                points += match.points
                placed[referral.urgency] += 1
                assigned[referral.id] = Assignment(referral.id, home.id, match.score, match.reasons)
        else:
            code, detail = explain_unplaced(prepared, unit, occupants)
            for referral in unit.referrals:
                missing[referral.id] = Unmatched(referral.id, code, detail)
    order = [r.id for r in prepared.instance.referrals]
    return Result(
        status=status,
        assignments=tuple(assigned[i] for i in order if i in assigned),
        unmatched=tuple(missing[i] for i in order if i in missing),
        placed=placed,
        fit=points / FIT_SCALE,
        solve_seconds=solve_seconds,
        levels=levels,
        components=components,
    )


def result_to_json(result: Result) -> dict:
    """The result in the contract's JSON form, with each assignment's fit and reasons,
    each objective level's value and bound, and the gap."""
    return {
        "status": result.status,
        "assignments": [{"referral": a.referral, "home": a.home, "fit": a.fit,
                         "reasons": list(a.reasons)} for a in result.assignments],
        "unmatched": [{"referral": u.referral, "code": u.code, "detail": u.detail}
                      for u in result.unmatched],
        "placed": dict(result.placed),
        "fit": result.fit,
        "solve_seconds": round(result.solve_seconds, 3),
        "levels": [{"name": lv.name, "value": lv.value, "bound": lv.bound} for lv in result.levels],
        "gap": result.gap,
        "components": result.components,
    }
