"""How well an eligible home fits a youth: the last, tie-breaking level of the objective.

Fit never decides whether a child is placed (the urgency tiers do that); it decides
where, among placements that serve as many children of each tier. Components, in points
(the score is points / 10, so it lies between 0 and 20):

  language      40  the home's staff speak the youth's language
  culture       40  the home offers the cultural service the youth needs (e.g. native)
  distance    0-60  60 at the youth's location, falling linearly to 0 at 600 km:
                    nearer keeps school, family and caseworker visits possible
  program       30  the caseworker's first listed program; with no list, crisis
                    stabilization for an emergency referral
  run risk      20  crisis stabilization for a youth who has run from care before
                    (closer supervision while they settle)
  home state    10  the home is in the custody state (courts, services, family nearby)

Points are integers so the CP-SAT objective is exact; `fit` also returns the reasons
in words for the caseworker.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eligibility import HomeTable, distance_km, distances_km
from .instance import Home, Referral

FIT_SCALE = 10  # points per unit of score
MAX_POINTS = 200
LANGUAGE_POINTS = 40
CULTURE_POINTS = 40
DISTANCE_POINTS = 60
DISTANCE_HORIZON_KM = 600.0
PROGRAM_POINTS = 30
RUN_RISK_POINTS = 20
HOME_STATE_POINTS = 10


@dataclass(frozen=True)
class Fit:
    score: float
    reasons: tuple[str, ...]

    @property
    def points(self) -> int:
        """The score as the exact integer used in the CP-SAT objective."""
        return round(self.score * FIT_SCALE)


def preferred_program(referral: Referral) -> str | None:
    """The program that earns the program points for this referral, if any."""
    if referral.programs:
        return referral.programs[0]
    if referral.urgency == "emergency":
        return "crisis_stabilization"
    return None


def _reason_words(referral: Referral) -> dict[str, str]:
    """The reason for each component but distance, in words: each reads only the referral,
    since a home earns it by matching the referral (its program is the preferred one, its
    state the custody state). `_score` and `fits_among` both word reasons with it."""
    preferred = preferred_program(referral)
    return {
        "language": f"speaks {referral.language}",
        "culture": f"offers {referral.cultural_need} cultural services",
        "program": f"preferred program: {preferred.replace('_', ' ')}" if preferred else "",
        "run_risk": "crisis stabilization for a youth who has run before",
        "home_state": f"in custody state {referral.custody_state}",
    }


def _distance_reason(km: float) -> str:
    return f"{km:.0f} km away"


def _score(home: Home, referral: Referral, reasons: list[str] | None) -> int:
    """Fit points; appends the reason for each component earned when `reasons` is a list."""
    words = _reason_words(referral) if reasons is not None else {}
    points = 0
    if referral.language in home.languages:
        points += LANGUAGE_POINTS
        if reasons is not None:
            reasons.append(words["language"])
    if referral.cultural_need is not None and referral.cultural_need in home.cultural_services:
        points += CULTURE_POINTS
        if reasons is not None:
            reasons.append(words["culture"])
    km = distance_km(home.location, referral.location)
    points += _distance_points(km)
    if reasons is not None:
        reasons.append(_distance_reason(km))
    if home.program == preferred_program(referral):
        points += PROGRAM_POINTS
        if reasons is not None:
            reasons.append(words["program"])
    if referral.has_run_before and home.program == "crisis_stabilization":
        points += RUN_RISK_POINTS
        if reasons is not None:
            reasons.append(words["run_risk"])
    if home.state == referral.custody_state:
        points += HOME_STATE_POINTS
        if reasons is not None:
            reasons.append(words["home_state"])
    return points


def _distance_points(km: float) -> int:
    return round(DISTANCE_POINTS * max(0.0, 1.0 - km / DISTANCE_HORIZON_KM))


def fit_points_among(table: HomeTable, referral: Referral, homes: np.ndarray,
                     km_away: np.ndarray | None = None) -> np.ndarray:
    """`fit_points` of `referral` in each of `homes` (indexes into `table`), as one array;
    `km_away`: the homes' `distances_km` to the referral, when the caller has them.

    The preparation's hot path. Distance points are rounded in numpy, except where the
    value lies at a rounding boundary: there `distance_km` and Python's `round` decide,
    so the result always equals `fit_points` (a property test checks it).
    """
    if km_away is None:
        km_away = distances_km(table, homes, referral.location)
    raw = DISTANCE_POINTS * np.maximum(0.0, 1.0 - km_away / DISTANCE_HORIZON_KM)
    points = np.round(raw).astype(np.int64)
    near_half = np.abs(raw - np.floor(raw) - 0.5) < 1e-6
    for i in np.flatnonzero(near_half).tolist():
        points[i] = _distance_points(distance_km(table.homes[homes[i]].location, referral.location))
    points += LANGUAGE_POINTS * table.speaks(referral.language)[homes]
    if referral.cultural_need is not None:
        points += CULTURE_POINTS * table.offers(referral.cultural_need)[homes]
    preferred = preferred_program(referral)
    if preferred is not None:
        points += PROGRAM_POINTS * table.runs(preferred)[homes]
    if referral.has_run_before:
        points += RUN_RISK_POINTS * table.runs("crisis_stabilization")[homes]
    points += HOME_STATE_POINTS * table.in_state(referral.custody_state)[homes]
    return points


def fit_points(home: Home, referral: Referral) -> int:
    """Fit in integer points (0..200) without the reasons: the matcher's hot path."""
    return _score(home, referral, None)


