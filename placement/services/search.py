"""Eligible-bed search for one referral, ranked by fit, with the reasons behind
every exclusion. Eligibility and fit come from `solver/`, the same code the
matcher uses.

Every home in reach is judged at once, in columns (`solver.eligibility.failures_among`,
`solver.fit.fit_points_among`): which rules exclude it, its fit points and distance. The
words (fit reasons, exclusion messages) are written only for the homes shown (`word`): a
page shows the best 20 of each list, the API writes every home. They too come from the
columns (`solver.fit.fits_among`, `solver.eligibility.exclusions_among`), which property
tests keep equal word for word to the one-home rules (`fit`, `exclusions`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
from sqlmodel import Session, func, select

from solver.eligibility import (Exclusion, HomeTable, distances_km, exclusions_among, failures_among, is_eligible,
                                places_needed)
from solver.fit import FIT_SCALE, Fit, fit_points_among, fits_among
from solver.icwa import preference_step, rank, step_text
from solver.instance import Home as SolverHome
from solver.instance import Referral as SolverReferral

from ..models import AvailabilityUpdate, Home, Organisation, Referral
from ..timeutil import utcnow
from . import protections
from .homes import HomeStatus, is_stale, reserved_places, rooms_now, with_latest
from .solver_inputs import (ELIGIBILITY_COLUMNS, SolverHomes, eligibility_home, home_table, read_rows, solver_home,
                            solver_referral)

# What a result shows of a home besides the rules' columns: never the street address.
SEARCH_COLUMNS = (*ELIGIBILITY_COLUMNS, Home.name, Home.city, Home.provider_id, Organisation.name.label("provider_name"))


class Figures(NamedTuple):
    """What a result reads of a home's latest availability entry (`homes.Latest` has these
    fields and five more): its status, room, staleness and solver record. Half the entry's
    columns, for thousands of homes per search."""

    open_beds: int
    staff_on_duty: int
    youth_per_staff: int
    current_youth: int
    recorded_at: datetime


_FIGURE_COLUMNS = tuple(getattr(AvailabilityUpdate, name) for name in Figures._fields)


def _figures_of(row) -> Figures | None:
    """The latest entry's figures in a row of `with_latest(session, ..., _FIGURE_COLUMNS)` (its last columns)."""
    values = row[-len(_FIGURE_COLUMNS):]
    return None if values[0] is None else Figures._make(values)


@dataclass(frozen=True, eq=False)
class Judgement:
    """What the bulk rules found for every home in reach, from which the words of the homes
    shown are written: column i of `failed` (`failures_among`) and entry i of `km_away`
    (`distances_km`) are home i of `table`."""

    table: HomeTable
    wanted: SolverReferral
    failed: np.ndarray
    km_away: np.ndarray


@dataclass(eq=False)
class Candidate:
    """One home as a search result: never carries the street address to a template.

    `home` is a plain row of `SEARCH_COLUMNS` and its latest availability's `Figures`
    (`latest`, read from the row on first use).
    The figures the lists are sorted by (`points`, `rules_broken`, `room`, `stale`) come
    from the bulk rules; the home's status and solver record are made on first use (a page
    shows 20 homes of thousands). `fit` and `exclusions` are worded from the search's
    `judgement` by `word`, for all the homes shown at once (alone on first use otherwise).
    Not frozen (a frozen dataclass sets each field through `object.__setattr__`: thousands
    per search); nothing changes a candidate once made except `word`, which fills its words in once."""

    home: Any
    reserved_places: int
    distance_km: float
    points: int  # fit points (`fit.points`)
    room: int
    stale: bool
    rules_broken: int  # how many rules exclude the home (`len(exclusions)`)
    icwa_step: int | None = None  # the ICWA preference step the home meets (ICWA youths only)
    index: int = 0  # the home's column in `judgement`
    judgement: Judgement | None = field(default=None, repr=False, compare=False)
    _words: tuple[Fit, tuple[Exclusion, ...]] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def latest(self) -> Figures | None:
        return _figures_of(self.home)

    @property
    def provider_name(self) -> str:
        return self.home.provider_name

    @property
    def updated_at(self) -> datetime | None:
        return self.latest.recorded_at if self.latest else None

    @cached_property
    def status(self) -> HomeStatus:
        return HomeStatus(self.home, self.latest, self.reserved_places)

    @cached_property
    def solver_home(self) -> SolverHome:
        return solver_home(self.status)

    @property
    def eligible(self) -> bool:
        return not self.rules_broken

    @property
    def score(self) -> float:
        """The fit score (0..20) without its reasons."""
        return self.points / FIT_SCALE

    @property
    def fit(self) -> Fit:
        if self._words is None:
            word([self])
        return self._words[0]

    @property
    def exclusions(self) -> tuple[Exclusion, ...]:
        if self._words is None:
            word([self])
        return self._words[1]

    @property
    def icwa_text(self) -> str:
        return step_text(self.icwa_step)


@dataclass(frozen=True)
class SearchResult:
    referral: Referral
    places_needed: int
    available: list[Candidate]  # eligible with room tonight, fresh before stale, best fit first
    full: list[Candidate]  # eligible but no room tonight
    excluded: list[Candidate]  # in a reachable state but excluded by a rule
    other_state_homes: int  # homes in states the youth cannot be placed in at all
    searched_at: datetime
    icwa: bool = False  # ICWA applies: homes are ranked by preference step first
    first_step: int | None = None  # the best ICWA step among the homes with room tonight

    def needs_good_cause(self, home_id: int) -> bool:
        """Placing at `home_id` would fall below the first ICWA step available."""
        if not self.icwa or self.first_step is None:
            return False
        step = next((c.icwa_step for c in self.available + self.full + self.excluded if c.home.id == home_id), None)
        return rank(step) > rank(self.first_step)


