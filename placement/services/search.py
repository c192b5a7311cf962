"""Eligible-bed search for one referral, ranked by fit, with the reasons behind
every exclusion. Eligibility and fit come from `solver/`, the same code the
matcher uses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from solver.eligibility import Exclusion, distance_km, exclusions, is_eligible, places_needed, room
from solver.fit import Fit, fit
from solver.icwa import preference_step, rank, step_text

from ..models import Home, Organisation, Referral
from ..timeutil import utcnow
from . import protections
from .homes import HomeStatus, statuses
from .solver_inputs import ELIGIBILITY_COLUMNS, eligibility_home, solver_home, solver_referral


@dataclass(frozen=True)
class Candidate:
    """One home as a search result: never carries the street address to a template."""

    status: HomeStatus
    provider_name: str
    distance_km: float
    fit: Fit
    room: int
    stale: bool
    exclusions: tuple[Exclusion, ...]
    icwa_step: int | None = None  # the ICWA preference step the home meets (ICWA youths only)

    @property
    def home(self) -> Home:
        return self.status.home

    @property
    def eligible(self) -> bool:
        return not self.exclusions

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
    exclude homes like every other rule."""
    states = {referral.custody_state, *referral.icpc_approved_states}
    reach = Home.is_active.is_(True) & Home.state.in_(states)
    rows = session.exec(
        select(Home, Organisation.name)
        .join(Organisation, Organisation.id == Home.provider_id)
        .where(reach)
    ).all()
    names = {home.id: name for home, name in rows}
    now = utcnow()
    homes = [home for home, _ in rows]
    wanted = solver_referral(referral, protections.solver_fields(session, [referral], homes)[referral.id])
    available, full, excluded = [], [], []
    for status in statuses(session, homes, reach):
        candidate_home = solver_home(status)
        candidate = Candidate(
            status=status,
            provider_name=names[status.home.id],
            distance_km=distance_km(candidate_home.location, wanted.location),
            fit=fit(candidate_home, wanted),
            room=room(candidate_home),
            stale=status.is_stale(stale_after_hours, now),
            exclusions=tuple(exclusions(candidate_home, wanted)),
            icwa_step=preference_step(candidate_home, wanted),
        )
        if not candidate.eligible:
            excluded.append(candidate)
        elif candidate.room >= places_needed(wanted):
            available.append(candidate)
        else:
            full.append(candidate)
    step = (lambda c: rank(c.icwa_step)) if wanted.icwa else (lambda c: 0)  # noqa: E731
    available.sort(key=lambda c: (step(c), c.stale, -c.fit.score, c.distance_km))
    full.sort(key=lambda c: (step(c), -c.fit.score, c.distance_km))
    excluded.sort(key=lambda c: (len(c.exclusions), c.distance_km))
    others = session.exec(
        select(func.count(Home.id)).where(Home.is_active.is_(True), Home.state.not_in(states))
    ).one()
    first = min((c.icwa_step for c in available if c.icwa_step is not None), default=None) if wanted.icwa else None
    return SearchResult(referral, places_needed(wanted), available, full, excluded, others, now, wanted.icwa, first)


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
    rows = session.exec(select(*ELIGIBILITY_COLUMNS).where(reach)).all()  # eligibility reads no availability
    by_state: dict[str, list] = {}
    for row in rows:
        by_state.setdefault(row.state, []).append(eligibility_home(row))
    rules = protections.solver_fields(session, referrals, rows)
    found = set()
    for referral in referrals:
        wanted = solver_referral(referral, rules[referral.id])
        states = {wanted.custody_state, *wanted.icpc_approved_states}
        if any(is_eligible(home, wanted) for state in states for home in by_state.get(state, ())):
            found.add(referral.id)
    return found
