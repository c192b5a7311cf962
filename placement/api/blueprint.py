"""The API blueprint at /api/v1/: token-only (no CSRF, no cookies) and rate-limited per token."""
from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf, limiter
from . import auth

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-only: no cookie authority for a cross-site request to ride on
limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)
