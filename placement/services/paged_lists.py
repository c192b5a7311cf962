"""Searchable, filterable, paged lists: the caseworker's referrals and the operator's
answered requests. Scoped and filtered in the query, like every list."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select

from .. import audit
from ..access import scope_referrals
from ..models import Home, MissingEpisode, PlacementRequest, Referral, User
from .booking import effective_statuses

PAGE_SIZE = 20


@dataclass(frozen=True)
class ListFilter:
    """What the list page's search form asks: free text, a status, an urgency, a home."""

    text: str = ""
    status: str = ""
    urgency: str = ""
    home_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.status or self.urgency or self.home_id)


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    number: int
    pages: int


def _contains(column, text: str):
    """Case-insensitive "contains", with the user's % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _page(session: Session, query, number: int) -> tuple[list, int, int, int]:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(1, number), pages)
    return list(session.exec(query.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()), total, number, pages


def missing_now(session: Session, referral_ids: list[int]) -> set[int]:
    """The referrals among `referral_ids` whose youth is missing from care now."""
    if not referral_ids:
        return set()
    return set(session.exec(
        select(MissingEpisode.referral_id).where(MissingEpisode.referral_id.in_(referral_ids), MissingEpisode.closed_at.is_(None))
    ).all())


def referrals(session: Session, user: User, filters: ListFilter, number: int = 1) -> Page:
    """The user's referrals, newest first, as (referral, status) rows; a youth missing
    from care has the status "missing" whatever the referral's own status says."""
    missing = select(MissingEpisode.referral_id).where(MissingEpisode.closed_at.is_(None))
    query = select(Referral).where(scope_referrals(user))
    if filters.text:
        query = query.where(sa.or_(_contains(Referral.case_reference, filters.text), _contains(Referral.county, filters.text)))
    if filters.urgency:
        query = query.where(Referral.urgency == filters.urgency)
    if filters.status == "missing":
        query = query.where(Referral.id.in_(missing))
    elif filters.status:
        query = query.where(Referral.status == filters.status, Referral.id.not_in(missing))
    rows, total, number, pages = _page(session, query.order_by(Referral.created_at.desc(), Referral.id.desc()), number)
    missing_ids = missing_now(session, [r.id for r in rows])
    effective = effective_statuses(session, rows)
    shown = [(r, "missing" if r.id in missing_ids else effective[r.id]) for r in rows]
    audit.record(session, "referral_listed", "referral", None, f"{len(shown)} of {total} referrals", actor=user)
    session.commit()
    return Page(shown, total, number, pages)


def answered_requests(session: Session, operator: User, filters: ListFilter, number: int = 1) -> Page:
    """Requests to the operator's homes that were answered or withdrawn, newest first,
    as (request, home, referral) rows."""
    query = (
        select(PlacementRequest, Home, Referral)
        .join(Home, Home.id == PlacementRequest.home_id)
        .join(Referral, Referral.id == PlacementRequest.referral_id)
        .where(Home.provider_id == operator.organisation_id, PlacementRequest.status != "pending")
    )
    if filters.text:
        query = query.where(_contains(Referral.case_reference, filters.text))
    if filters.status:
        query = query.where(PlacementRequest.status == filters.status)
    if filters.home_id:
        query = query.where(Home.id == filters.home_id)
    rows, total, number, pages = _page(
        session, query.order_by(PlacementRequest.created_at.desc(), PlacementRequest.id.desc()), number)
    return Page(rows, total, number, pages)
