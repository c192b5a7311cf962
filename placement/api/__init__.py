"""The JSON API at /api/v1/ (views), its token auth, idempotency and OpenAPI description."""
from __future__ import annotations

from . import offers, views  # noqa: F401 - importing them adds their routes to bp
from .blueprint import bp  # noqa: F401 - what create_app registers
