"""Caseworker pages: referrals, eligible-bed search, holds, placement requests and missing episodes."""
from __future__ import annotations

from . import arrival, escalation, lifecycle, offers, protections, views  # noqa: F401 - importing them adds their routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
