"""Steering a bed search: the caseworker's sort order and filters over a SearchResult.

The search (services/search.py) decides who is eligible; this only reorders and
narrows its lists, so a filter can never make an ineligible home appear.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from solver.icwa import rank

from .search import Candidate, SearchResult

SORT_LABELS = {
    "best": "Fresh figures first, then best fit",
    "distance": "Nearest first",
    "fit": "Best fit first",
    "freshness": "Most recently updated first",
}
# What the default order means, in one line on the search page.
DEFAULT_ORDER_TEXT = ("Homes whose figures are fresh come first (stale ones may have changed: call first), "
                      "then the best fit (language, culture, distance, program), then the nearest.")


def _freshness(candidate: Candidate) -> tuple:
    updated = candidate.updated_at
    return (updated is None, -updated.timestamp() if updated else 0.0, candidate.distance_km)


SORT_KEYS = {
    "best": lambda c: (c.stale, -c.points, c.distance_km),
    "distance": lambda c: (c.distance_km, c.stale, -c.points),
    "fit": lambda c: (-c.points, c.distance_km),
    "freshness": _freshness,
}


@dataclass(frozen=True)
class Steering:
    """The caseworker's choices; the defaults leave the search's own order and lists."""

    sort: str = "best"
    program: str | None = None
    open_now: bool = False  # only homes with room tonight: the "full" list is hidden
    within_km: float | None = None

    @property
    def narrowed(self) -> bool:
        return bool(self.program or self.open_now or self.within_km)


def steer(result: SearchResult, how: Steering) -> SearchResult:
    """The result with its available and full lists filtered and sorted as asked."""
    def keep(candidate: Candidate) -> bool:
        return ((how.program is None or candidate.home.program == how.program)
                and (how.within_km is None or candidate.distance_km <= how.within_km))

    key = SORT_KEYS[how.sort]
    if result.icwa:  # an ICWA youth's homes stay in preference-step order, whatever the sort
        order = key
        key = lambda c: (rank(c.icwa_step), *order(c))  # noqa: E731
    available = sorted(filter(keep, result.available), key=key)
    full = [] if how.open_now else sorted(filter(keep, result.full), key=key)
    return replace(result, available=available, full=full)
