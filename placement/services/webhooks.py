"""Organisations' webhook endpoints: where signed alerts go for users who choose them."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlmodel import Session, select

from .. import audit
from ..models import Organisation, WebhookEndpoint
from .errors import ServiceError


def set_endpoint(session: Session, organisation: Organisation, url: str) -> tuple[WebhookEndpoint, str]:
    """Create or replace the organisation's endpoint with a new signing secret; returns it with the secret."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise ServiceError("Give the receiver's full https:// address.", {"url": "not an http(s) address"})
    secret = secrets.token_hex(32)
    endpoint = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation.id)).first()
    endpoint = endpoint or WebhookEndpoint(organisation_id=organisation.id, url=url.strip(), secret=secret)
    endpoint.url, endpoint.secret, endpoint.is_active = url.strip(), secret, True
    session.add(endpoint)
    session.flush()
    audit.record(session, "webhook_set", "organisation", organisation.id, f"endpoint {endpoint.id}")
    session.commit()
    return endpoint, endpoint.secret
