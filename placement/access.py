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


def placement_is_live():
    """WHERE clause: the placement has not ended, or it ended with the youth missing and the
    missing episode is still open. A discharge, a transfer, or a missing episode that was
    closed (located and screened) ends it."""
    import sqlalchemy as sa

    from .models import MissingEpisode

    open_episode = sa.exists().where(MissingEpisode.placement_id == Placement.id, MissingEpisode.closed_at.is_(None))
    return sa.or_(Placement.ended_at.is_(None), sa.and_(Placement.end_reason == "missing", open_episode))


def may_see_address(session: Session, user: User, home: Home) -> bool:
    """Street addresses go to the home's operators and to caseworkers of a live placement it
    accepted: once the placement ends, the caseworker keeps the home's name and intake
    phone, not its address."""
    if user.role == "operator":
        return home.provider_id == user.organisation_id
    if user.role == "caseworker":
        from .models import Referral

        placed = session.exec(
            select(Placement.id)
            .join(Referral, Referral.id == Placement.referral_id)
            .where(Placement.home_id == home.id, Referral.agency_id == user.organisation_id, placement_is_live())
        ).first()
        return placed is not None
    return False


def disclosed_placement_address(session: Session, user: User, placement: Placement, home: Home, detail: str) -> str | None:
    """The address for one placement's page or answer: only while that placement is live
    (an ended placement's page shows no address even if the agency has another youth there)."""
    live = session.exec(select(Placement.id).where(Placement.id == placement.id, placement_is_live())).first()
    if live is None:
        return None
    return disclosed_address(session, user, home, detail)


def disclosed_address(session: Session, user: User, home: Home, detail: str) -> str | None:
    """The home's street address when `user` may see it (the disclosure audited and
    committed, `detail` saying where), else None."""
    if not may_see_address(session, user, home):
        return None
    address = home.street_address
    audit.record(session, "address_disclosed", "home", home.id, detail, actor=user)
    session.commit()
    return address


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


def get_referral_part(session: Session, user: User, referral, model, part_id: int, object_type: str,
                      belongs=None):
    """A row of `model` (hold, placement request, keep-away area, keep-apart link)
    belonging to `referral`, which the caller already got through `get_referral`; else
    404 (audited). So another agency's row id under one's own referral reveals nothing
    either. `belongs(part)` decides for rows not tied by a `referral_id` column."""
    part = session.get(model, part_id)
    if part is None or not (belongs(part) if belongs else part.referral_id == referral.id):
        _deny(session, user, object_type, part_id)
    return part


# API tokens --------------------------------------------------------------------

def get_own_api_token(session: Session, user: User, token_id: int):
    """One of the user's own API tokens, else 404 (audited)."""
    from .models import ApiToken

    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        _deny(session, user, "api_token", token_id)
    return token


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


def get_offer_for_operator(session: Session, user: User, offer_id: int):
    """An offer of a bed made at one of the operator's homes, else 404 (audited)."""
    from .models import PlacementOffer

    made = session.get(PlacementOffer, offer_id) if user.role == "operator" else None
    home = session.get(Home, made.home_id) if made is not None else None
    if home is None or home.provider_id != user.organisation_id:
        _deny(session, user, "placement_offer", offer_id)
    return made


# The operator's queue --------------------------------------------------------------

QUEUE_STATUSES = ("open", "held", "requested", "declined")  # a referral still looking for a bed


def scope_queue(homes: list[Home]):
    """WHERE clause for the referrals an operator's `homes` may see in the queue: still
    waiting, and in the homes' jurisdiction (their states, or an ICPC approval naming the
    state of a home that takes out-of-state youth). The eligibility rule then decides."""
    import sqlalchemy as sa

    from .models import Referral

    states = sorted({home.state for home in homes})
    approved = sorted({home.state for home in homes if home.accepts_out_of_state})
    listed = sa.cast(Referral.icpc_approved_states, sa.String)
    reach = Referral.custody_state.in_(states) | sa.or_(sa.false(), *[listed.like(f'%"{state}"%') for state in approved])
    return Referral.status.in_(QUEUE_STATUSES) & reach


def queue_homes(session: Session, user: User) -> list[Home]:
    """The operator's active homes (the queue is theirs)."""
    return list(session.exec(
        select(Home).where(Home.provider_id == user.organisation_id, Home.is_active.is_(True)).order_by(Home.name)).all())


