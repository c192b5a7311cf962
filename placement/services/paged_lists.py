"""Searchable, filterable lists paged by keyset: the caseworker's referrals and the
operator's answered requests. Scoped and filtered in the query, like every list."""
from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlmodel import Session, select

from .. import audit
from ..access import scope_referrals
from ..models import Home, MissingEpisode, PlacementRequest, Referral, User
from . import keyset
from .booking import effective_statuses
from .referrals import ACTIVE_STATUSES

PAGE_SIZE = 20
COUNT_LIMIT = 1_000  # the list counts its matches up to here, not every row on every page
API_PAGE_SIZE = 100  # rows per page of an API list: a client asks for the next with `before`
REFERRALS_NEWEST_FIRST = keyset.NewestFirst(Referral.created_at, Referral.id, row_id=lambda referral: referral.id)
REQUESTS_NEWEST_FIRST = keyset.NewestFirst(PlacementRequest.created_at, PlacementRequest.id, row_id=lambda row: row[0].id)


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


def _contains(column, text: str):
    """Case-insensitive "contains", with the user's % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def missing_now(session: Session, referral_ids: list[int]) -> set[int]:
    """The referrals among `referral_ids` whose youth is missing from care now."""
    if not referral_ids:
        return set()
    return set(session.exec(
        select(MissingEpisode.referral_id).where(MissingEpisode.referral_id.in_(referral_ids), MissingEpisode.closed_at.is_(None))
    ).all())


def referrals(session: Session, user: User, filters: ListFilter, before: int | None = None,
              after: int | None = None) -> keyset.KeysetPage:
    """One page of the user's referrals, newest first (older than referral `before`, or newer
    than referral `after`), as (referral, status) rows; a youth missing from care has the
    status "missing" whatever the referral's own status says."""
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
    page = keyset.page(session, query, REFERRALS_NEWEST_FIRST, PAGE_SIZE, COUNT_LIMIT, before=before, after=after)
    missing_ids = missing_now(session, [r.id for r in page.rows])
    effective = effective_statuses(session, page.rows)
    shown = [(r, "missing" if r.id in missing_ids else effective[r.id]) for r in page.rows]
    audit.record(session, "referral_listed", "referral", None, f"{len(shown)} of {page.count_text('referral').lower()}", actor=user)
    session.commit()
    return replace(page, rows=shown)


def api_referrals(session: Session, user: User, include_finished: bool, before: int | None = None) -> keyset.KeysetPage:
    """One page of the user's referrals for the API, newest first (older than referral
    `before`): the active ones, or (`include_finished`) every one. Listing is audited."""
    query = select(Referral).where(scope_referrals(user))
    if not include_finished:
        query = query.where(Referral.status.in_(ACTIVE_STATUSES))
    page = keyset.page(session, query, REFERRALS_NEWEST_FIRST, API_PAGE_SIZE, None, before=before)
    audit.record(session, "referral_listed", "referral", None, f"{len(page.rows)} referrals via api", actor=user)
    session.commit()
    return page


def answered_requests(session: Session, operator: User, filters: ListFilter, before: int | None = None,
                      after: int | None = None, for_api: bool = False) -> keyset.KeysetPage:
    """One page of the requests to the operator's homes that were answered or withdrawn,
    newest first (older than request `before`, or newer than request `after`), as
    (request, home, referral) rows: a page of the portal's list, counted, or (`for_api`)
    a larger page of the API's, which shows no count."""
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
    if for_api:
        return keyset.page(session, query, REQUESTS_NEWEST_FIRST, API_PAGE_SIZE, None, before=before)
    return keyset.page(session, query, REQUESTS_NEWEST_FIRST, PAGE_SIZE, COUNT_LIMIT, before=before, after=after)
