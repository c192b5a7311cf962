"""Bearer-token authentication and per-token rate limits for /api/.

The API never accepts the session cookie: `web.load_user` ignores it under /api/,
so Flask-Login falls through to `load_token_user`, and `current_user` is the
token's user for the access policy (roles_required, get_referral, ...) exactly as
on the pages. With no cookie authority there is nothing for CSRF to forge, so
the blueprint is CSRF-exempt.
"""
from __future__ import annotations

import hashlib

from flask import current_app, g, request
from flask_login import current_user

from ..database import get_session
from ..extensions import client_ip, login_manager
from ..services import api_tokens

API_PREFIX = "/api/"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


@login_manager.request_loader
def load_token_user(_request):
    """Flask-Login's request loader: the user of a valid bearer token on an /api/ path."""
    if not is_api_request():
        return None
    presented = _presented_token()
    if presented is None:
        g.api_refusal = api_tokens.Refusal("token_missing", "Send a personal API token: Authorization: Bearer <token>.")
        return None
    outcome = api_tokens.authenticate(get_session(), presented)
    if isinstance(outcome, api_tokens.Refusal):
        g.api_refusal = outcome
        return None
    user, token = outcome
    g.api_token = token
    return user


def refusal() -> api_tokens.Refusal | None:
    """Why this API request is not authenticated (None when it is)."""
    if current_user.is_authenticated:
        return None
    return g.get("api_refusal") or api_tokens.Refusal("token_missing", "Send a personal API token.")


def rate_limit_key() -> str:
    """Flask-Limiter key: the presented token (hashed: keys may sit in Redis), else the address."""
    presented = _presented_token()
    if presented:
        return "api-token:" + hashlib.sha256(presented.encode()).hexdigest()[:32]
    return "api-ip:" + client_ip()


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]
