"""How fast homes answer placement requests: share answered within 30 minutes and the
median minutes to answer, per provider and overall, over the last 7 and 30 days.

A request counts in the window it was made in. Withdrawn requests are left out (the
caseworker took them back); a request still waiting counts as not answered within 30
minutes once 30 minutes have passed, and is left out before that (it may yet be).
The median is over answered requests (accepted or declined).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from ..models import Home, Organisation, PlacementRequest
from ..timeutil import utcnow
from .tables import Table, median

TARGET = timedelta(minutes=30)
WINDOWS = (7, 30)  # days
ALL_PROVIDERS = "All providers"


@dataclass(frozen=True)
class Figures:
    requests: int  # counted requests (see the module docstring)
    within_target: int
    median_minutes: float | None

    @property
    def share(self) -> int | None:
        """Percent answered within 30 minutes; None with no requests."""
        return round(100 * self.within_target / self.requests) if self.requests else None


def _figures(rows: list[tuple[datetime, datetime | None]], now: datetime) -> Figures:
    counted, within, minutes = 0, 0, []
    for created, answered in rows:
        if answered is None and now - created < TARGET:
            continue  # still inside its 30 minutes: not yet a miss
        counted += 1
        if answered is not None:
            minutes.append((answered - created).total_seconds() / 60)
            within += answered - created <= TARGET
    middle = median(minutes)
    return Figures(counted, within, round(middle, 1) if middle is not None else None)


@dataclass(frozen=True)
class ResponseTimes:
    by_provider: dict[str, dict[int, Figures]]  # provider name (or ALL_PROVIDERS) -> window days -> figures
    table: Table
    chart: dict


def response_times(session: Session, state: str | None = None, provider_id: int | None = None) -> ResponseTimes:
    """Figures for the homes of a state (coordinators) or of one provider (its operators)."""
    now = utcnow()
    since = now - timedelta(days=max(WINDOWS))
    query = (
        select(Organisation.name, PlacementRequest.created_at, PlacementRequest.answered_at)
        .join(Home, Home.id == PlacementRequest.home_id)
        .join(Organisation, Organisation.id == Home.provider_id)
        .where(PlacementRequest.created_at >= since, PlacementRequest.status != "withdrawn")
    )
    if state is not None:
        query = query.where(Home.state == state)
    if provider_id is not None:
        query = query.where(Home.provider_id == provider_id)
    rows = session.exec(query).all()
    names = sorted({name for name, _, _ in rows})
    by_provider: dict[str, dict[int, Figures]] = {}
    for name in [*names, ALL_PROVIDERS]:
        mine = [(created, answered) for provider, created, answered in rows if name in (provider, ALL_PROVIDERS)]
        by_provider[name] = {
            days: _figures([row for row in mine if row[0] >= now - timedelta(days=days)], now) for days in WINDOWS
        }
    return ResponseTimes(by_provider, _table(by_provider), _chart(by_provider))


def _cell(value) -> object:
    return "" if value is None else value


def _table(by_provider: dict[str, dict[int, Figures]]) -> Table:
    columns = ["Provider"]
    for days in WINDOWS:
        columns += [f"Requests, {days} days", f"Answered within 30 min, {days} days (%)", f"Median minutes to answer, {days} days"]
    rows = []
    for name, windows in by_provider.items():
        cells = [name]
        for days in WINDOWS:
            figures = windows[days]
            cells += [figures.requests, _cell(figures.share), _cell(figures.median_minutes)]
        rows.append(tuple(cells))
    return Table("response_times", "How fast homes answer requests", tuple(columns), rows)


def _chart(by_provider: dict[str, dict[int, Figures]]) -> dict:
    labels = list(by_provider) if len(by_provider) > 1 else []
    return {
        "type": "bar",
        "horizontal": True,
        "labels": labels,
        "series": [
            {"label": f"Answered within 30 min, last {days} days (%)", "data": [by_provider[name][days].share for name in labels]}
            for days in WINDOWS
        ],
        "max": 100,
    }
