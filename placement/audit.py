"""Writing the audit log. Rows are added to the caller's transaction, so an
audited change and its audit entry commit (or roll back) together."""
from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlmodel import Session

from .models import AuditEvent, User


def record(
    session: Session,
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    detail: str = "",
    actor: User | None = None,
) -> AuditEvent:
    """Append an audit event. `detail` must never hold case notes or addresses."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    ip = (request.remote_addr or "") if has_request_context() else "cli"
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        organisation_id=actor.organisation_id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail[:500],
        ip=ip[:64],
    )
    session.add(event)
    return event
