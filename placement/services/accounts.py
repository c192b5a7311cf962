"""Organisations, users, sign-in with lockout, invitations and passwords."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from .. import audit
from ..models import ORG_KINDS, ROLES, Invitation, Organisation, User
from ..passwords import burn_verification_time, hash_password, password_problems, verify_password
from ..timeutil import utcnow
from .errors import Conflict, NotFound, ServiceError

# Which kind of organisation each role belongs to.
ROLE_ORG_KIND = {
    "operator": "provider",
    "caseworker": "agency",
    "coordinator": "coordinator_office",
}
INVITATION_LIFETIME = timedelta(hours=72)
SIGN_IN_FAILED = "E-mail or password is not right, or the account is locked."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_organisation(session: Session, name: str, kind: str, state: str, actor: User | None = None) -> Organisation:
    if kind not in ORG_KINDS:
        raise ServiceError(f"Kind must be one of {', '.join(ORG_KINDS)}.", {"kind": "unknown kind"})
    if session.exec(select(Organisation).where(Organisation.name == name.strip())).first():
        raise Conflict(f"An organisation named {name!r} already exists.", {"name": "already exists"})
    org = Organisation(name=name.strip(), kind=kind, state=state.strip().upper())
    session.add(org)
    session.flush()
    audit.record(session, "organisation_created", "organisation", org.id, f"{kind} {org.state}", actor=actor)
    return org


def create_user(
    session: Session,
    organisation: Organisation,
    email: str,
    display_name: str,
    role: str,
    password: str | None,
    actor: User | None = None,
    timezone: str = "America/Chicago",
) -> User:
    """Create an account. Without a password the account can only be entered by invitation."""
    if role not in ROLES:
        raise ServiceError(f"Role must be one of {', '.join(ROLES)}.", {"role": "unknown role"})
    expected_kind = ROLE_ORG_KIND.get(role)
    if expected_kind and organisation.kind != expected_kind:
        raise ServiceError(
            f"A {role} must belong to a {expected_kind.replace('_', ' ')} organisation.",
            {"role": "does not fit the organisation"},
        )
    email = normalise_email(email)
    if session.exec(select(User).where(User.email == email)).first():
        raise Conflict("An account with this e-mail already exists.", {"email": "already exists"})
    if password is not None:
        problems = password_problems(password, email)
        if problems:
            raise ServiceError(" ".join(problems), {"password": problems[0]})
        password_hash = hash_password(password)
    else:
        # A marker that never verifies (not an argon2 hash): the account waits for its invitation.
        password_hash = "!invited"  # nosec B105
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        password_hash=password_hash,
        role=role,
        organisation_id=organisation.id,
        timezone=timezone,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_created", "user", user.id, f"role {role}", actor=actor)
    return user


def authenticate(session: Session, email: str, password: str, lockout_attempts: int, lockout: timedelta) -> User | None:
    """Return the user for correct credentials, else None; counts failures and locks.

    Unknown users and wrong passwords take the same time and get the same answer.
    Commits, because a failed attempt must be recorded even though sign-in fails.
    """
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    now = utcnow()
    if user is None:
        burn_verification_time(password)
        audit.record(session, "login_failed", "user", None, "unknown account")
        session.commit()
        return None
    locked = user.locked_until is not None and user.locked_until > now
    if locked or not user.is_active or not verify_password(user.password_hash, password):
        if not locked and user.is_active:
            user.failed_logins += 1
            if user.failed_logins >= lockout_attempts:
                user.locked_until = now + lockout
                audit.record(session, "account_locked", "user", user.id, f"{user.failed_logins} failed attempts", actor=user)
        reason = "locked" if locked else ("inactive" if not user.is_active else "wrong password")
        audit.record(session, "login_failed", "user", user.id, reason, actor=user)
        session.add(user)
        session.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit.record(session, "login", "user", user.id, actor=user)
    session.commit()
    return user


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session of `user` (logout everywhere)."""
    user.session_version += 1
    session.add(user)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        message = "Your current password is not right."
        raise ServiceError(message, {"current_password": message})
    set_password(session, user, new)
    audit.record(session, "password_changed", "user", user.id, actor=user)


def set_password(session: Session, user: User, new: str) -> None:
    problems = password_problems(new, user.email)
    if problems:
        raise ServiceError(" ".join(problems), {"new_password": problems[0]})
    user.password_hash = hash_password(new)
    end_sessions(session, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_user(session: Session, admin: User, organisation: Organisation, email: str, display_name: str, role: str) -> str:
    """Create the account and return the one-time invitation token (shown once)."""
    user = create_user(session, organisation, email, display_name, role, None, actor=admin)
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_by_id=admin.id,
            expires_at=utcnow() + INVITATION_LIFETIME,
        )
    )
    audit.record(session, "user_invited", "user", user.id, f"role {role}", actor=admin)
    return token


def find_invitation(session: Session, token: str) -> Invitation:
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == _token_hash(token))).first()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise NotFound("This invitation link is not valid any more. Ask your administrator for a new one.")
    return invitation


def accept_invitation(session: Session, token: str, password: str) -> User:
    invitation = find_invitation(session, token)
    user = session.get(User, invitation.user_id)
    set_password(session, user, password)
    invitation.used_at = utcnow()
    session.add(invitation)
    audit.record(session, "invitation_accepted", "user", user.id, actor=user)
    return user


def set_active(session: Session, admin: User, user: User, active: bool) -> None:
    user.is_active = active
    if not active:
        end_sessions(session, user)
    session.add(user)
    audit.record(session, "user_activated" if active else "user_deactivated", "user", user.id, actor=admin)


def unlock(session: Session, admin: User, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, "account_unlocked", "user", user.id, actor=admin)


def users_with_organisations(session: Session) -> list[tuple[User, Organisation]]:
    """Every account with its organisation, by organisation name, then e-mail."""
    query = select(User, Organisation).join(Organisation, Organisation.id == User.organisation_id)
    return list(session.exec(query.order_by(Organisation.name, User.email)).all())


def organisations(session: Session, by_kind: bool = False) -> list[Organisation]:
    """Every organisation by name; with `by_kind`, grouped by kind first."""
    order = (Organisation.kind, Organisation.name) if by_kind else (Organisation.name,)
    return list(session.exec(select(Organisation).order_by(*order)).all())
