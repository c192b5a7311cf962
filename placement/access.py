"""The access policy: who may read or change what.

Every view and API route asks this module. Lists are scoped in the query
(`scope_*` functions return WHERE clauses), single objects are fetched through
`get_*` functions that answer 404 for anything outside the user's reach and
audit the attempt, so another organisation's ids reveal nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required
from sqlmodel import Session, select

from . import audit
from .database import get_session
from .models import Home, Placement, User


def roles_required(*roles: str):
    """View decorator: signed in (else redirect to login) and one of `roles` (else 403, audited)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                _forbid()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def audit_reader_required(view):
    """View decorator: an admin separately granted the audit log (else 403, audited).

    Being an admin is not enough: reading who did what is a privilege of its own.
    """

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != "admin" or not current_user.can_view_audit:
            _forbid()
        return view(*args, **kwargs)

    return wrapped


def _forbid() -> None:
    """403 for a page outside the user's role; recorded, so probing shows in the audit log."""
    session = get_session()
    audit.record(session, "access_denied", "page", None, f"role {current_user.role} at {request.method} {request.path}")
    session.commit()
    abort(403)


def _deny(session: Session, user: User, object_type: str, object_id: int) -> None:
    audit.record(session, "access_denied", object_type, object_id, f"role {user.role}", actor=user)
    session.commit()
    abort(404)


# Homes ---------------------------------------------------------------------

def scope_homes_for_operator(user: User):
    return Home.provider_id == user.organisation_id


def get_own_home(session: Session, user: User, home_id: int) -> Home:
    """A home the operator's organisation runs, else 404 (audited)."""
    home = session.get(Home, home_id)
    if home is None or user.role != "operator" or home.provider_id != user.organisation_id:
        _deny(session, user, "home", home_id)
    return home


def may_see_address(session: Session, user: User, home: Home) -> bool:
    """Street addresses go to the home's operators and to caseworkers of a placement it accepted."""
    if user.role == "operator":
        return home.provider_id == user.organisation_id
    if user.role == "caseworker":
        from .models import Referral

        placed = session.exec(
            select(Placement.id)
            .join(Referral, Referral.id == Placement.referral_id)
            .where(Placement.home_id == home.id, Referral.agency_id == user.organisation_id)
        ).first()
        return placed is not None
    return False


# Referrals -------------------------------------------------------------------

def scope_referrals(user: User):
    """WHERE clause for the referrals `user` may list."""
    from .models import Organisation, Referral

    if user.role == "caseworker":
        return Referral.agency_id == user.organisation_id
    if user.role == "coordinator":
        state = select(Organisation.state).where(Organisation.id == user.organisation_id).scalar_subquery()
        return Referral.custody_state == state
    if user.role == "admin":
        return Referral.id.is_not(None)
    return Referral.id.is_(None)


def get_referral(session: Session, user: User, referral_id: int, change: bool = False):
    """A referral of the caseworker's own agency (read or change), or, for reading
    only, one of the coordinator's state; else 404 (audited)."""
    from .models import Organisation, Referral

    referral = session.get(Referral, referral_id)
    allowed = False
    if referral is not None:
        if user.role == "caseworker":
            allowed = referral.agency_id == user.organisation_id
        elif user.role == "coordinator" and not change:
            allowed = session.get(Organisation, user.organisation_id).state == referral.custody_state
    if not allowed:
        _deny(session, user, "referral", referral_id)
    return referral


# Placement requests ------------------------------------------------------------

def get_request_for_operator(session: Session, user: User, request_id: int):
    """A placement request addressed to one of the operator's homes, else 404 (audited)."""
    from .models import PlacementRequest

    request = session.get(PlacementRequest, request_id)
    if request is None or user.role != "operator":
        _deny(session, user, "placement_request", request_id)
    home = session.get(Home, request.home_id)
    if home.provider_id != user.organisation_id:
        _deny(session, user, "placement_request", request_id)
    return request, home
