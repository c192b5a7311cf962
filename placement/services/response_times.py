"""How fast homes answer placement requests: share answered within 30 minutes and the
median minutes to answer, per provider and overall, over the last 7 and 30 days.

A request counts in the window it was made in. Withdrawn requests are left out (the
caseworker took them back); a request still waiting counts as not answered within 30
minutes once 30 minutes have passed, and is left out before that (it may yet be).
The median is over answered requests (accepted or declined).

Per home (`by_home`, last 30 days): how many youths the home was offered (requests it
received, withdrawn ones included, plus beds it offered from the queue, each youth once)
and how fast it answered its requests. A request that carried an accepted offer was
answered by the caseworker, not the home, so it stays out of every answer time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from ..models import Home, Organisation, PlacementOffer, PlacementRequest
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
    by_home: Table  # per home, last 30 days: youths offered, requests answered, median minutes


def _from_offers():
    """The requests that carried an accepted offer (the caseworker answered those)."""
    return select(PlacementOffer.request_id).where(PlacementOffer.request_id.is_not(None))


def response_times(session: Session, state: str | None = None, provider_id: int | None = None) -> ResponseTimes:
    """Figures for the homes of a state (coordinators) or of one provider (its operators)."""
    now = utcnow()
    since = now - timedelta(days=max(WINDOWS))
    query = (
        select(Organisation.name, PlacementRequest.created_at, PlacementRequest.answered_at)
        .join(Home, Home.id == PlacementRequest.home_id)
        .join(Organisation, Organisation.id == Home.provider_id)
        .where(PlacementRequest.created_at >= since, PlacementRequest.status != "withdrawn",
               PlacementRequest.id.not_in(_from_offers()))
    )
    scope = [Home.state == state] if state is not None else []
    scope += [Home.provider_id == provider_id] if provider_id is not None else []
    rows = session.exec(query.where(*scope)).all()
    names = sorted({name for name, _, _ in rows})
    by_provider: dict[str, dict[int, Figures]] = {}
    for name in [*names, ALL_PROVIDERS]:
        mine = [(created, answered) for provider, created, answered in rows if name in (provider, ALL_PROVIDERS)]
        by_provider[name] = {
            days: _figures([row for row in mine if row[0] >= now - timedelta(days=days)], now) for days in WINDOWS
        }
    return ResponseTimes(by_provider, _table(by_provider), _chart(by_provider), _by_home(session, scope, since))


def _by_home(session: Session, scope: list, since: datetime) -> Table:
    """Youths offered to each home (requests received and beds it offered) and how fast it answered."""
    homes = session.exec(
        select(Home.id, Home.name, Organisation.name).join(Organisation, Organisation.id == Home.provider_id)
        .where(*scope).order_by(Organisation.name, Home.name)
    ).all()
    received = session.exec(
        select(PlacementRequest.home_id, PlacementRequest.referral_id, PlacementRequest.created_at, PlacementRequest.answered_at,
               PlacementRequest.status, PlacementRequest.id.in_(_from_offers()))
        .join(Home, Home.id == PlacementRequest.home_id).where(PlacementRequest.created_at >= since, *scope)
    ).all()
    offered = session.exec(
        select(PlacementOffer.home_id, PlacementOffer.referral_id).join(Home, Home.id == PlacementOffer.home_id)
        .where(PlacementOffer.created_at >= since, *scope)
    ).all()
    rows = []
    for home_id, home_name, provider in homes:
        youths = {r for h, r in offered if h == home_id}
        minutes = []
        for h, referral_id, created, answered, request_status, from_offer in received:
            if h != home_id:
                continue
            youths.add(referral_id)
            if answered is not None and request_status != "withdrawn" and not from_offer:
                minutes.append((answered - created).total_seconds() / 60)
        middle = median(minutes)
        rows.append((home_name, provider, len(youths), len(minutes), "" if middle is None else round(middle, 1)))
    return Table("youths_offered", f"Youths offered to each home, and how fast it answered, last {max(WINDOWS)} days",
                 ("Home", "Provider", "Youths offered", "Requests answered", "Median minutes to answer"), rows)


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