def fit(home: Home, referral: Referral) -> Fit:
    """Fit score (0..20) of placing `referral` in `home`, with its reasons in words.

    Meaningful for eligible pairs; it does not check eligibility.
    """
    reasons: list[str] = []
    points = _score(home, referral, reasons)
    return Fit(score=points / FIT_SCALE, reasons=tuple(reasons))


def fits_among(table: HomeTable, referral: Referral, homes: np.ndarray,
               km_away: np.ndarray | None = None) -> list[Fit]:
    """`fit(home, referral)` for each of `homes` (indexes into `table`): the same score and
    reasons in the same order (a property test keeps them equal), from the table's columns
    without a `Home` per home; `km_away`: the homes' `distances_km` to the referral, when the
    caller has them. A distance is worded from numpy's, except at a rounding boundary, where
    `distance_km`'s decides, so its words match to the kilometre."""
    words = _reason_words(referral)
    before = _earned(words, homes, {  # the components `_score` words before the distance, in its order
        "language": table.speaks(referral.language),
        "culture": table.offers(referral.cultural_need) if referral.cultural_need is not None else None})
    preferred = preferred_program(referral)
    after = _earned(words, homes, {  # and after it
        "program": table.runs(preferred) if preferred is not None else None,
        "run_risk": table.runs("crisis_stabilization") if referral.has_run_before else None,
        "home_state": table.in_state(referral.custody_state)})
    if km_away is None:
        km_away = distances_km(table, homes, referral.location)
    km = km_away.tolist()
    for i in np.flatnonzero(np.abs(km_away - np.floor(km_away) - 0.5) < 1e-6).tolist():
        km[i] = distance_km(table.homes[homes[i]].location, referral.location)
    points = fit_points_among(table, referral, homes, km_away).tolist()
    return [Fit(p / FIT_SCALE, first + (_distance_reason(d),) + last)
            for p, first, d, last in zip(points, before, km, after)]


def _earned(words: dict[str, str], homes: np.ndarray, columns: dict[str, np.ndarray | None]) -> list[tuple[str, ...]]:
    """Per home of `homes`: the words of the components in `columns` (name -> per-home "earns
    it" column of the table, None when no home can) it earns, in `columns`' order."""
    code = np.zeros(len(homes), dtype=np.int64)
    for bit, column in enumerate(columns.values()):
        if column is not None:
            code |= column[homes].astype(np.int64) << bit
    names = list(columns)
    worded = {c: tuple(words[n] for bit, n in enumerate(names) if c >> bit & 1) for c in np.unique(code).tolist()}
    return [worded[c] for c in code.tolist()]