def get_queue_referral(session: Session, user: User, referral_id: int):
    """A referral in the operator's queue's reach (see `scope_queue`), else 404 (audited)."""
    from .models import Referral

    homes = queue_homes(session, user) if user.role == "operator" else []
    found = session.exec(select(Referral).where(Referral.id == referral_id, scope_queue(homes))).first() if homes else None
    if found is None:
        _deny(session, user, "referral", referral_id)
    return found


# Coordinators -------------------------------------------------------------------

def coordinator_state(session: Session, user: User, requested: str | None = None) -> str:
    """The state a coordinator page shows: a coordinator's own organisation's state
    (asking for another is 404, audited); an admin's choice, else their own organisation's."""
    from solver.instance import US_STATES

    from .models import Organisation

    own = session.get(Organisation, user.organisation_id).state
    requested = (requested or "").strip().upper()
    if not requested or requested == own:
        return own
    if user.role != "admin" or requested not in US_STATES:
        _deny(session, user, "state", None)
    return requested


def _of_coordinators_state(session: Session, user: User, model, object_type: str, object_id: int):
    """A row of `model` (with a `state`) of the coordinator's state (admins: any state), else 404 (audited)."""
    from .models import Organisation

    found = session.get(model, object_id)
    allowed = found is not None and (
        user.role == "admin"
        or (user.role == "coordinator" and session.get(Organisation, user.organisation_id).state == found.state)
    )
    if not allowed:
        _deny(session, user, object_type, object_id)
    return found


def get_matcher_run(session: Session, user: User, run_id: int):
    """A matcher run of the coordinator's state (admins: any state), else 404 (audited)."""
    from .models import MatcherRun

    return _of_coordinators_state(session, user, MatcherRun, "matcher_run", run_id)


def get_escalation(session: Session, user: User, escalation_id: int):
    """An escalation of the coordinator's state (admins: any state), else 404 (audited)."""
    from .models import Escalation

    return _of_coordinators_state(session, user, Escalation, "escalation", escalation_id)


# Placements and missing episodes -----------------------------------------------------

def _side_of(session: Session, user: User, home_id: int, referral_id: int) -> bool:
    """The home's operators and the referring agency's caseworkers are the two sides of a placement."""
    from .models import Referral

    if user.role == "operator":
        return session.get(Home, home_id).provider_id == user.organisation_id
    if user.role == "caseworker":
        return session.get(Referral, referral_id).agency_id == user.organisation_id
    return False


def get_placement(session: Session, user: User, placement_id: int) -> Placement:
    """A placement at the operator's home or of the caseworker's agency, else 404 (audited)."""
    placement = session.get(Placement, placement_id)
    if placement is None or not _side_of(session, user, placement.home_id, placement.referral_id):
        _deny(session, user, "placement", placement_id)
    return placement


def get_episode(session: Session, user: User, episode_id: int):
    """A missing episode from the operator's home or of the caseworker's agency, else 404 (audited)."""
    from .models import MissingEpisode

    episode = session.get(MissingEpisode, episode_id)
    if episode is None or not _side_of(session, user, episode.home_id, episode.referral_id):
        _deny(session, user, "missing_episode", episode_id)
    return episode


# Intake-packet documents ----------------------------------------------------------------

def get_intake_document(session: Session, user: User, document_id: int, referral_id: int | None = None):
    """A document of the caseworker's agency's referral, or (operators) of a youth their home
    accepted; else 404 (audited). Coordinators and admins never get one."""
    from .models import IntakeDocument, Referral

    document = session.get(IntakeDocument, document_id)
    allowed = False
    if document is not None and (referral_id is None or document.referral_id == referral_id):
        if user.role == "caseworker":
            allowed = session.get(Referral, document.referral_id).agency_id == user.organisation_id
        elif user.role == "operator":
            allowed = accepted_by_operators_home(session, user, document)
    if not allowed:
        _deny(session, user, "intake_document", document_id)
    return document


def accepted_by_operators_home(session: Session, user: User, document) -> bool:
    """Whether the operator's organisation runs a home that accepted this document's youth."""
    return session.exec(
        select(Placement.id).join(Home, Home.id == Placement.home_id)
        .where(Placement.referral_id == document.referral_id, Home.provider_id == user.organisation_id)
    ).first() is not None
