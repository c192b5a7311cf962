"""Personal API tokens: created and revoked by their user, stored hashed, shown once.

A token acts as its user, scoped to the role and organisation the user had when
it was made: a later change of role or organisation, a deactivated account, an
expired or revoked token all refuse it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from .. import audit
from ..models import ApiToken, User
from ..timeutil import utcnow
from .errors import Conflict, ServiceError

TOKEN_PREFIX = "sbt_"  # nosec B105  # a public prefix, recognisable in logs and by secret scanners
LIFETIME_DAYS = (30, 90, 365)
MAX_ACTIVE_TOKENS = 10
# Writing last_used_at on every call would make each API read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """SHA-256 of the token: enough for 256-bit random tokens (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """Create a token for `user`; return the row and the token text (never stored, shown once)."""
    name = name.strip()
    if not name:
        raise ServiceError("Give the token a name.", {"name": "Name the integration that will use it."})
    if days not in LIFETIME_DAYS:
        raise ServiceError("Choose a lifetime from the list.", {"days": "unknown lifetime"})
    if len(active(session, user)) >= MAX_ACTIVE_TOKENS:
        raise ServiceError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id, name=name[:80], token_hash=token_hash(secret), prefix=secret[:12],
        role=user.role, organisation_id=user.organisation_id, created_at=now, expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(session, "api_token_created", "api_token", token.id, f"expires in {days} days", actor=user)
    session.commit()
    return token, secret


def active(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that are neither revoked nor expired, newest first."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
            .order_by(ApiToken.id.desc())
        ).all()
    )


def revoke(session: Session, user: User, token: ApiToken) -> None:
    """Revoke one of the user's own tokens (the caller got it through access.get_own_api_token)."""
    if token.revoked_at is not None:
        raise Conflict("This token was already revoked.")
    token.revoked_at = utcnow()
    session.add(token)
    audit.record(session, "api_token_revoked", "api_token", token.id, actor=user)
    session.commit()


@dataclass(frozen=True)
class Refusal:
    """Why a presented token does not authenticate (code and message for the 401)."""

    code: str
    message: str


def authenticate(session: Session, presented: str) -> tuple[User, ApiToken] | Refusal:
    """The user and token for a presented bearer token, or why it is refused.

    Refusals of a real token (revoked, expired, account changed) are audited against
    its user; an unknown token has no one to attribute it to and is only rate-limited.
    """
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(presented))).first()
    if token is None:
        return Refusal("invalid_token", "The API token is not valid.")
    user = session.get(User, token.user_id)
    now = utcnow()
    reason = None
    if token.revoked_at is not None:
        reason = Refusal("token_revoked", "This API token was revoked.")
    elif token.expires_at <= now:
        reason = Refusal("token_expired", "This API token has expired. Create a new one.")
    elif not user.is_active:
        reason = Refusal("account_inactive", "The account this token belongs to is deactivated.")
    elif (user.role, user.organisation_id) != (token.role, token.organisation_id):
        reason = Refusal("token_out_of_scope", "The account's role or organisation changed since this token was made.")
    if reason is not None:
        audit.record(session, "api_token_refused", "api_token", token.id, reason.code, actor=user)
        session.commit()
        return reason
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return user, token