def search(session: Session, referral: Referral, stale_after_hours: float) -> SearchResult:
    """Rank every active home the youth could reach by jurisdiction (for an ICWA youth,
    by preference step first). The referral's keep-away areas and keep-apart links
    exclude homes like every other rule. Every home in reach is in one of the three lists."""
    states = {referral.custody_state, *referral.icpc_approved_states}
    reach = Home.is_active.is_(True) & Home.state.in_(states)
    # Homes and their latest figures in one query, as named tuples, not mapped objects:
    # thousands of homes in a large state's reach.
    rows = read_rows(session, with_latest(
        session, select(*SEARCH_COLUMNS).join(Organisation, Organisation.id == Home.provider_id).where(reach),
        _FIGURE_COLUMNS))
    now = utcnow()
    wanted = solver_referral(referral, protections.solver_fields(session, [referral], rows)[referral.id])
    reserved = reserved_places(session, [row.id for row in rows], now, reach)
    table = home_table(rows, SolverHomes(
        rows, lambda row: solver_home(HomeStatus(row, _figures_of(row), reserved.get(row.id, 0)))))
    everyone = np.arange(len(rows))
    km_away = distances_km(table, everyone, wanted.location)  # read by the distance rule, the fit and the list
    judgement = Judgement(table, wanted, failures_among(table, wanted, everyone, km_away), km_away)
    broken = judgement.failed.sum(axis=0).tolist()
    points = fit_points_among(table, wanted, everyone, km_away).tolist()
    km = km_away.tolist()
    needed = places_needed(wanted)
    held = [reserved.get(row.id, 0) for row in rows]
    # Room and staleness for every home at once, from the rows' figure columns.
    figures = list(zip(*(row[-len(_FIGURE_COLUMNS):] for row in rows))) or [()] * len(_FIGURE_COLUMNS)
    room = rooms_now(Figures(*figures), held, [row.is_active for row in rows])
    stale = [is_stale(at, stale_after_hours, now) for at in figures[-1]]
    available, full, excluded = [], [], []
    for i, row in enumerate(rows):
        candidate = Candidate(row, held[i], km[i], points[i], room[i], stale[i], broken[i], None, i, judgement)
        if wanted.icwa:  # the step reads the home's solver record: only for an ICWA youth
            candidate.icwa_step = preference_step(candidate.solver_home, wanted)
        if candidate.rules_broken:
            excluded.append(candidate)
        elif candidate.room >= needed:
            available.append(candidate)
        else:
            full.append(candidate)
    step = (lambda c: rank(c.icwa_step)) if wanted.icwa else (lambda c: 0)  # noqa: E731
    available.sort(key=lambda c: (step(c), c.stale, -c.points, c.distance_km))
    full.sort(key=lambda c: (step(c), -c.points, c.distance_km))
    excluded.sort(key=lambda c: (c.rules_broken, c.distance_km))
    others = session.exec(
        select(func.count(Home.id)).where(Home.is_active.is_(True), Home.state.not_in(states))
    ).one()
    first = min((c.icwa_step for c in available if c.icwa_step is not None), default=None) if wanted.icwa else None
    return SearchResult(referral, needed, available, full, excluded, others, now, wanted.icwa, first)


def word(candidates: list[Candidate]) -> None:
    """Write the fit and exclusions of `candidates` (of one search), all at once from the
    bulk rules: what a page shows or the API writes. A candidate not worded here is worded
    alone on first use."""
    unworded = [c for c in candidates if c._words is None]
    if not unworded:
        return
    judgement = unworded[0].judgement
    homes = np.array([c.index for c in unworded], dtype=np.int64)
    fits = fits_among(judgement.table, judgement.wanted, homes, judgement.km_away[homes])
    excluded = [j for j, c in enumerate(unworded) if c.rules_broken]
    reasons = exclusions_among(judgement.table, judgement.wanted, homes[excluded], judgement.failed[:, homes[excluded]])
    why = dict(zip(excluded, reasons))
    for j, candidate in enumerate(unworded):
        candidate._words = (fits[j], tuple(why.get(j, ())))


def with_eligible_home(session: Session, referrals: list[Referral]) -> set[int]:
    """The ids of `referrals` that some active home in their reach accepts: those whose
    `search` would list a home as available or full. One load of the homes for all of them."""
    custody = {r.custody_state for r in referrals}
    if not custody:
        return set()
    approved = {s for r in referrals for s in r.icpc_approved_states} - custody
    # A pre-filter in SQL that only leaves out homes the jurisdiction rule refuses anyway
    # (another state's home that takes no out-of-state youth); is_eligible still decides.
    reach = Home.is_active.is_(True) & (
        Home.state.in_(custody) | (Home.state.in_(approved) & Home.accepts_out_of_state.is_(True)))
    rows = read_rows(session, select(*ELIGIBILITY_COLUMNS).where(reach))  # eligibility reads no availability
    homes = SolverHomes(rows, eligibility_home)  # most referrals stop at one of the first homes
    by_state: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_state.setdefault(row.state, []).append(i)
    rules = protections.solver_fields(session, referrals, rows)
    found = set()
    for referral in referrals:
        wanted = solver_referral(referral, rules[referral.id])
        states = {wanted.custody_state, *wanted.icpc_approved_states}
        if any(is_eligible(homes[i], wanted) for state in states for i in by_state.get(state, ())):
            found.add(referral.id)
    return found
